"""The fake Bot Framework Connector of the e2e tests (tests/e2e/fake_connector.py) in a process of its
own, so the answers it gives the bots do not compete with the load generator's event loop.

`python -m bench.fake_connector_app` prints its service URL on the first line of stdout and serves
until stdin closes. It keeps no record of what it was sent: a benchmark sends thousands of activities.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from tests.e2e.fake_connector import FakeConnector, Sent


class UnrecordedConnector(FakeConnector):
    async def _record(self, request: web.Request, kind: str) -> Sent:
        sent = await super()._record(request, kind)
        self._requests.clear()  # answering needs only this one
        return sent


async def serve() -> None:
    async with UnrecordedConnector() as fake:
        print(fake.service_url, flush=True)
        while await asyncio.to_thread(sys.stdin.readline):
            pass


def main() -> None:
    asyncio.run(serve())


if __name__ == "__main__":
    main()
