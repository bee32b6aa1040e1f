"""Token rotation across replicas (issue 16): Slack revokes a refresh token once it is used, so of two
replicas that find a workspace's token about to expire at the same moment exactly one may spend it; the other
waits for its new tokens. Two installation stores on one database, each with its own engine, are the two
replicas; the refresh goes to the fake Slack's oauth.v2.access, which takes each refresh token once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text

from bot.slack.installations import SqlInstallationStore, TokenCipher, TokenRefresh
from storage.engine import create_engine
from storage.uow import make_uow_factory
from tests.e2e.fake_slack import FakeSlack

KEY = Fernet.generate_key().decode()
OLD, NEW = "xoxb-t1-old", "xoxb-t1-new"
MINUTES = 120  # as bot/slack/oauth.py: refreshed within two hours of expiring

Replica = Callable[..., SqlInstallationStore]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        running.add_install("code", token=OLD, team_id="T1")  # makes OLD a token of T1 at the fake
        yield running


@pytest.fixture
async def replicas(database_url: str, fake: FakeSlack) -> AsyncIterator[Replica]:
    """Makes a replica: a store with an engine of its own on the shared database."""
    engines = []

    def replica(**refresh: float) -> SqlInstallationStore:
        engine = create_engine(database_url)
        engines.append(engine)
        client = AsyncWebClient(base_url=fake.base_url + "/", timeout=10)
        rotator = AsyncTokenRotator(client_id=fake.client_id, client_secret=fake.client_secret, client=client)
        return SqlInstallationStore(make_uow_factory(engine), TokenCipher([KEY]),
                                    TokenRefresh(rotator, MINUTES, **refresh))

    yield replica
    for engine in engines:
        await engine.dispose()


async def install_expiring(store: SqlInstallationStore, fake: FakeSlack) -> None:
    """T1's token expires in ten minutes; refreshing it with xoxe-1 hands out NEW and xoxe-2."""
    await store.async_save(Installation(
        app_id="A1", team_id="T1", bot_token=OLD, bot_id="B1", bot_user_id="UBOT", bot_scopes="chat:write",
        bot_refresh_token="xoxe-1", bot_token_expires_in=600, user_id="UADMIN", installed_at=time.time()))
    fake.refresh_token("xoxe-1", token=NEW, new_refresh_token="xoxe-2", like=OLD)


def refreshes(fake: FakeSlack) -> list[str]:
    return [c.args["refresh_token"] for c in fake.calls("oauth.v2.access") if c.args.get("grant_type")]


async def claim(store: SqlInstallationStore, database_url: str, seconds_from_now: float) -> None:
    """As if some replica had claimed the refresh (and, for a moment in the past, died since)."""
    engine = create_engine(database_url)
    try:
        until = time.time() + seconds_from_now
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE slack_installations SET refresh_claimed_until = :until"),
                                     {"until": _stored_moment(until, database_url)})
    finally:
        await engine.dispose()


def _stored_moment(epoch: float, database_url: str) -> object:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if database_url.startswith("sqlite") else moment


async def test_two_replicas_refreshing_at_once_spend_the_refresh_token_once(replicas, fake):
    first, second = replicas(), replicas()
    await install_expiring(first, fake)
    fake.hang("oauth.v2.access", seconds=0.5, accept=True)  # carried out at once, answered late: a real race
    found = await asyncio.gather(first.find_by_key("T1"), second.find_by_key("T1"))
    assert [f.bot_token for f in found if f is not None] == [NEW, NEW]
    assert refreshes(fake) == ["xoxe-1"]  # once: a second use would have been refused (invalid_refresh_token)
    again = await second.find_by_key("T1")
    assert again is not None and (again.bot_token, again.bot_refresh_token) == (NEW, "xoxe-2")


async def test_a_claim_another_replica_holds_is_waited_for_and_then_the_token_used_as_it_is(replicas, fake,
                                                                                            database_url):
    store = replicas(wait_seconds=0.5)
    await install_expiring(store, fake)
    await claim(store, database_url, seconds_from_now=30)
    found = await store.find_by_key("T1")
    assert found is not None and found.bot_token == OLD  # still valid for ten minutes
    assert refreshes(fake) == []


async def test_the_claim_of_a_replica_that_died_runs_out(replicas, fake, database_url):
    store = replicas()
    await install_expiring(store, fake)
    await claim(store, database_url, seconds_from_now=-1)
    found = await store.find_by_key("T1")
    assert found is not None and found.bot_token == NEW
    assert refreshes(fake) == ["xoxe-1"]


async def test_a_failed_refresh_keeps_the_token_and_lets_the_next_read_try_again(replicas, fake, database_url):
    store = replicas()
    await install_expiring(store, fake)
    fake.error("oauth.v2.access", "invalid_refresh_token")
    found = await store.find_by_key("T1")
    assert found is not None and found.bot_token == OLD
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            claimed = (await connection.execute(text("SELECT refresh_claimed_until FROM slack_installations"))).all()
    finally:
        await engine.dispose()
    assert claimed == [(None,)]  # released: not blocked until the claim runs out
    again = await store.find_by_key("T1")
    assert again is not None and again.bot_token == NEW
