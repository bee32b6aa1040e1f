"""One logging set-up for every command: stdlib logging everywhere in the code, rendered by
structlog as one JSON object per line (or plain text: by default when standard error is a terminal),
with the request id of the request being handled, a last-line filter that masks secrets should one
ever reach a log message, and one that keeps request bodies out of the Slack libraries' lines."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

import structlog

# Token shapes of Slack and of bearer headers: masked even when we do not know the value.
TOKEN_PATTERN = re.compile(r"\b(xox[abposre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|Bearer\s+[A-Za-z0-9._~+/=-]+)")
MASK = "[redacted]"
NOISY = ("aiohttp.access", "apscheduler", "alembic", "sqlalchemy")
# What could end a line or rewrite a terminal: C0 controls (newline, carriage return, escape, ...), DEL,
# C1 controls (NEL among them) and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
SLACK_LIBRARIES = ("slack_bolt", "slack_sdk")
# Lines of slack_bolt that carry (parts of) a request body, and what is kept of them. Bolt renders them with
# f-strings, so the body is in the message itself; a refused signature is logged at INFO, an unhandled request
# (with a dialog's submission or a suggestion's typed value) and a middleware that answered nothing at WARNING.
_BODY_PARTS = (
    (re.compile(r"\bbody: .*", re.DOTALL), "body not logged)"),
    (re.compile(r"^(Unhandled request) \(\{'type': '?([\w.-]*)'?.*", re.DOTALL), r"\1 (type: \2; payload not logged)"),
    (re.compile(r"^(Unhandled request) \(.*", re.DOTALL), r"\1 (payload not logged)"),
    (re.compile(r"\b(for the request) \(.*", re.DOTALL), r"\1 (body not logged)"),
)


# bolt logs a request from a workspace without a stored installation as an ERROR; the person is told (our
# "install.missing" text) and nothing is stored, so it is a warning, and said plainly.
NOT_INSTALLED = "Although the app should be installed into this workspace"
NOT_INSTALLED_SAID = "slack: a request from a workspace the app is not installed in: refused, the person told so"
TOKEN_UNUSED = "As you gave `client` as well, `token` will be unused."  # at every start: bolt's, not a problem


class SecretMasker:
    """A structlog processor: replaces known secret values and token-shaped strings."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return TOKEN_PATTERN.sub(MASK, text)

    def __call__(self, _logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
        for key, value in event.items():
            if isinstance(value, str):
                event[key] = self.mask(value)
        return event


class SlackBodyFilter(logging.Filter):
    """On the handler, so it sees every record (bolt's loggers take their level from the root when the app is
    built, so a level on the "slack_bolt" logger would not reach them): the Slack libraries' lines at INFO and
    above keep what happened and lose the request body, where message texts are (README: no message text at
    INFO and above). DEBUG is left as it is: it is for a developer's own machine."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO and record.name.startswith(SLACK_LIBRARIES):
            message = record.getMessage()
            kept = without_body(message)
            if kept != message:
                record.msg, record.args = kept, ()
            elif message.startswith(NOT_INSTALLED):  # expected with OAuth distribution: not an error of ours
                record.msg, record.args = NOT_INSTALLED_SAID, ()
                record.levelno, record.levelname = logging.WARNING, "WARNING"
            elif message == TOKEN_UNUSED:  # bolt read SLACK_BOT_TOKEN itself; our client carries that token
                return False
        return True


def without_body(message: str) -> str:
    for pattern, replacement in _BODY_PARTS:
        message, found = pattern.subn(replacement, message, count=1)
        if found:
            return message
    return message


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def one_line(_logger: Any, _method: str, rendered: str) -> str:
    """After the text renderer: one log record is one line, whatever a user id, a message text or a
    traceback holds, so nobody can forge a log line (a traceback reads as \\n-separated on its line)."""
    return CONTROL.sub(_escape, rendered)


def default_format(stream: Any) -> str:
    """structlog's convention: readable text for a person at a terminal, JSON for everything else (a log
    collector, a file, a pipe)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return "text" if isatty is not None and isatty() else "json"
    except ValueError:  # a closed stream
        return "json"


def configure_logging(level: str = "INFO", fmt: str | None = "json", secrets: Iterable[str] = ()) -> None:
    """``fmt`` None: text when standard error is a terminal, JSON otherwise (VRAAGBOT_LOG_FORMAT unset)."""
    fmt = fmt or default_format(sys.stderr)
    # JSON needs no such step: json.dumps escapes newlines and the other C0 controls, and (ASCII-only)
    # everything beyond ASCII, the C1 controls and line separators among it.
    renderers: list[Any] = ([structlog.processors.JSONRenderer()] if fmt == "json"
                            else [structlog.dev.ConsoleRenderer(colors=False), one_line])
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,  # request_id, bound per incoming request
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,  # tracebacks into the same line, then masked too
            SecretMasker(secrets),
            *renderers,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(SlackBodyFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library chatter at INFO would drown ours.
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
