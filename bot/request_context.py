"""aiohttp middleware: a request id for every incoming request, bound to every log line written
while handling it (and to work started from it, since asyncio tasks copy the context), and the
request and ack-latency metrics for the platform endpoints."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from aiohttp import web

from bot.metrics import observe_request

REQUEST_ID_HEADER = "X-Request-ID"
PLATFORM_PATHS = {"/slack/events": "slack", "/api/messages": "teams"}
# A caller's (load balancer's) request id is kept only when it is short and plain: it ends up in logs.
ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_of(request: web.Request) -> str:
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    return offered if ACCEPTED_ID.match(offered) else uuid.uuid4().hex[:16]


@web.middleware
async def request_context(request: web.Request, handler) -> web.StreamResponse:
    request_id = request_id_of(request)
    platform = PLATFORM_PATHS.get(request.path)
    started = time.perf_counter()
    status = 500
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await handler(request)
            status = response.status
        except web.HTTPException as error:  # aiohttp's own 4xx (413 too large, 405, ...)
            status = error.status
            error.headers[REQUEST_ID_HEADER] = request_id
            raise
        finally:
            if platform is not None:
                observe_request(platform, status, time.perf_counter() - started)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response
