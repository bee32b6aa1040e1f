"""The log format: JSON lines, and secrets masked even inside tracebacks and library messages."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logging_setup import MASK, configure_logging


@pytest.fixture
def logs():
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging("INFO", "json", secrets=["s3cr3t-signing", "pg-password-42"])
    root.handlers[0].setStream(buffer)
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def test_known_secrets_and_token_shapes_are_masked_in_messages_and_tracebacks(logs):
    log = logging.getLogger("slack_sdk.web")
    log.warning("calling with token xoxb-1234-5678-abcdef and header Bearer eyJhbGciOi.abc.def")
    try:
        raise RuntimeError("connect to postgresql://bot:pg-password-42@db/vraagbot failed, secret s3cr3t-signing")
    except RuntimeError:
        logging.getLogger("vraagbot").exception("start-up failed")
    first, second = (json.loads(line) for line in logs.getvalue().splitlines())
    assert first["event"] == f"calling with token {MASK} and header {MASK}"
    assert first["level"] == "warning" and first["logger"] == "slack_sdk.web"
    assert "pg-password-42" not in second["exception"] and "s3cr3t-signing" not in second["exception"]
    assert "RuntimeError" in second["exception"]


def test_debug_lines_are_left_out_at_info(logs):
    logging.getLogger("vraagbot").debug("details")
    logging.getLogger("vraagbot").info("summary")
    assert [json.loads(line)["event"] for line in logs.getvalue().splitlines()] == ["summary"]


def test_text_format_is_one_plain_line(logs):
    configure_logging("INFO", "text")
    buffer = io.StringIO()
    logging.getLogger().handlers[0].setStream(buffer)
    logging.getLogger("vraagbot").info("hallo %s", "wereld")
    [line] = buffer.getvalue().splitlines()
    assert "hallo wereld" in line and not line.startswith("{")
