"""Slack OAuth installations and install states (issue 16) in plain statements on a session.

The token columns arrive here encrypted and leave encrypted: this module never sees a token in clear
(bot/slack/installations.py holds the key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories._sql import affected, insert_ignoring_duplicates
from storage.tables import Person, SlackInstallation, SlackOAuthState, TeamSchedule, Workspace

BOT_TOKEN_COLUMNS = ("bot_token", "bot_refresh_token", "bot_token_expires_at")
USER_TOKEN_COLUMNS = ("user_token", "user_refresh_token", "user_token_expires_at")
# Columns whose values are ciphertext.
ENCRYPTED_COLUMNS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


async def find(session: AsyncSession, workspace_key: str) -> SlackInstallation | None:
    return await session.scalar(select(SlackInstallation).where(SlackInstallation.workspace_key == workspace_key))


async def save(session: AsyncSession, workspace_key: str, values: dict[str, Any]) -> None:
    """Insert, or overwrite the columns in ``values`` of the row already there (a reinstall, new tokens)."""
    stmt = insert_ignoring_duplicates(session, SlackInstallation).values(workspace_key=workspace_key, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["workspace_key"], set_=values))


async def forget_bot(session: AsyncSession, workspace_key: str) -> None:
    """The bot's tokens are revoked: cleared, and the row goes once no token is left in it."""
    await session.execute(update(SlackInstallation).where(SlackInstallation.workspace_key == workspace_key)
                          .values(dict.fromkeys(BOT_TOKEN_COLUMNS)))
    await _drop_empty(session, workspace_key)


async def forget_user(session: AsyncSession, workspace_key: str, user_id: str | None) -> None:
    """A user's token is revoked (``user_id``), or every user token of the workspace (None)."""
    stmt = update(SlackInstallation).where(SlackInstallation.workspace_key == workspace_key)
    if user_id is not None:
        stmt = stmt.where(SlackInstallation.user_id == user_id)
    await session.execute(stmt.values(dict.fromkeys(USER_TOKEN_COLUMNS)))
    await _drop_empty(session, workspace_key)


async def forget(session: AsyncSession, workspace_key: str) -> bool:
    """The app was uninstalled: the whole row goes, tokens and all."""
    return affected(await session.execute(
        delete(SlackInstallation).where(SlackInstallation.workspace_key == workspace_key))) > 0


async def claim_refresh(session: AsyncSession, workspace_key: str, refresh_token: str, now: datetime,
                        until: datetime) -> bool:
    """Take the one right to spend this (encrypted) refresh token, until ``until``: False when another replica
    holds it, or has spent it already (the row has a newer refresh token by now)."""
    return affected(await session.execute(
        update(SlackInstallation)
        .where(SlackInstallation.workspace_key == workspace_key, SlackInstallation.bot_refresh_token == refresh_token,
               or_(SlackInstallation.refresh_claimed_until.is_(None), SlackInstallation.refresh_claimed_until <= now))
        .values(refresh_claimed_until=until))) > 0


async def release_refresh(session: AsyncSession, workspace_key: str) -> None:
    """A refresh that did not happen: the next one may try at once."""
    await session.execute(update(SlackInstallation).where(SlackInstallation.workspace_key == workspace_key)
                          .values(refresh_claimed_until=None))


async def _drop_empty(session: AsyncSession, workspace_key: str) -> None:
    await session.execute(delete(SlackInstallation).where(
        SlackInstallation.workspace_key == workspace_key, SlackInstallation.bot_token.is_(None),
        SlackInstallation.user_token.is_(None)))


async def all_rows(session: AsyncSession) -> list[SlackInstallation]:
    """Every installation, for re-encrypting the tokens under a new key (a handful of rows per app)."""
    return list(await session.scalars(select(SlackInstallation).order_by(SlackInstallation.id)))


async def workspace_keys_of_channel(session: AsyncSession, channel: str) -> list[str]:
    """The Slack workspaces that have a weekly message in this channel (``C123``), oldest schedule first:
    whose token a message to the channel is sent with. A shared channel can have more than one."""
    stmt = (select(Workspace.external_id)
            .join(TeamSchedule, TeamSchedule.workspace_id == Workspace.id)
            .where(Workspace.platform == "slack", TeamSchedule.channel == f"slack:{channel}")
            .order_by(TeamSchedule.id))
    return list(await session.scalars(stmt))


async def workspace_key_of_person(session: AsyncSession, person_id: int) -> str | None:
    """The Slack workspace (its key) a person belongs to: whose token a message to them is sent with."""
    return await session.scalar(select(Workspace.external_id)
                                .join(Person, Person.workspace_id == Workspace.id)
                                .where(Person.id == person_id, Workspace.platform == "slack"))


# ---------------------------------------------------------------- install states


async def issue_state(session: AsyncSession, state: str, expires_at: datetime) -> None:
    session.add(SlackOAuthState(state=state, expires_at=expires_at))
    await session.flush()


async def consume_state(session: AsyncSession, state: str, now: datetime) -> bool:
    """True once for a state that was issued and has not expired; expired ones are swept on the way."""
    consumed = affected(await session.execute(
        delete(SlackOAuthState).where(SlackOAuthState.state == state, SlackOAuthState.expires_at > now))) > 0
    await session.execute(delete(SlackOAuthState).where(SlackOAuthState.expires_at <= now))
    return consumed
