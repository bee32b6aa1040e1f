"""Slack installations (issue 16, OAuth distribution) on our own database: bolt's installation store and
state store interfaces, tokens encrypted at rest, and the bot token of a workspace for the work that runs
after the ack (inbox workers, the outbox).

Which workspace: vraagbot keys a Slack workspace by its team id, and an org-wide install on Enterprise Grid
by the org's enterprise id (``workspace_key``). Slack's user ids are the same in every workspace of a Grid
org, so keying the org's people by the org makes one person of someone who works in several of its
workspaces, and lets a question go from one workspace of the org to a colleague in another.

Tokens: Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) under VRAAGBOT_SLACK_TOKEN_KEY. That
setting may hold several keys, newest first (MultiFernet): tokens are written with the first and read with
any, and at start every stored token is re-encrypted under the first, so an old key can be dropped after
one start with the new one in front."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_bolt.request.internals import extract_enterprise_id, extract_is_enterprise_install, extract_team_id
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from handlers.errors import RecipientUnreachable
from handlers.messages import OutgoingMessage
from handlers.ports import UnitOfWorkFactory
from storage.repositories import installations as rows
from storage.tables import SlackInstallation

log = logging.getLogger(__name__)


def workspace_key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> str | None:
    """What vraagbot keys the workspace by: the org for an org-wide install, else the workspace (team)."""
    if is_enterprise_install or not team_id:
        return enterprise_id or team_id or None
    return team_id


def workspace_key_of(body: dict[str, Any]) -> str | None:
    """The key of the install a stored request came through, read as bolt's authorize reads it."""
    return workspace_key(extract_enterprise_id(body), extract_team_id(body), extract_is_enterprise_install(body))


