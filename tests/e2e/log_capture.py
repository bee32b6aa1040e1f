"""Our logging set-up writing into a buffer, for tests that read the log lines; pytest's own handlers
are put back afterwards."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.logging_setup import configure_logging
from tests.e2e.slack_bot import SECRET


@contextmanager
def captured_logs(level: str) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging(level, "json", secrets=[SECRET, "xoxb-test"])
    root.handlers[0].setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
