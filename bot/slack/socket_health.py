"""How the Socket Mode connection is doing, said without flooding the log.

A connection that cannot be opened is tried again for as long as it takes (bot/slack/platform.py), every
minute at most once the back-off is full: for an outage of hours that would be a line a minute per replica,
and in the first minute a line a second. So each kind of failure (Slack's error code, an HTTP status, a
network error) is said when it first happens and then, while it lasts, once a minute at most with the count
of attempts that failed meanwhile; once a connection is open again, that is said too, once."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# While one kind of failure lasts, it is said again after this long at most.
REPEAT_LOG_SECONDS = 60.0


@dataclass
class _Told:
    at: float  # when it was last said (the clock's time)
    unsaid: int = 0  # attempts that failed so since


@dataclass
class FailureLog:
    logger: logging.Logger
    clock: Callable[[], float] = time.monotonic
    _told: dict[str, _Told] = field(default_factory=dict)
    _failed: int = 0  # attempts in a row, of any kind

    @property
    def failing(self) -> bool:
        return self._failed > 0

    def failed(self, kind: str, level: int, first: str, *args: object) -> None:
        """One failed attempt of ``kind``: ``first % args`` is logged the first time; while the same kind
        goes on, a shorter line once every REPEAT_LOG_SECONDS (``kind`` is at its start)."""
        self._failed += 1
        now = self.clock()
        told = self._told.get(kind)
        if told is None:
            self._told[kind] = _Told(now)
            self.logger.log(level, first, *args)
        elif now - told.at >= REPEAT_LOG_SECONDS:
            self.logger.log(level, "slack: still cannot open a Socket Mode connection (%s): %d more failed "
                            "attempts in the last %.0fs; trying again", kind, told.unsaid + 1, now - told.at)
            told.at, told.unsaid = now, 0
        else:
            told.unsaid += 1

    def opened(self, first: bool) -> None:
        """A connection is open: said at the first one, and after failures; not at Slack's routine refreshes."""
        if first:
            self.logger.info("slack: connected in Socket Mode")
        elif self._failed:
            self.logger.info("slack: connected in Socket Mode again, after %d failed attempt(s)", self._failed)
        self._failed = 0
        self._told.clear()  # a failure after this one is news again
