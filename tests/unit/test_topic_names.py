"""Issue 14, bug 3: one rule for topic names, the same when declaring and when asking.

The rule: a topic is one word, or words joined by hyphens, in lower case. Whatever is typed, spaces
(and runs of hyphens) inside one topic become one hyphen, so "Juridisch Advies" is #juridisch-advies
everywhere. When declaring, commas (or #) separate topics; spaces never do.
Topics stored before this rule ("juridisch advies") keep working: they are compared by the same rule.
"""

from __future__ import annotations

import pytest

from handlers.commands import DeclareTopics, RemoveTopics, parse
from handlers.models import normalise_topic
from tests.unit.world import CATALOG


@pytest.mark.parametrize(("typed", "topic"), [
    ("Juridisch Advies", "juridisch-advies"),
    ("#Juridisch   Advies ", "juridisch-advies"),
    ("juridisch - advies", "juridisch-advies"),
    ("juridisch-advies", "juridisch-advies"),
    ("e-mail", "e-mail"),
    ("-privacy-", "privacy"),
    ("Contracten", "contracten"),
])
def test_a_topic_is_words_joined_by_hyphens(typed, topic):
    assert normalise_topic(typed) == topic


@pytest.mark.parametrize(("text", "expected"), [
    ("rol Juridisch Advies", DeclareTopics(["juridisch-advies"])),
    ("rol Juridisch Advies, Fiscaal Recht", DeclareTopics(["juridisch-advies", "fiscaal-recht"])),
    ("rol #juridisch-advies #privacy", DeclareTopics(["juridisch-advies", "privacy"])),
    ("rol weg Juridisch Advies", RemoveTopics(["juridisch-advies"])),
])
def test_declaring_separates_by_comma_and_joins_words_with_hyphens(text, expected):
    assert parse(text) == expected


async def test_a_topic_declared_with_spaces_can_be_asked_for(world):
    declared = await world.say("anna", "rol Juridisch Advies")
    assert "#juridisch-advies" in declared.replies[0].text
    asked = await world.say("sanne", "#juridisch-advies Mag deze clausule blijven staan?")
    assert asked.ok, asked.replies[0].text
    named = await world.say("sanne", "@anna Mag dit? | onderwerp: Juridisch Advies")
    assert named.ok, named.replies[0].text
    assert world.rows("SELECT expert_id, topic, text, tag_source FROM questions ORDER BY id") == [
        (world.people["anna"].id, "juridisch-advies", "Mag deze clausule blijven staan?", "topic_rule"),
        (world.people["anna"].id, "juridisch-advies", "Mag dit?", "topic_rule"),
    ]


async def _stored_before_the_rule(world, handle: str, topic: str) -> None:
    """A topic as older versions stored it (with a space), written straight to storage."""
    async with world.uow() as uow:
        await uow.topics.add(world.people[handle].id, topic, world.clock.now())


async def test_a_topic_stored_with_a_space_is_shown_kept_and_removed_by_the_rule(world):
    await _stored_before_the_rule(world, "lotte", "juridisch advies")
    listed = await world.say("lotte", "rol")
    assert "#juridisch-advies" in listed.replies[0].text and "#juridisch advies" not in listed.replies[0].text
    again = await world.say("lotte", "rol Juridisch Advies")
    assert "stonden al bij je rol" in again.replies[0].text  # the same topic, not a second one
    removed = await world.say("lotte", "rol weg juridisch-advies")
    assert removed.ok and "#juridisch-advies" in removed.replies[0].text
    assert world.rows("SELECT topic FROM expert_topics WHERE person_id = ?", world.people["lotte"].id) == [
        ("contracten",)]


async def test_a_topic_stored_with_a_space_can_be_asked_for(world):
    await _stored_before_the_rule(world, "lotte", "juridisch advies")
    asked = await world.say("sanne", "#juridisch-advies Wie tekent dit?")
    assert asked.ok, asked.replies[0].text
    assert world.rows("SELECT expert_id, tag_source FROM questions") == [(world.people["lotte"].id, "topic_rule")]


@pytest.mark.parametrize(("locale", "words", "topic"), [("nl", "juridisch advies", "#juridisch-advies"),
                                                     ("en", "legal advice", "#legal-advice")])
def test_help_says_the_rule(locale, words, topic):
    help_text = CATALOG.text(locale, "help")
    assert f"'{words}'" in help_text and topic in help_text and "#" + normalise_topic(words) == topic


async def test_removing_the_last_topic_says_none_are_left_instead_of_a_dash(world):
    await world.say("lotte", "rol contracten")
    removed = await world.say("lotte", "rol weg contracten")
    assert removed.ok
    assert removed.replies[0].text == CATALOG.text("nl", "topics.removed_last", removed="#contracten")
    assert "-." not in removed.replies[0].text
