"""Bad input on /slack/events becomes a clear 4xx instead of a 500 from inside bolt.

Bolt parses the body before it checks the signature, and its own routing (and our acks) index into
the payload as Slack shapes it. So broken JSON, a payload that is not an object, or a timestamp that
is not a number would each raise, and aiohttp or bolt would answer 500 (found by tests/fuzz)."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.request.internals import build_normalized_headers, extract_content_type, parse_body
from slack_bolt.response import BoltResponse

from bot.json_depth import nested_deeper_than
from bot.slack.intake import NotStored

log = logging.getLogger(__name__)

# What reading a payload of the wrong shape raises: a missing key, an empty list, a string for a dict,
# or nesting deeper than Python's recursion limit (no Slack payload comes close).
MALFORMED = (KeyError, IndexError, TypeError, AttributeError, ValueError, RecursionError)


def refusal(body: str, headers: dict[str, str]) -> web.Response | None:
    """A 4xx for a request bolt cannot even read, before it gets to see it; None when it can."""
    normalized = build_normalized_headers(headers)
    timestamp = normalized.get("x-slack-request-timestamp", ["0"])[0]
    try:
        int(timestamp)
    except ValueError:
        log.warning("slack request refused: timestamp %r is not a number", timestamp[:40])
        return web.json_response({"error": "invalid request"}, status=401)
    content_type = extract_content_type(normalized)
    try:
        if nested_deeper_than(_json_part(body, content_type)):  # before the parser recurses that deep
            raise ValueError("nested too deep")
        parsed = parse_body(body, content_type)
    except (ValueError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        log.warning("slack request refused: body is not a Slack payload")
        return web.json_response({"error": "body must be a Slack payload"}, status=400)
    return None


def _json_part(body: str, content_type: str | None) -> str:
    """The JSON in a request: the body, or a form's payload field (interactions come as payload=...)."""
    if content_type == "application/x-www-form-urlencoded":
        return parse_qs(body).get("payload", [""])[0]
    return body


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "unknown"


def malformed() -> web.Response:
    return web.json_response({"error": "payload not understood"}, status=400)


async def refuse_malformed(error: Exception, response: BoltResponse | None) -> BoltResponse | None:
    """Bolt's error handler. A signed payload that lacks what every Slack payload of its type has is
    malformed input (400); anything else stays a server error. `response` is None once the listener
    acknowledged: the answer has gone, there is nothing to change. (For some shapes bolt fails while it
    prepares this handler's arguments; SlackPlatform.handle catches those.)"""
    if isinstance(error, NotStored):  # logged where it happened; Slack retries an event, shows a press failed
        return BoltResponse(status=503, body={"error": "not stored, try again"}) if response is not None else None
    if isinstance(error, MALFORMED):
        # The type and where it was raised, not the message: a ValueError's text can quote the payload.
        log.warning("slack request refused: payload not understood (%s at %s)", type(error).__name__, _where(error))
        if response is not None:
            return BoltResponse(status=400, body={"error": "payload not understood"})
        return None
    log.error("slack request failed", exc_info=error)
    return None
