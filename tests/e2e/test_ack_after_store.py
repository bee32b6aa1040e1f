"""The ack comes after the inbox insert, for every kind of Slack request (issue 12): when Slack has its
200, the request is a row. The workers are stopped here, so rows stay where the ack left them; bolt
acknowledges an event before its listener runs unless it is told to wait for the listener (found by
tests/e2e/test_request_budget.py, where an acked thread reply was not yet stored)."""

from __future__ import annotations

import pytest

from tests.e2e import slack_requests as sr
from tests.e2e.slack_bot import USERS, SlackBot

ASK_FORM = {"expert": {"value": {"type": "users_select", "selected_user": "UANNA"}},
            "question": {"value": {"type": "plain_text_input", "value": "Mag ik dit zo tekenen?"}}}


def stored(bot: SlackBot) -> int:
    return bot.rows("SELECT count(*) FROM inbox")[0][0]


def requests(bot: SlackBot) -> dict[str, tuple[str, str]]:
    thread = sr.thread_reply_event("Ja, dat klopt.", user=USERS["anna"], channel="GTHREAD", thread_ts="1.000100",
                                   ts="2.000200")
    return {
        "command": (sr.slash_command("<@UANNA|anna> Mag dit?", user_id=USERS["sanne"], user_name="sanne",
                                     response_url=bot.fake.response_url("c"), enterprise_id=None), sr.FORM),
        "press": (sr.block_action("tag_werk", "1", user_id=USERS["anna"], user_name="anna",
                                  response_url=bot.fake.response_url("p")), sr.FORM),
        "modal": (sr.view_submission("vraag_modal", ASK_FORM, user_id=USERS["sanne"], user_name="sanne"), sr.FORM),
        "thread reply event": (sr.event_callback(thread, event_id="EvStored1"), sr.JSON),
        "app home event": (sr.event_callback(sr.app_home_opened_event(USERS["sanne"]), event_id="EvStored2"),
                           sr.JSON),
    }


@pytest.mark.parametrize("kind", ["command", "press", "modal", "thread reply event", "app home event"])
async def test_when_slack_has_its_200_the_request_is_stored(slack, kind):
    await slack.runtime.inbox.stop(5)  # nothing is worked: what the ack left is what we see
    before = stored(slack)
    body, content_type = requests(slack)[kind]
    status, _ = await slack.post(body, content_type)
    assert status == 200
    assert stored(slack) == before + 1
