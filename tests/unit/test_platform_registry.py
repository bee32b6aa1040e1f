"""The platform registry: the app mounts the routes of the platforms that are on, messages go to
the messenger of the platform named in their address, and the runtime starts and stops every
platform in its place in the shutdown order. A platform the runtime has never heard of is just one
more implementation of the protocol."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from bot.platforms import Platforms, Route
from bot.runtime import PlatformRouter, build_runtime
from bot.settings import load_settings
from bot.shell import ShellClock, ShellMessenger, ShellPlatform, ShellPresence
from handlers.addresses import ChannelAddress
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.ports import PersonRecord
from tests.e2e.loopback import serving


def mounted(app: web.Application) -> set[tuple[str, str]]:
    return {(route.method, route.resource.canonical) for route in app.router.routes() if route.resource}


@pytest.fixture
async def runtimes():
    built = []

    def build(**settings):
        runtime = build_runtime(load_settings(**settings))
        built.append(runtime)
        return runtime

    yield build
    for runtime in built:
        await runtime.engine.dispose()


def test_an_app_with_only_slack_has_slack_events_and_no_api_messages(runtimes, sqlite_database_url):
    runtime = runtimes(database_url=sqlite_database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="s")
    routes = mounted(create_app(runtime))
    assert ("POST", "/slack/events") in routes and not any(path == "/api/messages" for _, path in routes)
    assert runtime.platforms.names == ["slack"] and runtime.slack is not None and runtime.teams is None


def test_an_app_with_only_teams_has_api_messages_and_no_slack_events(runtimes, sqlite_database_url):
    runtime = runtimes(database_url=sqlite_database_url, teams_local_testing=True)
    routes = mounted(create_app(runtime))
    assert ("POST", "/api/messages") in routes and not any(path == "/slack/events" for _, path in routes)
    assert runtime.platforms.names == ["teams"] and runtime.teams is not None and runtime.slack is None


def test_slack_in_socket_mode_mounts_no_route(runtimes, sqlite_database_url):
    runtime = runtimes(database_url=sqlite_database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_APP_TOKEN="xapp-test")
    routes = mounted(create_app(runtime))
    assert not any(path in ("/slack/events", "/api/messages") for _, path in routes)
    assert runtime.platforms.names == ["slack"]


def test_with_no_platform_only_health_is_served(runtimes, sqlite_database_url):
    runtime = runtimes(database_url=sqlite_database_url)
    assert {path for _, path in mounted(create_app(runtime))} == {"/healthz", "/readyz"}
    assert runtime.platforms.names == []


@dataclass
class PigeonMessenger:
    sent: list[OutgoingMessage] = field(default_factory=list)

    async def send(self, message: OutgoingMessage) -> str | None:
        self.sent.append(message)
        return "pigeon-1"


class PigeonPresence:
    async def focus_until(self, person: PersonRecord, platform: str):
        return None


@dataclass
class Pigeon:
    """A third platform, known to nothing but this test."""

    events: list[str]
    name: str = "pigeon"
    messenger: PigeonMessenger = field(default_factory=PigeonMessenger)
    presence: PigeonPresence | None = None

    def routes(self) -> list[Route]:
        async def coo(request: web.Request) -> web.Response:
            return web.Response(text="roekoe")

        return [Route("POST", "/pigeon/coo", coo)]

    async def start(self) -> None:
        self.events.append("pigeon starts")

    async def stop(self) -> None:
        self.events.append("pigeon stops")

    async def close(self) -> None:
        self.events.append("pigeon closes")


def record_calls(events: list[str], monkeypatch, owner: object, method: str, what: str) -> None:
    original = getattr(owner, method)

    async def recorded(*args, **kwargs):
        events.append(what)
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, method, recorded)


async def test_a_third_platform_is_mounted_started_routed_to_and_stopped_in_order(sqlite_database_url,
                                                                                   monkeypatch):
    events: list[str] = []
    pigeon = Pigeon(events)
    runtime = build_runtime(load_settings(database_url=sqlite_database_url), platforms=[pigeon])
    record_calls(events, monkeypatch, runtime.inbox, "stop", "inbox stops")
    record_calls(events, monkeypatch, runtime.scheduler, "stop", "delivery stops")
    app = create_app(runtime)
    assert ("POST", "/pigeon/coo") in mounted(app)
    async with serving(app) as url, aiohttp.ClientSession() as session:
        async with session.post(f"{url}/pigeon/coo") as response:
            assert (response.status, await response.text()) == (200, "roekoe")
        assert events == ["pigeon starts"]
        message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "deze week", channel=ChannelAddress("pigeon", "hok"),
                                  private=False)
        assert await PlatformRouter(runtime.uow, runtime.platforms).send(message) == "pigeon-1"
        assert pigeon.messenger.sent == [message]
    # Shutdown: no more requests, then the work, then the sends, then the connections they used.
    assert events == ["pigeon starts", "pigeon stops", "inbox stops", "delivery stops", "pigeon closes"]


async def test_a_message_for_a_platform_that_is_off_is_refused(sqlite_uow_factory):
    router = PlatformRouter(sqlite_uow_factory, Platforms())
    message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "x", channel=ChannelAddress("teams", "19:c@thread"))
    with pytest.raises(RuntimeError, match="no messenger configured for platform 'teams'"):
        await router.send(message)


def test_two_platforms_with_one_name_are_refused():
    platforms = Platforms()
    platforms.add(Pigeon([]))
    with pytest.raises(ValueError, match="pigeon"):
        platforms.add(Pigeon([]))


async def test_the_shell_is_a_platform_without_routes_whose_team_channel_is_printed(sqlite_database_url):
    printed: list[str] = []
    clock = ShellClock()
    shell = ShellPlatform(ShellMessenger(printed.append), ShellPresence(clock))
    runtime = build_runtime(load_settings(database_url=sqlite_database_url), platforms=[shell], clock=clock)
    try:
        assert {path for _, path in mounted(create_app(runtime))} == {"/healthz", "/readyz"}
        assert runtime.platforms.summary() == "slack off (no SLACK_BOT_TOKEN); teams off (no MICROSOFT_APP_ID): " \
                                              "no /api/messages; shell on"
        message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "Vragen is werk.", channel=ChannelAddress("shell", "team"),
                                  private=False)
        await PlatformRouter(runtime.uow, runtime.platforms).send(message)
        assert printed == ["  → shell:team:", "      Vragen is werk."]
    finally:
        await runtime.close()
