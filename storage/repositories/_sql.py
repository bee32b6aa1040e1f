"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Result, func, select, update
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


def of_org_workspace(column: InstrumentedAttribute[str], org_workspace: str) -> tuple[ColumnElement[bool], ...]:
    """The condition for one workspace of a Grid org (``org_workspace``); none for the whole workspace ('')."""
    return (column == org_workspace,) if org_workspace else ()


def affected(result: Result[Any]) -> int:
    """Rows touched by an UPDATE or DELETE."""
    return int(getattr(result, "rowcount", 0) or 0)


async def count_rows(session: AsyncSession, model: type[Any], *where: ColumnElement[bool]) -> int:
    """How many rows of ``model`` match ``where``."""
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def text_backlog(
    session: AsyncSession, moment: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> TextBacklog:
    """How many rows match ``where``, and the oldest and newest ``moment`` among them (retention)."""
    count, oldest, newest = (
        await session.execute(select(func.count(), func.min(moment), func.max(moment)).where(*where))
    ).one()
    return TextBacklog(count=int(count or 0), oldest=oldest, newest=newest)


async def redact_oldest(session: AsyncSession, model: type[Any], moment: InstrumentedAttribute[Any],
                        due: tuple[ColumnElement[bool], ...], cleared: dict[str, Any], now: Any, limit: int) -> int:
    """Clear the ``cleared`` columns of at most ``limit`` rows matching ``due``, oldest ``moment``
    first, and stamp ``text_redacted_at``; returns how many rows changed (retention).

    SKIP LOCKED (PostgreSQL): a row someone is working on right now waits for the next run instead
    of stalling this one, and a second replica running the same job takes other rows. Two
    statements on purpose: as an IN (subquery) PostgreSQL may run the locking LIMIT query again
    mid-update, skip the rows just updated and so take more than ``limit``.
    """
    chosen = select(model.id).where(*due).order_by(moment, model.id).limit(limit).with_for_update(skip_locked=True)
    ids = list(await session.scalars(chosen))
    if not ids:
        return 0
    stmt = (
        update(model)
        .where(model.id.in_(ids), *due)
        .values(**cleared, text_redacted_at=now)
        .execution_options(synchronize_session=False)
    )
    return affected(await session.execute(stmt))