class TokenCipher:
    """Encrypts tokens for the database. ``keys``: Fernet keys, newest first."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("no key to encrypt Slack tokens with")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, token: str | None) -> str | None:
        return self._fernet.encrypt(token.encode()).decode() if token else None

    def decrypt(self, stored: str | None) -> str | None:
        if not stored:
            return None
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise TokenKeyMismatch() from None

    def rotate(self, stored: str | None) -> str | None:
        """The same token under the newest key."""
        return self._fernet.rotate(stored.encode()).decode() if stored else None


class TokenKeyMismatch(Exception):
    def __init__(self) -> None:
        super().__init__("a stored Slack token cannot be decrypted with VRAAGBOT_SLACK_TOKEN_KEY: the key it was "
                         "written with is missing (add it after the new one, comma-separated)")


def parse_keys(setting: str) -> list[str]:
    return [key.strip() for key in setting.split(",") if key.strip()]


def _at(timestamp: float | int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None


def _joined(scopes: Sequence[str] | None) -> str | None:
    return ",".join(scopes) if scopes else None


@dataclass(frozen=True)
class TokenRefresh:
    """How rotating tokens are refreshed: ``minutes`` before they expire, by the one replica that claimed the
    refresh for ``claim_seconds``; the others wait up to ``wait_seconds`` for its new tokens."""

    rotator: AsyncTokenRotator
    minutes: int
    claim_seconds: float = 30.0
    wait_seconds: float = 10.0
    poll_seconds: float = 0.2


class SqlInstallationStore(AsyncInstallationStore):
    """bolt's AsyncInstallationStore on our database: one row per install (workspace, or org-wide), holding
    the bot token, and the installer's user token when the app asks for user scopes. A reinstall replaces
    the row's tokens; uninstalling (app_uninstalled) deletes the row; a revocation (tokens_revoked) clears
    the revoked tokens.

    Token rotation happens here, on reading (``refresh``), and only here: Slack revokes a refresh token once
    it is used, so of all replicas exactly one may spend it (a claim on the row), and bolt is handed the
    tokens without their refresh token, so its own authorize never refreshes on the side."""

    def __init__(self, uow: UnitOfWorkFactory, cipher: TokenCipher, refresh: TokenRefresh | None = None) -> None:
        self._uow = uow
        self._cipher = cipher
        self._refresh = refresh
        self._refreshing = asyncio.Lock()  # in this process, one refresh (or wait for one) at a time

    @property
    def logger(self) -> logging.Logger:
        return log

    # ---- writing

    async def async_save(self, installation: Installation) -> None:
        await self._save(installation)
        log.info("slack: installed in %s", self._key(installation.enterprise_id, installation.team_id,
                                                       installation.is_enterprise_install))

    async def _save(self, installation: Installation) -> None:
        key = self._key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        encrypt = self._cipher.encrypt
        values = {
            "enterprise_id": installation.enterprise_id, "team_id": installation.team_id,
            "is_enterprise_install": bool(installation.is_enterprise_install), "app_id": installation.app_id,
            "enterprise_name": installation.enterprise_name, "team_name": installation.team_name,
            "bot_id": installation.bot_id, "bot_user_id": installation.bot_user_id,
            "bot_scopes": _joined(installation.bot_scopes), "bot_token": encrypt(installation.bot_token),
            "bot_refresh_token": encrypt(installation.bot_refresh_token),
            "bot_token_expires_at": _at(installation.bot_token_expires_at),
            "user_id": installation.user_id, "user_token": encrypt(installation.user_token),
            "user_refresh_token": encrypt(installation.user_refresh_token),
            "user_scopes": _joined(installation.user_scopes),
            "user_token_expires_at": _at(installation.user_token_expires_at),
            "token_type": installation.token_type, "installed_at": _at(installation.installed_at),
            "refresh_claimed_until": None,  # new tokens: whoever claimed the refresh is done
        }
        async with self._uow() as uow:
            await rows.save(uow.session, key, values)  # type: ignore[attr-defined]

    async def async_save_bot(self, bot: Bot) -> None:
        """A rotated bot token (bolt's find_bot path): only the bot's columns change."""
        key = self._key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        values = {"enterprise_id": bot.enterprise_id, "team_id": bot.team_id,
                  "is_enterprise_install": bool(bot.is_enterprise_install), "app_id": bot.app_id,
                  "bot_id": bot.bot_id, "bot_user_id": bot.bot_user_id, "bot_scopes": _joined(bot.bot_scopes),
                  "bot_token": self._cipher.encrypt(bot.bot_token),
                  "bot_refresh_token": self._cipher.encrypt(bot.bot_refresh_token),
                  "bot_token_expires_at": _at(bot.bot_token_expires_at), "installed_at": _at(bot.installed_at)}
        async with self._uow() as uow:
            await rows.save(uow.session, key, values)  # type: ignore[attr-defined]

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        key = self._key(enterprise_id, team_id, None)
        async with self._uow() as uow:
            await rows.forget_bot(uow.session, key)  # type: ignore[attr-defined]
        log.info("slack: bot token of %s revoked: deleted", key)

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None) -> None:
        key = self._key(enterprise_id, team_id, None)
        async with self._uow() as uow:
            await rows.forget_user(uow.session, key, user_id)  # type: ignore[attr-defined]

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        key = self._key(enterprise_id, team_id, None)
        async with self._uow() as uow:
            await rows.forget(uow.session, key)  # type: ignore[attr-defined]
        log.info("slack: uninstalled from %s: its tokens are deleted; its data stays until retention", key)

    async def reencrypt(self) -> int:
        """Every stored token under the newest key; how many installations were rewritten."""
        async with self._uow() as uow:
            found = await rows.all_rows(uow.session)  # type: ignore[attr-defined]
            for row in found:
                for column in rows.ENCRYPTED_COLUMNS:
                    setattr(row, column, self._cipher.rotate(getattr(row, column)))
        return len(found)

    # ---- reading

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False) -> Installation | None:
        installation = await self.find_by_key(self._key(enterprise_id, team_id, is_enterprise_install))
        if installation is None or (user_id is not None and installation.user_id != user_id):
            return None  # another person's user token is never handed out
        return _without_refresh(installation)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        installation = await self.find_by_key(self._key(enterprise_id, team_id, is_enterprise_install))
        if installation is None or not installation.bot_token:
            return None
        return _without_refresh(installation).to_bot()

    async def find_by_key(self, key: str) -> Installation | None:
        """The installation, its tokens refreshed first when they rotate and expire soon."""
        row = await self._row(key)
        if row is None:
            return None
        installation = self._installation(row)
        return await self._refreshed(key) if self._due(installation) else installation

    # ---- token rotation

    def _due(self, installation: Installation) -> bool:
        expires = installation.bot_token_expires_at
        return (self._refresh is not None and installation.bot_refresh_token is not None and expires is not None
                and expires <= time.time() + self._refresh.minutes * 60)

    async def _refreshed(self, key: str) -> Installation | None:
        """Refreshed by this replica if it gets the claim, else by the one that has it: waited for."""
        assert self._refresh is not None
        refresh = self._refresh
        async with self._refreshing:
            deadline = time.monotonic() + refresh.wait_seconds
            while True:
                now = datetime.now(UTC)
                async with self._uow() as uow:
                    row = await rows.find(uow.session, key)  # type: ignore[attr-defined]
                    if row is None:
                        return None
                    installation = self._installation(row)
                    if not self._due(installation):  # refreshed meanwhile (this replica or another)
                        return installation
                    claimed = await rows.claim_refresh(  # type: ignore[attr-defined]
                        uow.session, key, row.bot_refresh_token, now, now + timedelta(seconds=refresh.claim_seconds))
                if claimed:
                    return await self._spend(key, installation)
                if time.monotonic() >= deadline:  # still valid for up to ``minutes``: used as it is
                    log.warning("slack: another replica's refresh of %s did not finish in time", key)
                    return installation
                await asyncio.sleep(refresh.poll_seconds)

    async def _spend(self, key: str, installation: Installation) -> Installation:
        assert self._refresh is not None
        try:
            refreshed = await self._refresh.rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=self._refresh.minutes)
        except SlackTokenRotationError as error:
            log.error("slack: refreshing the tokens of %s failed: %s", key, error)
            refreshed = None
        if refreshed is None:
            async with self._uow() as uow:
                await rows.release_refresh(uow.session, key)  # type: ignore[attr-defined]
            return installation
        await self._save(refreshed)  # clears the claim
        log.info("slack: tokens of %s refreshed", key)
        return refreshed

    async def _row(self, key: str) -> SlackInstallation | None:
        async with self._uow() as uow:
            return await rows.find(uow.session, key)  # type: ignore[attr-defined]

    def _installation(self, row: SlackInstallation) -> Installation:
        decrypt = self._cipher.decrypt
        return Installation(
            app_id=row.app_id, enterprise_id=row.enterprise_id, enterprise_name=row.enterprise_name,
            team_id=row.team_id, team_name=row.team_name, bot_token=decrypt(row.bot_token), bot_id=row.bot_id,
            bot_user_id=row.bot_user_id, bot_scopes=row.bot_scopes or "",
            bot_refresh_token=decrypt(row.bot_refresh_token),
            bot_token_expires_at=row.bot_token_expires_at, user_id=row.user_id or "",
            user_token=decrypt(row.user_token), user_scopes=row.user_scopes or "",
            user_refresh_token=decrypt(row.user_refresh_token), user_token_expires_at=row.user_token_expires_at,
            is_enterprise_install=row.is_enterprise_install, token_type=row.token_type,
            installed_at=row.installed_at)

    @staticmethod
    def _key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> str:
        key = workspace_key(enterprise_id, team_id, is_enterprise_install)
        if key is None:
            raise ValueError("an installation names neither an org nor a workspace")
        return key


def _without_refresh(installation: Installation) -> Installation:
    """What bolt gets: the tokens, without what it would refresh them with (that is the store's job)."""
    copy = Installation(**installation.to_dict_for_copying())
    copy.bot_refresh_token = copy.bot_token_expires_at = None
    copy.user_refresh_token = copy.user_token_expires_at = None
    return copy


class SqlStateStore(AsyncOAuthStateStore):
    """The OAuth ``state`` of each install started at /slack/install: random, stored here (so any replica
    can finish the install), accepted once at /slack/oauth_redirect and only before it expires. bolt also
    checks that the browser finishing the install carries the same state in a cookie."""

    def __init__(self, uow: UnitOfWorkFactory, expiration_seconds: int = 600) -> None:
        self._uow = uow
        self._lifetime = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        async with self._uow() as uow:
            await rows.issue_state(uow.session, state, datetime.now(UTC) + self._lifetime)  # type: ignore[attr-defined]
        return state

    async def async_consume(self, state: str) -> bool:
        async with self._uow() as uow:
            return await rows.consume_state(uow.session, state, datetime.now(UTC))  # type: ignore[attr-defined]


class WorkspaceTokens:
    """The bot token of a workspace (by its key), for work done after the ack, where bolt's per-request
    authorize does not reach; refreshed first when it rotates and expires soon (SqlInstallationStore)."""

    def __init__(self, store: SqlInstallationStore) -> None:
        self._store = store

    async def bot_token(self, key: str | None) -> str | None:
        """None when the app is not (or no longer) installed there."""
        installation = await self._store.find_by_key(key) if key else None
        return installation.bot_token if installation is not None and installation.bot_token else None


class RecipientTokens:
    """Whose token a message goes with: a person's workspace's, or for a team channel the workspace whose
    weekly message it is. RecipientUnreachable when the app is no longer installed there, so the outbox gives
    up on that message instead of trying without a token for ever."""

    def __init__(self, uow: UnitOfWorkFactory, tokens: WorkspaceTokens) -> None:
        self._uow = uow
        self._tokens = tokens

    async def of_message(self, message: OutgoingMessage) -> str:
        async with self._uow() as uow:
            session = uow.session  # type: ignore[attr-defined]
            if message.channel is not None:
                keys = await rows.workspace_keys_of_channel(session, message.channel.channel_id)
            elif message.person_id is not None:
                key = await rows.workspace_key_of_person(session, message.person_id)
                keys = [key] if key else []
            else:
                keys = []
        for key in keys:
            if token := await self._tokens.bot_token(key):
                return token
        raise RecipientUnreachable("the Slack app is not installed in the recipient's workspace (any more)")

    async def of_person(self, person_id: int) -> str | None:
        async with self._uow() as uow:
            key = await rows.workspace_key_of_person(uow.session, person_id)  # type: ignore[attr-defined]
        return await self._tokens.bot_token(key)
