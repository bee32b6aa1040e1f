"""/slack/events with valid signatures over bodies Slack would never send: random bytes, random form
fields and JSON, real payloads with fields deleted or retyped, broken JSON and form encoding, deep
nesting, any content type. Property: never a 5xx; when every request of an example is refused (4xx),
the database is as it was once the work started by earlier examples has finished."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import budget
from tests.fuzz.budget import fuzz
from tests.fuzz.harness import entered, post_raw, settle, slack_target, slack_world, table_counts
from tests.fuzz.strategies import Deep, content_types, deep_bodies, slack_bodies, with_response_url

SECRET = "test-signing-secret"
BATCH = 8


def signed(body: bytes, content_type: str) -> dict[str, str]:
    now = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + now.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": now, "X-Slack-Signature": f"v0={digest}"}


@pytest.fixture(scope="module")
def slack(loop_thread, module_database, database_errors):
    with entered(loop_thread, slack_target(*module_database)) as (bot, runtime):
        loop_thread.run(slack_world(bot, runtime))
        yield loop_thread, bot, runtime


def test_signed_random_bodies_never_get_a_5xx_and_refused_ones_store_nothing(slack, backend, database_errors):
    loop, bot, runtime = slack
    sent = []
    requests_to_send = budget.share(budget.SLACK_SIGNED, backend)
    bodies = st.one_of(slack_bodies, slack_bodies, slack_bodies, deep_bodies.map(Deep.build))

    @fuzz(requests_to_send // BATCH, backend)
    @given(st.lists(st.tuples(bodies, content_types), min_size=BATCH, max_size=BATCH))
    def attack(requests):
        async def send():
            await settle(runtime)
            before = table_counts(bot.db_path)
            bodies = [with_response_url(body, bot.fake.response_url("fuzz")) for body, _ in requests]
            statuses = await asyncio.gather(*(
                post_raw(bot.session, f"{bot.url}/slack/events", body, signed(body, ct))
                for body, (_, ct) in zip(bodies, requests, strict=True)))
            await settle(runtime)
            return before, statuses, table_counts(bot.db_path)

        before, statuses, after = loop.run(send())
        sent.extend(statuses)
        assert all(s < 500 for s in statuses), statuses
        if all(400 <= s < 500 for s in statuses):
            assert after == before, "a refused request changed the database"

    attack()
    assert len(sent) >= requests_to_send
    assert any(s == 200 for s in sent) and any(400 <= s < 500 for s in sent)  # both paths were exercised
    assert loop.run(_healthz(bot)) == 200
    assert database_errors.records == [], "work after an ack failed in the database"


async def _healthz(bot) -> int:
    async with bot.session.get(f"{bot.url}/healthz") as response:
        return response.status
