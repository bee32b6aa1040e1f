"""A local fake of Slack's Socket Mode server for end-to-end tests.

It works with FakeSlack: ``apps.connections.open`` there (with the app-level token) hands out a ws:// URL
of this server, as Slack's does with its wss:// one. Each connection gets ``hello``; a test then pushes
envelopes, shaped as Slack sends them, down the newest live connection, and every ack the client sends
back (``{"envelope_id": ..., "payload": ...}``) is recorded with the time it arrived:

    async with FakeSlack() as api, FakeSocketMode(api) as socket:
        ...  # start the bot with SLACK_APP_TOKEN=APP_TOKEN and SLACK_API_URL=api.base_url
        envelope_id = await socket.command(slack_requests.slash_command(...))
        ack = await socket.wait_for_ack(envelope_id)

``disconnect()`` sends Slack's ``disconnect`` message (the client must open a new connection, through a
new ``apps.connections.open``); ``drop()`` ends the connection abruptly, without a close frame; ``refuse()``
answers the next attempts to open a websocket with an HTTP error instead of the upgrade.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from tests.e2e.fake_slack import APP_ID, FakeSlack
from tests.e2e.loopback import LoopbackServer

APP_TOKEN = "xapp-1-A0001-1-socketmode"


@dataclass
class Connection:
    """One websocket the client opened. ``retiring``: told to disconnect, so nothing more is sent on it."""

    number: int
    socket: web.WebSocketResponse
    request: web.Request
    opened_at: float
    retiring: bool = False
    closed_at: float | None = None

    @property
    def live(self) -> bool:
        return self.closed_at is None and not self.retiring and not self.socket.closed


@dataclass
class Sent:
    envelope: dict[str, Any]
    connection: int
    at: float  # time.monotonic(), just before it was written


@dataclass
class Ack:
    envelope_id: str
    payload: Any  # None when the ack carried none
    connection: int
    at: float  # time.monotonic(), when it arrived


class FakeSocketMode(LoopbackServer):
    """A websocket server on 127.0.0.1:<random port> that ``api``'s apps.connections.open points to."""

    def __init__(self, api: FakeSlack, app_token: str = APP_TOKEN) -> None:
        self.api = api
        self.app_token = app_token
        self.connections: list[Connection] = []
        self.sent: dict[str, Sent] = {}  # envelope_id -> what was sent
        self.acks: list[Ack] = []
        self.stray: list[Any] = []  # text frames that were no ack (a client bug if any)
        self._tickets: set[str] = set()  # the URLs apps.connections.open handed out
        self._refusals: list[int] = []  # HTTP statuses for the next attempts to open a websocket
        self.refused: list[str] = []  # the tickets of the attempts refused
        self._numbers = itertools.count(1)
        self._envelopes = itertools.count(1)

    async def __aenter__(self) -> FakeSocketMode:
        await super().__aenter__()
        self.api.app_token = self.app_token
        self.api.socket_urls = self._issue_url
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.api.socket_urls = None
        for connection in self.connections:  # else the server's shutdown waits for the client to go
            if connection.closed_at is None:
                await connection.socket.close()
        await super().__aexit__(*exc_info)

    def _routes(self, app: web.Application) -> None:
        app.router.add_get("/link/", self._link)

    def _issue_url(self) -> str:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}&app_id={APP_ID}"

    # ---- the websocket

    async def _link(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self._tickets:  # only through apps.connections.open
            return web.Response(status=401, text="invalid ticket")
        if self._refusals:
            self.refused.append(request.query["ticket"])
            return web.Response(status=self._refusals.pop(0), text="refused")
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        connection = Connection(next(self._numbers), socket, request, time.monotonic())
        self.connections.append(connection)
        try:
            await socket.send_json({"type": "hello", "num_connections": len(self.live()),
                                    "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                                    "connection_info": {"app_id": APP_ID}})
            async for message in socket:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self._received(connection, message.data)
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            pass  # dropped (see drop())
        finally:
            connection.closed_at = time.monotonic()
        return socket

    def _received(self, connection: Connection, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            self.stray.append(data)
            return
        if isinstance(message, dict) and isinstance(message.get("envelope_id"), str):
            self.acks.append(Ack(message["envelope_id"], message.get("payload"), connection.number,
                                 time.monotonic()))
        else:
            self.stray.append(message)

    # ---- inspection

    def live(self) -> list[Connection]:
        return [c for c in self.connections if c.live]

    async def wait_for_connection(self, count: int = 1, timeout: float = 30.0) -> Connection:  # noqa: ASYNC109
        """The newest live connection, once ``count`` connections were opened in all."""
        deadline = time.monotonic() + timeout
        while len(self.connections) < count or not self.live():
            if time.monotonic() > deadline:
                raise AssertionError(f"expected connection #{count}, got {len(self.connections)}, "
                                     f"{len(self.live())} live")
            await asyncio.sleep(0.02)
        return self.live()[-1]

    def acks_for(self, envelope_id: str) -> list[Ack]:
        return [a for a in self.acks if a.envelope_id == envelope_id]

    async def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while not self.acks_for(envelope_id):
            if time.monotonic() > deadline:
                raise AssertionError(f"no ack for {envelope_id}; acks: {[a.envelope_id for a in self.acks]}")
            await asyncio.sleep(0.01)
        return self.acks_for(envelope_id)[0]

    def ack_seconds(self, envelope_id: str) -> float:
        """From sending the envelope to its (first) ack's arrival."""
        return self.acks_for(envelope_id)[0].at - self.sent[envelope_id].at

    # ---- sending

    async def send(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool,
                   retry_attempt: int | None = None) -> str:
        """Push one envelope down the newest live connection (waiting for one); its envelope_id."""
        connection = await self.wait_for_connection()
        envelope_id = f"{uuid.uuid4()}-{next(self._envelopes)}"
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "payload": payload, "type": kind,
                                    "accepts_response_payload": accepts_response_payload}
        if retry_attempt is not None:  # Events API envelopes say whether they are a retry
            envelope.update(retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")
        self.sent[envelope_id] = Sent(envelope, connection.number, time.monotonic())
        await connection.socket.send_json(envelope)
        return envelope_id

    async def command(self, form_body: str) -> str:
        """A slash command: ``form_body`` as tests/e2e/slack_requests.slash_command builds it."""
        return await self.send("slash_commands", dict(parse_qsl(form_body)), accepts_response_payload=True)

    async def interaction(self, form_body: str) -> str:
        """A button press or modal submit: ``payload=<json>`` as slack_requests builds it."""
        payload = json.loads(dict(parse_qsl(form_body))["payload"])
        return await self.send("interactive", payload, accepts_response_payload=True)

    async def event(self, json_body: str, *, retry_attempt: int = 0) -> str:
        """An Events API delivery: the event_callback slack_requests.event_callback builds."""
        return await self.send("events_api", json.loads(json_body), accepts_response_payload=False,
                               retry_attempt=retry_attempt)

    async def disconnect(self, reason: str = "refresh_requested") -> Connection:
        """Slack's notice that this connection ends soon: the client must open a new one."""
        connection = await self.wait_for_connection()
        connection.retiring = True
        await connection.socket.send_json({"type": "disconnect", "reason": reason,
                                           "debug_info": {"host": "applink-fake"}})
        return connection

    def refuse(self, status: int = 503, times: int = 1) -> None:
        """The next ``times`` attempts to open a websocket get ``status`` instead of the upgrade."""
        self._refusals.extend([status] * times)

    async def drop(self) -> Connection:
        """End the newest live connection abruptly: the TCP connection goes, no close frame is sent."""
        connection = await self.wait_for_connection()
        connection.retiring = True
        transport = connection.request.transport
        assert transport is not None
        transport.abort()
        return connection
