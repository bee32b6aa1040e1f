"""Assembles the Slack side: Web API client, Messenger, Presence, the bolt AsyncApp and its route.
SlackPlatform is Slack to the runtime (bot/platforms.py)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.inbox.workers import InboxWorkers
from bot.platforms import Route
from bot.settings import Settings
from bot.slack.guard import MALFORMED, malformed, refusal, refuse_malformed
from bot.slack.intake import SlackIntake
from bot.slack.oauth import SlackOAuth, slack_oauth
from bot.slack.socket_health import FailureLog
from bot.slack.web import PostPacer, SlackDirectory, SlackMessenger, SlackPresence, make_client
from bot.slack.work import SlackWork
from handlers.context import Deps
from handlers.models import LOCALES
from handlers.ports import UnitOfWorkFactory
from nudges.texts.catalog import TextCatalog

log = logging.getLogger(__name__)

# Socket Mode. slack_sdk's client pings this often and opens a new connection once one closed or a ping
# went unanswered: 5 s (the client's own default; bolt's handler sets 10) notices a dropped one sooner.
SOCKET_PING_SECONDS = 5.0
# Between failed attempts to open a connection (apps.connections.open): 1 s, 2 s, 4 s, ... at most a minute.
OPEN_FIRST_WAIT_SECONDS = 1.0
OPEN_MAX_WAIT_SECONDS = 60.0
# Slack's answers that say the app-level token itself is wrong: trying again cannot help.
TOKEN_REFUSED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                           "not_allowed_token_type", "missing_scope", "no_permission"})


@dataclass
class SlackParts:
    """What exists before the handlers' dependencies do (they need Presence and Messenger)."""

    client: AsyncWebClient
    messenger: SlackMessenger
    presence: SlackPresence
    oauth: SlackOAuth | None = None  # OAuth distribution: every workspace's token from the installations


def slack_parts(settings: Settings, uow: UnitOfWorkFactory, catalog: TextCatalog) -> SlackParts:
    posts = PostPacer(settings.slack_posts_per_minute)
    if settings.slack_oauth:  # no token of its own: each call carries its workspace's (bot/slack/web.py)
        oauth = slack_oauth(settings, uow, catalog)
        client = make_client(None, settings.slack_api_url, posts=posts)
        messenger = SlackMessenger(client, uow, posts=posts, tokens=oauth.recipients.of_message)
        return SlackParts(client, messenger, SlackPresence(client, tokens=oauth.recipients.of_person), oauth)
    assert settings.slack_bot_token is not None
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, posts=posts)
    messenger = SlackMessenger(client, uow, posts=posts)
    return SlackParts(client, messenger, SlackPresence(client))


