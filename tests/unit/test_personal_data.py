"""Show, export and delete what the bot stores about a person."""

from __future__ import annotations

from handlers.actions import Action
from handlers.models import MessageKind


async def lifecycle(world) -> int:
    result = await world.say("sanne", "@anna #inkoop Mag dit? | inschatting: ja")
    await world.drain()
    await world.reply("anna", result.question_id, "Zoals ik al zei: staat gewoon in de handleiding, lees die eerst.")
    await world.press("sanne", Action.FELT_CURT, result.question_id)
    await world.press("sanne", Action.OUTCOME_CONFIRMED, result.question_id)
    await world.drain()
    return result.question_id


async def test_summary_and_export_cover_everything_about_the_person(world):
    qid = await lifecycle(world)
    summary = await world.say("sanne", "mijn-gegevens")
    assert "vragen die je stelde: 1" in summary.replies[0].text
    [export_button] = summary.replies[0].buttons
    export = await world.press("sanne", export_button.action, export_button.value)
    data = export.replies[0].attachment.content
    assert data["person"]["handle"] == "sanne"
    assert [(q["id"], q["role"], q["text"], q["outcome"]) for q in data["questions"]] == [
        (qid, "asker", "Mag dit?", "confirmed")]
    assert {s["kind"] for s in data["signals"]} == {"curt_reported", "confirmation_only"}
    assert all("reporter_id" not in s for s in data["signals"])
    assert {m["kind"] for m in data["messages_to_you"]} >= {MessageKind.ANSWER_RELAY, MessageKind.NUDGE_CURT}


async def test_expert_export_shows_their_replies_and_signals_about_them(world):
    await lifecycle(world)
    export = await world.press("anna", Action.EXPORT_DATA, world.people["anna"].id)
    data = export.replies[0].attachment.content
    assert data["topics_in_role"] == ["contracten", "privacy"]
    assert [q["role"] for q in data["questions"]] == ["expert"]
    assert len(data["replies"]) == 1 and "curt" not in data["replies"][0]  # issue 11, finding 6
    assert data["signals"] == []  # the bot's and Sanne's curt signals: only a count per finished month
    world.clock.advance(days=8)
    data = (await world.press("anna", Action.EXPORT_DATA, world.people["anna"].id)).replies[0].attachment.content
    # Found curt by the bot and reported by Sanne: one question, counted once.
    assert data["replies_of_yours_that_felt_curt"]["per_month"] == [{"month": "2026-11", "count": 1}]


async def test_forget_me_needs_confirmation_then_erases_everything(world):
    await lifecycle(world)
    prompt = await world.say("sanne", "vergeet-mij")
    confirm = next(b for b in prompt.replies[0].buttons if b.action == Action.FORGET_CONFIRM)
    before = world.counts()
    cancel = await world.press("sanne", Action.FORGET_CANCEL, confirm.value)
    assert "niets verwijderd" in cancel.replies[0].text and world.counts() == before
    done = await world.press("sanne", confirm.action, confirm.value)
    assert done.ok and "verwijderd" in done.replies[0].text
    sanne = world.people["sanne"].id
    assert world.rows("SELECT count(*) FROM people WHERE id=?", sanne) == [(0,)]
    assert world.rows("SELECT count(*) FROM questions") == [(0,)]  # the only question was hers
    assert world.rows("SELECT count(*) FROM signals WHERE subject_id=? OR reporter_id=?", sanne, sanne) == [(0,)]
    assert world.rows("SELECT count(*) FROM outbox WHERE person_id=?", sanne) == [(0,)]


async def test_forgetting_an_expert_keeps_the_askers_question_without_them(world):
    qid = await lifecycle(world)
    anna = world.people["anna"].id
    done = await world.press("anna", Action.FORGET_CONFIRM, anna)
    assert done.ok
    assert world.rows("SELECT id, expert_id, text FROM questions") == [(qid, None, "Mag dit?")]
    assert world.rows("SELECT count(*) FROM replies") == [(0,)]
    assert world.rows("SELECT count(*) FROM expert_topics WHERE person_id=?", anna) == [(0,)]
    assert world.rows("SELECT kind FROM signals") == [("confirmation_only",)]


async def test_deleting_twice_says_nothing_is_stored_and_changes_nothing(world):
    sanne = world.people["sanne"].id
    await world.press("sanne", Action.FORGET_CONFIRM, sanne)
    before = world.counts()
    again = await world.press("sanne", Action.FORGET_CONFIRM, sanne)
    assert "bewaart niets" in again.replies[0].text
    assert "bewaart niets" in (await world.say("sanne", "mijn-gegevens")).replies[0].text
    assert world.counts() == before


async def test_nobody_can_forget_or_export_someone_else(world):
    before = world.counts()
    refused = await world.press("lotte", Action.FORGET_CONFIRM, world.people["sanne"].id)
    assert not refused.ok and "eigen gegevens" in refused.replies[0].text
    export = await world.press("lotte", Action.EXPORT_DATA, world.people["sanne"].id)
    assert export.replies[0].attachment.content["person"]["handle"] == "lotte"  # always the actor's own data
    assert world.counts() == before
