"""Reads for the impact report (handlers.impact): one team's questions over a span of months, each with
the signals and sent reframing nudges that followed it, in one query.

The query walks ``ix_questions_workspace_id_asked_at`` for the team and months; what followed each
question comes from correlated sub-selects on ``ix_signals_question_id`` and ``ix_outbox_question_id``,
so the cost grows with the team's questions, not with the database (bench/impact.py shows the plans).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ScalarSelect, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.models import MessageKind, OutboxStatus, SignalKind, TagSource
from handlers.ports import ImpactQuestion
from storage.repositories._sql import of_org_workspace
from storage.tables import OutboxMessage, Question, Signal, TeamSchedule

CURT_KINDS = (SignalKind.CURT_DETECTED.value, SignalKind.CURT_REPORTED.value)


def _sent_variant(kind: MessageKind) -> ScalarSelect[int]:
    """The variant of the sent ``kind`` nudge about the question (one per question: its outbox key)."""
    return (
        # -1 for a nudge sent before variants were recorded (0012), so it does not read as "none sent".
        select(func.min(func.coalesce(OutboxMessage.text_variant, -1)))
        .where(OutboxMessage.question_id == Question.id, OutboxMessage.kind == kind.value,
               OutboxMessage.status == OutboxStatus.SENT.value)
        .correlate(Question)
        .scalar_subquery()
    )


class SqlImpactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def questions_asked(self, workspace_id: int, start: datetime, end: datetime, *,
                              org_workspace: str = "") -> list[ImpactQuestion]:
        curt_at = (
            select(func.min(Signal.created_at))
            .where(Signal.question_id == Question.id, Signal.kind.in_(CURT_KINDS))
            .correlate(Question)
            .scalar_subquery()
        )
        autonomy = exists().where(and_(OutboxMessage.question_id == Question.id,
                                       OutboxMessage.kind == MessageKind.NUDGE_AUTONOMY.value,
                                       OutboxMessage.status == OutboxStatus.SENT.value)).correlate(Question)
        # In role when asked: the tag source says so until the expert tags it themself; the in-role nudge
        # queued at asking time says so for good.
        in_role_nudge = exists().where(and_(OutboxMessage.question_id == Question.id,
                                            OutboxMessage.kind == MessageKind.NUDGE_IN_ROLE.value)).correlate(Question)
        stmt = (
            select(Question.id, Question.asker_id, Question.expert_id, Question.topic, Question.kind, Question.tag,
                   Question.tag_source, Question.asked_at, Question.outcome, Question.outcome_at,
                   curt_at.label("curt_at"), _sent_variant(MessageKind.NUDGE_CURT).label("curt_variant"),
                   _sent_variant(MessageKind.NUDGE_CONFIRMATION).label("confirmation_variant"),
                   autonomy.label("autonomy_sent"), in_role_nudge.label("in_role_nudge"))
            .where(Question.workspace_id == workspace_id, Question.asked_at >= start, Question.asked_at < end,
                   *of_org_workspace(Question.org_workspace, org_workspace))
            .order_by(Question.asked_at, Question.id)
        )
        # The sub-selects take their column's type, so their timestamps come back aware (UTC) on SQLite too.
        rows = await self._session.execute(stmt)
        return [ImpactQuestion(
            id=row.id, asker_id=row.asker_id, expert_id=row.expert_id, topic=row.topic, kind=row.kind,
            tag=row.tag, tag_source=row.tag_source, asked_at=row.asked_at, outcome=row.outcome,
            outcome_at=row.outcome_at, curt_at=row.curt_at, curt_variant=row.curt_variant,
            confirmation_variant=row.confirmation_variant, autonomy_sent=bool(row.autonomy_sent),
            in_role=row.tag_source == TagSource.TOPIC_RULE or bool(row.in_role_nudge),
        ) for row in rows]

    async def languages(self, workspace_id: int) -> list[str]:
        stmt = (
            select(TeamSchedule.language, func.count())
            .where(TeamSchedule.workspace_id == workspace_id, TeamSchedule.enabled.is_(True))
            .group_by(TeamSchedule.language)
            .order_by(func.count().desc(), TeamSchedule.language)
        )
        return [language for language, _ in await self._session.execute(stmt)]