@dataclass
class SlackPlatform:
    app: AsyncApp
    parts: SlackParts
    app_token: str | None
    _socket: SocketModeLink | None = field(default=None, init=False)
    _connecting: asyncio.Task[None] | None = field(default=None, init=False)
    name = "slack"

    @property
    def messenger(self) -> SlackMessenger:
        return self.parts.messenger

    @property
    def presence(self) -> SlackPresence:
        return self.parts.presence

    @property
    def serves_http(self) -> bool:
        """In Socket Mode Slack talks to us over the socket only, so /slack/events does not exist."""
        return self.app_token is None

    def routes(self) -> list[Route]:
        if not self.serves_http:
            return []
        installs = self.parts.oauth.routes() if self.parts.oauth is not None else []
        return [Route("POST", "/slack/events", self.handle), *installs]

    async def handle(self, request: web.Request) -> web.Response:
        """POST /slack/events: bolt checks the signature (401 when wrong) and routes the request."""
        if not self.serves_http:  # the route is not registered then; this keeps it so if it ever were
            raise web.HTTPNotFound()
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:
            log.warning("slack request refused: body is not UTF-8")
            return web.json_response({"error": "body must be UTF-8"}, status=400)
        headers = dict(request.headers)
        if (refused := refusal(body, headers)) is not None:
            return refused
        try:
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
            response = await self.app.async_dispatch(bolt_request)
        except MALFORMED as error:  # bolt reads fields every Slack payload has; see bot/slack/guard.py
            log.warning("slack request refused: payload not understood (%s: %s)", type(error).__name__, error)
            return malformed()
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        """In Socket Mode: the first connection. A token Slack refuses ends start-up (SocketModeRefused); any
        other failure (a Web API error, a websocket that refuses) is tried again in the background."""
        if self.parts.oauth is not None and (count := await self.parts.oauth.store.reencrypt()):
            log.info("slack: the tokens of %d installation(s) are encrypted with the first VRAAGBOT_SLACK_TOKEN_KEY",
                     count)
        if not self.app_token:
            return
        url, failure = None, None
        try:
            url = await open_url(self.app.client, self.app_token)
        except Exception as error:  # whatever it is, it is said in one line below
            failure = describe_failure(error)
        if failure is not None and failure.refused:
            log.error("slack: Slack refused SLACK_APP_TOKEN (%s), so Socket Mode cannot connect: check that "
                      "SLACK_APP_TOKEN is this app's app-level token (xapp-..., under Basic Information, App-Level "
                      "Tokens) with the scope connections:write, and that Socket Mode is on in the app's settings; "
                      "stopping", failure.reason)
            await self.close()
            raise SocketModeRefused(2)
        client = SocketConnections(self.app_token, logger=self.app.logger, web_client=self.app.client,
                                   ping_interval=SOCKET_PING_SECONDS)
        self._socket = SocketModeLink(self.app, client)
        if failure is None:
            client.wss_uri = url
            failure = await client.attempt()
            if failure is None:
                return
        # Not yet: tried again in the background, so health, sends and stored work go on (not ready meanwhile).
        self._connecting = asyncio.create_task(client.connect_after(client.failed(failure)))

    def socket_state(self) -> str | None:
        """For /readyz: "ok" while a Socket Mode connection is open, else why not; None over HTTP."""
        if not self.app_token:
            return None
        return self._socket.client.state() if self._socket is not None else "not connected yet"

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop taking requests; what was acknowledged waits in the inbox, whose workers stop after."""
        if self._connecting is not None:
            self._connecting.cancel()
            with suppress(asyncio.CancelledError):
                await self._connecting
        if self._socket:
            await self._socket.close_async()

    async def close(self) -> None:
        """Last: the inbox workers and the outbox's sends use the client's connections until they stop."""
        await self.parts.client.close()


class SocketModeRefused(SystemExit):
    """Slack refused SLACK_APP_TOKEN at start: `vraagbot serve` ends with exit code 2, as for a wrong setting,
    after one log line, instead of retrying for ever. A SystemExit passes aiohttp's start-up and click as it
    is, so no traceback follows the line."""


class OpenFailure(NamedTuple):
    reason: str  # in a few words: Slack's error code, an HTTP status, a network error
    refused: bool  # Slack refused the token itself
    retry_after: float | None  # what a 429 asked for


def describe_failure(error: Exception) -> OpenFailure:
    if isinstance(error, SlackApiError):
        response = error.response
        code = response.data.get("error") if isinstance(response.data, dict) else None
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        return OpenFailure(code or f"HTTP {response.status_code}", code in TOKEN_REFUSED,
                           float(retry_after) if retry_after and response.status_code == 429 else None)
    if isinstance(error, aiohttp.WSServerHandshakeError):  # the websocket URL answered, but no upgrade
        return OpenFailure(f"websocket refused: HTTP {error.status}", False, None)
    return OpenFailure(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__, False, None)


async def open_url(client: AsyncWebClient, app_token: str) -> str:
    """One apps.connections.open: a fresh wss:// URL for one Socket Mode connection."""
    response = await client.apps_connections_open(app_token=app_token)
    return str(response["url"])


