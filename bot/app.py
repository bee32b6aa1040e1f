"""The aiohttp web application: /healthz, and /slack/events when Slack is configured."""

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
    if runtime.slack is not None:
        app.router.add_post("/slack/events", runtime.slack.handle)
    if runtime.teams is not None:
        app.router.add_post("/api/messages", runtime.teams.handle)

    async def lifecycle(app: web.Application):
        await runtime.start(scheduler=start_scheduler)
        log.info("platforms: slack %s; teams on", "on" if runtime.slack else "off (no SLACK_BOT_TOKEN)")
        if runtime.teams is not None and not runtime.teams.authenticated:
            # Said when the endpoint opens, not when a runtime is built (the shell builds one too).
            log.warning("teams: MICROSOFT_APP_ID is not set, so /api/messages accepts UNAUTHENTICATED requests "
                        "(fine for the Bot Framework Emulator and local tests, never for production)")
        yield
        await runtime.close()

    app.cleanup_ctx.append(lifecycle)
    return app
