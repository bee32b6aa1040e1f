"""The periodic tick that drains the outbox. APScheduler lives here and nowhere else.

Only the tick is scheduled in APScheduler (in memory); what is due lives in our own tables, so a
restart or a second replica loses nothing and sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from nudges.inflight import InFlight
from nudges.outbox import OutboxDispatcher

log = logging.getLogger(__name__)


class DeliveryScheduler:
    def __init__(self, dispatcher: OutboxDispatcher, tick_seconds: float) -> None:
        self._dispatcher = dispatcher
        self._tick_seconds = tick_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._kicks: set[asyncio.Task[None]] = set()
        self._ticks = InFlight()  # stop() lets a running drain finish before the database closes

    @property
    def running(self) -> bool:
        return bool(self._scheduler and self._scheduler.running)

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(self.tick, "interval", seconds=self._tick_seconds, id="outbox-tick",
                                max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
        self._scheduler.start()
        log.info("delivery scheduler started, tick every %ss", self._tick_seconds)

    async def tick(self) -> None:
        await self._ticks.track(self._drain)()

    async def _drain(self) -> None:
        try:
            await self._dispatcher.dispatch_due()
        except Exception:  # a database that went away: log, and the next tick tries again
            log.exception("outbox tick failed")

    async def kick(self) -> None:
        """Start a drain now, without making the caller (a request handler) wait for the sends."""
        task = asyncio.get_running_loop().create_task(self.tick())
        self._kicks.add(task)
        task.add_done_callback(self._kicks.discard)

    async def stop(self, grace_seconds: float = 30.0) -> None:
        if self._scheduler and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        await self._ticks.drain(grace_seconds)
