"""A held question the asker withdrew was never asked of anyone: it counts in no weekly figure, not in
the channel's message, not in `vraagbot report`'s history (and so not in the monthly picture), and
its asker and expert do not count toward the minimum group size. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from handlers.weeks import reported_week, week_of
from nudges.weekly import gather_team_week, weekly_history
from tests.unit.world import World

ZONE = "Europe/Amsterdam"
WITHDRAW = "withdraw_question"


async def four_people_and_a_withdrawn_question(uow_factory) -> World:
    """Four people ask each other in a ring; a fifth asks Anna while she is in focus time and withdraws it."""
    world = World(uow=uow_factory, db_path="")
    ring = ["sanne", "anna", "lotte", "bram"]
    for handle in [*ring, "femke"]:
        await world.add_person(handle)
    for asker, expert in zip(ring, ring[1:] + ring[:1], strict=True):
        await world.say(asker, f"@{expert} Klopt deze termijn?")
    world.presence.focus["anna"] = world.clock.now() + timedelta(minutes=45)
    held = await world.say("femke", "@anna Kan dit wachten?")
    assert (await world.press("femke", WITHDRAW, held.question_id)).ok
    await world.drain()
    return world


async def test_withdrawn_questions_count_in_no_weekly_figure(uow_factory):
    world = await four_people_and_a_withdrawn_question(uow_factory)
    asked_in = week_of(world.clock.now(), ZONE)
    next_monday = asked_in.end + timedelta(hours=9)
    async with uow_factory() as uow:
        workspace = await uow.workspaces.by_external_id("slack", "T1")
        week = await gather_team_week(uow, workspace.id, reported_week(next_monday, ZONE), keep=False)
        [history] = await weekly_history(uow, workspace.id, 1, next_monday, ZONE)
    assert week.week.label == asked_in.label
    for figures in (week.figures, history.figures):
        assert figures.asked == 4  # not 5: Femke's question never reached Anna
        assert figures.people == 4  # Femke took part in no question: the week stays below five people
        assert not figures.shown(5)
