"""Run a use case again while the database is unreachable (a restart, a fail-over), for a bounded time.

Safe because a use case's writes live in its units of work, which roll back when the connection
breaks: running it again starts from a clean state. Give-up raises StorageUnavailable, so the
caller can tell the person that nothing was saved instead of dropping their request silently.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryError, retry_if_exception, stop_after_delay, wait_exponential

from handlers.errors import StorageUnavailable
from storage.failures import is_connection_error

log = logging.getLogger(__name__)
T = TypeVar("T")


class StorageRetry:
    def __init__(self, budget_seconds: float = 30.0, first_wait: float = 0.2, max_wait: float = 5.0) -> None:
        self._budget = budget_seconds
        self._first_wait = first_wait
        self._max_wait = max_wait

    async def __call__(self, work: Callable[[], Awaitable[T]]) -> T:
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_connection_error),
            stop=stop_after_delay(self._budget),
            wait=wait_exponential(multiplier=self._first_wait, max=self._max_wait),
            before_sleep=lambda state: log.warning("database unreachable (attempt %s), retrying: %r",
                                                   state.attempt_number, state.outcome and state.outcome.exception()),
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await work()
        except RetryError as gave_up:
            error = gave_up.last_attempt.exception()
            log.error("database unreachable for %ss, giving up: %r", self._budget, error)
            raise StorageUnavailable(str(error)) from error
        raise AssertionError("unreachable")  # AsyncRetrying either returns, raises or gives up
