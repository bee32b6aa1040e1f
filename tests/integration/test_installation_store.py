"""The Slack installation and state stores (bot/slack/installations.py, issue 16) on SQLite and PostgreSQL:
what bolt saves comes back as it was, tokens are ciphertext in the table and unreadable without the key,
a key can be replaced, revocations and uninstalls delete the tokens, a state is good once and not after
it expired."""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet, InvalidToken
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text

from bot.slack.installations import SqlInstallationStore, SqlStateStore, TokenCipher, TokenKeyMismatch

KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def installation(**changes: object) -> Installation:
    values: dict[str, object] = dict(
        app_id="A1", team_id="T1", team_name="Sales", bot_token="xoxb-secret-1", bot_id="B1", bot_user_id="UBOT",
        bot_scopes="chat:write,commands", bot_refresh_token="xoxe-1-refresh", bot_token_expires_in=43200,
        user_id="UADMIN", user_token="xoxp-user-1", user_scopes="search:read", installed_at=time.time())
    values.update(changes)
    return Installation(**values)  # type: ignore[arg-type]


def store(uow_factory, *keys: str) -> SqlInstallationStore:
    return SqlInstallationStore(uow_factory, TokenCipher(list(keys or (KEY,))))


async def raw(uow_factory, column: str) -> list:
    async with uow_factory() as uow:
        return list((await uow.session.execute(text(f"SELECT {column} FROM slack_installations"))).scalars())


async def test_what_is_saved_comes_back_and_the_table_holds_ciphertext_only(uow_factory):
    installs = store(uow_factory)
    await installs.async_save(installation())
    found = await installs.find_by_key("T1")
    assert found is not None
    assert (found.bot_token, found.bot_refresh_token, found.user_token) == (
        "xoxb-secret-1", "xoxe-1-refresh", "xoxp-user-1")
    assert found.bot_scopes == ["chat:write", "commands"] and found.bot_token_expires_at > time.time()
    # bolt gets the tokens without what refreshes them: refreshing is the store's alone (one replica at a time).
    for_bolt = await installs.async_find_installation(enterprise_id=None, team_id="T1")
    assert for_bolt is not None and (for_bolt.bot_token, for_bolt.user_token) == ("xoxb-secret-1", "xoxp-user-1")
    assert (for_bolt.bot_refresh_token, for_bolt.bot_token_expires_at, for_bolt.user_refresh_token) == (None,) * 3
    for column in ("bot_token", "bot_refresh_token", "user_token"):
        [stored] = await raw(uow_factory, column)
        assert "xox" not in stored and "secret" not in stored
        with pytest.raises(InvalidToken):  # without the key: unreadable
            Fernet(Fernet.generate_key()).decrypt(stored.encode())
    bot = await installs.async_find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == "xoxb-secret-1"


async def test_another_persons_user_token_is_never_handed_out(uow_factory):
    installs = store(uow_factory)
    await installs.async_save(installation())
    assert await installs.async_find_installation(enterprise_id=None, team_id="T1", user_id="UOTHER") is None
    mine = await installs.async_find_installation(enterprise_id=None, team_id="T1", user_id="UADMIN")
    assert mine is not None and mine.user_token == "xoxp-user-1"


async def test_an_org_wide_install_is_found_from_any_workspace_of_the_org(uow_factory):
    installs = store(uow_factory)
    await installs.async_save(installation(team_id=None, team_name=None, enterprise_id="E1",
                                           is_enterprise_install=True, bot_token="xoxb-org"))
    for team in ("T1", "T2", None):
        found = await installs.async_find_installation(enterprise_id="E1", team_id=team, is_enterprise_install=True)
        assert found is not None and found.bot_token == "xoxb-org"
    # A workspace of the org with an install of its own is that install, not the org's.
    assert await installs.async_find_installation(enterprise_id="E1", team_id="T1") is None


async def test_a_reinstall_replaces_the_tokens(uow_factory):
    installs = store(uow_factory)
    await installs.async_save(installation())
    await installs.async_save(installation(bot_token="xoxb-secret-2", user_id="UOTHER", user_token=None))
    found = await installs.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and (found.bot_token, found.user_id, found.user_token) == ("xoxb-secret-2", "UOTHER",
                                                                                         None)
    assert len(await raw(uow_factory, "id")) == 1


async def test_revoking_and_uninstalling_delete_the_tokens(uow_factory):
    installs = store(uow_factory)
    await installs.async_save(installation())
    await installs.async_save(installation(team_id="T2", bot_token="xoxb-t2"))
    await installs.async_delete_installation(enterprise_id=None, team_id="T1", user_id="UADMIN")  # tokens_revoked
    found = await installs.async_find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.user_token is None and found.bot_token == "xoxb-secret-1"
    await installs.async_delete_bot(enterprise_id=None, team_id="T1")  # no token left: the row goes
    assert await installs.async_find_installation(enterprise_id=None, team_id="T1") is None
    await installs.async_delete_all(enterprise_id=None, team_id="T2")  # app_uninstalled
    assert await raw(uow_factory, "workspace_key") == []


async def test_a_new_key_in_front_reads_the_old_tokens_and_start_re_encrypts_them(uow_factory):
    await store(uow_factory, KEY).async_save(installation())
    rotating = store(uow_factory, NEW_KEY, KEY)
    assert (await rotating.find_by_key("T1")).bot_token == "xoxb-secret-1"
    with pytest.raises(TokenKeyMismatch):
        await store(uow_factory, NEW_KEY).find_by_key("T1")  # the old key is still needed ...
    assert await rotating.reencrypt() == 1
    found = await store(uow_factory, NEW_KEY).find_by_key("T1")  # ... until the tokens were re-encrypted
    assert found is not None and (found.bot_token, found.user_token) == ("xoxb-secret-1", "xoxp-user-1")


async def test_a_state_is_good_once_and_not_after_it_expired(uow_factory):
    states = SqlStateStore(uow_factory, expiration_seconds=600)
    state = await states.async_issue()
    assert len(state) >= 32
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False
    assert await states.async_consume("never-issued") is False
    expired = SqlStateStore(uow_factory, expiration_seconds=-1)
    assert await expired.async_consume(await expired.async_issue()) is False
