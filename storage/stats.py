"""Whole-database counts for the /metrics gauges: grouped counts, nothing about any one person, and
nothing that follows from a verdict on one question or reply (docs/architecture.md: live counters never
tie one reply to its verdict)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.models import MessageKind
from storage.engine import reading
from storage.repositories.inbox import backlog
from storage.tables import OutboxMessage, Question

# Outbox kinds whose number does not depend on anyone's verdict: every question, notice, answer and
# prompt, and the weekly and monthly messages. Left out on purpose: the nudges and the tag notice, since whether
# one is queued says how a question was judged (a curt reply, a confirmation, werk rather than gunst),
# so a count that grows by one right after a reply would give that verdict away. Signals are not
# counted at all, and questions only in total (a tag is one expert's verdict on one question).
COUNTED_OUTBOX_KINDS = (
    MessageKind.REPLY, MessageKind.QUESTION, MessageKind.QUESTION_NOTICE, MessageKind.ANSWER_RELAY,
    MessageKind.OUTCOME_PROMPT, MessageKind.WEEKLY_TEAM, MessageKind.WEEKLY_EXPERT, MessageKind.MONTHLY_TEAM,
)


@dataclass
class Counts:
    questions: int = 0
    inbox_waiting: int = 0  # acknowledged requests not yet worked (issue 12)
    inbox_oldest: datetime | None = None  # when the oldest of them arrived
    outbox_by_status_and_kind: dict[tuple[str, str], int] = field(default_factory=dict)


async def read_counts(engine: AsyncEngine) -> Counts:
    """Three counting queries in one read-only connection (no transaction is held afterwards)."""
    async with reading(engine) as connection:
        questions = await connection.scalar(select(func.count()).select_from(Question))
        outbox = await connection.execute(
            select(OutboxMessage.status, OutboxMessage.kind, func.count())
            .where(OutboxMessage.kind.in_([str(kind) for kind in COUNTED_OUTBOX_KINDS]))
            .group_by(OutboxMessage.status, OutboxMessage.kind)
        )
        waiting = await backlog(connection)
        return Counts(
            questions=questions or 0,
            inbox_waiting=waiting.waiting,
            inbox_oldest=waiting.oldest,
            outbox_by_status_and_kind={(status, kind): n for status, kind, n in outbox},
        )


async def ping(engine: AsyncEngine) -> None:
    """Raises when the database cannot be reached."""
    async with reading(engine) as connection:
        await connection.exec_driver_sql("SELECT 1")
