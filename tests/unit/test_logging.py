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


FORGED_ID = "U1\nFAKE level=ERROR"  # issue 11, finding 16: a user id that tries to start a log line of its own


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_newline_in_a_logged_value_cannot_forge_a_log_line(logs, fmt):
    configure_logging("INFO", fmt)
    buffer = io.StringIO()
    logging.getLogger().handlers[0].setStream(buffer)
    logging.getLogger("vraagbot").warning("slack request refused for user %s", FORGED_ID)
    [line] = buffer.getvalue().splitlines()  # exactly one line
    if fmt == "json":
        assert json.loads(line)["event"] == f"slack request refused for user {FORGED_ID}"  # intact, escaped
    else:
        assert "user U1\\nFAKE level=ERROR" in line


def test_text_lines_escape_every_control_character_and_tracebacks_stay_on_their_line(logs):
    configure_logging("INFO", "text")
    buffer = io.StringIO()
    logging.getLogger().handlers[0].setStream(buffer)
    hostile = "a\rb\x1b[2Jc\x00d\x85e\u2028f\u2029g\x0bh\x0ci\x1cj\tk"
    logging.getLogger("vraagbot").info("name %s", hostile)
    try:
        raise ValueError(f"bad id {FORGED_ID}")
    except ValueError:
        logging.getLogger("vraagbot").exception("could not handle it")
    lines = buffer.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 3, lines  # two records, two lines, by any splitter:
    assert buffer.getvalue().splitlines() == lines[:2]
    assert "a\\rb\\x1b[2Jc\\x00d\\x85e\\u2028f\\u2029g\\x0bh\\x0ci\\x1cj\\tk" in lines[0]
    assert "ValueError: bad id U1\\nFAKE level=ERROR" in lines[1] and "Traceback" in lines[1]


def test_a_request_from_a_workspace_without_an_install_is_a_plain_warning_not_bolts_error(logs):
    logging.getLogger("slack_bolt.App").error(
        "Although the app should be installed into this workspace, the AuthorizeResult (returned value from "
        "authorize) for it was not found.")
    [line] = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert line["level"] == "warning" and "not installed" in line["event"]


def test_bolts_start_up_warning_about_the_token_is_left_out(logs):
    """bolt reads SLACK_BOT_TOKEN by itself and then warns that our client (which carries that token) wins."""
    logging.getLogger("slack_bolt.AsyncApp").warning("As you gave `client` as well, `token` will be unused.")
    logging.getLogger("slack_bolt.AsyncApp").warning("something else")
    assert [json.loads(line)["event"] for line in logs.getvalue().splitlines()] == ["something else"]
