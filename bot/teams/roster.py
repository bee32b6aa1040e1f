"""Names and roles from Teams itself.

Names: the Bot Connector's member look-up (``GET v3/conversations/{id}/members/{user}``) through
TeamsInfo.get_member, which uses the async connector client botbuilder puts in the turn state (the SDK's
TeamsConnectorClient is synchronous and stalls the event loop, so it is never used). A message carries the
sender's display name as Teams knows it (``from.name``), and every contact stores it. Activities without one
(an install, a card's invoke, a file consent) look the person up in the roster instead, at most once per
``refresh_seconds`` per person and process; a failed look-up keeps the stored name.

Roles: the Bot Connector's roster says only user, guest or anonymous (``userRole``), never who owns a team.
Team owners come from Microsoft Graph (``GET /v1.0/teams/{group id}/members``, ``roles`` holds "owner"),
asked only when it matters: a change to a channel's weekly message while VRAAGBOT_TEAM_NUDGE_ADMINS_ONLY
is on. The team's Entra group id is on the activity when the bot is added to a team and otherwise comes
from the Bot Connector's team details (``GET v3/teams/{id}``), kept per process: it never changes."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsInfo
from msrest.exceptions import HttpOperationError

from bot.settings import Settings
from bot.teams.graph import GraphClient, GraphConfig

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_SECONDS = 5.0  # one Bot Connector or Graph call inside a turn
NAME_REFRESH_SECONDS = 6 * 3600.0
ROLE_SECONDS = 5 * 60.0  # how long a team owner's role answer is reused
MAX_REMEMBERED = 10_000  # entries per cache; beyond it the cache starts afresh


@dataclass(frozen=True)
class RosterEntry:
    user_id: str
    name: str | None
    aad_object_id: str | None


async def looked_up_member(lookup: Awaitable[Any], what: str) -> Any | None:
    """The member a Bot Connector member look-up found, or None: not a member there (a 404, an answer too),
    or the look-up failed or took too long (logged, without the person's ids)."""
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS):
            account = await lookup
    except HttpOperationError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status != 404:
            log.warning("teams: %s failed (HTTP %s)", what, status)
        return None
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        log.warning("teams: %s failed: %s", what, type(error).__name__)
        return None
    user_id = getattr(account, "id", None)
    return account if isinstance(user_id, str) and user_id else None


