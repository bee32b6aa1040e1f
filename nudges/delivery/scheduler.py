"""The periodic tick that drains the outbox. APScheduler lives here and nowhere else.

Only the tick is scheduled in APScheduler (in memory); what is due lives in our own tables, so a
restart or a second replica loses nothing and sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from nudges.delivery.inflight import InFlight
from nudges.delivery.outbox import OutboxDispatcher
from nudges.monthly import MonthlyPlanner
from nudges.planner import WeeklyPlanner

log = logging.getLogger(__name__)


RETENTION_FIRST_RUN = timedelta(minutes=1)  # not in the middle of start-up


class DeliveryScheduler:
    def __init__(self, dispatcher: OutboxDispatcher, tick_seconds: float, *, planner: WeeklyPlanner | None = None,
                 plan_seconds: float = 60.0, retention: Callable[[], Awaitable[object]] | None = None,
                 retention_hours: float = 24.0, monthly: MonthlyPlanner | None = None) -> None:
        self._dispatcher = dispatcher
        self._tick_seconds = tick_seconds
        self._planner = planner  # queues the weekly messages; a second job, next to the outbox tick
        self._plan_seconds = plan_seconds
        self._monthly = monthly  # the monthly pictures, planned right after the weekly messages on that job
        # Removes old texts; a third job. Idempotent, so every replica may run it.
        self._retention = retention
        self._retention_hours = retention_hours
        self._scheduler: AsyncIOScheduler | None = None
        self._kicks: set[asyncio.Task[None]] = set()
        self._kick_waiting = False  # a kicked drain that has not begun yet: it covers every kick until it begins
        self._kick_lock = asyncio.Lock()
        self._ticks = InFlight()  # stop() lets a running drain finish before the database closes

    @property
    def running(self) -> bool:
        return bool(self._scheduler and self._scheduler.running)

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(self.tick, "interval", seconds=self._tick_seconds, id="outbox-tick",
                                max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
        if self._planner is not None:
            self._scheduler.add_job(self.plan, "interval", seconds=self._plan_seconds, id="weekly-plan",
                                    max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
        if self._retention is not None:
            self._scheduler.add_job(self.retain, "interval", hours=self._retention_hours, id="text-retention",
                                    max_instances=1, coalesce=True,
                                    next_run_time=datetime.now(UTC) + RETENTION_FIRST_RUN)
        self._scheduler.start()
        log.info("delivery scheduler started, tick every %ss", self._tick_seconds)

    async def tick(self) -> None:
        await self._ticks.track(self._drain)()

    async def _drain(self) -> None:
        try:
            await self._dispatcher.dispatch_due()
        except Exception:  # a database that went away: log, and the next tick tries again
            log.exception("outbox tick failed")

    async def plan(self) -> None:
        await self._ticks.track(self._plan)()

    async def _plan(self) -> None:
        assert self._planner is not None
        try:
            queued = await self._planner.plan_due()
        except Exception:  # the monthly pictures are planned all the same: they do not need this tick's weekly ones
            log.exception("weekly planning failed")
            queued = 0
        if self._monthly is not None:
            try:
                queued += await self._monthly.plan_due()
            except Exception:
                log.exception("monthly planning failed")
        if queued:
            await self.kick()  # send at once rather than at the next outbox tick, without holding up planning

    async def retain(self) -> None:
        await self._ticks.track(self._retain)()

    async def _retain(self) -> None:
        assert self._retention is not None
        try:
            await self._retention()
        except Exception:  # the next day's run tries again; nothing is half done (one batch, one transaction)
            log.exception("text retention failed")

    async def kick(self) -> None:
        """Start a drain now, without making the caller (a request handler) wait for the sends.

        A kick while an earlier one still waits to begin is folded into it: that drain begins after
        this caller's rows were committed, so it claims them too. Without this every request started
        a drain of its own, and every drain ends with an empty claim per sending worker (benchmark 1:
        eight of an ask's seventeen transactions found nothing to send)."""
        if self._kick_waiting:
            return
        self._kick_waiting = True
        task = asyncio.get_running_loop().create_task(self._kicked())
        self._kicks.add(task)
        task.add_done_callback(self._kicks.discard)

    async def _kicked(self) -> None:
        async with self._kick_lock:  # one kicked drain at a time; the next kick waits here
            self._kick_waiting = False
            await self.tick()

    async def stop(self, grace_seconds: float = 30.0) -> None:
        # Pause (no new runs) and let the running tick finish its send before shutting APScheduler
        # down: its shutdown cancels job tasks that are still running.
        self._dispatcher.stop()
        if self._scheduler and self._scheduler.running:
            self._scheduler.pause()
        await self._ticks.drain(grace_seconds)
        if self._scheduler and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
