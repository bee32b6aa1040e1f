"""/slack/events refuses what Slack did not sign: forged, missing or stale signatures, over any body and
content type, and bodies over the size limit. Property: a 4xx every time, never a 5xx, and nothing stored
and no Web API call made because of it. Runs against the real app (tests/fuzz/harness.py)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import budget
from tests.fuzz.budget import fuzz
from tests.fuzz.harness import entered, post_raw, slack_target, slack_world, table_counts
from tests.fuzz.strategies import Huge, content_types, header_text, huge_bodies, slack_bodies

SECRET = "test-signing-secret"
FORM = "application/x-www-form-urlencoded"
BATCH = 10



def signature(body: bytes, secret: str, timestamp: str) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Forgery:
    """How a request fails to be Slack's: which headers it carries and what they were computed over."""

    kind: str
    skew: int = 0
    text: str = ""

    def headers(self, body: bytes) -> dict[str, str]:
        now = str(int(time.time()))
        match self.kind:
            case "none":
                return {}
            case "timestamp_only":
                return {"X-Slack-Request-Timestamp": now}
            case "signature_only":
                return {"X-Slack-Signature": signature(body, SECRET, now)}
            case "random_signature":
                return {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": self.text}
            case "wrong_secret":
                return {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": signature(body, self.text + "x", now)}
            case "other_body":
                return {"X-Slack-Request-Timestamp": now,
                        "X-Slack-Signature": signature(body + self.text.encode() + b" ", SECRET, now)}
            case "stale":
                then = str(int(time.time()) + self.skew)
                return {"X-Slack-Request-Timestamp": then, "X-Slack-Signature": signature(body, SECRET, then)}
            case "odd_timestamp":  # signed over a timestamp that is not a number of seconds
                return {"X-Slack-Request-Timestamp": self.text, "X-Slack-Signature": signature(body, SECRET, self.text)}
            case "other_version":
                return {"X-Slack-Request-Timestamp": now,
                        "X-Slack-Signature": "v1=" + signature(body, SECRET, now)[3:]}
            case "upper_case":
                return {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": signature(body, SECRET, now).upper()}
        raise AssertionError(self.kind)


forgeries = st.one_of(
    st.sampled_from(["none", "timestamp_only", "signature_only", "other_version", "upper_case"]).map(Forgery),
    st.builds(Forgery, kind=st.sampled_from(["random_signature", "wrong_secret", "other_body"]), text=header_text),
    # Slack's window is five minutes either way, counted when the server checks: a timestamp 301 s ahead
    # is inside it again once a busy server reads the request a second or more later, so the future
    # side keeps a minute's margin (a correctly signed request in the window is Slack's, not a forgery).
    st.builds(Forgery, kind=st.just("stale"),
              skew=st.integers(361, 10**9) | st.integers(-(10**9), -301)),
    st.builds(Forgery, kind=st.just("odd_timestamp"),
              text=st.sampled_from(["", "abc", "1.5", "-1", "9" * 40, " 1", "0x10", "1e9", "١٢٣"]) | header_text),
)


@dataclass
class Probe:
    """What the app looked like before the fuzzing: rows per table and Web API calls."""

    counts: dict[str, int]
    calls: int
    sent: int = 0


@pytest.fixture(scope="module")
def slack(loop_thread, module_database, database_errors):
    with entered(loop_thread, slack_target(*module_database)) as (bot, runtime):
        loop_thread.run(slack_world(bot, runtime))
        yield loop_thread, bot, runtime


def _snapshot(bot) -> Probe:
    return Probe(table_counts(bot.db_path), len(bot.fake.calls()) + len(bot.fake.responses()))


def _assert_untouched(bot, before: Probe) -> None:
    after = _snapshot(bot)
    assert after.counts == before.counts, "a refused request changed the database"
    assert after.calls == before.calls, "a refused request made Slack Web API calls"


def test_unsigned_forged_and_stale_requests_are_refused_and_store_nothing(slack, backend, database_errors):
    loop, bot, _ = slack
    before = _snapshot(bot)
    requests_to_send = budget.share(budget.SLACK_REFUSED, backend)

    @fuzz(requests_to_send // BATCH, backend)
    @given(st.lists(st.tuples(slack_bodies, content_types, forgeries), min_size=BATCH, max_size=BATCH))
    def attack(requests):
        async def send():
            return await asyncio.gather(*(
                post_raw(bot.session, f"{bot.url}/slack/events", body, {"Content-Type": ct, **forgery.headers(body)})
                for body, ct, forgery in requests))

        statuses = loop.run(send())
        before.sent += len(statuses)
        assert all(400 <= s < 500 for s in statuses), [(s, ct, f, b[:300]) for s, (b, ct, f) in
                                                       zip(statuses, requests, strict=True) if not 400 <= s < 500]
        _assert_untouched(bot, before)

    attack()
    loop.run(asyncio.sleep(0.5))  # anything a refused request might have started would show by now
    _assert_untouched(bot, before)
    assert before.sent >= requests_to_send
    assert loop.run(_healthz(bot)) == 200
    assert database_errors.records == []


def test_bodies_over_the_limit_are_refused_and_big_ones_below_it_do_no_harm(slack, backend, database_errors):
    loop, bot, _ = slack
    before = _snapshot(bot)
    requests_to_send = budget.share(budget.SLACK_HUGE, backend)

    @fuzz(requests_to_send // 4, backend)
    @given(st.lists(st.tuples(huge_bodies, st.sampled_from(["form", "json"]), st.booleans()), min_size=4, max_size=4))
    def attack(requests: list[tuple[Huge, str, bool]]):
        async def send():
            statuses = []
            for huge, kind, signed in requests:  # one at a time: megabytes each
                body = huge.build()
                now = str(int(time.time()))
                headers = {"Content-Type": "application/json" if kind == "json" else FORM}
                if signed:
                    headers |= {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": signature(body, SECRET, now)}
                statuses.append((len(body), signed, await post_raw(bot.session, f"{bot.url}/slack/events", body,
                                                                   headers)))
            return statuses

        statuses = loop.run(send())
        before.sent += len(statuses)
        for size, signed, status in statuses:
            assert status < 500, statuses
            if size > 1024 * 1024:
                assert status == 413, statuses
            elif not signed:
                assert 400 <= status < 500, statuses
        _assert_untouched(bot, before)  # none of these bodies is a payload anyone could act on

    attack()
    assert before.sent >= requests_to_send
    assert loop.run(_healthz(bot)) == 200
    assert database_errors.records == []


async def _healthz(bot) -> int:
    async with bot.session.get(f"{bot.url}/healthz") as response:
        return response.status
