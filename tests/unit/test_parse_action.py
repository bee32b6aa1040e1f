"""Buttons, cards and modals parse into the same typed commands as text (issue 12, item 7): one parser
per kind of input, refusing what no button of ours can carry before any use case runs."""

from __future__ import annotations

import logging

import pytest

from handlers.actions import MAX_ID, Action, parse_action, parse_answer
from handlers.commands import (
    AnswerQuestion,
    CancelForget,
    ConfirmForget,
    ExportData,
    MarkOutcome,
    RemoveTopics,
    ReportCurt,
    TagQuestion,
    parse,
    topics_command,
)
from handlers.errors import InvalidInput
from handlers.models import Outcome, Tag

NOT_AN_ID = [str(MAX_ID + 1), str(2**63), "-1", "+1", " 1", "1_0", "\u0661", "", "1.0", "x"]
ID_ACTIONS = [a for a in Action if a not in (Action.FORGET_CANCEL, Action.REMOVE_TOPIC)]


@pytest.mark.parametrize(
    ("action", "value", "expected"),
    [
        (Action.TAG_WERK, "7", TagQuestion(7, Tag.WERK)),
        (Action.TAG_WERK_REMEMBER, "7", TagQuestion(7, Tag.WERK, remember=True)),
        (Action.TAG_GUNST, "7", TagQuestion(7, Tag.GUNST)),
        (Action.OUTCOME_CONFIRMED, "8", MarkOutcome(8, Outcome.CONFIRMED)),
        (Action.OUTCOME_NEW_INFO, "8", MarkOutcome(8, Outcome.NEW_INFO)),
        (Action.FELT_CURT, "9", ReportCurt(9)),
        (Action.EXPORT_DATA, "3", ExportData()),
        (Action.FORGET_CONFIRM, "3", ConfirmForget(3)),
        (Action.FORGET_CANCEL, "whatever", CancelForget()),
        (Action.REMOVE_TOPIC, "Privacy", RemoveTopics(["privacy"])),
        (Action.TAG_WERK, "0", TagQuestion(0, Tag.WERK)),
        (Action.TAG_WERK, str(MAX_ID), TagQuestion(MAX_ID, Tag.WERK)),
    ],
)
def test_each_button_parses_into_its_command(action, value, expected):
    assert parse_action(action.value, value) == expected


def test_every_action_has_a_command():
    for action in Action:
        value = "contracten" if action == Action.REMOVE_TOPIC else "1"
        assert parse_action(action.value, value) is not None


@pytest.mark.parametrize("value", NOT_AN_ID)
@pytest.mark.parametrize("action", ID_ACTIONS)
def test_a_value_that_is_no_id_is_refused_with_one_warning(action, value, caplog):
    caplog.set_level(logging.INFO)
    with pytest.raises(InvalidInput) as refused:
        parse_action(action.value, value)
    assert refused.value.key == "error.unknown_action"
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.name == "handlers.dispatch"  # where operators have always found button refusals
    assert warning.getMessage() == f"refused: {action.value} with value {value[:40]!r}, which is no id"


@pytest.mark.parametrize("action", ["", "tag", "TAG_WERK", "tag_werk ", "ask_form", "answer", "x" * 100])
def test_an_unknown_action_is_refused_with_one_warning(action, caplog):
    caplog.set_level(logging.INFO)
    with pytest.raises(InvalidInput) as refused:
        parse_action(action, "1")
    assert refused.value.key == "error.unknown_action"
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.name == "handlers.dispatch"
    assert warning.getMessage() == f"refused: unknown action {action[:40]!r} with value '1'"


def test_a_remove_topic_button_follows_the_topic_rules():
    with pytest.raises(InvalidInput) as refused:
        parse_action(Action.REMOVE_TOPIC.value, " , ")
    assert refused.value.key == "error.no_topics"


@pytest.mark.parametrize("question_id", [5, "5", 0, str(MAX_ID)])
def test_an_answer_card_parses_into_an_answer(question_id):
    assert parse_answer(question_id, "Ja.") == AnswerQuestion(int(question_id), "Ja.")


