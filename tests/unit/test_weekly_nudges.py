"""The weekly messages with a controllable clock: when they are queued, what they say, and that each
goes out once (rotation, minimum group size, recognition opt-out, grace window, DST, experts)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from handlers import dispatch
from handlers.actions import Action
from handlers.context import Policy
from handlers.models import MessageKind
from nudges.planner import WeeklyPlanner
from tests.unit.world import CATALOG

REFRAMES = CATALOG.variants["nl"]["weekly.reframe"]
REFLECTIONS = CATALOG.variants["nl"]["weekly.reflection_question"]


def planner(world, *, grace_hours: float = 6, min_group_size: int = 5) -> WeeklyPlanner:
    return WeeklyPlanner(world.uow, world.clock, CATALOG, Policy(min_group_size=min_group_size),
                         grace=timedelta(hours=grace_hours))


async def set_nudge(world, text: str, channel: str = "C1", who: str = "anna") -> None:
    result = await dispatch.handle_text(world.deps, replace(world.actor(who), channel=channel), text)
    assert result.ok, result.replies[0].text


async def plan_and_send(world, **kwargs) -> list:
    await planner(world, **kwargs).plan_due()
    return [m for m in await world.drain() if m.kind in (MessageKind.WEEKLY_TEAM, MessageKind.WEEKLY_EXPERT)]


def at(world, *args: int) -> None:
    world.clock.current = datetime(*args, tzinfo=UTC)


async def ask(world, asker: str, expert: str, *, outcome: str | None = None, curt: bool = False,
              topic: str = "", options: str = "") -> int:
    result = await world.say(asker, f"@{expert} {topic} Klopt dit zo? {options}".strip())
    assert result.ok, result.replies[0].text
    qid = result.question_id
    await world.reply(expert, qid, "Ja, dat klopt. Goed dat je het even navraagt, zo weet je het zeker.")
    if curt:
        await world.press(asker, Action.FELT_CURT, qid)
    if outcome:
        await world.press(asker, outcome, qid)
    return qid


async def ring(world, handles: list[str], **kwargs) -> None:
    """Everyone asks the next one: every person both asks and answers once."""
    for asker, expert in zip(handles, handles[1:] + handles[:1], strict=True):
        await ask(world, asker, expert, **kwargs)


# --------------------------------------------------------------------------- when


async def test_queued_once_at_the_local_send_time_and_sent_once(world):
    at(world, 2026, 11, 20, 12)  # Friday
    await set_nudge(world, "team-nudge maandag 09:00 Europe/Amsterdam nl")
    at(world, 2026, 11, 23, 7, 59)  # Monday 08:59 in Amsterdam
    assert await plan_and_send(world) == []
    at(world, 2026, 11, 23, 8, 0)
    [sent] = await plan_and_send(world)
    assert sent.channel == "slack:C1" and sent.person_id is None and not sent.private
    assert sent.text.startswith("Het weekbericht van vraagbot")
    for minutes in (1, 30, 600):  # later ticks, the same week: nothing more
        world.clock.current = datetime(2026, 11, 23, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes)
        assert await plan_and_send(world) == []
    assert world.rows("SELECT dedupe_key, period, status FROM outbox WHERE kind='weekly_team'") == [
        ("cslack:C1:weekly_team:2026-W48:w1", "2026-W48", "sent")]


async def test_a_dst_change_keeps_the_local_time(world):
    at(world, 2026, 10, 10)
    await set_nudge(world, "team-nudge zondag 09:00 Europe/Amsterdam")
    at(world, 2026, 10, 18, 7, 0)  # 09:00 CEST
    assert len(await plan_and_send(world)) == 1
    at(world, 2026, 10, 25, 7, 30)  # after the clocks went back this is 08:30 CET: not yet
    assert await plan_and_send(world) == []
    at(world, 2026, 10, 25, 8, 0)  # 09:00 CET
    assert len(await plan_and_send(world)) == 1
    assert [p for (p,) in world.rows("SELECT period FROM outbox WHERE kind='weekly_team' ORDER BY id")] == [
        "2026-W42", "2026-W43"]


async def test_two_channels_in_different_time_zones(world):
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00 Asia/Tokyo en", channel="CTOKYO")
    await set_nudge(world, "team-nudge maandag 09:00 America/New_York en", channel="CNY")
    at(world, 2026, 11, 23, 0, 0)  # 09:00 in Tokyo, Sunday 19:00 in New York
    assert [m.channel for m in await plan_and_send(world)] == ["slack:CTOKYO"]
    at(world, 2026, 11, 23, 14, 0)  # 09:00 in New York
    assert [m.channel for m in await plan_and_send(world)] == ["slack:CNY"]


async def test_a_setting_made_after_this_weeks_time_starts_next_week(world):
    at(world, 2026, 11, 23, 9, 0)  # Monday 10:00 in Amsterdam
    await set_nudge(world, "team-nudge maandag 09:00")
    assert await plan_and_send(world) == []
    at(world, 2026, 11, 30, 8, 0)
    assert len(await plan_and_send(world)) == 1


async def test_moving_the_time_later_in_a_week_that_had_its_message_sends_nothing_more(world):
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    at(world, 2026, 11, 23, 8, 0)
    assert len(await plan_and_send(world)) == 1
    await set_nudge(world, "team-nudge woensdag 09:00")
    shown = await dispatch.handle_text(world.deps, replace(world.actor("anna"), channel="C1"), "team-nudge")
    assert "woensdag 2 december 2026 09:00" in shown.replies[0].text  # not this Wednesday
    at(world, 2026, 11, 25, 8, 0)
    assert await plan_and_send(world) == []
    at(world, 2026, 12, 2, 8, 0)
    assert len(await plan_and_send(world)) == 1


async def test_switched_off_channels_get_nothing(world):
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    await set_nudge(world, "team-nudge uit")
    at(world, 2026, 11, 23, 8, 0)
    assert await plan_and_send(world) == []


async def test_grace_window(world, caplog):
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00", channel="CLATE")
    await set_nudge(world, "team-nudge maandag 03:00", channel="CTOOLATE")
    # The bot was down over the weekend and comes back on Monday 14:00 Amsterdam time: the 09:00
    # send is 5 hours late (within 6), the 03:00 one 11 hours (skipped, with a log line).
    at(world, 2026, 11, 23, 13, 0)
    with caplog.at_level(logging.WARNING, logger="nudges.planner"):
        sent = await plan_and_send(world)
    assert [m.channel for m in sent] == ["slack:CLATE"]
    assert world.rows("SELECT channel, status FROM outbox WHERE kind='weekly_team' ORDER BY channel") == [
        ("slack:CLATE", "sent"), ("slack:CTOOLATE", "skipped")]
    [line] = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert "cslack:CTOOLATE:weekly_team:2026-W48" in line and "grace" in line
    caplog.clear()
    assert await plan_and_send(world) == []
    assert not [r for r in caplog.records if "skipped" in r.getMessage()]  # logged once, not every tick
    at(world, 2026, 11, 30, 2, 0)  # next week it is on time again
    assert [m.channel for m in await plan_and_send(world)] == ["slack:CTOOLATE"]


async def test_grace_setting_is_honoured(world):
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    at(world, 2026, 11, 23, 10, 0)  # two hours late
    assert await plan_and_send(world, grace_hours=1) == []
    assert world.rows("SELECT status FROM outbox WHERE kind='weekly_team'") == [("skipped",)]


# --------------------------------------------------------------------------- what


async def test_rotation_never_repeats_within_the_catalogue(world):
    at(world, 2026, 1, 1)
    await set_nudge(world, "team-nudge maandag 09:00", channel="C1")
    await set_nudge(world, "team-nudge maandag 09:00", channel="C2")
    texts: dict[str, list[str]] = {"slack:C1": [], "slack:C2": []}
    first = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    for week in range(len(REFRAMES)):
        world.clock.current = first + timedelta(weeks=week)
        for message in await plan_and_send(world):
            texts[message.channel].append(message.text)
        if week == 2:
            await set_nudge(world, "team-nudge uit", channel="C2")  # C2 misses weeks, and keeps its own turn
        if week == 5:
            await set_nudge(world, "team-nudge aan", channel="C2")
    one = [next(r for r in REFRAMES if r in t) for t in texts["slack:C1"]]
    assert len(one) == len(REFRAMES) and len(set(one)) == len(REFRAMES)
    reflections = [next(q for q in REFLECTIONS if q in t) for t in texts["slack:C1"][:len(REFLECTIONS)]]
    assert len(set(reflections)) == len(REFLECTIONS)
    two = [next(r for r in REFRAMES if r in t) for t in texts["slack:C2"]]
    assert two == REFRAMES[:len(two)] and len(two) == 7  # weeks 0-2 and 6-9


async def test_catalogue_covers_every_principle():
    joined = " ".join(REFRAMES).lower()
    for words in (("deel van dat werk", "bij het werk"), ("bevestiging",), ("eigen kunde", "ingewikkelde"),
                  ("vaak gevraagd", "gezien")):
        assert all(w in joined for w in words), words
    assert all(q.endswith("?") for q in REFLECTIONS) and len(REFLECTIONS) >= 5
    for lang in ("nl", "en"):
        assert len(CATALOG.variants[lang]["weekly.reframe"]) == len(REFRAMES)


async def weekly_text(world) -> str:
    at(world, 2026, 11, 30, 8, 0)
    [sent] = await plan_and_send(world)
    return sent.text


async def test_a_team_of_four_sees_no_figures_at_all(world):
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    at(world, 2026, 11, 24, 10)
    await ring(world, ["sanne", "anna", "lotte", "bram"], curt=True, outcome=Action.OUTCOME_CONFIRMED)
    text = await weekly_text(world)
    assert "minder dan 5 mensen" in text
    assert "vragen via vraagbot" not in text and "kortaf over" not in text and "%" not in text


async def test_a_team_of_five_sees_figures_and_short_reply_figures(world):
    await world.add_person("femke")
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    at(world, 2026, 11, 24, 10)
    await ring(world, ["sanne", "anna", "lotte", "bram", "femke"], outcome=Action.OUTCOME_CONFIRMED)
    await ask(world, "sanne", "lotte", curt=True, outcome=Action.OUTCOME_NEW_INFO)
    text = await weekly_text(world)
    assert "het team 6 vragen via vraagbot; 100% daarvan kreeg het label werk" in text
    assert "Bij 5 van de 6 vragen met een bekende uitkomst (83%)" in text
    assert "Bij één van de 6 beantwoorde vragen kwam het antwoord kortaf over" in text


async def test_five_people_but_four_who_answered_hides_only_the_short_replies(world):
    await world.add_person("femke")
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    at(world, 2026, 11, 24, 10)
    await ring(world, ["sanne", "anna", "lotte", "bram"], curt=True)
    await ask(world, "femke", "anna", curt=True)
    text = await weekly_text(world)
    assert "het team 5 vragen via vraagbot" in text
    assert "kortaf over" not in text
    assert "pas iets als minstens 5 verschillende mensen vragen beantwoordden" in text


async def test_a_higher_minimum_group_size_is_honoured(world):
    await world.add_person("femke")
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    at(world, 2026, 11, 24, 10)
    await ring(world, ["sanne", "anna", "lotte", "bram", "femke"])
    at(world, 2026, 11, 30, 8, 0)
    [sent] = await plan_and_send(world, min_group_size=6)
    assert "minder dan 6 mensen" in sent.text


async def test_recognition_lists_who_answered_alphabetically_without_those_who_opted_out(world):
    await world.add_person("femke")
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    await world.say("lotte", "erkenning uit")
    at(world, 2026, 11, 24, 10)
    for expert in ("bram", "lotte", "anna", "bram", "bram"):  # Bram answers most: still no ranking
        await ask(world, "sanne", expert)
    text = await weekly_text(world)
    assert "Dank aan Anna en Bram, die afgelopen week vragen van collega's beantwoordden" in text
    assert "Lotte" not in text and "Sanne" not in text


async def test_trend_against_the_weeks_before(world):
    await world.add_person("femke")
    at(world, 2026, 10, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    for week in range(4):  # three questions among five people a week in the four weeks before
        world.clock.current = datetime(2026, 10, 27, 10, tzinfo=UTC) + timedelta(weeks=week)
        await ask(world, "sanne", "anna")
        await ask(world, "femke", "lotte")
        await ask(world, "bram", "sanne")
    at(world, 2026, 11, 24, 10)
    await ring(world, ["sanne", "anna", "lotte", "bram", "femke"])
    text = await weekly_text(world)
    assert "het team 5 vragen" in text
    assert "meer dan het gemiddelde van de vier weken ervoor (3 per week)" in text


async def test_a_week_without_questions_says_so_kindly(world):
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00 Europe/Amsterdam en")
    text = await weekly_text(world)
    assert text.startswith("vraagbot's weekly message") and "Nobody asked a question" in text


# --------------------------------------------------------------------------- experts and autonomy


async def test_each_expert_gets_their_own_week_privately_with_focus_advice(world):
    at(world, 2026, 11, 23, 9)  # Monday of ISO week 48
    world.presence.focus["anna"] = datetime(2026, 11, 23, 12, tzinfo=UTC)
    await ask(world, "sanne", "anna", options="| urgent", outcome=Action.OUTCOME_CONFIRMED)
    await ask(world, "lotte", "anna", options="| urgent")
    await ask(world, "sanne", "bram")
    at(world, 2026, 11, 30, 8, 59)  # the next Monday, 09:59 in Amsterdam
    assert await plan_and_send(world) == []
    at(world, 2026, 11, 30, 9, 0)  # 10:00: the summary of the whole week 48
    sent = await plan_and_send(world)
    by_person = {m.person_id: m for m in sent}
    assert set(by_person) == {world.people["anna"].id, world.people["bram"].id}  # askers get no summary
    anna = by_person[world.people["anna"].id].text
    assert "je hebt 2 vragen van collega's beantwoord. Eén antwoord bevestigde" in anna
    assert "2 vragen kwamen als urgent binnen terwijl je in focustijd zat" in anna
    bram = by_person[world.people["bram"].id].text
    assert "you answered one question from a colleague." in bram and "focus time" not in bram
    at(world, 2026, 11, 30, 11, 0)
    assert await plan_and_send(world) == []  # once per week


async def test_autonomy_encouragement_after_three_confirmed_doubt_questions_on_one_topic(world):
    at(world, 2026, 11, 23, 9)
    kinds = []
    for _ in range(3):
        qid = await ask(world, "sanne", "anna", topic="#contracten", options="| twijfel",
                        outcome=Action.OUTCOME_CONFIRMED)
        kinds.append([m.kind for m in await world.drain() if m.question_id == qid and m.kind.startswith("nudge")])
    assert kinds == [["nudge_in_role", "nudge_confirmation"]] * 2 + [["nudge_in_role", "nudge_autonomy"]]
    [encouragement] = [m for m in world.messenger.sent if m.kind == MessageKind.NUDGE_AUTONOMY]
    assert encouragement.person_id == world.people["sanne"].id
    assert "#contracten" in encouragement.text and "3" in encouragement.text
    assert "ingewikkelde" in encouragement.text or "complex" in encouragement.text  # keep asking there
    await ask(world, "sanne", "anna", topic="#contracten", options="| twijfel", outcome=Action.OUTCOME_CONFIRMED)
    assert len([m for m in await world.drain() if m.kind == MessageKind.NUDGE_AUTONOMY]) == 0  # once per streak


async def test_no_autonomy_nudge_for_complex_questions_or_a_broken_streak(world):
    at(world, 2026, 11, 23, 9)
    for _ in range(4):
        await ask(world, "sanne", "anna", topic="#contracten", options="| complex", outcome=Action.OUTCOME_CONFIRMED)
    await ask(world, "sanne", "anna", topic="#privacy", options="| twijfel", outcome=Action.OUTCOME_CONFIRMED)
    await ask(world, "sanne", "anna", topic="#privacy", options="| twijfel", outcome=Action.OUTCOME_NEW_INFO)
    await ask(world, "sanne", "anna", topic="#privacy", options="| twijfel", outcome=Action.OUTCOME_CONFIRMED)
    await world.drain()
    assert not [m for m in world.messenger.sent if m.kind == MessageKind.NUDGE_AUTONOMY]


async def test_a_minimum_below_five_is_never_used(world):
    at(world, 2026, 11, 20)
    await set_nudge(world, "team-nudge maandag 09:00")
    at(world, 2026, 11, 24, 10)
    await ring(world, ["sanne", "anna", "lotte", "bram"], curt=True)
    at(world, 2026, 11, 30, 8, 0)
    [sent] = await plan_and_send(world, min_group_size=2)
    assert "vragen via vraagbot" not in sent.text and "kortaf over" not in sent.text
    assert "minder dan 5 mensen" in sent.text
