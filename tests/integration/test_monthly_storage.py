"""The monthly planner on SQLite and PostgreSQL: concurrent planners queue each channel's month once;
only the week after a month's end brings a picture; a month among too few people says so; a chart
without any question is recorded as skipped (not reconsidered), as is a moment past the grace window;
weeks whose figures a weekly message stored keep those figures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers.context import Policy
from handlers.weeks import week_starting
from nudges.monthly import MonthlyPlanner, closes_month, month_of
from nudges.texts.catalog import load_catalog
from storage.tables import OutboxMessage
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import person, question, workspace

UowFactory = Callable[[], SqlUnitOfWork]
POLICY = Policy(default_locale="nl", default_time_zone="Europe/Amsterdam", min_group_size=5)
CATALOG = load_catalog()
GRACE = timedelta(hours=6)
SET_UP = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
PICTURE_MOMENT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 Amsterdam, after November's last week


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def planner(uow_factory: UowFactory, now: datetime) -> MonthlyPlanner:
    return MonthlyPlanner(uow_factory, Clock(now), CATALOG, POLICY, grace=GRACE)


async def team(uow_factory: UowFactory, people: int, *, channels: int = 1, weeks: int = 4) -> int:
    """``people`` ask each other in a ring in each of November's ``weeks`` weeks; a weekly message on
    Mondays 09:00 in ``channels`` channels."""
    async with uow_factory() as uow:
        ws = await workspace(uow)
        folks = [await person(uow, ws, f"p{n}") for n in range(people)]
        for n in range(channels):
            await uow.team_schedules.save(workspace_id=ws.id, channel=f"slack:C{n}", weekday=0, hour=9, minute=0,
                                          time_zone="Europe/Amsterdam", language="nl", changed_by=folks[0].id,
                                          now=SET_UP)
        for week in range(weeks):
            for asker, expert in zip(folks, folks[1:] + folks[:1], strict=True):
                await question(uow, ws, asker, expert, asked_at=datetime(2026, 11, 3, 10, tzinfo=UTC)
                               + timedelta(weeks=week))
        return ws.id


async def rows(uow_factory: UowFactory) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        stmt = select(OutboxMessage).where(OutboxMessage.kind == "monthly_team").order_by(OutboxMessage.id)
        return list(await uow.session.scalars(stmt))


def test_a_week_belongs_to_the_month_of_its_thursday():
    last = week_starting(datetime(2026, 11, 23).date(), "Europe/Amsterdam")  # Thursday 26 November
    straddling = week_starting(datetime(2026, 11, 30).date(), "Europe/Amsterdam")  # Thursday 3 December
    assert (month_of(last), closes_month(last)) == ("2026-11", True)
    assert (month_of(straddling), closes_month(straddling)) == ("2026-12", False)


async def test_concurrent_planners_queue_each_channel_and_month_once(uow_factory: UowFactory):
    await team(uow_factory, 5, channels=3)
    planners = [planner(uow_factory, PICTURE_MOMENT + timedelta(seconds=5)) for _ in range(4)]
    counts = await asyncio.gather(*(p.plan_due() for p in planners))
    assert sum(counts) == 3
    assert await planners[0].plan_due() == 0
    found = await rows(uow_factory)
    assert sorted((r.channel, r.period, r.status) for r in found) == [
        ("slack:C0", "2026-11", "pending"), ("slack:C1", "2026-11", "pending"), ("slack:C2", "2026-11", "pending")]
    assert all(r.due_at == PICTURE_MOMENT + timedelta(minutes=1) for r in found)  # after the weekly message


async def test_only_the_week_after_a_months_end_brings_a_picture(uow_factory: UowFactory):
    await team(uow_factory, 5)
    assert await planner(uow_factory, PICTURE_MOMENT - timedelta(days=7, seconds=-5)).plan_due() == 0
    assert await planner(uow_factory, PICTURE_MOMENT + timedelta(days=7, seconds=5)).plan_due() == 0
    assert await rows(uow_factory) == []


async def test_a_month_among_too_few_people_says_so(uow_factory: UowFactory):
    await team(uow_factory, 4)
    assert await planner(uow_factory, PICTURE_MOMENT + timedelta(seconds=5)).plan_due() == 1
    [row] = await rows(uow_factory)
    assert row.payload["text"].startswith("Over november 2026 tonen we geen cijfers: in elke week waren minder "
                                          "dan 5 mensen bij de vragen betrokken.")
    assert "4 vragen" not in row.payload["text"] and "16" not in row.payload["text"]
    hidden = [w for w in row.payload["attachment"]["weeks"] if w["hidden"]]
    assert len(hidden) == 4 and all(w["asked"] == 0 and w["share_werk"] is None for w in hidden)


async def test_no_question_in_the_charts_weeks_is_recorded_as_skipped(uow_factory: UowFactory):
    await team(uow_factory, 5, weeks=0)
    assert await planner(uow_factory, PICTURE_MOMENT + timedelta(seconds=5)).plan_due() == 0
    [row] = await rows(uow_factory)
    assert (row.status, row.last_error) == ("skipped", "no questions in any week of the chart")
    assert await planner(uow_factory, PICTURE_MOMENT + timedelta(minutes=5)).plan_due() == 0


async def test_a_moment_past_the_grace_window_is_skipped_not_sent_late(uow_factory: UowFactory):
    await team(uow_factory, 5)
    assert await planner(uow_factory, PICTURE_MOMENT + GRACE + timedelta(minutes=1)).plan_due() == 0
    [row] = await rows(uow_factory)
    assert row.status == "skipped" and "before the bot got to it" in row.last_error


async def test_weeks_a_weekly_message_fixed_keep_those_figures(uow_factory: UowFactory):
    workspace_id = await team(uow_factory, 5)
    async with uow_factory() as uow:  # as a weekly message stored W47, before someone was forgotten
        await uow.team_weeks.keep(workspace_id=workspace_id, week="2026-W47", time_zone="Europe/Amsterdam",
                                  figures={"asked": 7, "werk": 7, "with_outcome": 0, "confirmed": 0, "people": 6,
                                           "answered": 0, "answerers": 0, "short_replies": 0},
                                  previous=[], now=SET_UP)
    assert await planner(uow_factory, PICTURE_MOMENT + timedelta(seconds=5)).plan_due() == 1
    [row] = await rows(uow_factory)
    weeks = {w["week"]: w["asked"] for w in row.payload["attachment"]["weeks"]}
    assert [weeks[w] for w in ("2026-W45", "2026-W46", "2026-W47", "2026-W48")] == [5, 5, 7, 5]
    assert "stelde het team 22 vragen" in row.payload["text"]
