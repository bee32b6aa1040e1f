"""Read deadlines (issue 11, finding 13): a client that sends its request slowly is cut off, so a few
slow connections cannot hold the server's connections (and handlers) forever.

- The request head: aiohttp closes a connection that has not delivered a complete head within its
  keep-alive timeout of connecting (aiohttp 3.14.4 and later) or of its previous answer. The app's
  ``handler_args`` set that timeout to VRAAGBOT_HTTP_HEADER_SECONDS, so every runner of the app
  (`vraagbot serve`'s web.run_app, the tests' AppRunner) gets it; handler_args win over the runner's
  own keepalive_timeout.
- The body: read here, within VRAAGBOT_HTTP_BODY_SECONDS of the head, before any handler sees the
  request (handlers then get the bytes already read); a late body gets 408 and the connection closes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.settings import Settings

log = logging.getLogger(__name__)


def server_options(settings: Settings) -> dict[str, Any]:
    """aiohttp's per-connection options, for web.Application(handler_args=...)."""
    return {"keepalive_timeout": settings.http_header_seconds}


def body_deadline(seconds: float):
    """Middleware: the whole body must arrive within ``seconds`` (the size limit still applies: 413)."""

    @web.middleware
    async def read_body_in_time(request: web.Request, handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                log.warning("request refused: its body did not arrive within %gs", seconds)
                return await _answer_and_close(request, web.Response(status=408, text="request body too slow\n"))
        return await handler(request)

    return read_body_in_time


async def _answer_and_close(request: web.Request, response: web.Response) -> web.Response:
    """Send the answer, then close at once: aiohttp would otherwise keep reading the rest of a late body
    for up to 10 s (its lingering time) before it closes."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    if request.transport is not None:
        request.transport.close()  # after what is written has gone out
    return response
