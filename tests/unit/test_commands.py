"""The one command grammar every platform shares."""

from __future__ import annotations

import pytest

from handlers.commands import Ask, DeclareTopics, ForgetMe, Help, ListTopics, MyData, RemoveTopics, parse
from handlers.errors import InvalidInput
from handlers.models import QuestionKind


def test_full_ask_with_every_option():
    command = parse("@Anna #Contracten Mag dit? | inschatting: ja, standaard | twijfel | urgent")
    assert isinstance(command, Ask)
    r = command.request
    assert (r.expert_handle, r.topic, r.text, r.first_assessment, r.kind, r.urgent) == (
        "Anna", "Contracten", "Mag dit?", "ja, standaard", QuestionKind.DOUBT, True)


def test_slack_escaped_mention_carries_the_user_id():
    r = parse("<@U0LAN0Z89|anna> Is this right? | assessment: yes | complex").request
    assert (r.expert_external_id, r.expert_handle, r.kind, r.first_assessment) == (
        "U0LAN0Z89", "anna", QuestionKind.COMPLEX, "yes")


def test_topic_only_and_topic_option():
    assert parse("#privacy Mag dit?").request.topic == "privacy"
    assert parse("@anna Mag dit? | onderwerp: inkoop").request.topic == "inkoop"


@pytest.mark.parametrize("text", ["", "help", " HULP ", "?"])
def test_help(text):
    assert parse(text) == Help()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rol", ListTopics()),
        ("role", ListTopics()),
        ("rol contracten, Privacy Wet", DeclareTopics(["contracten", "privacy-wet"])),
        ("rol #a #b", DeclareTopics(["a", "b"])),
        ("rol contracten privacy", DeclareTopics(["contracten-privacy"])),
        ("rol weg privacy", RemoveTopics(["privacy"])),
        ("role remove a, b", RemoveTopics(["a", "b"])),
        ("mijn-gegevens", MyData()),
        ("my data", MyData()),
        ("vergeet-mij", ForgetMe()),
        ("forget me", ForgetMe()),
    ],
)
def test_other_commands(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("text", ["weer", "@a @b vraag", "@anna x | wat", "rol " + "x" * 80])
def test_refused(text):
    with pytest.raises(InvalidInput):
        parse(text)
