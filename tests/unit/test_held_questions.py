"""Issue 14, bugs 1 and 2: what an urgent question says about focus time, and the asker's buttons on a
question held until the expert's focus time ends (send it now, or withdraw it)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from handlers.models import MessageKind
from tests.unit.world import World

# The buttons' action ids as the platforms carry them back (plain strings, as a pressed button sends).
SEND_NOW = "send_held_now"
WITHDRAW = "withdraw_question"


def held_rows(world, question_id: int) -> list[tuple]:
    return world.rows("SELECT kind, status FROM outbox WHERE question_id = ? AND kind IN ('question', "
                      "'question_notice') ORDER BY kind", question_id)


async def hold_for_anna(world, text: str = "@anna Kan dit wachten?", minutes: int = 45):
    world.presence.focus["anna"] = world.clock.now() + timedelta(minutes=minutes)
    return await world.say("sanne", text)


# ------------------------------------------------------------------ bug 1: urgent and focus time

async def test_urgent_question_outside_focus_time_says_nothing_about_focus_time(world):
    result = await world.say("sanne", "@lotte Welke kostenplaats? | urgent")
    assert "focustijd" not in result.replies[0].text
    [question] = world.to("lotte", await world.drain())
    assert question.text.startswith("URGENT") and "focustijd" not in question.text
    assert world.rows("SELECT urgent, interrupted_focus FROM questions") == [(1, 0)]


async def test_urgent_question_in_focus_time_says_so_without_blaming_the_asker(world):
    world.presence.focus["lotte"] = world.clock.now() + timedelta(hours=1)
    await world.say("sanne", "@lotte Welke kostenplaats? | urgent")
    [question] = world.to("lotte", await world.drain())
    assert question.text.startswith("URGENT") and "focustijd" in question.text
    assert "omdat Sanne" not in question.text and "Sanne de vraag" not in question.text
    assert world.rows("SELECT interrupted_focus FROM questions") == [(1,)]


async def test_urgent_question_in_english_matches_the_facts_too(world):
    await world.say("sanne", "@bram Which cost centre? | urgent")
    [calm] = world.to("bram", await world.drain())
    world.presence.focus["bram"] = world.clock.now() + timedelta(hours=1)
    await world.say("sanne", "@bram Which cost centre, really? | urgent")
    [interrupted] = world.to("bram", await world.drain())
    assert calm.text.startswith("URGENT") and "focus" not in calm.text
    assert "focus time" in interrupted.text and "because Sanne" not in interrupted.text


# ------------------------------------------------------------------ bug 2: the held notice

async def test_held_notice_offers_send_now_and_withdraw_instead_of_asking_again(world):
    result = await hold_for_anna(world)
    [notice] = result.replies
    assert "opnieuw" not in notice.text and "| urgent" not in notice.text
    assert [(b.action, b.value) for b in notice.buttons] == [(SEND_NOW, str(result.question_id)),
                                                             (WITHDRAW, str(result.question_id))]
    assert [b.label for b in notice.buttons] == ["Nu versturen (urgent)", "Vraag intrekken"]


async def test_held_notice_in_english(world):
    world.presence.focus["anna"] = world.clock.now() + timedelta(minutes=45)
    result = await world.say("bram", "@anna Can this wait?")
    [notice] = result.replies
    assert "Ask again" not in notice.text
    assert [b.label for b in notice.buttons] == ["Send now (urgent)", "Withdraw question"]


async def test_send_now_delivers_the_held_question_once_as_urgent(world):
    asked = await hold_for_anna(world)
    assert await world.drain() == []
    pressed = await world.press("sanne", SEND_NOW, asked.question_id)
    assert pressed.ok and "urgent" in pressed.replies[0].text
    sent = await world.drain()
    [question] = world.to("anna", sent)
    assert question.kind == MessageKind.QUESTION and question.text.startswith("URGENT")
    assert "focustijd" in question.text and "omdat Sanne" not in question.text
    assert world.to("sanne", sent) == []
    assert world.rows("SELECT status, urgent, interrupted_focus FROM questions") == [("delivered", 1, 1)]
    # The focus time ends: the held rows do not go out a second time, nor does "now delivered".
    world.clock.advance(minutes=46)
    assert await world.drain() == []
    assert held_rows(world, asked.question_id) == [("question", "sent"), ("question_notice", "skipped")]


async def test_send_now_twice_delivers_once_and_says_it_went_already(world):
    asked = await hold_for_anna(world)
    await world.press("sanne", SEND_NOW, asked.question_id)
    again = await world.press("sanne", SEND_NOW, asked.question_id)
    assert not again.ok and "al verstuurd" in again.replies[0].text
    assert len(world.to("anna", await world.drain())) == 1


async def test_withdraw_cancels_the_held_question_and_its_notice(world):
    asked = await hold_for_anna(world)
    pressed = await world.press("sanne", WITHDRAW, asked.question_id)
    assert pressed.ok and "ingetrokken" in pressed.replies[0].text and "Anna" in pressed.replies[0].text
    world.clock.advance(minutes=46)
    assert await world.drain() == []  # the expert never gets it; no "now delivered" for the asker
    assert world.rows("SELECT status, delivered_at FROM questions") == [("withdrawn", None)]
    assert held_rows(world, asked.question_id) == [("question", "skipped"), ("question_notice", "skipped")]


async def test_a_withdrawn_question_is_not_open_for_routing(world):
    world.presence.focus["anna"] = world.clock.now() + timedelta(minutes=45)
    first = await world.say("sanne", "#contracten Een vraag?")
    await world.press("sanne", WITHDRAW, first.question_id)
    second = await world.say("sanne", "#contracten Nog een vraag?")
    experts = world.rows("SELECT q.id, p.handle FROM questions q JOIN people p ON p.id = q.expert_id ORDER BY q.id")
    assert experts == [(first.question_id, "anna"), (second.question_id, "anna")]


async def test_after_withdrawing_neither_button_works_and_says_why(world):
    asked = await hold_for_anna(world)
    await world.press("sanne", WITHDRAW, asked.question_id)
    for action in (SEND_NOW, WITHDRAW):
        again = await world.press("sanne", action, asked.question_id)
        assert not again.ok and "al ingetrokken" in again.replies[0].text
    world.clock.advance(minutes=46)
    assert await world.drain() == []


async def test_after_delivery_both_buttons_say_already_delivered_and_change_nothing(world):
    asked = await hold_for_anna(world)
    world.clock.advance(minutes=46)
    await world.drain()
    before = world.rows("SELECT status, urgent, interrupted_focus FROM questions")
    for action in (SEND_NOW, WITHDRAW):
        late = await world.press("sanne", action, asked.question_id)
        assert not late.ok and "al verstuurd" in late.replies[0].text
    assert world.rows("SELECT status, urgent, interrupted_focus FROM questions") == before == [
        ("delivered", 0, 0)]
    assert await world.drain() == []


async def test_a_question_on_its_way_can_no_longer_be_withdrawn(world):
    """A send of the held row began (its focus time ended) and its outcome is not known yet."""
    asked = await hold_for_anna(world)
    world.rows("UPDATE outbox SET attempt_started_at = due_at WHERE kind = 'question'")
    late = await world.press("sanne", WITHDRAW, asked.question_id)
    assert not late.ok and "al verstuurd" in late.replies[0].text
    assert world.rows("SELECT status FROM questions") == [("held",)]
    assert held_rows(world, asked.question_id) == [("question", "pending"), ("question_notice", "pending")]


async def test_only_the_asker_may_press_them(world):
    asked = await hold_for_anna(world)
    for who in ("anna", "lotte"):
        for action in (SEND_NOW, WITHDRAW):
            refused = await world.press(who, action, asked.question_id)
            assert not refused.ok and "Alleen wie vraag" in refused.replies[0].text
    assert world.rows("SELECT status, urgent FROM questions") == [("held", 0)]
    assert held_rows(world, asked.question_id) == [("question", "pending"), ("question_notice", "pending")]
    assert await world.drain() == []


# ------------------------------------------------------------------ both databases, and a race

async def people_world(uow_factory) -> World:
    world = World(uow=uow_factory, db_path="")  # no SQLite file to peek into: assertions use what was sent
    for handle in ("sanne", "anna"):
        await world.add_person(handle)
    return world


async def test_send_now_racing_the_end_of_the_focus_time_delivers_once(uow_factory):
    """The focus time has just ended, so the held row is due: a delivery and the asker's press meet.
    Whichever wins, Anna gets the question once (on PostgreSQL with real row locks)."""
    world = await people_world(uow_factory)
    asked = await hold_for_anna(world, minutes=5)
    world.clock.advance(minutes=6)
    pressed, _ = await asyncio.gather(world.press("sanne", SEND_NOW, asked.question_id), world.drain())
    await world.drain()
    questions = [m for m in world.to("anna", world.messenger.sent) if m.kind == MessageKind.QUESTION]
    assert len(questions) == 1
    assert pressed.ok or "al verstuurd" in pressed.replies[0].text


async def test_withdraw_on_both_databases(uow_factory):
    world = await people_world(uow_factory)
    asked = await hold_for_anna(world)
    assert (await world.press("sanne", WITHDRAW, asked.question_id)).ok
    world.clock.advance(minutes=46)
    assert await world.drain() == []
    async with uow_factory() as uow:
        assert (await uow.questions.get(asked.question_id)).status == "withdrawn"
        assert await uow.outbox.pending_for_question(asked.question_id) == []
