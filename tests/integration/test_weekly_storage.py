"""Schedules and the weekly queries on SQLite and PostgreSQL, and concurrent planners queueing once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from handlers.context import Policy
from handlers.models import OutboxStatus, SignalKind
from nudges.planner import WeeklyPlanner
from nudges.texts.catalog import load_catalog
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import NOW, message, minutes, person, question, workspace

UowFactory = Callable[[], SqlUnitOfWork]


async def test_schedule_save_replaces_and_lists_enabled(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna = await person(uow, ws, "anna")
        first = await uow.team_schedules.save(workspace_id=ws.id, channel="slack:C1", weekday=0, hour=9, minute=0,
                                              time_zone="Europe/Amsterdam", language="nl", changed_by=anna.id,
                                              now=NOW)
        first.enabled = False
    async with uow_factory() as uow:
        again = await uow.team_schedules.save(workspace_id=ws.id, channel="slack:C1", weekday=4, hour=16,
                                              minute=30, time_zone="UTC", language="en", changed_by=anna.id,
                                              now=NOW + minutes(5))
        assert again.id == first.id and again.enabled  # saving switches it on again
        await uow.team_schedules.save(workspace_id=ws.id, channel="slack:C2", weekday=1, hour=8, minute=0,
                                      time_zone="UTC", language="nl", changed_by=anna.id, now=NOW)
    async with uow_factory() as uow:
        rows = await uow.team_schedules.enabled()
        assert [(s.channel, s.weekday, s.hour, s.minute, s.updated_at) for s in rows] == [
            ("slack:C1", 4, 16, 30, NOW + minutes(5)), ("slack:C2", 1, 8, 0, NOW)]
        assert len(await uow.team_schedules.changed_by_person(anna.id)) == 2
        assert await uow.team_schedules.for_channel(ws.id, "slack:C3") is None


async def test_weekly_queries(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws, other = await workspace(uow), await workspace(uow, "T2")
        sanne, anna, bram = await person(uow, ws, "sanne"), await person(uow, ws, "anna"), await person(uow, other, "b")
        early = await question(uow, ws, sanne, anna, asked_at=NOW - timedelta(days=8))
        inside = await question(uow, ws, sanne, anna, asked_at=NOW - timedelta(days=1))
        elsewhere = await question(uow, other, bram, bram, asked_at=NOW - timedelta(days=1))
        early.first_reply_at = NOW - timedelta(days=2)
        elsewhere.first_reply_at = NOW - timedelta(days=1)
        await uow.signals.add(question_id=early.id, subject_id=anna.id, reporter_id=None,
                              kind=SignalKind.CURT_DETECTED, created_at=NOW)
        await uow.outbox.add(dedupe_key="cslack:C1:weekly_team:2025-W10", message=message(channel="slack:C1"),
                             period="2025-W10", due_at=NOW, now=NOW)
    async with uow_factory() as uow:
        week = (NOW - timedelta(days=7), NOW)
        assert [q.id for q in await uow.questions.asked_between(ws.id, *week)] == [inside.id]
        assert [q.id for q in await uow.questions.answered_between(*week, ws.id)] == [early.id]
        assert {q.id for q in await uow.questions.answered_between(*week)} == {early.id, elsewhere.id}
        assert [s.kind for s in await uow.signals.for_questions([early.id, inside.id])] == ["curt_detected"]
        assert await uow.signals.for_questions([]) == []
        assert await uow.outbox.exists("cslack:C1:weekly_team:2025-W10")
        assert not await uow.outbox.exists("cslack:C1:weekly_team:2025-W11")
        assert await uow.outbox.count_for_channel("slack:C1", "nudge_in_role") == 1
        assert await uow.outbox.count_for_channel("slack:C2", "nudge_in_role") == 0


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


async def test_concurrent_planners_queue_each_channel_once(uow_factory: UowFactory) -> None:
    """Replicas planning at the same moment: the outbox key lets exactly one insert win per channel."""
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna = await person(uow, ws, "anna")
        for n in range(12):
            await uow.team_schedules.save(workspace_id=ws.id, channel=f"slack:C{n}", weekday=0, hour=9, minute=0,
                                          time_zone="Europe/Amsterdam", language="nl", changed_by=anna.id,
                                          now=datetime(2025, 2, 20, tzinfo=UTC))
    clock = Clock(datetime(2025, 3, 3, 8, 30, tzinfo=UTC))  # Monday 09:30 in Amsterdam
    planners = [WeeklyPlanner(uow_factory, clock, load_catalog(), Policy(), grace=timedelta(hours=6))
                for _ in range(4)]
    queued = await asyncio.gather(*(p.plan_due() for p in planners))
    assert sum(queued) == 12
    async with uow_factory() as uow:
        rows = await uow.outbox.claim_due(clock.now(), 100)
        assert sorted(r.dedupe_key for r in rows) == sorted(f"cslack:C{n}:weekly_team:2025-W10:w{ws.id}"
                                                            for n in range(12))
        assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert sum(await asyncio.gather(*(p.plan_due() for p in planners))) == 0
