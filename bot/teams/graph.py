"""Microsoft Graph, app-only, for one thing: a Teams user's presence (``GET /v1.0/users/{id}/presence``,
application permission Presence.Read.All).

Tokens come from MSAL (``ConfidentialClientApplication``, one per tenant: an app-only token is for the tenant
whose data it reads). MSAL is synchronous, so it runs in a worker thread; its own cache answers all but the
first call per tenant and hour. Every failure is an answer too: ``presence`` then returns None and the caller
delivers at once. Graph's limits are kept per tenant: at most ``calls_per_30_seconds`` calls in any 30 s, no
call at all while a 429's Retry-After runs, and after a 403 (the permission is not granted) one log line and a
pause before asking that tenant again."""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import msal
import requests

log = logging.getLogger(__name__)

WINDOW_SECONDS = 30.0  # Graph's presence limit: 1,500 calls per 30 s per tenant
NO_PERMISSION_PAUSE = 15 * 60.0  # after a 403, ask that tenant again this much later (consent may come)
DEFAULT_RETRY_AFTER = 30.0  # a 429 without a usable Retry-After
TOKEN_TIMEOUT_FACTOR = 3  # a token may take a discovery and a token call; MSAL's own timeout is per call


@dataclass(frozen=True)
class GraphPresence:
    availability: str  # Available, Busy, DoNotDisturb, Away, Offline, ...
    activity: str  # InACall, InAConferenceCall, Presenting, Focusing, InAMeeting, ...


@dataclass(frozen=True)
class GraphConfig:
    app_id: str
    app_password: str
    graph_url: str = "https://graph.microsoft.com"
    login_url: str = "https://login.microsoftonline.com"
    ca_file: str | None = None
    timeout_seconds: float = 3.0
    calls_per_30_seconds: int = 1500


class TenantLimits:
    """What this replica may still ask of Graph, per tenant: a sliding 30 s budget, a 429's wait, a 403's pause."""

    def __init__(self, calls_per_window: int, clock: Any = time.monotonic) -> None:
        self._calls_per_window = calls_per_window
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._closed_until: dict[str, float] = {}

    def take(self, tenant: str) -> str | None:
        """One call for the tenant if it may be made now (None); else why not: "closed" (a 429's wait or a
        403's pause, said when it began) or "budget" (the 30 s budget is used up)."""
        now = self._clock()
        if self._closed_until.get(tenant, 0.0) > now:
            return "closed"
        calls = self._calls.setdefault(tenant, deque())
        while calls and calls[0] <= now - WINDOW_SECONDS:
            calls.popleft()
        if len(calls) >= self._calls_per_window:
            return "budget"
        calls.append(now)
        return None

    def close_for(self, tenant: str, seconds: float) -> None:
        self._closed_until[tenant] = max(self._closed_until.get(tenant, 0.0), self._clock() + seconds)


def retry_after_seconds(value: str | None) -> float:
    """Graph sends Retry-After in seconds; anything else waits the default."""
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return seconds if 0 < seconds <= 3600 else DEFAULT_RETRY_AFTER


