"""Assembles the Teams side: CloudAdapter with Bot Framework authentication, the bot, the
Messenger, and the /api/messages route that turns every bad request into a clear 4xx."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import jwt
from aiohttp import web
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from msrest.exceptions import DeserializationError

from bot.settings import Settings
from bot.teams.bot import VraagbotTeamsBot
from bot.teams.messenger import TeamsMessenger
from handlers.context import Deps
from handlers.ports import Catalog, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ACTIVITY_BYTES = 256 * 1024  # Bot Framework activities are far smaller


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


@dataclass
class TeamsParts:
    adapter: CloudAdapter
    messenger: TeamsMessenger
    app_id: str


def teams_parts(settings: Settings, uow: UnitOfWorkFactory, catalog: Catalog) -> TeamsParts:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_BotFrameworkConfig(settings)))
    # continue_conversation needs some app id; with authentication off any value works (FACTS T3).
    app_id = settings.microsoft_app_id or "vraagbot-local"
    return TeamsParts(adapter, TeamsMessenger(adapter, app_id, uow, catalog), app_id)


@dataclass
class TeamsPlatform:
    parts: TeamsParts
    bot: VraagbotTeamsBot
    authenticated: bool

    async def handle(self, request: web.Request) -> web.Response:
        """POST /api/messages."""
        if "application/json" not in request.headers.get("Content-Type", ""):
            log.warning("teams request refused: content type %r", request.headers.get("Content-Type"))
            return _error(415, "Content-Type must be application/json")
        if request.content_length and request.content_length > MAX_ACTIVITY_BYTES:
            return _error(413, "activity too large")
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested thousands deep
            log.warning("teams request refused: body is not JSON")
            return _error(400, "body must be a JSON activity")
        if not _is_activity(body):
            log.warning("teams request refused: not an activity")
            return _error(400, "body must be an activity with a type")
        if self.authenticated and not _bearer_with_issuer(request.headers.get("Authorization", "")):
            log.warning("teams request refused: no bearer token with an issuer")
            return _error(401, "unauthorized")
        try:
            response = await self.parts.adapter.process(request, self.bot)
        except web.HTTPUnauthorized:
            log.warning("teams request refused: not authenticated")
            return _error(401, "unauthorized")
        except jwt.PyJWTError:  # a malformed bearer token makes botbuilder fail with 500 (FACTS T1)
            log.warning("teams request refused: malformed bearer token")
            return _error(401, "unauthorized")
        except DeserializationError:  # e.g. a timestamp that is a list: botbuilder fails before the turn
            log.warning("teams request refused: activity fields of the wrong type")
            return _error(400, "body must be an activity with a type")
        return response or web.Response(status=201)


def teams_platform(settings: Settings, deps: Deps, parts: TeamsParts) -> TeamsPlatform:
    bot = VraagbotTeamsBot(deps)

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        log.exception("teams turn failed: %s", type(error).__name__, exc_info=error)
        try:
            await turn_context.send_activity(MessageFactory.text(
                deps.catalog.text(deps.policy.default_locale, "error.internal")))
        except Exception:  # the connector itself may be what failed
            log.warning("teams: could not tell the user about the failure")

    parts.adapter.on_turn_error = on_turn_error
    return TeamsPlatform(parts, bot, authenticated=bool(settings.microsoft_app_id))
