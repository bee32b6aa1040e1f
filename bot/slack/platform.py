"""Assembles the Slack side: Web API client, Messenger, Presence, the bolt AsyncApp and its route.
SlackPlatform is Slack to the runtime (bot/platforms.py)."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.inbox.workers import InboxWorkers
from bot.platforms import Route
from bot.settings import Settings
from bot.slack.guard import MALFORMED, malformed, refusal, refuse_malformed
from bot.slack.intake import SlackIntake
from bot.slack.web import PostPacer, SlackDirectory, SlackMessenger, SlackPresence, make_client
from bot.slack.work import SlackWork
from handlers.context import Deps
from handlers.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass
class SlackParts:
    """What exists before the handlers' dependencies do (they need Presence and Messenger)."""

    client: AsyncWebClient
    messenger: SlackMessenger
    presence: SlackPresence


def slack_parts(settings: Settings, uow: UnitOfWorkFactory) -> SlackParts:
    assert settings.slack_bot_token is not None
    posts = PostPacer(settings.slack_posts_per_minute)
    client = make_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url, posts=posts)
    messenger = SlackMessenger(client, uow, posts=posts)
    return SlackParts(client, messenger, SlackPresence(client))


@dataclass
class SlackPlatform:
    app: AsyncApp
    parts: SlackParts
    app_token: str | None
    _socket: AsyncSocketModeHandler | None = field(default=None, init=False)
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
        return [Route("POST", "/slack/events", self.handle)] if self.serves_http else []

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
        if self.app_token:
            self._socket = AsyncSocketModeHandler(self.app, self.app_token)
            await self._socket.connect_async()
            log.info("slack: connected in Socket Mode")

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop taking requests; what was acknowledged waits in the inbox, whose workers stop after."""
        if self._socket:
            await self._socket.close_async()

    async def close(self) -> None:
        """Last: the inbox workers and the outbox's sends use the client's connections until they stop."""
        await self.parts.client.close()


def slack_platform(settings: Settings, deps: Deps, parts: SlackParts, inbox: InboxWorkers) -> SlackPlatform:
    # process_before_response: bolt answers only once the listener returned, so the answer (the ack) follows the
    # inbox insert for every kind, events included (bolt would otherwise ack an event before its listener runs).
    # The listeners only store, so this holds up nothing (bot/slack/intake.py).
    app = AsyncApp(client=parts.client, signing_secret=signing_secret(settings), process_before_response=True,
                   request_verification_enabled=True)  # always: no setting turns the signature check off
    app.error(refuse_malformed)
    SlackIntake(deps, inbox, parts.messenger).register(app)
    inbox.register("slack", SlackWork(deps, SlackDirectory(parts.client), parts.messenger, parts.presence,
                                      parts.client))
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token is not None else None
    return SlackPlatform(app, parts, app_token)


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
