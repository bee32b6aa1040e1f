"""/api/messages (unauthenticated, as in local testing) with random bodies, wrong content types, broken and
non-object JSON, deep nesting, huge bodies, and real activities with random types, fields and card values.
Property: never a 5xx; when every request of an example is refused (4xx), nothing was stored and nothing
was sent to the Bot Connector."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import budget
from tests.fuzz.budget import fuzz
from tests.fuzz.harness import entered, post_raw, table_counts, teams_target
from tests.fuzz.strategies import Huge, content_types, huge_bodies, teams_bodies, with_service_url

BATCH = 8
JSON = "application/json; charset=utf-8"


@pytest.fixture(scope="module")
def teams(loop_thread, module_database):
    with entered(loop_thread, teams_target(*module_database)) as (bot, runtime):
        yield loop_thread, bot, runtime


requests = st.tuples(teams_bodies, st.just(JSON) | st.just("application/json") | content_types) \
    | st.tuples(huge_bodies.map(Huge.build), st.just(JSON))


def test_random_activities_never_get_a_5xx_and_refused_ones_store_nothing(teams):
    loop, bot, _ = teams
    sent = []

    @fuzz(budget.TEAMS_RANDOM // BATCH)
    @given(st.lists(requests, min_size=BATCH, max_size=BATCH))
    def attack(batch):
        async def send():
            before = await idle(bot)  # earlier batches' work after their answers (the outbox) is done
            statuses = await asyncio.gather(*(
                post_raw(bot.session, f"{bot.url}/api/messages", with_service_url(body, bot.fake.service_url),
                         {"Content-Type": ct}) for body, ct in batch))
            await asyncio.sleep(0)
            return before, statuses, (table_counts(bot.db_path), len(bot.fake.requests()))

        before, statuses, after = loop.run(send())
        sent.extend(statuses)
        assert all(s < 500 for s in statuses), statuses
        if all(400 <= s < 500 for s in statuses):
            assert after == before, "a refused request stored something or reached the Bot Connector"

    attack()
    assert len(sent) >= budget.TEAMS_RANDOM
    assert any(s < 300 for s in sent) and any(400 <= s < 500 for s in sent)  # both paths were exercised
    assert loop.run(_healthz(bot)) == 200


async def idle(bot) -> tuple[dict[str, int], int]:
    """Stored rows and Bot Connector calls once they stop changing: an earlier batch's accepted activity
    goes on after its answer (the outbox sends, a welcome), and that must not count against a refused batch."""
    last = None
    for _ in range(60):
        seen = table_counts(bot.db_path), len(bot.fake.requests())
        if seen == last:
            return seen
        last = seen
        await asyncio.sleep(0.05)
    return last


async def _healthz(bot) -> int:
    async with bot.session.get(f"{bot.url}/healthz") as response:
        return response.status
