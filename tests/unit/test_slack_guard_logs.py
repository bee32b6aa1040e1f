"""A payload bolt cannot read is refused with a log line that names the error, never the payload's text."""

from __future__ import annotations

import logging

from slack_bolt.response import BoltResponse

from bot.slack.guard import refuse_malformed

SECRET = "contract 4711 van leverancier Jansen"


def _raised(error: Exception) -> Exception:
    try:
        raise error
    except Exception as caught:  # raised for real: the log line reads its place from the traceback
        return caught


async def test_the_refusal_line_names_the_error_and_its_place_not_the_text(caplog):
    error = _raised(ValueError(f"invalid literal for int() with base 10: {SECRET!r}"))
    with caplog.at_level(logging.WARNING, logger="bot.slack.guard"):
        answer = await refuse_malformed(error, BoltResponse(status=200, body=""))
    assert answer is not None and answer.status == 400
    line = " ".join(record.getMessage() for record in caplog.records)
    assert "ValueError at test_slack_guard_logs.py:" in line
    assert SECRET not in line
