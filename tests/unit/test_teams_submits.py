"""A Teams card's submit parses into the same typed commands as text and Slack's buttons (issue 12, item 7)."""

from __future__ import annotations

import pytest

from bot.teams.cards import ACTION_KEY, ANSWER, ASK_FORM, submitted_command
from handlers.commands import AnswerQuestion, Ask, ConfirmForget, TagQuestion
from handlers.errors import InvalidInput
from handlers.models import QuestionKind, Tag


def test_the_ask_form_becomes_an_ask():
    command = submitted_command({ACTION_KEY: ASK_FORM, "expert": " @Anna de Vries", "topic": " inkoop ",
                                 "question": " Mag dit? ", "assessment": "ja", "kind": "doubt", "urgent": "true",
                                 "share_kind": "false"})
    assert isinstance(command, Ask)
    r = command.request
    assert (r.expert_handle, r.topic, r.text, r.first_assessment, r.kind, r.urgent, r.share_kind) == (
        "anna", "inkoop", "Mag dit?", "ja", QuestionKind.DOUBT, True, False)


@pytest.mark.parametrize("expert", ["@", " @ ", "", None, "@@"])
def test_an_ask_form_without_a_name_asks_no_one_in_particular(expert):
    """A lone "@" used to end the turn with an IndexError; now the use case says who to ask."""
    command = submitted_command({ACTION_KEY: ASK_FORM, "expert": expert, "question": "Mag dit?"})
    assert command.request.expert_handle is None


def test_an_answer_card_and_the_buttons_become_their_commands():
    assert submitted_command({ACTION_KEY: ANSWER, "value": "12", "answer": "Ja."}) == AnswerQuestion(12, "Ja.")
    assert submitted_command({ACTION_KEY: "tag_werk", "value": "12"}) == TagQuestion(12, Tag.WERK)
    assert submitted_command({ACTION_KEY: "forget_confirm", "value": "4"}) == ConfirmForget(4)


@pytest.mark.parametrize("data", [{ACTION_KEY: "tag_werk", "value": "-1"}, {ACTION_KEY: ANSWER, "value": "x"},
                                  {ACTION_KEY: "nonsense", "value": "1"}, {ACTION_KEY: 7}, {ACTION_KEY: ANSWER}])
def test_a_submit_no_card_of_ours_carries_is_refused(data):
    with pytest.raises(InvalidInput) as refused:
        submitted_command(data)
    assert refused.value.key == "error.unknown_action"
