"""One logging set-up for every command: stdlib logging everywhere in the code, rendered by
structlog as one JSON object per line (or plain text), with the request id of the request being
handled and a last-line filter that masks secrets should one ever reach a log message."""

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


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def one_line(_logger: Any, _method: str, rendered: str) -> str:
    """After the text renderer: one log record is one line, whatever a user id, a message text or a
    traceback holds, so nobody can forge a log line (a traceback reads as \\n-separated on its line)."""
    return CONTROL.sub(_escape, rendered)


def configure_logging(level: str = "INFO", fmt: str = "json", secrets: Iterable[str] = ()) -> None:
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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Library chatter at INFO would drown ours.
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
