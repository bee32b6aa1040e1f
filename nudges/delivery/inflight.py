"""Background work (Slack lazy listeners, outbox ticks), tracked so shutdown can let
it finish before the database goes away, instead of cutting it off mid-transaction."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


class InFlight:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def track(self, work: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(work)
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> T:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                return await work(*args, **kwargs)
            finally:
                if task is not None:
                    self._tasks.discard(task)

        return tracked

    async def drain(self, seconds: float) -> None:
        """Wait for running work; cancel what is still running after ``seconds``."""
        pending = {t for t in self._tasks if not t.done()}
        if not pending:
            return
        _, still = await asyncio.wait(pending, timeout=seconds)
        for task in still:
            log.warning("shutdown: cancelling unfinished work %s", task.get_name())
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=1)