class Roster:
    def __init__(self, *, refresh_seconds: float = NAME_REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._refreshed: dict[tuple[str, str], float] = {}  # (tenant, user id) -> when their name was looked up

    async def member(self, turn_context: TurnContext, member_id: str) -> RosterEntry | None:
        """The member as the Bot Connector knows them where this turn happens, or None (not a member there,
        or the look-up failed: then it is logged)."""
        account = await looked_up_member(TeamsInfo.get_member(turn_context, member_id), "roster look-up")
        if account is None:
            return None
        user_id = account.id
        name = getattr(account, "name", None)
        aad = getattr(account, "aad_object_id", None)
        return RosterEntry(user_id, name if isinstance(name, str) and name.strip() else None,
                           aad if isinstance(aad, str) else None)

    async def own_name(self, turn_context: TurnContext, tenant: str, user_id: str) -> str | None:
        """The acting person's roster name when it is due for a refresh (None when it is not, or the roster
        gave none). Asked again after a failure only when the refresh time has passed."""
        key = (tenant, user_id)
        last = self._refreshed.get(key)
        if last is not None and self._clock() - last < self._refresh_seconds:
            return None
        if len(self._refreshed) >= MAX_REMEMBERED:
            self._refreshed.clear()
        self._refreshed[key] = self._clock()
        entry = await self.member(turn_context, user_id)
        return entry.name if entry is not None else None


def team_roles_graph(settings: Settings) -> GraphClient | None:
    """A Graph client for team roles, with the same credentials as presence (a client of its own: its calls
    count against their own per-tenant budget); None when switched off or there is no secret to ask with."""
    app_id = settings.graph_app_id or settings.microsoft_app_id
    secret = settings.graph_app_password or settings.microsoft_app_password
    if not settings.teams_owners_are_admins or not settings.team_nudge_admins_only or not app_id or secret is None:
        return None
    return GraphClient(GraphConfig(app_id, secret.get_secret_value(), graph_url=settings.graph_url,
                                   login_url=settings.graph_login_url, ca_file=settings.graph_ca_file,
                                   timeout_seconds=settings.graph_timeout_seconds,
                                   calls_per_30_seconds=settings.graph_calls_per_30_seconds))


class TeamOwners:
    """Whether the acting person owns the team a channel belongs to, from Microsoft Graph."""

    def __init__(self, graph: GraphClient | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._graph = graph
        self._clock = clock
        self._groups: dict[str, str] = {}  # Teams team id (19:...) -> its Entra group id
        self._answers: dict[tuple[str, str, str], tuple[float, bool]] = {}

    async def close(self) -> None:
        if self._graph is not None:
            await self._graph.close()

    async def is_owner(self, turn_context: TurnContext, tenant: str) -> bool:
        """False whenever it cannot be known (no Graph, no permission, no object id): admins-only stays closed."""
        activity = turn_context.activity
        aad_object_id = getattr(activity.from_property, "aad_object_id", None) if activity.from_property else None
        if self._graph is None or not _is_guid(aad_object_id):
            return False
        group_id = await self._group_id(turn_context)
        if group_id is None:
            return False
        key = (tenant, group_id, aad_object_id)
        known = self._answers.get(key)
        if known is not None and self._clock() - known[0] < ROLE_SECONDS:
            return known[1]
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS * 2):  # a token and the call itself
                roles = await self._graph.team_member_roles(tenant, group_id, aad_object_id)
        except TimeoutError:
            log.warning("teams: no team roles from Graph in time; not an owner for now")
            return False
        if roles is None:
            return False
        owner = any(role.lower() == "owner" for role in roles)
        if len(self._answers) >= MAX_REMEMBERED:
            self._answers.clear()
        self._answers[key] = (self._clock(), owner)
        return owner

    async def _group_id(self, turn_context: TurnContext) -> str | None:
        channel_data = turn_context.activity.channel_data if isinstance(turn_context.activity.channel_data,
                                                                        dict) else {}
        team = channel_data.get("team") if isinstance(channel_data.get("team"), dict) else {}
        team_id = team.get("id")
        if not isinstance(team_id, str) or not team_id:
            return None  # not a team channel
        if _is_guid(team.get("aadGroupId")):
            self._groups[team_id] = team["aadGroupId"]
        if team_id not in self._groups:
            details = await _team_details(turn_context, team_id)
            group_id = details.get("aadGroupId") if details else None
            if not _is_guid(group_id):
                return None
            self._groups[team_id] = group_id
        return self._groups[team_id]


async def _team_details(turn_context: TurnContext, team_id: str) -> dict[str, Any] | None:
    """``GET v3/teams/{id}`` through the async connector client's own pipeline (the SDK only offers it on
    its synchronous TeamsConnectorClient), so it carries the same credentials as every other call."""
    client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
    pipeline = getattr(getattr(client, "conversations", None), "_client", None)
    if pipeline is None:
        return None
    try:
        url = pipeline.format_url("/v3/teams/{teamId}", teamId=quote(team_id, safe=""))
        request = pipeline.get(url, {}, {"Accept": "application/json"})
        async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS):
            response = await pipeline.async_send(request, stream=False)
        if response.status_code != 200:
            log.warning("teams: team details answered HTTP %s", response.status_code)
            return None
        body = json.loads(response.text())
        return body if isinstance(body, dict) else None
    except (OSError, TimeoutError, ValueError, HttpOperationError) as error:
        log.warning("teams: team details failed: %s", type(error).__name__)
        return None


def _is_guid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
