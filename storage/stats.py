"""Whole-database counts for the /metrics gauges: grouped counts, nothing about any one person."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.tables import OutboxMessage, Question, Signal


@dataclass
class Counts:
    questions_by_tag: dict[str, int] = field(default_factory=dict)
    signals_by_kind: dict[str, int] = field(default_factory=dict)
    outbox_by_status_and_kind: dict[tuple[str, str], int] = field(default_factory=dict)


async def read_counts(engine: AsyncEngine) -> Counts:
    """Three GROUP BY queries in one read-only connection (no transaction is held afterwards)."""
    async with engine.connect() as connection:
        tags = await connection.execute(select(Question.tag, func.count()).group_by(Question.tag))
        signals = await connection.execute(select(Signal.kind, func.count()).group_by(Signal.kind))
        outbox = await connection.execute(
            select(OutboxMessage.status, OutboxMessage.kind, func.count())
            .group_by(OutboxMessage.status, OutboxMessage.kind)
        )
        return Counts(
            questions_by_tag={tag or "untagged": n for tag, n in tags},
            signals_by_kind={kind: n for kind, n in signals},
            outbox_by_status_and_kind={(status, kind): n for status, kind, n in outbox},
        )


async def ping(engine: AsyncEngine) -> None:
    """Raises when the database cannot be reached."""
    async with engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")
