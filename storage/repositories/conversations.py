"""Stored conversation references (Teams): upserted on every contact, read for proactive sends.

A reference is stored without its ``user`` (id, name and aadObjectId of whoever spoke when it was
taken): a proactive send needs only the conversation, the bot, the channel id and the service URL
(FACTS T3), and a channel's reference would otherwise keep the last person who @mentioned the bot
there, also after that person asked to be forgotten. Migration 0007 removed it from older rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.tables import ConversationRef


class SqlConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, workspace_id: int, kind: str, external_id: str) -> ConversationRef | None:
        stmt = select(ConversationRef).where(ConversationRef.workspace_id == workspace_id,
                                             ConversationRef.kind == kind, ConversationRef.external_id == external_id)
        return await self._session.scalar(stmt)

    async def save(self, *, workspace_id: int, kind: str, external_id: str, name: str, reference: dict[str, Any],
                   now: datetime) -> None:
        reference = without_user(reference)
        row = await self.get(workspace_id, kind, external_id)
        if row is None:
            self._session.add(ConversationRef(workspace_id=workspace_id, kind=kind, external_id=external_id,
                                              name=name[:255], reference=reference, updated_at=now))
        else:
            row.reference, row.name, row.updated_at = reference, name[:255] or row.name, now
        await self._session.flush()

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


def without_user(reference: dict[str, Any]) -> dict[str, Any]:
    """The reference minus the person who spoke (see the module docstring)."""
    return {key: value for key, value in reference.items() if key != "user"}
