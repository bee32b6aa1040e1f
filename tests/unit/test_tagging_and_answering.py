"""Werk/gunst by the expert, replies with curt detection, curt reports and outcomes."""

from __future__ import annotations

from handlers.actions import Action
from handlers.models import MessageKind


async def asked(world, text="@anna #inkoop Mag ik dit goedkeuren? | inschatting: ja | twijfel") -> int:
    result = await world.say("sanne", text)
    await world.drain()
    return result.question_id


async def test_expert_tags_werk_and_remembers_topic(world):
    qid = await asked(world)
    result = await world.press("anna", Action.TAG_WERK_REMEMBER, qid)
    assert result.ok and "#inkoop" in result.replies[0].text
    assert world.rows("SELECT tag, tag_source FROM questions") == [("werk", "expert")]
    assert ("inkoop",) in world.rows("SELECT topic FROM expert_topics WHERE person_id=?", world.people["anna"].id)
    [notice] = world.to("sanne", await world.drain())
    assert notice.kind == MessageKind.TAG_NOTICE and "Anna" in notice.text
    # The next question on that topic is tagged by the rule.
    await asked(world, "@anna #inkoop En deze?")
    assert world.rows("SELECT tag_source FROM questions ORDER BY id DESC LIMIT 1") == [("topic_rule",)]


async def test_expert_tags_gunst_and_asker_is_not_pushed_a_message(world):
    qid = await asked(world)
    assert (await world.press("anna", Action.TAG_GUNST, qid)).ok
    assert world.rows("SELECT tag, tag_source FROM questions") == [("gunst", "expert")]
    assert await world.drain() == []


async def test_only_the_expert_may_tag_or_answer(world):
    qid = await asked(world)
    before = world.counts()
    refused = await world.press("lotte", Action.TAG_GUNST, qid)
    assert not refused.ok and "Alleen de expert" in refused.replies[0].text
    refused = await world.reply("sanne", qid, "Ik antwoord mezelf")
    assert not refused.ok
    assert world.counts() == before
    assert world.rows("SELECT tag_source FROM questions") == [("default",)]


async def test_reply_is_recorded_with_timing_relayed_and_prompts_outcome(world):
    qid = await asked(world)
    world.clock.advance(minutes=7)
    result = await world.reply("anna", qid, "Jep, helemaal juist 🙂 Goed dat je het checkt.")
    assert result.ok
    sent = world.to("sanne", await world.drain())
    assert [m.kind for m in sent] == [MessageKind.ANSWER_RELAY, MessageKind.OUTCOME_PROMPT]
    assert "helemaal juist" in sent[0].text
    assert [b.action for b in sent[1].buttons] == [Action.OUTCOME_CONFIRMED, Action.OUTCOME_NEW_INFO,
                                                   Action.FELT_CURT]
    [(seconds, curt)] = world.rows("SELECT reply_seconds, curt FROM replies")
    assert seconds == 420 and curt == 0
    assert world.rows("SELECT status FROM questions") == [("answered",)]
    assert world.rows("SELECT count(*) FROM signals") == [(0,)]


async def test_curt_reply_gives_signal_and_private_reframing_to_asker_only(world):
    qid = await asked(world)
    await world.reply("anna", qid, "Dit staat gewoon in de handleiding, had je zelf kunnen lezen. "
                                   "Zoals ik al zei: eerst zelf zoeken.")
    sent = await world.drain()
    kinds = [m.kind for m in world.to("sanne", sent)]
    assert MessageKind.NUDGE_CURT in kinds
    assert world.to("anna", sent) == []  # the expert never hears about it
    [(kind, subject)] = world.rows("SELECT kind, subject_id FROM signals")
    assert (kind, subject) == ("curt_detected", world.people["anna"].id)
    [(reasons,)] = world.rows("SELECT curt_reasons FROM replies")
    assert "zoals ik al zei" in reasons


async def test_asker_reports_curt_once_and_gets_one_reframing(world):
    qid = await asked(world)
    await world.reply("anna", qid, "Nee. Zoek het zelf maar uit.")  # detected curt: a bare "Nee." no longer is
    await world.drain()
    result = await world.press("sanne", Action.FELT_CURT, qid)
    assert result.ok
    again = await world.press("sanne", Action.FELT_CURT, qid)
    assert not again.ok and "al aangegeven" in again.replies[0].text
    curt_nudges = [m for m in world.messenger.sent if m.kind == MessageKind.NUDGE_CURT]
    assert len(curt_nudges) == 1  # detected and reported share one reframing per question
    assert ("curt_reported", world.people["sanne"].id) in world.rows("SELECT kind, reporter_id FROM signals")


async def test_confirmation_is_a_signal_with_reframing_and_cannot_be_marked_twice(world):
    qid = await asked(world)
    not_yet = await world.press("sanne", Action.OUTCOME_CONFIRMED, qid)
    assert not not_yet.ok and "nog geen antwoord" in not_yet.replies[0].text
    await world.reply("anna", qid, "Klopt!")
    await world.drain()
    assert (await world.press("sanne", Action.OUTCOME_CONFIRMED, qid)).ok
    [nudge] = world.to("sanne", await world.drain())
    assert nudge.kind == MessageKind.NUDGE_CONFIRMATION
    assert world.rows("SELECT kind, subject_id FROM signals") == [("confirmation_only", world.people["sanne"].id)]
    assert world.rows("SELECT outcome, status FROM questions") == [("confirmed", "closed")]
    twice = await world.press("sanne", Action.OUTCOME_NEW_INFO, qid)
    assert not twice.ok and world.rows("SELECT outcome FROM questions") == [("confirmed",)]


async def test_only_the_asker_marks_outcome_or_reports_curt(world):
    qid = await asked(world)
    await world.reply("anna", qid, "Klopt.")
    before = world.counts()
    for action in (Action.OUTCOME_CONFIRMED, Action.FELT_CURT):
        refused = await world.press("lotte", action, qid)
        assert not refused.ok and "Alleen wie vraag" in refused.replies[0].text
    assert world.counts() == before


async def test_confirmation_nudges_rotate_for_one_person(world):
    texts = []
    for n in range(3):
        qid = await asked(world, f"@anna Vraag {n}?")
        await world.reply("anna", qid, "Ja, klopt.")
        await world.press("sanne", Action.OUTCOME_CONFIRMED, qid)
        texts += [m.text for m in world.to("sanne", await world.drain()) if m.kind == MessageKind.NUDGE_CONFIRMATION]
    assert len(texts) == 3 and len(set(texts)) == 3


async def test_new_information_outcome_closes_without_signal(world):
    qid = await asked(world)
    await world.reply("anna", qid, "Nee, daar is een tweede handtekening voor nodig: zie regel 4.2.")
    assert (await world.press("sanne", Action.OUTCOME_NEW_INFO, qid)).ok
    assert world.rows("SELECT outcome, status FROM questions") == [("new_info", "closed")]
    assert world.rows("SELECT count(*) FROM signals") == [(0,)]
