"""Weekly team nudge schedules, one per channel of a workspace. A channel is its address's text
("slack:C0TEAM": handlers.addresses.ChannelAddress), handed to the driver as a plain str."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories._sql import affected, count_rows, insert_ignoring_duplicates
from storage.tables import TeamSchedule


class SqlTeamScheduleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_channel(self, workspace_id: int, channel: str) -> TeamSchedule | None:
        """The workspace's own setting for the channel: another workspace that sees the same channel
        id has a setting of its own."""
        stmt = (select(TeamSchedule)
                .where(TeamSchedule.workspace_id == workspace_id, TeamSchedule.channel == str(channel))
                .execution_options(populate_existing=True))
        return await self._session.scalar(stmt)

    async def in_channel(self, channel: str) -> list[TeamSchedule]:
        """Every workspace's setting for the channel id, oldest first (operator tools)."""
        stmt = select(TeamSchedule).where(TeamSchedule.channel == str(channel)).order_by(TeamSchedule.id)
        return list(await self._session.scalars(stmt))

    async def save(
        self,
        *,
        workspace_id: int,
        channel: str,
        weekday: int,
        hour: int,
        minute: int,
        time_zone: str,
        language: str,
        changed_by: int,
        now: datetime,
        org_workspace: str = "",
    ) -> TeamSchedule:
        # Two people setting one channel at the same moment: insert-or-ignore, then the last write wins.
        await self._session.execute(
            insert_ignoring_duplicates(self._session, TeamSchedule)
            .values(workspace_id=workspace_id, channel=str(channel), weekday=weekday, hour=hour, minute=minute,
                    time_zone=time_zone, language=language, enabled=True, changed_by=changed_by, created_at=now,
                    updated_at=now, org_workspace=org_workspace)
            .on_conflict_do_nothing(index_elements=["workspace_id", "channel"])
        )
        row = await self.for_channel(workspace_id, channel)
        if row is None:
            raise RuntimeError(f"schedule for {channel} vanished right after insert")
        row.weekday, row.hour, row.minute = weekday, hour, minute
        row.time_zone, row.language, row.enabled = time_zone, language, True
        row.changed_by, row.updated_at = changed_by, now
        row.org_workspace = org_workspace  # a channel shared by workspaces of an org: the last one to set it
        await self._session.flush()
        return row

    async def enabled(self) -> list[TeamSchedule]:
        stmt = select(TeamSchedule).where(TeamSchedule.enabled.is_(True)).order_by(TeamSchedule.id)
        return list(await self._session.scalars(stmt))

    async def changed_by_person(self, person_id: int) -> list[TeamSchedule]:
        stmt = select(TeamSchedule).where(TeamSchedule.changed_by == person_id).order_by(TeamSchedule.id)
        return list(await self._session.scalars(stmt))

    async def count_in_workspace(self, workspace_id: int) -> int:
        return await count_rows(self._session, TeamSchedule, TeamSchedule.workspace_id == workspace_id)

    async def delete_in_workspace(self, workspace_id: int) -> int:
        stmt = delete(TeamSchedule).where(TeamSchedule.workspace_id == workspace_id)
        return affected(await self._session.execute(stmt))