@pytest.mark.parametrize("question_id", [*NOT_AN_ID, -1, MAX_ID + 1])
def test_an_answer_for_no_id_is_refused_with_one_warning(question_id, caplog):
    caplog.set_level(logging.INFO)
    with pytest.raises(InvalidInput) as refused:
        parse_answer(question_id, "Ja.")
    assert refused.value.key == "error.unknown_action"
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.name == "handlers.dispatch"
    assert warning.getMessage() == f"refused: answer for question {str(question_id)[:40]!r}, which is no id"


@pytest.mark.parametrize("raw", ["contracten, privacy", "#Inkoop #Privacy", "  security ", "weg privacy", "", "  ",
                                 "rol", "help", "a\tb", "vergeet-mij"])
def test_the_topics_field_reads_like_rol_text(raw):
    """The Slack topics modal used to run ``rol <field>`` as text; the typed path gives the same command."""
    assert topics_command(raw) == parse(f"rol {raw}")


@pytest.mark.parametrize("raw", [",", "x" * 200, ", ".join(f"t{n}" for n in range(30))])
def test_the_topics_field_is_refused_like_rol_text(raw):
    with pytest.raises(InvalidInput) as typed:
        topics_command(raw)
    with pytest.raises(InvalidInput) as text:
        parse(f"rol {raw}")
    assert typed.value.key == text.value.key


# ---------------------------------------------------------------- the same commands, run typed


async def test_typed_button_commands_run_like_pressed_buttons(world):
    from handlers import dispatch

    asked = await world.say("sanne", "@anna #inkoop Mag ik dit goedkeuren? | inschatting: ja | twijfel")
    qid = asked.question_id
    tagged = await dispatch.handle_command(world.deps, world.actor("anna"), TagQuestion(qid, Tag.WERK, remember=True))
    assert tagged.ok and "#inkoop" in tagged.replies[0].text
    assert world.rows("SELECT tag, tag_source FROM questions") == [("werk", "expert")]
    answered = await dispatch.handle_command(world.deps, world.actor("anna"), AnswerQuestion(qid, "Ja, dat mag."))
    assert answered.ok
    marked = await dispatch.handle_command(world.deps, world.actor("sanne"), MarkOutcome(qid, Outcome.CONFIRMED))
    assert marked.ok
    assert world.rows("SELECT outcome FROM questions") == [("confirmed",)]
    cancelled = await dispatch.handle_command(world.deps, world.actor("sanne"), CancelForget())
    assert cancelled.replies[0].text == world.deps.catalog.text("nl", "forget.cancelled")


async def test_a_refusing_parser_is_answered_like_a_refusing_use_case(world):
    from handlers import dispatch

    result = await dispatch.handle_input(world.deps, world.actor("anna"), topics_command, ",")
    assert not result.ok
    assert result.replies[0].text == world.deps.catalog.text("nl", "error.no_topics")
    declared = await dispatch.handle_input(world.deps, world.actor("anna"), topics_command, "inkoop, security")
    assert declared.ok
    assert world.rows("SELECT topic FROM expert_topics WHERE person_id=? ORDER BY topic",
                      world.people["anna"].id) == [("contracten",), ("inkoop",), ("privacy",), ("security",)]


async def test_text_read_once_is_run_or_its_refusal_answered(world):
    """An adapter that must see whom a text names reads it once (parse_or_refusal) and hands dispatch
    the result; a refusal is answered as if dispatch had read the text itself."""
    from handlers import dispatch
    from handlers.commands import addressed_expert, parse_or_refusal

    refusal = parse_or_refusal("hallo daar")
    assert isinstance(refusal, InvalidInput) and addressed_expert(refusal) is None
    refused = await dispatch.handle_parsed(world.deps, world.actor("sanne"), refusal)
    assert refused == await dispatch.handle_text(world.deps, world.actor("sanne"), "hallo daar")
    assert not refused.ok
    parsed = parse_or_refusal("<@U-anna|anna> Mag dit?")
    assert addressed_expert(parsed) == "U-anna"
    asked = await dispatch.handle_parsed(world.deps, world.actor("sanne"), parsed)
    assert asked.ok and asked.question_id
