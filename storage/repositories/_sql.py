"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Result, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from handlers.ports import TextBacklog


def insert_ignoring_duplicates(session: AsyncSession, model: type[Any]) -> Any:
    """``INSERT .. ON CONFLICT DO NOTHING`` for the session's backend.

    Unlike catching an IntegrityError, a conflict here raises nothing and leaves the surrounding
    transaction usable, so "already there" can be an ordinary answer (dedupe keys, event ids).
    Add ``.values(...)``, ``.on_conflict_do_nothing(...)`` and usually ``.returning(...)``.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"no insert-ignoring-duplicates for {dialect}")


def affected(result: Result[Any]) -> int:
    """Rows touched by an UPDATE or DELETE."""
    return int(getattr(result, "rowcount", 0) or 0)


async def text_backlog(
    session: AsyncSession, moment: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> TextBacklog:
    """How many rows match ``where``, and the oldest and newest ``moment`` among them (retention)."""
    count, oldest, newest = (
        await session.execute(select(func.count(), func.min(moment), func.max(moment)).where(*where))
    ).one()
    return TextBacklog(count=int(count or 0), oldest=oldest, newest=newest)
