"""The aiohttp web application: health now; /slack/events and /api/messages plug in here."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.runtime import Runtime

log = logging.getLogger(__name__)

RUNTIME_KEY = web.AppKey("runtime", Runtime)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(runtime: Runtime, *, start_scheduler: bool = True) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)  # platform payloads are far below 1 MiB
    app[RUNTIME_KEY] = runtime
    app.router.add_get("/healthz", healthz)

    async def lifecycle(app: web.Application):
        if start_scheduler:
            runtime.scheduler.start()
        yield
        await runtime.close()

    app.cleanup_ctx.append(lifecycle)
    return app
