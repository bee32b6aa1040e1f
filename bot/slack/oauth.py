"""OAuth distribution (issue 16): the app installed into any number of workspaces through Slack's install
flow, instead of one workspace's bot token in the environment. Off unless SLACK_CLIENT_ID is set.

bolt runs the flow (GET /slack/install hands out a state and the "Add to Slack" link, GET
/slack/oauth_redirect checks the state and its browser cookie, trades the code for tokens with
oauth.v2.access) and, per request, finds the workspace's token (authorize). The installations and states
live in our own database (bot/slack/installations.py), which also refreshes rotating tokens: once, across
replicas."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms import Route
from bot.settings import Settings
from bot.slack.install_pages import InstallFlow, install_pages
from bot.slack.installations import (
    RecipientTokens,
    SqlInstallationStore,
    SqlStateStore,
    TokenCipher,
    TokenRefresh,
    WorkspaceTokens,
    parse_keys,
)
from handlers.ports import UnitOfWorkFactory
from nudges.texts.catalog import TextCatalog

log = logging.getLogger(__name__)

# The bot scopes an install asks for: exactly manifest.json's (tests/unit/test_slack_manifest.py checks).
BOT_SCOPES = ("channels:history", "chat:write", "commands", "dnd:read", "files:write", "groups:history",
              "im:history", "im:write", "mpim:history", "mpim:write", "users:read")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
# Refresh a rotating token this long before it expires (Slack's last 12 hours; bolt's default is 2 hours).
ROTATION_MINUTES = 120
STATE_SECONDS = 600  # an install must be finished within 10 minutes of starting it


@dataclass
class SlackOAuth:
    store: SqlInstallationStore
    flow: AsyncOAuthFlow
    authorize: AsyncInstallationStoreAuthorize
    tokens: WorkspaceTokens  # for the work after the ack
    recipients: RecipientTokens  # for the outbox's sends

    def routes(self) -> list[Route]:
        return [Route("GET", INSTALL_PATH, self.install), Route("GET", REDIRECT_PATH, self.redirect)]

    async def install(self, request: web.Request) -> web.Response:
        """The page with the "Add to Slack" link; its state also goes to the browser as a cookie."""
        return await to_aiohttp_response(await self.flow.handle_installation(_bolt_request(request)))

    async def redirect(self, request: web.Request) -> web.Response:
        """Where Slack sends the installer back: the state is checked (once, unexpired, same browser) and
        the code traded for the tokens, which are stored encrypted."""
        return await to_aiohttp_response(await self.flow.handle_callback(_bolt_request(request)))


def _bolt_request(request: web.Request) -> AsyncBoltRequest:
    return AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))


def slack_oauth(settings: Settings, uow: UnitOfWorkFactory, catalog: TextCatalog) -> SlackOAuth:
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    assert settings.slack_token_key is not None
    client_id, client_secret = settings.slack_client_id, settings.slack_client_secret.get_secret_value()
    # A client of its own, without any workspace's token: oauth.v2.access authenticates with the app's id and
    # secret, and a bot token on the same call would be refused.
    client = AsyncWebClient(base_url=_with_slash(settings.slack_api_url), timeout=10)
    rotator = AsyncTokenRotator(client_id=client_id, client_secret=client_secret, client=client)
    store = SqlInstallationStore(uow, TokenCipher(parse_keys(settings.slack_token_key.get_secret_value())),
                                 TokenRefresh(rotator, ROTATION_MINUTES))
    authorize = AsyncInstallationStoreAuthorize(
        logger=log, installation_store=store, client_id=client_id, client_secret=client_secret,
        token_rotation_expiration_minutes=ROTATION_MINUTES, client=client)
    oauth_settings = AsyncOAuthSettings(
        client_id=client_id, client_secret=client_secret, scopes=list(BOT_SCOPES), user_scopes=[],
        redirect_uri=settings.slack_redirect_uri, install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
        installation_store=store, state_store=SqlStateStore(uow, STATE_SECONDS),
        state_expiration_seconds=STATE_SECONDS, token_rotation_expiration_minutes=ROTATION_MINUTES, logger=log,
        callback_options=install_pages(catalog, settings.default_language, install_url(settings.slack_redirect_uri)))
    oauth_settings.authorize = authorize
    flow = InstallFlow(client=client, logger=log, settings=oauth_settings, catalog=catalog,
                       default_locale=settings.default_language)
    tokens = WorkspaceTokens(store)
    return SlackOAuth(store, flow, authorize, tokens, RecipientTokens(uow, tokens))


def install_url(redirect_uri: str | None) -> str:
    """Where an install starts, as the admin's browser reaches it: next to the redirect URL when that is set."""
    if redirect_uri and redirect_uri.endswith(REDIRECT_PATH):
        return redirect_uri.removesuffix(REDIRECT_PATH) + INSTALL_PATH
    return INSTALL_PATH


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
