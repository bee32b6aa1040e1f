"""Assembles the Teams side: CloudAdapter with Bot Framework authentication, the bot, the
Messenger, and the /api/messages route that turns every bad request into a clear 4xx.

A request is served in this order: shape (JSON activity) -> authenticated (every failure a 401, the
signing keys fetched off the event loop: bot/teams/signing_keys.py) -> admitted (channel, service URL,
tenant: bot/teams/admission.py) -> a turn slot (at most `teams_concurrency` turns at once; TurnSlots) ->
the turn. The turn runs inside the request: its use case commits before the answer is sent, so an
activity that was answered is stored. The route only exists with an app id or the local-testing switch
(bot/runtime.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import jwt
from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult
from msrest.exceptions import DeserializationError

from bot.json_depth import nested_deeper_than
from bot.settings import Settings
from bot.teams import signing_keys
from bot.teams.admission import Admission
from bot.teams.bot import VraagbotTeamsBot
from bot.teams.graph import GraphClient, GraphConfig
from bot.teams.messenger import TeamsMessenger
from bot.teams.picker import Directory
from bot.teams.presence import TeamsPresence
from bot.teams.roster import Roster, TeamOwners, team_roles_graph
from bot.teams.service_urls import ServiceUrls
from handlers.context import Deps
from handlers.ports import Catalog, Recheck, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ACTIVITY_BYTES = 256 * 1024  # Bot Framework activities are far smaller
# Authentication needs the signing keys at most (their fetch has its own, shorter timeout); this bounds
# whatever else botbuilder might wait for, so a request never hangs on it.
AUTHENTICATION_TIMEOUT_SECONDS = 15.0
# The Bot Connector waits 15 s for an answer and then sends the activity again. A turn that found no free
# slot within this is refused before it stored anything, early enough that the turn itself still fits.
SLOT_WAIT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 2


class _BotFrameworkConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id or ""
        self.APP_PASSWORD = settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password \
            else ""
        self.APP_TYPE = settings.microsoft_app_type
        self.APP_TENANTID = settings.microsoft_app_tenant_id or ""


def _is_activity(body: object) -> bool:
    """What every activity from the Bot Connector has. Without these botbuilder fails deep inside the
    turn, and for an invoke the answer becomes a 501 (found by tests/fuzz)."""

    def has_id(part: object) -> bool:
        return isinstance(part, dict) and isinstance(part.get("id"), str)

    return isinstance(body, dict) and isinstance(body.get("type"), str) and has_id(body.get("conversation")) \
        and has_id(body.get("from")) and isinstance(body.get("serviceUrl"), str) \
        and body["serviceUrl"].startswith(("https://", "http://"))


def _bearer_with_issuer(header: str) -> bool:
    """Whether the header could be a Bot Framework token at all. botbuilder reads the `iss` claim before
    it validates anything and fails with a KeyError (a 500) on a token without one (found by tests/fuzz).
    The real check, signature included, is still botbuilder's."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return isinstance(claims.get("iss"), str)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class TurnSlots:
    """At most ``size`` turns at once in this replica, so a burst cannot pile hundreds of turns onto the
    event loop and the database pool. The others wait for a slot, in order, for a bounded time. The
    counts are for the log line and for tests."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = asyncio.Semaphore(size)
        self.running = 0
        self.waiting = 0
        self.most_running = 0  # the highest number of turns that ran at once

    async def take(self, wait_seconds: float) -> bool:
        """Wait up to ``wait_seconds`` for a slot; False when none came free. True must be given back."""
        self.waiting += 1
        try:
            async with asyncio.timeout(wait_seconds):
                await self._free.acquire()
        except TimeoutError:
            return False
        finally:
            self.waiting -= 1
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        return True

    def give_back(self) -> None:
        self.running -= 1
        self._free.release()


@dataclass
class TeamsParts:
    adapter: CloudAdapter
    messenger: TeamsMessenger
    app_id: str
    service_urls: ServiceUrls
    presence: TeamsPresence | None = None  # focus time from Graph (bot/teams/presence.py); None: not asked


def teams_parts(settings: Settings, uow: UnitOfWorkFactory, catalog: Catalog) -> TeamsParts:
    signing_keys.install()
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_BotFrameworkConfig(settings)))
    # continue_conversation needs some app id; with authentication off any value works.
    app_id = settings.microsoft_app_id or "vraagbot-local"
    service_urls = ServiceUrls.parse(settings.teams_service_urls)
    messenger = TeamsMessenger(adapter, app_id, uow, catalog, service_urls=service_urls)
    return TeamsParts(adapter, messenger, app_id, service_urls, presence=teams_presence(settings, uow))


def teams_presence(settings: Settings, uow: UnitOfWorkFactory) -> TeamsPresence | None:
    """Graph presence with the app's own credentials (or GRAPH_APP_ID's); None when switched off or when
    there is no app secret to ask Graph with (then nobody is held, as before presence existed)."""
    app_id = settings.graph_app_id or settings.microsoft_app_id
    secret = settings.graph_app_password or settings.microsoft_app_password
    if not settings.teams_presence or not app_id or secret is None:
        return None
    config = GraphConfig(app_id, secret.get_secret_value(), graph_url=settings.graph_url,
                         login_url=settings.graph_login_url, ca_file=settings.graph_ca_file,
                         timeout_seconds=settings.graph_timeout_seconds,
                         calls_per_30_seconds=settings.graph_calls_per_30_seconds)
    recheck = Recheck(first=timedelta(minutes=settings.teams_focus_recheck_minutes),
                      bound=timedelta(minutes=settings.teams_focus_max_hold_minutes))
    return TeamsPresence(GraphClient(config), uow, recheck)


@dataclass
class TeamsPlatform:
    parts: TeamsParts
    bot: VraagbotTeamsBot
    authenticated: bool
    admission: Admission
    slots: TurnSlots
    slot_wait_seconds: float = SLOT_WAIT_SECONDS

    async def handle(self, request: web.Request) -> web.Response:
        """POST /api/messages."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            log.warning("teams request refused: content type %r", request.headers.get("Content-Type"))
            return _error(415, "Content-Type must be application/json")
        if request.content_length and request.content_length > MAX_ACTIVITY_BYTES:
            return _error(413, "activity too large")
        try:
            raw = (await request.read()).decode()
            if nested_deeper_than(raw):  # before json.loads recurses that deep (bot/json_depth.py)
                raise ValueError("nested too deep")
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            log.warning("teams request refused: body is not JSON")
            return _error(400, "body must be a JSON activity")
        if not _is_activity(body):
            log.warning("teams request refused: not an activity")
            return _error(400, "body must be an activity with a type")
        header = request.headers.get("Authorization", "")
        if self.authenticated and not _bearer_with_issuer(header):
            log.warning("teams request refused: no bearer token with an issuer")
            return _error(401, "unauthorized")
        try:
            activity: Activity | None = Activity().deserialize(body)
        except DeserializationError:  # e.g. a timestamp that is a list: botbuilder would fail before the turn
            activity = None
        # Authentication first, so a caller without a valid token learns nothing about our parsing: it
        # needs only the channel and the service URL, which every activity shape has.
        channel = body.get("channelId") if isinstance(body.get("channelId"), str) else None
        identity = activity or Activity(channel_id=channel, service_url=body["serviceUrl"])
        authenticated = await self._authenticate(identity, header)
        if authenticated is None:
            return _error(401, "unauthorized")
        if activity is None:
            log.warning("teams request refused: activity fields of the wrong type")
            return _error(400, "body must be an activity with a type")
        if not isinstance(body.get("id", ""), str):  # msrest would make "{}" of it, and the reply to it fails
            log.warning("teams request refused: activity id is not a string")
            return _error(400, "body must be an activity with a type")
        refusal = self.admission.refusal(activity)
        if refusal is not None:
            log.warning("teams request refused: %s", refusal.reason)
            return _error(refusal.status, refusal.message)
        if not await self.slots.take(self.slot_wait_seconds):
            # Nothing of the turn ran, so nothing was stored: the connector's retry does it once.
            log.warning("teams activity refused: no free turn slot within %.1f s (%s running, %s waiting)",
                        self.slot_wait_seconds, self.slots.running, self.slots.waiting)
            return web.json_response({"error": "busy, try again"}, status=503,
                                     headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        try:
            invoke_response = await self.parts.adapter.process_activity(authenticated, activity, self.bot.on_turn)
        finally:
            self.slots.give_back()
        if invoke_response and invoke_response.status == 501:  # the turn set no answer: an invoke we could not serve
            log.warning("teams invoke %r answered 400: no handler answered it", activity.name)
            return _error(400, "invoke not understood")
        if invoke_response:
            return web.json_response(serializer_helper(invoke_response.body), status=invoke_response.status)
        return web.Response(status=201)

    async def _authenticate(self, activity: Activity, header: str) -> AuthenticateRequestResult | None:
        """botbuilder's authentication (anonymous without an app id and header), or None when it fails. Any
        failure is a refusal: botbuilder signals them with PermissionError, jwt errors, KeyError, IndexError and
        bare Exceptions alike, which would otherwise become 500s."""
        try:
            async with asyncio.timeout(AUTHENTICATION_TIMEOUT_SECONDS):
                return await self.parts.adapter.bot_framework_authentication.authenticate_request(activity, header)
        except Exception as error:
            log.warning("teams request refused: not authenticated (%s)", type(error).__name__)
            return None


def teams_platform(settings: Settings, deps: Deps, parts: TeamsParts) -> TeamsPlatform:
    directory = Directory(deps.uow, deps.catalog, parts.presence, default_locale=deps.policy.default_locale)
    bot = VraagbotTeamsBot(deps, parts.messenger, directory=directory,  # names and roles: bot/teams/roster.py
                           roster=Roster(refresh_seconds=settings.teams_roster_refresh_minutes * 60),
                           owners=TeamOwners(team_roles_graph(settings)))

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        log.exception("teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await turn_context.send_activity(MessageFactory.text(
                deps.catalog.text(deps.policy.default_locale, "error.internal")))
        except Exception:  # the connector itself may be what failed
            log.warning("teams: could not tell the user about the failure")

    parts.adapter.on_turn_error = on_turn_error
    admission = Admission(parts.service_urls, settings.teams_tenant_ids, emulator=settings.teams_local_testing)
    return TeamsPlatform(parts, bot, authenticated=bool(settings.microsoft_app_id), admission=admission,
                         slots=TurnSlots(settings.teams_concurrency))
