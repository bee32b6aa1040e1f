"""Issue 14, bug 2, end to end: a question held for the expert's focus time gives its asker *send now
(urgent)* and *withdraw*, as Slack buttons, Teams card actions and shell buttons; each held question
reaches the expert at most once."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from tests.e2e import teams_activities as ta
from tests.e2e.cli import received, run_vraagbot
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import eventually, until
from tests.e2e.slack_bot import USERS, running_slack_bot
from tests.e2e.teams_bot import NAMES, running_teams_bot
from tests.e2e.teams_bot import USERS as TEAMS_USERS
from tests.e2e.test_teams import CARD_KEY, card_actions, mention

HELD_ACTIONS = ["send_held_now", "withdraw_question"]


def pending(bot, question_id: int) -> list[tuple]:
    return bot.rows("SELECT kind FROM outbox WHERE question_id = ? AND status = 'pending'", question_id)


# ------------------------------------------------------------------ Slack

@pytest.fixture
async def slack(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


async def slack_held_question(bot, text: str = "<@UANNA|anna> Kan dit wachten?") -> tuple[int, dict]:
    now = int(time.time())
    bot.fake.set_dnd(USERS["anna"], now - 60, now + 3600)  # in focus for an hour
    await bot.command("sanne", text)
    [told] = await bot.fake.wait_for_response()
    [(question_id,)] = bot.rows("SELECT id FROM questions WHERE status = 'held'")
    return question_id, told.body


def slack_buttons(body: dict) -> list[tuple[str, str]]:
    return [(e["action_id"], e["value"]) for b in body.get("blocks", []) if b["type"] == "actions"
            for e in b["elements"]]


def posts_of(bot, question_id: int) -> list[str]:
    return [c.args["text"] for c in bot.fake.calls("chat.postMessage") if f"raag #{question_id} van" in c.args["text"]]


async def test_slack_send_now_delivers_the_held_question_once_and_nothing_is_left_for_later(slack):
    question_id, told = await slack_held_question(slack)
    assert "opnieuw" not in told["text"]
    assert slack_buttons(told) == [(action, str(question_id)) for action in HELD_ACTIONS]

    await slack.press("sanne", "send_held_now", str(question_id))
    await until(lambda: slack.rows("SELECT id FROM questions WHERE status = 'delivered'"))
    [question] = posts_of(slack, question_id)
    assert question.startswith("URGENT") and "focustijd" in question
    assert slack.rows("SELECT urgent, interrupted_focus FROM questions") == [(1, 1)]
    assert pending(slack, question_id) == []  # nothing of it waits for the end of the focus time
    replies = await slack.fake.wait_for_response(count=2)
    assert "gaat nu als urgent naar Anna" in replies[-1].body["text"]

    await slack.press("sanne", "withdraw_question", str(question_id))
    replies = await slack.fake.wait_for_response(count=3)
    assert "al verstuurd" in replies[-1].body["text"]
    assert len(posts_of(slack, question_id)) == 1


async def test_slack_withdraw_cancels_the_held_question_and_others_are_refused(slack):
    question_id, _ = await slack_held_question(slack)
    await slack.press("lotte", "withdraw_question", str(question_id))
    replies = await slack.fake.wait_for_response(count=2)
    assert "Alleen wie vraag" in replies[-1].body["text"]
    assert slack.rows("SELECT status FROM questions") == [("held",)]

    await slack.press("sanne", "withdraw_question", str(question_id))
    await until(lambda: slack.rows("SELECT id FROM questions WHERE status = 'withdrawn'"))
    assert pending(slack, question_id) == []
    assert slack.rows("SELECT kind, status FROM outbox WHERE question_id = ? AND kind IN ('question', "
                      "'question_notice') ORDER BY kind", question_id) == [("question", "skipped"),
                                                                          ("question_notice", "skipped")]
    replies = await slack.fake.wait_for_response(count=3)
    assert "ingetrokken" in replies[-1].body["text"]
    assert posts_of(slack, question_id) == []


# ------------------------------------------------------------------ Teams

class FocusFor:
    """Teams tells the bot nothing about focus time; these tests give it some, as Slack's DND would."""

    def __init__(self, handle: str) -> None:
        self.handle = handle

    async def focus_until(self, person, platform: str) -> datetime | None:
        return datetime.now().astimezone() + timedelta(hours=1) if person.handle == self.handle else None


@pytest.fixture
async def teams(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        running.runtime.platforms.get("teams").presence = FocusFor("anna")
        yield running


async def test_teams_card_offers_both_actions_and_send_now_delivers_once(teams):
    await teams.say("anna", "help")  # anna's chat reference is stored
    activity = ta.personal_message(f"vraag <at>{NAMES['anna']}</at> Kan dit wachten?", user_id=TEAMS_USERS["sanne"],
                                   user_name=NAMES["sanne"], service_url=teams.fake.service_url)
    await teams.post(mention(activity, "anna"))
    [(question_id,)] = await eventually(lambda: teams.rows("SELECT id FROM questions WHERE status = 'held'"))
    held = await until(lambda: [s for s in teams.fake.delivered(teams.chat("sanne"))
                                if "send_held_now" in card_actions(s.body)])
    assert card_actions(held[0].body) == HELD_ACTIONS
    assert "opnieuw" not in FakeConnector.all_text(held[0].body)

    await teams.submit("sanne", {CARD_KEY: "send_held_now", "value": str(question_id)})
    await eventually(lambda: teams.rows("SELECT id FROM questions WHERE status = 'delivered'"))
    to_anna = [t for t in teams.texts(teams.chat("anna")) if "URGENT" in t]
    assert len(to_anna) == 1 and "focustijd" in to_anna[0]
    assert pending(teams, question_id) == []


# ------------------------------------------------------------------ shell

def test_shell_shows_the_buttons_and_withdraw_works(tmp_path):
    script = "focus anna 45\nsanne: /vraag @anna Kan dit wachten?\nsanne: knop vraag intrekken\nklok +46m\n"
    result = run_vraagbot("shell", stdin=script, env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'shell.db'}"})
    assert result.returncode == 0, result.stderr
    messages = received(result.stdout)
    to_sanne = [text for who, text in messages if who == "sanne"]
    assert "[Nu versturen (urgent)] [Vraag intrekken]" in to_sanne[0]
    assert any("is ingetrokken" in t for t in to_sanne)
    assert not [text for who, text in messages if who == "anna"]
