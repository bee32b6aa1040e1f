"""The baseline: a bare slack-bolt AsyncApp whose listeners only ack, on the same aiohttp stack as
`vraagbot serve` (web.run_app, the same request-to-bolt bridge, signature checks on, the same Web API
client set-up pointed at the same fake Slack). Run by the benchmarks as
`python -m bench.bare_app --port N` with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_API_URL set."""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient


async def _ack(ack: Any) -> None:
    await ack()


def build() -> web.Application:
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"], timeout=10)
    bolt = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], process_before_response=False)
    bolt.command("/vraag")(_ack)
    bolt.action(re.compile(".*"))(_ack)
    bolt.event("message")(_ack)

    async def events(request: web.Request) -> web.Response:
        body = (await request.read()).decode("utf-8")
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=dict(request.headers))
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(build(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