class SocketConnections(SocketModeClient):
    """slack_sdk's Socket Mode client, opening connections our way. The sdk's own way would, at start, try
    again every ping interval for ever with a traceback each time; on a reconnect give up after one failed
    apps.connections.open until its next ping; and try a websocket URL that refused again and again (Slack's
    URLs are for one connection). Here a failed attempt, at either step, is followed by a back-off and the
    next one asks Slack for a new URL; the log says each kind of failure once, then once a minute at most
    (bot/slack/socket_health.py); state() says whether a connection is open, for /readyz."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # SocketModeClient's own
        super().__init__(*args, **kwargs)
        self._failures = 0  # in a row
        self._closing = asyncio.Event()
        self._told = FailureLog(log)
        self._last_failure: str | None = None
        self._ever_open = False

    async def issue_new_wss_url(self) -> str:
        """The sdk asks this for each connection it opens: it returns once Slack handed out a URL."""
        while True:
            try:
                url = await open_url(self.web_client, self.app_token)
            except Exception as error:  # network errors and Slack's answers alike: retried
                wait = self.failed(describe_failure(error))
            else:
                return url
            await self._pause(wait)

    async def connect(self) -> None:
        """Opens a connection (the sdk calls this to reconnect too): returns once one is open, or closed."""
        with suppress(ConnectionAbortedError):  # closed while waiting
            while not self.closed:
                failure = await self.attempt()
                if failure is None or self.closed:
                    return
                await self._pause(self.failed(failure))

    async def attempt(self) -> OpenFailure | None:
        """One attempt to open a websocket, on the URL at hand or a new one; what went wrong, if anything.
        Once it is open, what follows is what the sdk's connect() does (the first ping, its monitor and its
        receiver); that one cannot be used as it is, since it tries a URL that refused again for ever."""
        url = self.wss_uri or await self.issue_new_wss_url()
        self.wss_uri = None  # used once: one that refused is not tried again
        self.auto_reconnect_enabled = False  # the sdk's monitor must not start a second attempt meanwhile
        if self.current_session is not None:  # closed first: Slack counts an app's open connections
            with suppress(Exception):
                await self.current_session.close()
        if self.aiohttp_client_session.closed:
            self.aiohttp_client_session = aiohttp.ClientSession()
        try:
            session = await self.aiohttp_client_session.ws_connect(
                url, autoping=False, heartbeat=self.ping_interval, proxy=self.proxy,
                ssl=self.web_client.ssl if self.web_client.ssl is not None else True)
        except Exception as error:  # refused, unreachable: said, and tried again
            return describe_failure(error)
        try:
            await session.ping(f"sdk-ping-pong:{time.time()}".encode())  # the sdk's pong handler reads this form
        except Exception as error:  # cut off at once
            with suppress(Exception):
                await session.close()
            return describe_failure(error)
        self.current_session = session
        self.stale = False
        self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        for task in (self.current_session_monitor, self.message_receiver):
            if task is not None:
                task.cancel()
        self.current_session_monitor = asyncio.ensure_future(self.monitor_current_session())
        self.message_receiver = asyncio.ensure_future(self.receive_messages())
        self._failures, self._last_failure = 0, None
        self._told.opened(first=not self._ever_open)
        self._ever_open = True
        return None

    def failed(self, failure: OpenFailure) -> float:
        """Logs one failed attempt (once per kind, see FailureLog); how long to wait before the next."""
        self._failures += 1
        self._last_failure = failure.reason
        wait = failure.retry_after or min(OPEN_MAX_WAIT_SECONDS,
                                          OPEN_FIRST_WAIT_SECONDS * 2 ** (self._failures - 1))
        if failure.refused:  # it was good when we started: revoked since? A new token needs a restart.
            self._told.failed(failure.reason, logging.ERROR,
                              "slack: Slack refused SLACK_APP_TOKEN (%s) when reconnecting Socket Mode; trying "
                              "again with a back-off of up to %.0fs, not ready meanwhile. Check that "
                              "SLACK_APP_TOKEN is this app's app-level token (xapp-...) with the scope "
                              "connections:write; a new one needs a restart", failure.reason, OPEN_MAX_WAIT_SECONDS)
        else:
            self._told.failed(failure.reason, logging.WARNING,
                              "slack: could not open a Socket Mode connection (%s); trying again in %.0fs, then "
                              "with a back-off of up to %.0fs, not ready meanwhile", failure.reason, wait,
                              OPEN_MAX_WAIT_SECONDS)
        return wait

    def state(self) -> str:
        session = self.current_session
        if not self.closed and not self.stale and session is not None and not session.closed:
            return "ok"
        return f"not connected ({self._last_failure})" if self._last_failure else "not connected"

    async def connect_after(self, wait: float) -> None:
        """The first connection, when the first attempt at start failed."""
        with suppress(ConnectionAbortedError):
            await self._pause(wait)
        await self.connect()

    async def _pause(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)
        if self.closed:
            raise ConnectionAbortedError("Socket Mode client closed")

    async def close(self) -> None:
        self._closing.set()
        await super().close()


class SocketModeLink(AsyncSocketModeHandler):
    """bolt's Socket Mode handler (it runs each envelope through the app and acks it after the listener
    returned) on our client: bolt's own __init__ would build a client we have no say over."""

    def __init__(self, app: AsyncApp, client: SocketConnections) -> None:  # not super's: it builds a client
        self.app = app
        self.app_token = client.app_token
        self.client = client
        client.socket_mode_request_listeners.append(self.handle)


