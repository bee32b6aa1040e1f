"""Issue 11, finding 5: the weekly figures cannot be taken apart by comparing two messages.

The attack: two channels of one workspace, their weekly messages an hour apart (or the same local
time in two time zones), one person's reply in between. When each message covered the seven days
before its own send moment, the second message held one more answered question and, if that reply
was curt, one more short reply: the difference was that person's verdict. Every message is now
about the same fixed ISO week of the workspace, so both carry identical figures.

End to end through the real use cases, planner and outbox delivery, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from handlers import dispatch
from handlers.actions import Action
from handlers.context import Policy
from handlers.models import MessageKind
from nudges.planner import WeeklyPlanner
from tests.unit.world import CATALOG, World

ANSWERERS = ["sanne", "anna", "lotte", "bram", "femke"]
TARGET = "tess"
KIND_REPLY = "Ja, dat klopt. Goed dat je het even navraagt, zo weet je het zeker."
CURT_REPLY = "Dit staat gewoon in de handleiding, had je zelf kunnen lezen. Zoals ik al zei: eerst zelf zoeken."


async def team(uow_factory) -> World:
    world = World(uow=uow_factory, db_path="")  # rows() and counts() are SQLite-only: not used here
    for handle in [*ANSWERERS, TARGET]:
        await world.add_person(handle)
    return world


def at(world: World, *args: int) -> None:
    world.clock.current = datetime(*args, tzinfo=UTC)


async def set_nudge(world: World, channel: str, setting: str) -> None:
    actor = replace(world.actor("anna"), channel=channel)
    result = await dispatch.handle_text(world.deps, actor, f"team-nudge {setting}")
    assert result.ok, result.replies[0].text


async def ask(world: World, asker: str, expert: str) -> int:
    result = await world.say(asker, f"@{expert} Klopt deze termijn?")
    assert result.ok, result.replies[0].text
    return result.question_id


async def ring_of_five(world: World, people: list[str] = ANSWERERS) -> None:
    """Five questions, each of the five answerers asks the next one and answers once, kindly."""
    for asker, expert in zip(people, people[1:] + people[:1], strict=True):
        await world.reply(expert, await ask(world, asker, expert), KIND_REPLY)


def short_reply_figures(figures: str, answered: int) -> bool:
    """Whether the short-reply figures are shown (they are about the people who answered)."""
    return re.search(rf"(Bij (\d+|één) van|Geen van) de {answered} beantwoorde vragen", figures) is not None


async def curt_detected(world: World, question_id: int) -> bool:
    async with world.uow() as uow:
        return any(s.kind == "curt_detected" for s in await uow.signals.for_question(question_id))


async def weekly_posts(world: World) -> dict[str, str]:
    """Plan what is due now, deliver it, and return the team messages that went out: channel -> the
    figures and recognition (the paragraphs between the rotating reframe and reflection question,
    which differ per channel by design)."""
    planner = WeeklyPlanner(world.uow, world.clock, CATALOG, Policy(), grace=timedelta(hours=6))
    await planner.plan_due()
    return {m.channel: "\n\n".join(m.text.split("\n\n")[2:-1])
            for m in await world.drain() if m.kind == MessageKind.WEEKLY_TEAM}


async def test_two_channels_an_hour_apart_around_a_curt_reply_carry_identical_figures(uow_factory):
    world = await team(uow_factory)
    at(world, 2026, 11, 13, 12)  # the settings are made well before
    await set_nudge(world, "CA", "maandag 09:00 Europe/Amsterdam nl")
    await set_nudge(world, "CB", "maandag 10:00 Europe/Amsterdam nl")
    at(world, 2026, 11, 18, 10)  # Wednesday of ISO week 47
    await ring_of_five(world)
    at(world, 2026, 11, 20, 10)
    target_question = await ask(world, "sanne", TARGET)

    at(world, 2026, 11, 23, 8, 0)  # Monday 09:00 in Amsterdam
    first = await weekly_posts(world)
    at(world, 2026, 11, 23, 8, 30)  # between the two messages the target answers, curtly
    await world.reply(TARGET, target_question, CURT_REPLY)
    at(world, 2026, 11, 23, 9, 0)  # Monday 10:00
    second = await weekly_posts(world)

    assert set(first) == {"slack:CA"} and set(second) == {"slack:CB"}
    assert await curt_detected(world, target_question)  # the verdict the attack was after
    # Figures are shown (five people answered), so the test is not passing on hidden figures.
    assert short_reply_figures(first["slack:CA"], 5)
    assert second["slack:CB"] == first["slack:CA"]


async def test_two_channels_in_different_time_zones_carry_identical_figures(uow_factory):
    world = await team(uow_factory)
    at(world, 2026, 11, 13, 12)
    await set_nudge(world, "CTOKYO", "maandag 09:00 Asia/Tokyo nl")  # Monday 00:00 UTC
    await set_nudge(world, "CNY", "maandag 09:00 America/New_York nl")  # Monday 14:00 UTC
    at(world, 2026, 11, 18, 10)
    await ring_of_five(world)
    at(world, 2026, 11, 20, 10)
    target_question = await ask(world, "sanne", TARGET)

    at(world, 2026, 11, 23, 0, 0)
    tokyo = await weekly_posts(world)
    at(world, 2026, 11, 23, 10, 0)
    await world.reply(TARGET, target_question, CURT_REPLY)
    at(world, 2026, 11, 23, 14, 0)
    new_york = await weekly_posts(world)

    assert set(tokyo) == {"slack:CTOKYO"} and set(new_york) == {"slack:CNY"}
    assert short_reply_figures(tokyo["slack:CTOKYO"], 5)
    assert new_york["slack:CNY"] == tokyo["slack:CTOKYO"]


async def test_a_curt_report_made_between_two_messages_changes_neither(uow_factory):
    """The reply falls in the week itself; the asker reports it as curt after the week ended,
    between the two messages. The week's figures stay what they were when the week ended."""
    world = await team(uow_factory)
    at(world, 2026, 11, 13, 12)
    await set_nudge(world, "CA", "maandag 09:00 Europe/Amsterdam nl")
    await set_nudge(world, "CB", "donderdag 16:00 Europe/Amsterdam nl")
    at(world, 2026, 11, 18, 10)
    await ring_of_five(world)
    at(world, 2026, 11, 22, 10)  # Sunday: the target answers, kindly, inside the week
    target_question = await ask(world, "sanne", TARGET)
    await world.reply(TARGET, target_question, KIND_REPLY)
    assert not await curt_detected(world, target_question), "the detector finds KIND_REPLY curt: pick a kinder one"

    at(world, 2026, 11, 23, 8, 0)
    first = await weekly_posts(world)
    at(world, 2026, 11, 24, 10, 0)  # Tuesday: the asker reports last week's reply as curt
    await world.press("sanne", Action.FELT_CURT, target_question)
    at(world, 2026, 11, 26, 15, 0)  # Thursday 16:00
    second = await weekly_posts(world)

    assert short_reply_figures(first["slack:CA"], 6)
    assert second["slack:CB"] == first["slack:CA"]


