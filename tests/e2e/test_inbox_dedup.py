"""A request Slack delivers twice takes effect once (issue 12): a retried event, a double-submitted
modal, a slash command that arrives twice. Both deliveries are acknowledged; what counts is what
is stored and what Slack is asked to show.

"Nothing more happens" cannot be waited for, so each test ends with a later request of the same
person (``/vraag help``): the work of one person is done in order, so once that one is answered
the duplicates before it have had their turn. Then the bot shuts down, which lets work that is
still running finish, and only after that are the effects counted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.e2e import slack_requests as sr
from tests.e2e.loopback import eventually
from tests.e2e.slack_bot import USERS, SlackBot, running_slack_bot
from tests.e2e.test_slack import quick_ask

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
_later = itertools.count(1)


@asynccontextmanager
async def slack_bot(database_url: str) -> AsyncIterator[SlackBot]:
    """The conftest's ``slack`` bot, but as a block: after it, the bot has stopped and its work with
    it, while the database file and the fake Slack's record stay readable."""
    async with running_slack_bot(database_url, database_url.split("///", 1)[1]) as bot:
        yield bot


async def after_earlier_requests_of(bot: SlackBot, who: str) -> None:
    """A later request of ``who``, and its answer: their earlier requests have been worked by then."""
    name = f"later{next(_later)}"
    body = sr.slash_command("help", user_id=USERS[who], user_name=who, response_url=bot.fake.response_url(name),
                            trigger_id=f"trigger-{name}", enterprise_id=None)
    status, _ = await bot.post(body, sr.FORM)
    assert status == 200
    await bot.fake.wait_for_response(name=name, timeout=30)


async def all_delivered(bot: SlackBot) -> None:
    """Every stored question has been posted to its expert (so a second one would have been too)."""
    await eventually(lambda: bot.rows("SELECT count(*) FROM questions WHERE delivered_at IS NULL") == [(0,)])


def question_posts(bot: SlackBot) -> list[str]:
    return [c.args["text"] for c in bot.fake.calls("chat.postMessage") if c.args.get("text", "").startswith("Vraag #")]


def ask_modal_submission(view_id: str, trigger_id: str) -> str:
    values = {
        "expert": {"value": {"type": "users_select", "selected_user": USERS["anna"]}},
        "question": {"value": {"type": "plain_text_input", "value": "Mag ik deze offerte twee keer indienen?"}},
        "assessment": {"value": {"type": "plain_text_input", "value": "nee"}},
    }
    return sr.view_submission("vraag_modal", values, user_id=USERS["sanne"], user_name="sanne",
                              private_metadata="nl", view_id=view_id, trigger_id=trigger_id)


async def test_a_retried_thread_reply_event_records_one_reply(sqlite_database_url):
    async with slack_bot(sqlite_database_url) as slack:
        qid = await quick_ask(slack)
        [(thread_ref,)] = slack.rows("SELECT thread_ref FROM questions WHERE id = ?", qid)
        channel, thread_ts = thread_ref.split(":", 1)
        event = sr.thread_reply_event("Ja, dat mag.", user=USERS["anna"], channel=channel, thread_ts=thread_ts,
                                      ts="1800000000.000200")
        # The retry comes while the first delivery may still be at work, as after an http_timeout.
        assert (await slack.event(event, event_id="EvREPLY1"))[0] == 200
        assert (await slack.event(event, event_id="EvREPLY1", headers=RETRY))[0] == 200
        await eventually(lambda: [t for t in slack.texts_to("sanne") if f"Hoe liep vraag #{qid} af?" in t])
        await after_earlier_requests_of(slack, "anna")
    assert slack.rows("SELECT question_id, text FROM replies") == [(qid, "Ja, dat mag.")]
    assert len(slack.fake.calls("chat.postEphemeral")) == 1  # the writer is told once where it went
    assert len([t for t in slack.texts_to("sanne") if f"Hoe liep vraag #{qid} af?" in t]) == 1


async def test_a_retried_app_home_opened_event_publishes_the_home_once(sqlite_database_url):
    async with slack_bot(sqlite_database_url) as slack:
        event = sr.app_home_opened_event(USERS["anna"])
        assert (await slack.event(event, event_id="EvHOME1"))[0] == 200
        assert (await slack.event(event, event_id="EvHOME1", headers=RETRY))[0] == 200
        await slack.fake.wait_for("views.publish", timeout=30)
        await after_earlier_requests_of(slack, "anna")
    published = len(slack.fake.calls("views.publish"))
    assert published == 1, f"the App Home was published {published} times for one event delivered twice"


async def test_a_double_submitted_ask_modal_creates_one_question(sqlite_database_url):
    async with slack_bot(sqlite_database_url) as slack:
        body = ask_modal_submission(view_id="VDOUBLE1", trigger_id="trigger-double-modal")
        # Two clicks on Submit in quick succession: Slack sends the same payload twice, close together.
        answers = await asyncio.gather(slack.post(body, sr.FORM), slack.post(body, sr.FORM))
        assert [status for status, _ in answers] == [200, 200]
        assert all(text == "" for _, text in answers)  # both close the modal; neither shows an error
        await eventually(lambda: [t for t in slack.texts_to("sanne") if "staat bij Anna" in t])
        await after_earlier_requests_of(slack, "sanne")
        await all_delivered(slack)
    stored = slack.rows("SELECT text FROM questions")
    assert stored == [("Mag ik deze offerte twee keer indienen?",)], f"{len(stored)} questions from one submission"
    assert len(question_posts(slack)) == 1, question_posts(slack)
    assert len([t for t in slack.texts_to("sanne") if "staat bij Anna" in t]) == 1, slack.texts_to("sanne")


async def test_a_slash_command_delivered_twice_with_one_trigger_creates_one_question(sqlite_database_url):
    async with slack_bot(sqlite_database_url) as slack:
        body = sr.slash_command("<@UANNA|anna> Geldt deze regel ook voor ons?", user_id=USERS["sanne"],
                                user_name="sanne", response_url=slack.fake.response_url("twice"),
                                trigger_id="trigger-twice", enterprise_id=None)
        assert (await slack.post(body, sr.FORM))[0] == 200
        assert (await slack.post(body, sr.FORM))[0] == 200
        await slack.fake.wait_for_response(name="twice", timeout=30)
        await after_earlier_requests_of(slack, "sanne")
        await all_delivered(slack)
    stored = slack.rows("SELECT text FROM questions")
    assert stored == [("Geldt deze regel ook voor ons?",)], f"{len(stored)} questions from one command"
    assert len(question_posts(slack)) == 1, question_posts(slack)
    confirmations = [r.body for r in slack.fake.responses("twice")]
    assert len(confirmations) == 1, json.dumps(confirmations, ensure_ascii=False)
