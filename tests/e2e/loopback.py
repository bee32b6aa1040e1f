"""Local HTTP servers for end-to-end tests (fakes and the bot itself) on 127.0.0.1, free ports, and a
polling helper for things that happen after a request was acknowledged."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


class LoopbackServer:
    """Subclasses add their routes in ``_routes``; ``async with`` starts and stops the server."""

    _runner: web.AppRunner | None = None
    _port: int = 0

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def __aenter__(self: T) -> T:
        app = web.Application()
        self._routes(app)  # type: ignore[attr-defined]
        self._runner = web.AppRunner(app, access_log=None)  # type: ignore[attr-defined]
        await self._runner.setup()  # type: ignore[attr-defined]
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()  # type: ignore[attr-defined]
        self._port = self._runner.addresses[0][1]  # type: ignore[attr-defined]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve an application (the bot's own) on a free port; yields its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def until(check: Callable[[], Any], seconds: float = 6.0) -> Any:
    """Poll ``check`` (a function, or a coroutine function) until it returns something truthy (and return
    that), or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def eventually(check: Callable[[], Any]) -> Any:
    """until() with room for a busy shared machine, for work that waits on no timer of its own."""
    return await until(check, seconds=30)
