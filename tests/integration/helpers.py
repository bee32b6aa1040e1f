"""Builders for integration tests: a workspace with people and questions in a few lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.messages import OutgoingMessage
from handlers.models import MessageKind, QuestionStatus
from storage.tables import Person, Question, Workspace
from storage.uow import SqlUnitOfWork

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


async def workspace(uow: SqlUnitOfWork, external_id: str = "T1") -> Workspace:
    return await uow.workspaces.get_or_create("slack", external_id, "Acme")


async def person(uow: SqlUnitOfWork, ws: Workspace, handle: str, *, locale: str = "nl") -> Person:
    return await uow.people.add(
        workspace_id=ws.id,
        external_id=f"U-{handle}",
        handle=handle,
        display_name=handle.title(),
        locale=locale,
        time_zone="Europe/Amsterdam",
        now=NOW,
    )


async def question(
    uow: SqlUnitOfWork,
    ws: Workspace,
    asker: Person,
    expert: Person,
    *,
    topic: str | None = "contracten",
    kind: str | None = None,
    status: str = QuestionStatus.DELIVERED,
    asked_at: datetime = NOW,
    text: str = "Mag dit zo?",
) -> Question:
    return await uow.questions.add(
        workspace_id=ws.id,
        asker_id=asker.id,
        expert_id=expert.id,
        topic=topic,
        text=text,
        first_assessment=None,
        kind=kind,
        urgent=False,
        status=status,
        asked_at=asked_at,
        deliver_after=None,
        interrupted_focus=False,
    )


def message(
    *, person_id: int | None = None, channel: str | None = None, question_id: int | None = None
) -> OutgoingMessage:
    return OutgoingMessage(
        kind=MessageKind.NUDGE_IN_ROLE,
        text="Vragen over contracten horen bij het werk.",
        person_id=person_id,
        channel=channel,
        question_id=question_id,
    )
