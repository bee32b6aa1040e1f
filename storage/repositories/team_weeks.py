"""Each workspace's weekly figures, stored once per ISO week and reused by every message about it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories._sql import affected, count_rows, insert_ignoring_duplicates
from storage.tables import TeamWeekFigures

FIGURES = ("asked", "werk", "with_outcome", "confirmed", "people", "answered", "answerers", "short_replies")


class SqlTeamWeekRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, workspace_id: int, week: str, *, org_workspace: str = "") -> TeamWeekFigures | None:
        stmt = select(TeamWeekFigures).where(TeamWeekFigures.workspace_id == workspace_id,
                                             TeamWeekFigures.org_workspace == org_workspace,
                                             TeamWeekFigures.week == week)
        return await self._session.scalar(stmt)

    async def get_many(self, workspace_id: int, weeks: Sequence[str], *,
                       org_workspace: str = "") -> list[TeamWeekFigures]:
        if not weeks:
            return []
        stmt = (select(TeamWeekFigures)
                .where(TeamWeekFigures.workspace_id == workspace_id, TeamWeekFigures.org_workspace == org_workspace,
                       TeamWeekFigures.week.in_(weeks))
                .order_by(TeamWeekFigures.week))
        return list(await self._session.scalars(stmt))

    async def keep(self, *, workspace_id: int, week: str, time_zone: str, figures: dict[str, int],
                   previous: list[dict[str, int]], now: datetime, org_workspace: str = "") -> TeamWeekFigures:
        if set(figures) != set(FIGURES):
            raise ValueError(f"week figures must be exactly {', '.join(FIGURES)}")
        # Two replicas composing the same week at once: the first insert wins, the second is a
        # no-op (on PostgreSQL it waits for the first to commit), and both read the stored row.
        await self._session.execute(
            insert_ignoring_duplicates(self._session, TeamWeekFigures)
            .values(workspace_id=workspace_id, org_workspace=org_workspace, week=week, time_zone=time_zone,
                    previous=previous, computed_at=now, **figures)
            .on_conflict_do_nothing(index_elements=["workspace_id", "org_workspace", "week"])
        )
        row = await self.get(workspace_id, week, org_workspace=org_workspace)
        if row is None:
            raise RuntimeError(f"figures of {week} for workspace {workspace_id} vanished right after insert")
        return row

    async def count_in_workspace(self, workspace_id: int) -> int:
        return await count_rows(self._session, TeamWeekFigures, TeamWeekFigures.workspace_id == workspace_id)

    async def delete_in_workspace(self, workspace_id: int) -> int:
        stmt = delete(TeamWeekFigures).where(TeamWeekFigures.workspace_id == workspace_id)
        return affected(await self._session.execute(stmt))