class GraphClient:
    def __init__(self, config: GraphConfig, *, limits: TenantLimits | None = None) -> None:
        self._config = config
        self._limits = limits or TenantLimits(config.calls_per_30_seconds)
        self._apps: dict[str, msal.ConfidentialClientApplication] = {}
        self._apps_lock = threading.Lock()  # MSAL runs in worker threads
        self._session: aiohttp.ClientSession | None = None
        self._said: set[tuple[str, str]] = set()  # (tenant, what): problems already logged once
        self._over_budget_said = 0.0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def presence(self, tenant: str, aad_object_id: str) -> GraphPresence | None:
        """The user's presence, or None whenever it cannot be known now (the caller then delivers)."""
        refused = self._limits.take(tenant)
        if refused is not None:
            if refused == "budget" and time.monotonic() - self._over_budget_said > WINDOW_SECONDS:
                self._over_budget_said = time.monotonic()
                log.warning("graph: no presence call for tenant %s now: its %s calls per 30 s are used; questions "
                            "go out at once meanwhile", tenant, self._config.calls_per_30_seconds)
            return None
        token = await self._token(tenant)
        if token is None:
            return None
        url = f"{self._config.graph_url.rstrip('/')}/v1.0/users/{quote(aad_object_id, safe='')}/presence"
        try:
            async with self._http().get(url, headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status == 200:
                    return _parsed(await response.json(content_type=None))
                self._refused(tenant, response.status, response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("graph: presence call for tenant %s failed (%s); delivering at once", tenant,
                        type(error).__name__)
        return None

    async def team_member_roles(self, tenant: str, team_group_id: str, aad_object_id: str) -> list[str] | None:
        """One user's roles in a team ("owner", "guest"; none for a plain member), by the team's Entra group
        id: ``GET /v1.0/teams/{id}/members`` filtered on the user (application permission TeamMember.Read.Group,
        which a team owner grants for that team, or TeamMember.Read.All). [] when they are no member; None when
        it cannot be known now. Both ids must be GUIDs (the caller checks): the user id goes into the filter."""
        if self._limits.take(tenant) is not None:
            return None
        token = await self._token(tenant)
        if token is None:
            return None
        url = f"{self._config.graph_url.rstrip('/')}/v1.0/teams/{quote(team_group_id, safe='')}/members"
        params = {"$filter": f"(microsoft.graph.aadUserConversationMember/userId eq '{aad_object_id}')"}
        try:
            async with self._http().get(url, params=params, headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status == 200:
                    members = (await response.json(content_type=None) or {}).get("value") or []
                    return [str(role) for member in members for role in member.get("roles") or []]
                if response.status == 429:
                    self._limits.close_for(tenant, retry_after_seconds(response.headers.get("Retry-After")))
                self._once(tenant, f"team-roles-{response.status}", "graph: team roles refused for tenant %s "
                           "(HTTP %s); without TeamMember.Read.All (or TeamMember.Read.Group) team owners are not "
                           "known as admins", tenant, response.status)
        except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError) as error:
            log.warning("graph: team roles call for tenant %s failed (%s)", tenant, type(error).__name__)
        return None

    def _refused(self, tenant: str, status: int, retry_after: str | None) -> None:
        if status == 429:
            seconds = retry_after_seconds(retry_after)
            self._limits.close_for(tenant, seconds)
            log.warning("graph: throttled for tenant %s (429); no presence calls for %.0f s", tenant, seconds)
        elif status in (401, 403):
            self._limits.close_for(tenant, NO_PERMISSION_PAUSE)
            self._once(tenant, "permission", "graph: presence refused for tenant %s (HTTP %s): the application "
                       "permission Presence.Read.All is not granted (admin consent) there, so questions are delivered "
                       "without waiting for focus time", tenant, status)
        elif status == 404:
            log.info("graph: tenant %s has no such user for presence; delivering at once", tenant)
        else:
            log.warning("graph: presence call for tenant %s answered HTTP %s; delivering at once", tenant, status)

    async def _token(self, tenant: str) -> str | None:
        timeout = self._config.timeout_seconds * TOKEN_TIMEOUT_FACTOR
        try:
            # MSAL blocks (requests); a thread keeps the loop free. A stuck thread only delays its own answer.
            result = await asyncio.wait_for(asyncio.to_thread(self._acquire, tenant), timeout)
        except TimeoutError:
            log.warning("graph: no token for tenant %s within %.0f s; delivering at once", tenant, timeout)
            return None
        except Exception as error:  # MSAL raises ValueError on a bad authority, requests errors on the network
            log.warning("graph: no token for tenant %s (%s); delivering at once", tenant, type(error).__name__)
            return None
        token = result.get("access_token") if isinstance(result, dict) else None
        if isinstance(token, str) and token:
            return token
        code = result.get("error", "unknown") if isinstance(result, dict) else "unknown"
        self._once(tenant, f"token-{code}", "graph: the login service gave no token for tenant %s (%s); questions "
                   "are delivered without waiting for focus time", tenant, code)
        return None

    def _acquire(self, tenant: str) -> dict[str, Any]:
        with self._apps_lock:
            app = self._apps.get(tenant)
            if app is None:
                config = self._config
                app = msal.ConfidentialClientApplication(
                    config.app_id, client_credential=config.app_password,
                    authority=f"{config.login_url.rstrip('/')}/{quote(tenant, safe='')}", instance_discovery=False,
                    http_client=_LoginSession(config.ca_file, config.timeout_seconds))
                self._apps[tenant] = app
        # Answered from MSAL's cache while the token is valid; a new one is fetched shortly before it expires.
        return app.acquire_token_for_client(scopes=[f"{self._config.graph_url.rstrip('/')}/.default"])

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            context: ssl.SSLContext | bool = True
            if self._config.ca_file:
                context = ssl.create_default_context()
                context.load_verify_locations(self._config.ca_file)
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._config.timeout_seconds),
                connector=aiohttp.TCPConnector(ssl=context))
        return self._session

    def _once(self, tenant: str, what: str, message: str, *args: object) -> None:
        if (tenant, what) not in self._said:
            self._said.add((tenant, what))
            log.warning(message, *args)


class _LoginSession(requests.Session):
    """MSAL's HTTP client: a requests session that trusts ``ca_file`` (when given) and waits ``timeout`` per
    call. requests lets REQUESTS_CA_BUNDLE in the environment win over a session's own ``verify``, so the file
    is passed with every request instead; proxies from the environment still apply."""

    def __init__(self, ca_file: str | None, timeout: float) -> None:
        super().__init__()
        self._ca_file = ca_file
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if self._ca_file:
            kwargs.setdefault("verify", self._ca_file)
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


def _parsed(body: Any) -> GraphPresence | None:
    """Graph's presence resource; anything else is no answer."""
    if not isinstance(body, dict):
        log.warning("graph: presence answer is not an object; delivering at once")
        return None
    availability, activity = body.get("availability"), body.get("activity")
    if not isinstance(availability, str) or not isinstance(activity, str):
        log.warning("graph: presence answer without availability and activity; delivering at once")
        return None
    return GraphPresence(availability, activity)
