"""The fake Slack Web API of the e2e tests (tests/e2e/fake_slack.py) in a process of its own, so the
answers it gives the bot do not compete with the load generator's event loop.

`python -m bench.fake_api --users 50` prints its base URL on the first line of stdout and serves until
stdin closes. Users U0000.. are known to users.info, so the bot's directory resolves them as in Slack.

For end-to-end times it notes when each benchmark request's answer arrived, by the request's key: a
key like ``bq12`` in a chat.postMessage text (the expert's question message), or a response_url
named ``key-<key>``. ``GET /bench/arrivals`` answers ``{key: [first arrival time.time(), count]}``;
a count above 1 is a message sent twice. ``POST /bench/reset`` forgets them (a new target begins).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time

from aiohttp import web

from tests.e2e.fake_slack import FakeSlack

KEY_IN_TEXT = re.compile(r"\b(bq\d+)\b")
RESPONSE_PREFIX = "key-"
KEPT_CALLS = 2000  # the e2e fake keeps every call; a benchmark sends tens of thousands


def user_id(n: int) -> str:
    return f"U{n:04d}"


def handle(n: int) -> str:
    return f"user{n:04d}"


class BenchSlack(FakeSlack):
    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[str, list[float]] = {}  # key -> [first arrival, count]

    def _routes(self, app: web.Application) -> None:
        super()._routes(app)
        app.router.add_get("/bench/arrivals", self._handle_arrivals)
        app.router.add_post("/bench/reset", self._handle_reset)
        app.router.add_get("/bench/methods", self._handle_methods)

    def _arrived(self, key: str) -> None:
        seen = self.arrivals.get(key)
        if seen is None:
            self.arrivals[key] = [time.time(), 1]
        else:
            seen[1] += 1

    def _api_chat_postMessage(self, args: dict) -> dict:
        if match := KEY_IN_TEXT.search(str(args.get("text", ""))):
            self._arrived(match.group(1))
        answer = super()._api_chat_postMessage(args)
        messages = self._posted.get(args.get("channel", ""), [])
        del messages[:-50]  # conversations.history needs only the newest
        return answer

    async def _handle_api(self, request: web.Request) -> web.Response:
        response = await super()._handle_api(request)
        if len(self._calls) > 2 * KEPT_CALLS:
            del self._calls[:-KEPT_CALLS]
        return response

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name.startswith(RESPONSE_PREFIX):
            self._arrived(name.removeprefix(RESPONSE_PREFIX))
        response = await super()._handle_response_url(request)
        del self._responses[:-KEPT_CALLS]
        return response

    async def _handle_arrivals(self, request: web.Request) -> web.Response:
        return web.json_response(self.arrivals)

    async def _handle_reset(self, request: web.Request) -> web.Response:
        """A new target starts: its keys (from 0 again, its own question ids) must not meet the last one's."""
        self.arrivals.clear()
        return web.Response(text="ok")

    async def _handle_methods(self, request: web.Request) -> web.Response:
        """The most recent calls, by method and with their text: to see what the bot sends."""
        return web.json_response([{"method": c.method, "text": str(c.args.get("text", ""))[:200]}
                                  for c in self._calls[-50:]])


async def serve(users: int) -> None:
    async with BenchSlack() as fake:
        for n in range(users):
            fake.add_user(user_id(n), handle(n), real_name=f"Persoon {n}")
        print(fake.url, flush=True)
        while await asyncio.to_thread(sys.stdin.readline):
            pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    asyncio.run(serve(parser.parse_args().users))


if __name__ == "__main__":
    main()
