"""Issue 11, finding 9, over HTTP: the kind of question ("doubt about my own competence") reaches the
expert only when the asker ticked or typed that the expert may see it; the form says so before sending."""

from __future__ import annotations

import pytest

from tests.e2e import slack_requests as sr
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.loopback import until
from tests.e2e.slack_bot import USERS as SLACK_USERS
from tests.unit.world import CATALOG

CARD_KEY = "vraagbot_action"
DOUBT_LINE = CATALOG.text("nl", "question.kind_doubt")  # "Soort: twijfel over de eigen kunde"
COMPLEX_LINE = CATALOG.text("nl", "question.kind_complex")



def slack_texts_to_anna(bot) -> list[str]:
    """The question as Slack got it for the expert: fallback text and every block's text."""
    found = []
    for call in bot.fake.calls("chat.postMessage"):
        if "Vraag #" in call.args.get("text", ""):
            found.append(call.args["text"] + " " + " ".join(
                b.get("text", {}).get("text", "") for b in call.args.get("blocks") or []))
    return found


async def slack_question(bot) -> str:
    await until(lambda: bot.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    [text] = await until(lambda: slack_texts_to_anna(bot))
    return text


@pytest.mark.parametrize(("options", "shown"), [("| twijfel", False), ("| twijfel | toon-soort", True)])
async def test_slack_quick_text_shows_the_kind_only_when_shared(slack, options, shown):
    status, _ = await slack.command("sanne", f"<@UANNA|anna> Mag ik deze offerte goedkeuren? {options}")
    assert status == 200
    question = await slack_question(slack)
    assert "Mag ik deze offerte goedkeuren?" in question
    assert (DOUBT_LINE in question) is shown
    assert slack.rows("SELECT kind, kind_shared FROM questions") == [("doubt", int(shown))]
    [confirmation] = await slack.fake.wait_for_response()
    told = CATALOG.text("nl", "ask.kind_shared" if shown else "ask.kind_private", expert="Anna")
    assert told in confirmation.body["text"]


def modal_values(*, share: bool) -> dict:
    values = {
        "expert": {"value": {"type": "users_select", "selected_user": SLACK_USERS["anna"]}},
        "question": {"value": {"type": "plain_text_input", "value": "Klopt deze opzegtermijn?"}},
        "kind": {"value": {"type": "radio_buttons", "selected_option": {"value": "complex"}}},
    }
    if share:
        values["share_kind"] = {"value": {"type": "checkboxes", "selected_options": [{"value": "share"}]}}
    return values


async def test_slack_modal_offers_the_choice_and_says_what_the_expert_sees(slack):
    await slack.command("sanne", "")
    [opened] = await slack.fake.wait_for("views.open")
    [block] = [b for b in opened.args["view"]["blocks"] if b["block_id"] == "share_kind"]
    assert block["element"]["type"] == "checkboxes" and block["optional"] is True
    assert [o["value"] for o in block["element"]["options"]] == ["share"]
    assert block["hint"]["text"] == CATALOG.text("nl", "modal.share_kind_hint")


@pytest.mark.parametrize("share", [False, True])
async def test_slack_modal_submission_shows_the_kind_only_when_ticked(slack, share):
    body = sr.view_submission("vraag_modal", modal_values(share=share), user_id=SLACK_USERS["sanne"],
                              user_name="sanne", private_metadata="nl")
    status, _ = await slack.post(body, sr.FORM)
    assert status == 200
    question = await slack_question(slack)
    assert "Klopt deze opzegtermijn?" in question
    assert (COMPLEX_LINE in question) is share
    assert slack.rows("SELECT kind, kind_shared FROM questions") == [("complex", int(share))]
    told = CATALOG.text("nl", "ask.kind_shared" if share else "ask.kind_private", expert="Anna")
    await until(lambda: any(told in t for t in slack.texts_to("sanne")))


async def test_teams_ask_card_offers_the_choice_and_says_what_the_expert_sees(teams):
    await teams.say("sanne", "vraag")
    [sent] = await teams.fake.wait_for(conversation_id=teams.chat("sanne"))
    card = FakeConnector.card_of(sent.body)
    [toggle] = [i for i in card["body"] if i.get("id") == "share_kind"]
    assert toggle["type"] == "Input.Toggle" and toggle["valueOn"] == "true" and toggle["value"] == "false"
    assert CATALOG.text("nl", "modal.share_kind_hint") in FakeConnector.all_text(sent.body)


@pytest.mark.parametrize("share", [None, "false", "true"])
async def test_teams_ask_card_shows_the_kind_only_when_ticked(teams, share):
    await teams.say("anna", "help")  # her chat reference is stored
    value = {CARD_KEY: "ask_form", "expert": "@anna", "question": "Mag dit zonder tweede handtekening?",
             "kind": "doubt", "urgent": "false"}
    if share is not None:
        value["share_kind"] = share
    await teams.submit("sanne", value)
    await until(lambda: teams.rows("SELECT id FROM questions WHERE delivered_at IS NOT NULL"))
    question = await until(lambda: [t for t in teams.texts(teams.chat("anna")) if "Vraag #1" in t])
    shown = share == "true"
    assert (DOUBT_LINE in question[0]) is shown
    assert teams.rows("SELECT kind, kind_shared FROM questions") == [("doubt", int(shown))]
    told = CATALOG.text("nl", "ask.kind_shared" if shown else "ask.kind_private", expert="Anna de Vries")
    await until(lambda: any(told in t for t in teams.texts(teams.chat("sanne"))))
