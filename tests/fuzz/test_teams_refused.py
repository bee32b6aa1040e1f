"""/api/messages with authentication on (MICROSOFT_APP_ID set): activities, cross-person card submits among
them, without a bearer token or with a garbage or forged one. Property: a 4xx every time (401 for anything
that is an activity), never a 5xx, nothing stored and nothing sent to the Bot Connector.

Forged tokens name issuers botbuilder does not trust: for a trusted one it would fetch signing keys from
login.botframework.com, which tests cannot reach."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import budget
from tests.fuzz.budget import fuzz
from tests.fuzz.harness import entered, post_raw, table_counts, teams_target
from tests.fuzz.strategies import content_types, header_text, json_values, teams_bodies, with_service_url

APP_ID = "00000000-app"
BATCH = 10
JSON = "application/json; charset=utf-8"


def _segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@st.composite
def forged_tokens(draw: st.DrawFn) -> str:
    """A JWT-shaped token: signed with a key of our own (HS256), unsigned (alg none), or with claims of any
    type that a JWT library would not even encode."""
    claims = draw(st.fixed_dictionaries({}, optional={
        "iss": st.sampled_from(["https://evil.example", "", "https://api.botframework.com.evil"]),
        "aud": st.just(APP_ID) | st.text(max_size=10), "exp": st.integers(0, 2**40), "serviceurl": st.text()}))
    how = draw(st.sampled_from(["hs256", "none", "raw"]))
    if how == "hs256":
        return jwt.encode(claims, draw(st.text(min_size=1, max_size=20)), algorithm="HS256",
                          headers={"kid": draw(st.text(max_size=8))})
    if how == "none":
        return jwt.encode(claims, None, algorithm="none")
    header = draw(st.fixed_dictionaries({"alg": st.sampled_from(["RS256", "HS256", "none"]) | json_values},
                                        optional={"kid": json_values}))
    payload = draw(json_values | st.dictionaries(st.sampled_from(["iss", "aud", "exp", "nbf"]), json_values))
    signature = draw(st.text(st.characters(min_codepoint=45, max_codepoint=122), max_size=20))
    return f"{_segment(header)}.{_segment(payload)}.{signature}"


authorizations = st.one_of(
    st.none(),
    st.just("Bearer "),
    header_text.map(lambda t: "Bearer " + t),
    header_text.map(lambda t: "Basic " + t),
    header_text,
    forged_tokens().map(lambda t: "Bearer " + t),
    forged_tokens(),  # without the scheme
)


@pytest.fixture(scope="module")
def teams(loop_thread, module_database):
    target = teams_target(*module_database, MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="secret")
    with entered(loop_thread, target) as (bot, runtime):
        yield loop_thread, bot, runtime


def _is_activity(body: bytes) -> bool:
    """An activity in the shape the Bot Connector sends (what the app checks before authentication)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
        return False
    parts = [parsed.get("from"), parsed.get("conversation")]
    url = parsed.get("serviceUrl")
    return all(isinstance(p, dict) and isinstance(p.get("id"), str) for p in parts) \
        and isinstance(url, str) and url.startswith(("http://", "https://"))


def test_requests_without_a_valid_token_are_refused_and_store_nothing(teams):
    loop, bot, _ = teams
    before = table_counts(bot.db_path)
    sent = []

    @fuzz(budget.TEAMS_REFUSED // BATCH)
    @given(st.lists(st.tuples(teams_bodies, st.just(JSON) | content_types, authorizations),
                    min_size=BATCH, max_size=BATCH))
    def attack(batch):
        bodies = [with_service_url(body, bot.fake.service_url) for body, _, _ in batch]

        async def send():
            return await asyncio.gather(*(
                post_raw(bot.session, f"{bot.url}/api/messages", body,
                         {"Content-Type": ct, **({"Authorization": auth} if auth is not None else {})})
                for body, (_, ct, auth) in zip(bodies, batch, strict=True)))

        statuses = loop.run(send())
        sent.extend(statuses)
        assert all(400 <= s < 500 for s in statuses), statuses
        for body, (_, ct, _), status in zip(bodies, batch, statuses, strict=True):
            if ct == JSON and _is_activity(body):
                assert status == 401, (status, body[:200])
        assert table_counts(bot.db_path) == before, "a refused request stored something"
        assert bot.fake.requests() == [], "a refused request reached the Bot Connector"

    attack()
    time.sleep(0.3)
    assert table_counts(bot.db_path) == before and bot.fake.requests() == []
    assert len(sent) >= budget.TEAMS_REFUSED
    assert sent.count(401) > len(sent) // 4  # most were activities refused for their token, not their shape
