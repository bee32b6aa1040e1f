"""Stored conversation references (Teams): upserted on every contact, read for proactive sends.

A reference is stored without its ``user`` (id, name and aadObjectId of whoever spoke when it was
taken): a proactive send needs only the conversation, the bot, the channel id and the service URL
(docs/architecture.md), and a channel's reference would otherwise keep the last person who @mentioned the bot
there, also after that person asked to be forgotten. Migration 0007 removed it from older rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories._sql import affected, count_rows, insert_ignoring_duplicates
from storage.tables import ConversationRef


class SqlConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, workspace_id: int, kind: str, external_id: str) -> ConversationRef | None:
        stmt = select(ConversationRef).where(ConversationRef.workspace_id == workspace_id,
                                             ConversationRef.kind == kind, ConversationRef.external_id == external_id)
        # save() writes with a plain statement: a row loaded earlier in this session is read afresh.
        return await self._session.scalar(stmt.execution_options(populate_existing=True))

    async def save(self, *, workspace_id: int, kind: str, external_id: str, name: str, reference: dict[str, Any],
                   now: datetime) -> None:
        """Insert or update in one statement: two first contacts in one new conversation at the same moment
        (two people, or a resent activity) both succeed instead of one failing on the unique key."""
        reference = without_user(reference)
        changed: dict[str, Any] = {"reference": reference, "updated_at": now}
        if name[:255]:  # an activity without a name keeps the one we have
            changed["name"] = name[:255]
        stmt = (insert_ignoring_duplicates(self._session, ConversationRef)
                .values(workspace_id=workspace_id, kind=kind, external_id=external_id, name=name[:255],
                        reference=reference, updated_at=now)
                .on_conflict_do_update(index_elements=["workspace_id", "kind", "external_id"], set_=changed))
        await self._session.execute(stmt)

    async def find_channel(self, external_id: str) -> ConversationRef | None:
        """Teams channel conversation ids are globally unique, so no workspace is needed."""
        stmt = select(ConversationRef).where(ConversationRef.kind == "channel",
                                             ConversationRef.external_id == external_id)
        return await self._session.scalar(stmt.limit(1))

    async def channels(self, workspace_id: int) -> list[ConversationRef]:
        stmt = (select(ConversationRef)
                .where(ConversationRef.workspace_id == workspace_id, ConversationRef.kind == "channel")
                .order_by(ConversationRef.id))
        return list(await self._session.scalars(stmt))

    async def delete_person(self, workspace_id: int, external_id: str) -> int:
        stmt = delete(ConversationRef).where(ConversationRef.workspace_id == workspace_id,
                                             ConversationRef.kind == "person",
                                             ConversationRef.external_id == external_id)
        return (await self._session.execute(stmt)).rowcount or 0

    async def count_in_workspace(self, workspace_id: int) -> int:
        return await count_rows(self._session, ConversationRef, ConversationRef.workspace_id == workspace_id)

    async def delete_in_workspace(self, workspace_id: int) -> int:
        stmt = delete(ConversationRef).where(ConversationRef.workspace_id == workspace_id)
        return affected(await self._session.execute(stmt))


def without_user(reference: dict[str, Any]) -> dict[str, Any]:
    """The reference minus the person who spoke (see the module docstring)."""
    return {key: value for key, value in reference.items() if key != "user"}
