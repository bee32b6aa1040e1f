"""The aiohttp web application: /healthz, /readyz and the routes of the platforms that are on
(/slack/events, /api/messages: bot/platforms.py); metrics are on a listener of their own (bot/metrics.py)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.metrics import MetricsListener
from bot.read_deadlines import body_deadline, server_options
from bot.readiness import Readiness
from bot.request_context import request_context
from bot.runtime import Runtime

log = logging.getLogger(__name__)

RUNTIME_KEY = web.AppKey("runtime", Runtime)
READINESS_KEY = web.AppKey("readiness", Readiness)
METRICS_KEY = web.AppKey("metrics", MetricsListener)
# Share of the shutdown budget for open HTTP requests; the rest goes to background work and sends.
REQUEST_SHARE = 0.2


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(runtime: Runtime, *, start_scheduler: bool = True) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024,  # platform payloads are far below 1 MiB
                          middlewares=[request_context, body_deadline(runtime.settings.http_body_seconds)],
                          handler_args=server_options(runtime.settings))  # read deadlines: bot/read_deadlines.py
    readiness = Readiness(runtime.engine, lambda: runtime.scheduler.running, scheduler_expected=start_scheduler,
                          socket_mode=lambda: runtime.slack.socket_state() if runtime.slack is not None else None)
    app[RUNTIME_KEY] = runtime
    app[READINESS_KEY] = readiness
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readiness.handle)
    for route in runtime.platforms.routes():  # Slack in Socket Mode has none; Teams only when it is on
        app.router.add_route(route.method, route.path, route.handler)

    async def lifecycle(app: web.Application):
        await runtime.start(scheduler=start_scheduler)
        log.info("platforms: %s", runtime.platforms.summary())
        yield
        budget = runtime.settings.shutdown_seconds * (1 - REQUEST_SHARE)
        log.info("shutting down: finishing running work and the current send (at most %.0fs)", budget)
        await runtime.close(budget)
        log.info("shut down; unsent messages stay queued")

    async def mark_stopping(app: web.Application) -> None:
        readiness.stopping = True

    app.on_shutdown.append(mark_stopping)
    app.cleanup_ctx.append(lifecycle)
    app[METRICS_KEY] = MetricsListener(runtime.engine, runtime.settings)  # only with VRAAGBOT_METRICS_PORT
    app.cleanup_ctx.append(app[METRICS_KEY])
    return app


def request_shutdown_seconds(runtime_shutdown_seconds: float) -> float:
    """How long aiohttp waits for open requests once SIGTERM arrives (its ``shutdown_timeout``)."""
    return runtime_shutdown_seconds * REQUEST_SHARE