async def test_the_trend_leaves_out_earlier_weeks_below_the_minimum_group_size(uow_factory):
    """A week among four people showed no figures; an average that counted it (or an empty week
    as zero) would give its count away to anyone who compares two messages."""
    world = await team(uow_factory)
    at(world, 2026, 10, 20, 12)
    await set_nudge(world, "CA", "maandag 09:00 Europe/Amsterdam nl")
    at(world, 2026, 11, 4, 10)  # ISO week 45: ten questions among five people, shown
    await ring_of_five(world)
    await ring_of_five(world)
    at(world, 2026, 11, 11, 10)  # week 46: four questions among four people, below the threshold
    await ring_of_five(world, ANSWERERS[:4])
    at(world, 2026, 11, 18, 10)  # week 47: five questions among five people, shown; week 44 is empty
    await ring_of_five(world)
    at(world, 2026, 11, 25, 10)  # week 48, the one the message is about
    await ring_of_five(world)

    at(world, 2026, 11, 30, 8, 0)
    [text] = (await weekly_posts(world)).values()
    assert "het team 5 vragen via vraagbot" in text
    # (10 + 5) / 2 weeks: weeks 46 and 44 are left out, not counted (as 4 and 0).
    assert "Dat is minder dan gemiddeld in de weken ervoor (7,5 per week, over 2 van de vier weken" in text


async def test_the_experts_own_summary_is_about_the_same_fixed_week(uow_factory):
    """Sent on Monday 10:00 in the expert's own zone (here New York), about the team's whole week
    (Amsterdam): not a reply given after that week ended, not an outcome marked after it."""
    world = await team(uow_factory)
    async with world.uow() as uow:
        (await uow.people.get(world.people["bram"].id)).time_zone = "America/New_York"
    at(world, 2026, 11, 25, 10)  # ISO week 48
    in_week = await ask(world, "sanne", "bram")
    await world.reply("bram", in_week, KIND_REPLY)
    at(world, 2026, 11, 29, 23, 30)  # Monday 00:30 in Amsterdam (week 49), still Sunday in New York
    await world.reply("bram", await ask(world, "lotte", "bram"), KIND_REPLY)
    at(world, 2026, 11, 30, 9, 0)  # after the week: the asker marks that it confirmed her assessment
    await world.press("sanne", Action.OUTCOME_CONFIRMED, in_week)

    at(world, 2026, 11, 30, 15, 0)  # Monday 10:00 in New York
    planner = WeeklyPlanner(world.uow, world.clock, CATALOG, Policy(), grace=timedelta(hours=6))
    await planner.plan_due()
    [summary] = [m for m in await world.drain() if m.kind == MessageKind.WEEKLY_EXPERT]
    assert summary.person_id == world.people["bram"].id
    assert "je hebt één vraag van een collega beantwoord." in summary.text
    assert "bevestigde" not in summary.text  # confirmed after the week: no confirmation, and no "0 keer"
