"""What a chat platform is to the runtime, and the registry of those that are on.

Slack (bot/slack), Teams (bot/teams) and the terminal shell (bot/shell.py) implement the protocol;
the runtime builds the registry from the settings, the app mounts every platform's routes, and
messages and focus-time questions go to the platform by name (a channel's address or the
recipient's workspace names it). A new platform is one folder with a class like these, added in
``bot.runtime.enabled_platforms``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import NamedTuple, Protocol

from aiohttp import web

from handlers.ports import Messenger, Presence

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Route(NamedTuple):
    method: str  # "POST"
    path: str  # "/slack/events"
    handler: Handler


class Platform(Protocol):
    """One chat platform. Lifecycle: ``start`` when the runtime starts; on shutdown ``stop`` first
    (take no more requests), then the work and the delivery loop finish, then ``close`` (release the
    connections the work and the sends used)."""

    @property
    def name(self) -> str:
        """Stored with workspaces and channel addresses: "slack", "teams", "shell"."""

    @property
    def messenger(self) -> Messenger: ...

    @property
    def presence(self) -> Presence | None:
        """Focus time; None when the platform does not tell (then everyone is available)."""

    def routes(self) -> Sequence[Route]:
        """The HTTP routes the platform's requests arrive on: none over a socket or in a terminal."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def close(self) -> None: ...


class Platforms:
    """The platforms that are on, by name, in the order they were added."""

    def __init__(self, platforms: Sequence[Platform] = ()) -> None:
        self._by_name: dict[str, Platform] = {}
        self._states: dict[str, str] = {}  # "on", or why a platform is off: the start-up log line
        for platform in platforms:
            self.add(platform)

    def add(self, platform: Platform) -> None:
        if platform.name in self._by_name:
            raise ValueError(f"two platforms are called {platform.name!r}")
        self._by_name[platform.name] = platform
        self._states[platform.name] = "on"

    def mark_off(self, name: str, why: str) -> None:
        """A platform we know of that the settings leave off, e.g. ``("teams", "(no MICROSOFT_APP_ID)")``."""
        self._states.setdefault(name, f"off {why}")

    def get(self, name: str) -> Platform | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[Platform]:
        return iter(list(self._by_name.values()))

    def messenger(self, name: str) -> Messenger | None:
        platform = self._by_name.get(name)
        return platform.messenger if platform is not None else None

    def presence(self, name: str) -> Presence | None:
        platform = self._by_name.get(name)
        return platform.presence if platform is not None else None

    def routes(self) -> list[Route]:
        return [route for platform in self for route in platform.routes()]

    def summary(self) -> str:
        """``slack on; teams off (no MICROSOFT_APP_ID): no /api/messages``."""
        return "; ".join(f"{name} {state}" for name, state in self._states.items()) or "none"
