"""Issue 11, finding 9: the asker decides whether the expert sees the kind of question, and knows it
before sending. Default: the kind is the asker's own (for their own figures), not shown."""

from __future__ import annotations

import pytest

from handlers.actions import Action
from handlers.commands import parse
from handlers.errors import InvalidInput
from handlers.models import QuestionKind
from tests.unit.world import CATALOG

DOUBT_LINE = CATALOG.text("nl", "question.kind_doubt")


@pytest.mark.parametrize(("text", "kind", "shared"), [
    ("@anna Mag dit? | twijfel", QuestionKind.DOUBT, False),
    ("@anna Mag dit? | complex", QuestionKind.COMPLEX, False),
    ("@anna Mag dit? | twijfel | toon-soort", QuestionKind.DOUBT, True),
    ("@anna Is this right? | show-kind | complex", QuestionKind.COMPLEX, True),
    ("@anna Mag dit?", None, False),
])
def test_the_kind_is_only_shared_when_the_asker_says_so(text, kind, shared):
    request = parse(text).request
    assert (request.kind, request.share_kind) == (kind, shared)


def test_sharing_without_a_kind_is_explained():
    with pytest.raises(InvalidInput) as refused:
        parse("@anna Mag dit? | toon-soort")
    assert refused.value.key == "error.share_kind_without_kind"


async def test_an_unshared_kind_is_not_in_the_experts_message_nor_in_her_export(world):
    asked = await world.say("sanne", "@anna Mag ik dit goedkeuren? | twijfel")
    assert "ziet de soort niet" in asked.replies[0].text
    [question] = world.to("anna", await world.drain())
    assert "Mag ik dit goedkeuren?" in question.text
    assert DOUBT_LINE not in question.text and "twijfel" not in question.text.lower()
    assert world.rows("SELECT kind, kind_shared FROM questions") == [("doubt", 0)]
    expert_view = (await world.press("anna", Action.EXPORT_DATA, world.people["anna"].id)).replies[0].attachment.content
    assert [q["kind"] for q in expert_view["questions"]] == [None]
    asker_export = await world.press("sanne", Action.EXPORT_DATA, world.people["sanne"].id)
    asker_view = asker_export.replies[0].attachment.content
    assert [(q["kind"], q["kind_shown_to_expert"]) for q in asker_view["questions"]] == [("doubt", False)]


async def test_a_shared_kind_is_in_the_experts_message_and_the_asker_is_told(world):
    asked = await world.say("sanne", "@anna Mag ik dit goedkeuren? | twijfel | toon-soort")
    assert "ziet ook de soort" in asked.replies[0].text
    [question] = world.to("anna", await world.drain())
    assert DOUBT_LINE in question.text
    assert world.rows("SELECT kind, kind_shared FROM questions") == [("doubt", 1)]
    expert_view = (await world.press("anna", Action.EXPORT_DATA, world.people["anna"].id)).replies[0].attachment.content
    assert [q["kind"] for q in expert_view["questions"]] == ["doubt"]


def test_the_help_says_what_the_expert_sees_in_both_languages():
    assert "toon-soort" in CATALOG.text("nl", "help") and "show-kind" in CATALOG.text("en", "help")
    for locale in ("nl", "en"):
        hint = CATALOG.text(locale, "modal.share_kind_hint")
        assert CATALOG.text(locale, "question.kind_doubt") in hint
