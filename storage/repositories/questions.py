"""Questions and what hangs off them: replies and signals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.models import OPEN_STATUSES, QuestionKind, QuestionStatus
from handlers.ports import TextBacklog
from storage.repositories._sql import affected, count_rows, of_org_workspace, redact_oldest, text_backlog
from storage.repositories.people import people_of_workspace
from storage.tables import Question, Reply, Signal


def _asked_in_workspace(workspace_id: int) -> ColumnElement[bool]:
    return or_(Question.workspace_id == workspace_id, Question.asker_id.in_(people_of_workspace(workspace_id)))


def questions_of_workspace(workspace_id: int) -> Select[tuple[int]]:
    """The ids of the questions asked in a workspace or by its people, as a subquery (erasing a workspace)."""
    return select(Question.id).where(_asked_in_workspace(workspace_id))


class SqlQuestionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        workspace_id: int,
        asker_id: int,
        expert_id: int,
        topic: str | None,
        text: str,
        first_assessment: str | None,
        kind: str | None,
        urgent: bool,
        status: str,
        asked_at: datetime,
        deliver_after: datetime | None,
        interrupted_focus: bool,
        kind_shared: bool = False,
        tag: str | None = None,
        tag_source: str | None = None,
        tagged_at: datetime | None = None,
        org_workspace: str = "",
    ) -> Question:
        # One INSERT .. RETURNING, without the ORM's flush: the ask's hot path.
        stmt = insert(Question).values(
            workspace_id=workspace_id,
            asker_id=asker_id,
            expert_id=expert_id,
            topic=topic,
            text=text,
            first_assessment=first_assessment,
            kind=kind,
            kind_shared=kind_shared,
            urgent=urgent,
            tag=tag,
            tag_source=tag_source,
            tagged_at=tagged_at,
            status=status,
            asked_at=asked_at,
            deliver_after=deliver_after,
            interrupted_focus=interrupted_focus,
            org_workspace=org_workspace,
        ).returning(Question)
        return (await self._session.scalars(stmt)).one()

    async def get(self, question_id: int) -> Question | None:
        return await self._session.get(Question, question_id)

    async def get_for_update(self, question_id: int) -> Question | None:
        # populate_existing: a copy already in the session is refreshed from the locked row.
        stmt = (
            select(Question)
            .where(Question.id == question_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return await self._session.scalar(stmt)

    async def by_thread_ref(self, workspace_id: int, thread_ref: str, *,
                            for_update: bool = False) -> Question | None:
        stmt = (
            select(Question)
            .where(Question.workspace_id == workspace_id, Question.thread_ref == thread_ref)
            .order_by(Question.id.desc())  # not unique in the schema; the newest wins
            .limit(1)
        )
        if for_update:  # as get_for_update: locked, and a copy already in the session refreshed
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return await self._session.scalar(stmt)

    async def open_counts(self, expert_ids: Sequence[int]) -> dict[int, int]:
        counts = dict.fromkeys(expert_ids, 0)
        if not counts:
            return counts
        stmt = (
            select(Question.expert_id, func.count())
            .where(Question.expert_id.in_(counts), Question.status.in_([s.value for s in OPEN_STATUSES]))
            .group_by(Question.expert_id)
        )
        for expert_id, count in await self._session.execute(stmt):
            counts[expert_id] = count
        return counts

    async def asked_by(self, person_id: int) -> list[Question]:
        stmt = select(Question).where(Question.asker_id == person_id).order_by(Question.asked_at, Question.id)
        return list(await self._session.scalars(stmt))

    async def answered_by(self, person_id: int) -> list[Question]:
        stmt = (
            select(Question).where(Question.expert_id == person_id).order_by(Question.asked_at, Question.id)
        )
        return list(await self._session.scalars(stmt))

    async def recent_doubt_outcomes(self, asker_id: int, topic: str, limit: int) -> list[Question]:
        stmt = (
            select(Question)
            .where(
                Question.asker_id == asker_id,
                Question.topic == topic,
                Question.kind == QuestionKind.DOUBT.value,
                Question.status == QuestionStatus.CLOSED.value,
            )
            .order_by(Question.outcome_at.desc(), Question.id.desc())
            .limit(limit)
        )
        return list(await self._session.scalars(stmt))

    async def asked_between(self, workspace_id: int, start: datetime, end: datetime, *,
                            org_workspace: str = "") -> list[Question]:
        stmt = (
            select(Question)
            .where(Question.workspace_id == workspace_id, Question.asked_at >= start, Question.asked_at < end,
                   *of_org_workspace(Question.org_workspace, org_workspace))
            .order_by(Question.asked_at, Question.id)
        )
        return list(await self._session.scalars(stmt))

    async def answered_between(
        self, start: datetime, end: datetime, workspace_id: int | None = None, *, org_workspace: str = ""
    ) -> list[Question]:
        stmt = select(Question).where(Question.first_reply_at >= start, Question.first_reply_at < end)
        if workspace_id is not None:
            stmt = stmt.where(Question.workspace_id == workspace_id, *of_org_workspace(Question.org_workspace,
                                                                                      org_workspace))
        return list(await self._session.scalars(stmt.order_by(Question.first_reply_at, Question.id)))

    async def delete_asked_by(self, person_id: int) -> int:
        # Replies, signals and outbox rows of these questions go by ON DELETE CASCADE.
        return affected(await self._session.execute(delete(Question).where(Question.asker_id == person_id)))

    async def detach_expert(self, person_id: int) -> int:
        # The thread lived in the expert's chat with the bot: no pointer to it stays either.
        stmt = update(Question).where(Question.expert_id == person_id).values(expert_id=None, thread_ref=None)
        return affected(await self._session.execute(stmt))

    async def count_in_workspace(self, workspace_id: int) -> int:
        return await count_rows(self._session, Question, _asked_in_workspace(workspace_id))

    async def delete_in_workspace(self, workspace_id: int) -> int:
        deleted = affected(await self._session.execute(delete(Question).where(_asked_in_workspace(workspace_id))))
        # Questions elsewhere asked of its people stay with their askers, as after forget-me (detach_expert).
        await self._session.execute(update(Question).where(Question.expert_id.in_(people_of_workspace(workspace_id)))
                                    .values(expert_id=None, thread_ref=None))
        return deleted

    # ------------------------------------------------------------ retention

    @staticmethod
    def _text_due(before: datetime) -> tuple[Any, ...]:
        return Question.text_redacted_at.is_(None), Question.asked_at < before

    async def text_backlog(self, before: datetime) -> TextBacklog:
        return await text_backlog(self._session, Question.asked_at, *self._text_due(before))

    async def redact_texts(self, before: datetime, now: datetime, limit: int) -> int:
        return await redact_oldest(self._session, Question, Question.asked_at, self._text_due(before),
                                   {"text": None, "first_assessment": None}, now, limit)


class SqlReplyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        question_id: int,
        author_id: int,
        text: str,
        created_at: datetime,
        reply_seconds: float,
        curt_score: float,
        curt: bool,
        curt_reasons: list[str],
    ) -> Reply:
        stmt = insert(Reply).values(
            question_id=question_id,
            author_id=author_id,
            text=text,
            created_at=created_at,
            reply_seconds=reply_seconds,
            curt_score=curt_score,
            curt=curt,
            curt_reasons=list(curt_reasons),
        ).returning(Reply)
        return (await self._session.scalars(stmt)).one()

    async def for_question(self, question_id: int) -> list[Reply]:
        stmt = select(Reply).where(Reply.question_id == question_id).order_by(Reply.created_at, Reply.id)
        return list(await self._session.scalars(stmt))

    async def written_by(self, person_id: int) -> list[Reply]:
        stmt = select(Reply).where(Reply.author_id == person_id).order_by(Reply.created_at, Reply.id)
        return list(await self._session.scalars(stmt))

    async def delete_written_by(self, person_id: int) -> int:
        return affected(await self._session.execute(delete(Reply).where(Reply.author_id == person_id)))

    @staticmethod
    def _in_workspace(workspace_id: int) -> ColumnElement[bool]:
        return or_(Reply.question_id.in_(questions_of_workspace(workspace_id)),
                   Reply.author_id.in_(people_of_workspace(workspace_id)))

    async def count_in_workspace(self, workspace_id: int) -> int:
        return await count_rows(self._session, Reply, self._in_workspace(workspace_id))

    async def delete_in_workspace(self, workspace_id: int) -> int:
        return affected(await self._session.execute(delete(Reply).where(self._in_workspace(workspace_id))))

    @staticmethod
    def _text_due(before: datetime) -> tuple[Any, ...]:
        return Reply.text_redacted_at.is_(None), Reply.created_at < before

    async def text_backlog(self, before: datetime) -> TextBacklog:
        return await text_backlog(self._session, Reply.created_at, *self._text_due(before))

    async def redact_texts(self, before: datetime, now: datetime, limit: int) -> int:
        return await redact_oldest(self._session, Reply, Reply.created_at, self._text_due(before), {"text": None},
                                   now, limit)


class SqlSignalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        question_id: int,
        subject_id: int | None,
        reporter_id: int | None,
        kind: str,
        created_at: datetime,
        details: dict[str, Any] | None = None,
    ) -> Signal:
        stmt = insert(Signal).values(
            question_id=question_id,
            subject_id=subject_id,
            reporter_id=reporter_id,
            kind=kind,
            created_at=created_at,
            details=dict(details or {}),
        ).returning(Signal)
        return (await self._session.scalars(stmt)).one()

    async def for_question(self, question_id: int) -> list[Signal]:
        stmt = select(Signal).where(Signal.question_id == question_id).order_by(Signal.created_at, Signal.id)
        return list(await self._session.scalars(stmt))

    async def for_questions(self, question_ids: Sequence[int]) -> list[Signal]:
        if not question_ids:
            return []
        stmt = (
            select(Signal)
            .where(Signal.question_id.in_(list(question_ids)))
            .order_by(Signal.created_at, Signal.id)
        )
        return list(await self._session.scalars(stmt))

    async def about(self, person_id: int) -> list[Signal]:
        stmt = (
            select(Signal)
            .where(or_(Signal.subject_id == person_id, Signal.reporter_id == person_id))
            .order_by(Signal.created_at, Signal.id)
        )
        return list(await self._session.scalars(stmt))

    async def delete_about(self, person_id: int) -> int:
        """Returns the number of signals deleted (not the ones merely un-attributed)."""
        deleted = affected(await self._session.execute(delete(Signal).where(Signal.subject_id == person_id)))
        await self._session.execute(
            update(Signal).where(Signal.reporter_id == person_id).values(reporter_id=None)
        )
        return deleted

    @staticmethod
    def _in_workspace(workspace_id: int) -> ColumnElement[bool]:
        return or_(Signal.question_id.in_(questions_of_workspace(workspace_id)),
                   Signal.subject_id.in_(people_of_workspace(workspace_id)))

    async def count_in_workspace(self, workspace_id: int) -> int:
        return await count_rows(self._session, Signal, self._in_workspace(workspace_id))

    async def delete_in_workspace(self, workspace_id: int) -> int:
        """Those it reported elsewhere lose the reporter when its people go (ON DELETE SET NULL)."""
        return affected(await self._session.execute(delete(Signal).where(self._in_workspace(workspace_id))))
