"""Focus time in Teams: the Presence port from Microsoft Graph presence (bot/teams/graph.py).

Held: availability DoNotDisturb (Graph reports Focusing as that), or an activity of Presenting, InACall,
InAConferenceCall, Focusing or UrgentInterruptionsOnly. Everything else (Available, Away, Busy in a meeting,
Offline, ...) delivers. Graph gives no end time, so ``focus_until`` answers with the first moment to look
again and ``recheck`` tells the use case so (handlers.focus holds longer at ever longer steps, up to the bound).

A Teams turn runs its use case inside one transaction, so the bot asks ahead (``prefetch``) once it knows
whom a question is for; the use case's look-up inside the transaction then finds that answer here."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from bot.teams.graph import GraphClient, GraphPresence
from handlers.ports import PersonRecord, Recheck, UnitOfWorkFactory

log = logging.getLogger(__name__)

HOLDING_AVAILABILITY = frozenset({"DoNotDisturb"})
HOLDING_ACTIVITIES = frozenset({"DoNotDisturb", "Focusing", "Presenting", "InACall", "InAConferenceCall",
                                "UrgentInterruptionsOnly"})
PREFETCHED_SECONDS = 15.0  # an answer asked ahead serves only the request that asked for it


def holds(presence: GraphPresence) -> bool:
    """Whether this presence means a non-urgent question should wait."""
    return presence.availability in HOLDING_AVAILABILITY or presence.activity in HOLDING_ACTIVITIES


class TeamsPresence:
    def __init__(self, graph: GraphClient, uow: UnitOfWorkFactory, recheck: Recheck) -> None:
        self._graph = graph
        self._uow = uow
        self._recheck = recheck
        self._tenants: dict[int, str] = {}  # workspace id -> tenant id (never changes)
        self._prefetched: dict[tuple[str, str], tuple[float, bool]] = {}

    def recheck(self, platform: str) -> Recheck | None:
        return self._recheck if platform == "teams" else None

    async def close(self) -> None:
        await self._graph.close()

    def knows(self, tenant: str) -> bool:
        return tenant in self._tenants.values()

    def learn(self, workspace_id: int, tenant: str) -> None:
        """Which workspace is this tenant (bot.teams.picker tells, before a turn's transaction opens)."""
        self._tenants[workspace_id] = tenant

    async def prefetch(self, tenant: str, aad_object_id: str | None) -> None:
        """Ask now, before the turn's transaction, about the person a question is for."""
        if not aad_object_id:
            return
        if len(self._prefetched) > 1000:  # forget answers nobody came back for
            now = time.monotonic()
            self._prefetched = {k: v for k, v in self._prefetched.items() if v[0] > now}
        busy = await self._busy(tenant, aad_object_id)
        self._prefetched[(tenant, aad_object_id)] = (time.monotonic() + PREFETCHED_SECONDS, busy)

    async def focus_until(self, person: PersonRecord, platform: str) -> datetime | None:
        aad_object_id = getattr(person, "aad_object_id", None)  # the stored row has it (migration 0014)
        if platform != "teams" or not aad_object_id:
            return None  # nobody to ask Graph about: delivered as before there was presence
        tenant = await self._tenant(person.workspace_id)
        if tenant is None:
            return None
        until, busy = self._prefetched.pop((tenant, aad_object_id), (0.0, False))
        if until <= time.monotonic():
            busy = await self._busy(tenant, aad_object_id)
        return datetime.now(UTC) + self._recheck.first if busy else None

    async def _busy(self, tenant: str, aad_object_id: str) -> bool:
        presence = await self._graph.presence(tenant, aad_object_id)
        return presence is not None and holds(presence)

    async def _tenant(self, workspace_id: int) -> str | None:
        if workspace_id not in self._tenants:
            async with self._uow() as uow:
                workspace = await uow.workspaces.get(workspace_id)
            if workspace is None:
                return None
            self._tenants[workspace_id] = workspace.external_id
        return self._tenants[workspace_id]
