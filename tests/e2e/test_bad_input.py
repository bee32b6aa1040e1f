"""Regressions for bad input the fuzz tests (tests/fuzz) found answered with a 5xx, a crash or a 3 s stall."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e import slack_requests as sr
from tests.e2e import teams_activities as ta
from tests.e2e.slack_bot import SECRET, USERS
from tests.e2e.teams_bot import NAMES
from tests.e2e.teams_bot import USERS as USERS_T


@pytest.mark.parametrize(("body", "content_type"), [
    ("{not json", sr.JSON),  # bolt parsed it before checking the signature: 500
    ("[1, 2]", sr.JSON),
    ("null", sr.JSON),
    ("payload=%7Bbroken", sr.FORM),
    ("payload=%5B1%5D", sr.FORM),
    ('{"type": "event_callback", "event": "a string"}', sr.JSON),
    ('{"type": "event_callback", "event": {"type": "message", "user": true}}', sr.JSON),
    ('payload={"type": "block_actions", "actions": []}', sr.FORM),
    ('payload={"type": "view_submission", "view": {"callback_id": "vraag_modal"}}', sr.FORM),
    ('{"a":' * 5000 + "1" + "}" * 5000, sr.JSON),  # deeper than Python's recursion limit
])
@pytest.mark.parametrize("signed", [True, False])
async def test_slack_payloads_bolt_cannot_read_get_a_4xx_and_store_nothing(slack, body, content_type, signed):
    headers = {"Content-Type": content_type, **(sr.sign(body, SECRET) if signed else {})}
    async with slack.session.post(f"{slack.url}/slack/events", data=body.encode(), headers=headers) as response:
        assert 400 <= response.status < 500
    assert slack.counts() == dict.fromkeys(slack.counts(), 0)
    assert [c.method for c in slack.fake.calls() if c.method != "auth.test"] == []  # bolt checks its own token


@pytest.mark.parametrize("timestamp", ["abc", "1e9", ""])
async def test_slack_timestamp_that_is_not_a_number_is_refused(slack, timestamp):
    body = sr.slash_command("help", user_id=USERS["sanne"], user_name="sanne",
                            response_url=slack.fake.response_url("x"), enterprise_id=None)
    status, _, _ = await sr.post_signed(slack.session, f"{slack.url}/slack/events", body, secret=SECRET,
                                        content_type=sr.FORM, extra_headers={"X-Slack-Request-Timestamp": timestamp})
    assert status == 401


async def test_bare_command_without_a_trigger_is_answered_at_once(slack):
    body = sr.slash_command("", user_id=USERS["sanne"], user_name="sanne", response_url=slack.fake.response_url("x"),
                            enterprise_id=None).replace("&trigger_id=", "&no_trigger=")
    started = time.monotonic()
    status, _ = await slack.post(body, sr.FORM)
    # Bolt held the answer for its 3 s ack timeout and then said 404 (Slack shows the user an error).
    assert status == 200 and time.monotonic() - started < 2.5


@pytest.mark.parametrize("value", [5, "x", [], {"action": 5}, {"action": {"data": 5}}, {"action": {"data": [1]}},
                                   {"action": {"verb": ["tag_werk"]}}])
async def test_teams_card_action_of_the_wrong_shape_is_answered_not_crashed(teams, value):
    invoke = ta.invoke_action_execute("tag_werk", {"value": "1"}, user_id=USERS_T["sanne"],
                                      user_name=NAMES["sanne"], service_url=teams.fake.service_url)
    invoke["value"] = value
    status, text = await teams.post(invoke)
    assert status == 200 and json.loads(text)["statusCode"] == 200  # was 501 after a failed turn


@pytest.mark.parametrize("change", [{"serviceUrl": None}, {"serviceUrl": "nope"}, {"conversation": None},
                                    {"from": "29:sanne"}, {"timestamp": []}, {"name": "composeExtension/query"}])
async def test_teams_invokes_that_teams_would_never_send_get_a_400(teams, change):
    invoke = ta.invoke_action_execute("tag_werk", {"value": "1"}, user_id=USERS_T["sanne"],
                                      user_name=NAMES["sanne"], service_url=teams.fake.service_url)
    status, _ = await teams.post({**invoke, **change})
    assert status == 400
    assert teams.rows("SELECT count(*) FROM people") == [(0,)]


async def test_teams_answer_submit_without_a_question_number_is_refused_politely(teams):
    status, _ = await teams.submit("anna", {"vraagbot_action": "answer", "value": None, "answer": "Ja."})
    assert status == 201
    await teams.fake.wait_for(conversation_id=teams.chat("anna"))
    assert "er ging iets mis" not in teams.texts(teams.chat("anna"))[0].lower()  # int(None) crashed the turn


async def test_teams_json_nested_too_deep_is_refused(teams):
    body = '{"a":' * 5000 + "1" + "}" * 5000
    async with teams.session.post(f"{teams.url}/api/messages", data=body,
                                  headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400