def slack_platform(settings: Settings, deps: Deps, parts: SlackParts, inbox: InboxWorkers) -> SlackPlatform:
    # process_before_response: bolt answers only once the listener returned, so the answer (the ack) follows the
    # inbox insert for every kind, events included (bolt would otherwise ack an event before its listener runs).
    # The listeners only store, so this holds up nothing (bot/slack/intake.py).
    # With OAuth distribution bolt finds each request's workspace token in the installations (authorize).
    installs = {"oauth_flow": parts.oauth.flow, "authorize": parts.oauth.authorize,
                "user_facing_authorize_error_message": not_installed_text(deps)} if parts.oauth else {}
    app = AsyncApp(client=parts.client, signing_secret=signing_secret(settings), process_before_response=True,
                   request_verification_enabled=True,  # always: no setting turns the signature check off
                   **installs)
    app.error(refuse_malformed)
    if parts.oauth is not None:  # app_uninstalled, tokens_revoked: the tokens are deleted before the ack
        app.enable_token_revocation_listeners()
    SlackIntake(deps, inbox, parts.messenger).register(app)
    inbox.register("slack", SlackWork(deps, SlackDirectory(parts.client), parts.messenger, parts.presence,
                                      parts.client, tokens=parts.oauth.tokens if parts.oauth else None))
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token is not None else None
    return SlackPlatform(app, parts, app_token)


def not_installed_text(deps: Deps) -> str:
    """What someone sees who uses the app in a workspace without an install (bolt's authorize found no
    token). bolt shows one text, before anyone's language is known: the default language's, then the other."""
    first = deps.policy.default_locale
    locales = (first, *(other for other in LOCALES if other != first))
    return "\n".join(deps.catalog.text(locale, "install.missing") for locale in locales)


def signing_secret(settings: Settings) -> str:
    """The secret bolt checks every HTTP request with. Settings refuse an empty one, and require one
    unless Socket Mode is on; there bolt checks nothing that came over the socket, and an HTTP request
    could not reach it, but should one ever, it meets a random secret nobody knows rather than none."""
    if settings.slack_signing_secret is not None:
        secret = settings.slack_signing_secret.get_secret_value()
    elif settings.slack_socket_mode:
        secret = secrets.token_hex(32)
    else:
        secret = ""
    if not secret.strip():
        raise ValueError("SLACK_SIGNING_SECRET is empty: Slack requests cannot be checked")
    return secret
