"""Asking: routing, the werk/gunst rule at asking time, focus-aware delivery."""

from __future__ import annotations

from datetime import timedelta

from handlers.actions import Action
from handlers.models import MessageKind


async def test_ask_named_expert_delivers_with_tag_buttons_and_default_werk(world):
    result = await world.say("sanne", "@anna #inkoop Mag ik dit goedkeuren? | inschatting: ja | twijfel | toon-soort")
    assert result.ok and "Anna" in result.replies[0].text
    sent = await world.drain()
    [question] = world.to("anna", sent)
    assert question.kind == MessageKind.QUESTION
    assert "Mag ik dit goedkeuren?" in question.text and "Eigen inschatting: ja" in question.text
    assert "twijfel over de eigen kunde" in question.text
    assert [b.action for b in question.buttons] == [Action.TAG_WERK, Action.TAG_WERK_REMEMBER, Action.TAG_GUNST]
    [row] = world.rows("SELECT topic, first_assessment, kind, urgent, tag, tag_source, status, delivered_at, "
                       "thread_ref FROM questions")
    assert row[:7] == ("inkoop", "ja", "doubt", 0, "werk", "default", "delivered")
    assert row[7] is not None and row[8] == f"thread-{result.question_id}"
    assert world.to("sanne", sent) == []  # no in-role nudge: inkoop is not declared by Anna


async def test_in_role_topic_is_tagged_by_rule_without_buttons_and_nudges_the_asker(world):
    result = await world.say("sanne", "@anna #Contracten Klopt deze termijn?")
    sent = await world.drain()
    [question] = world.to("anna", sent)
    assert question.buttons == () and "hoort bij je werk" in question.text
    [nudge] = world.to("sanne", sent)
    assert nudge.kind == MessageKind.NUDGE_IN_ROLE and "Anna" in nudge.text
    assert world.rows("SELECT tag, tag_source FROM questions WHERE id=?", result.question_id) == [
        ("werk", "topic_rule")]


async def test_ask_by_topic_routes_to_expert_with_fewest_open_questions(world):
    first = await world.say("sanne", "#contracten Vraag een?")
    second = await world.say("sanne", "#contracten Vraag twee?")
    experts = world.rows("SELECT q.id, p.handle FROM questions q JOIN people p ON p.id = q.expert_id ORDER BY q.id")
    assert experts == [(first.question_id, "anna"), (second.question_id, "lotte")]


async def test_ask_by_topic_never_routes_to_the_asker(world):
    result = await world.say("lotte", "#contracten Wie weet dit?")
    assert world.rows("SELECT p.handle FROM questions q JOIN people p ON p.id = q.expert_id "
                      "WHERE q.id=?", result.question_id) == [("anna",)]


async def test_question_is_held_during_focus_and_delivered_when_it_ends(world):
    world.presence.focus[("anna")] = world.clock.now() + timedelta(minutes=45)
    result = await world.say("sanne", "@anna Kan dit wachten?")
    assert "focustijd" in result.replies[0].text and "09:45" not in result.replies[0].text
    assert "10:45" in result.replies[0].text  # 09:45 UTC is 10:45 in Amsterdam
    assert await world.drain() == []
    assert world.rows("SELECT status, delivered_at FROM questions") == [("held", None)]
    world.clock.advance(minutes=46)
    sent = await world.drain()
    assert [m.kind for m in world.to("anna", sent)] == [MessageKind.QUESTION]
    assert [m.kind for m in world.to("sanne", sent)] == [MessageKind.QUESTION_NOTICE]
    assert world.rows("SELECT status FROM questions") == [("delivered",)]


async def test_urgent_question_interrupts_focus_and_says_so(world):
    world.presence.focus["anna"] = world.clock.now() + timedelta(hours=2)
    result = await world.say("sanne", "@anna Server ligt eruit, wat nu? | urgent | complex")
    assert "urgent" in result.replies[0].text
    [question] = world.to("anna", await world.drain())
    assert question.text.startswith("URGENT")
    assert world.rows("SELECT urgent, interrupted_focus, kind, status FROM questions") == [
        (1, 1, "complex", "delivered")]


async def test_english_expert_gets_english_texts(world):
    await world.say("sanne", "@bram Is this port safe to open?")
    [question] = world.to("bram", await world.drain())
    assert question.text.startswith("Question #") and question.buttons[0].label == "Part of my work"
