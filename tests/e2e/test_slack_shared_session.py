"""The Slack Web API client keeps one HTTP session: many calls reuse a few connections (each new
connection shows up at the fake as a new client port), bolt's per-request clients share it, nothing
is opened before the event loop runs, and closing it at shutdown leaves later calls working."""

from __future__ import annotations

import asyncio

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.slack.web import make_client
from tests.e2e.fake_slack import FakeSlack


class PortCountingSlack(FakeSlack):
    """FakeSlack that notes the client port of every request: one port is one TCP connection."""

    def __init__(self) -> None:
        super().__init__()
        self.ports: list[int] = []

    def _note(self, request: web.Request) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.ports.append(peer[1] if peer else -1)

    async def _handle_api(self, request: web.Request) -> web.Response:
        self._note(request)
        return await super()._handle_api(request)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        self._note(request)
        return await super()._handle_upload(request)


def test_making_the_client_opens_nothing():
    client = make_client("xoxb-test", "http://127.0.0.1:9/api/")  # no event loop runs here
    assert client.session is None


async def test_many_calls_one_after_another_reuse_one_connection():
    async with PortCountingSlack() as fake:
        fake.add_user("U1", "anna")
        client = make_client("xoxb-test", fake.base_url)
        try:
            for _ in range(20):
                await client.users_info(user="U1")
            await client.files_upload_v2(channel="D1", content="{}", filename="x.json", title="x")
        finally:
            await client.close()
        assert len(fake.ports) == 20 + 3  # getUploadURLExternal, the upload itself, completeUploadExternal
        assert len(set(fake.ports)) == 1, sorted(set(fake.ports))


async def test_calls_at_the_same_time_stay_within_the_connection_limit():
    async with PortCountingSlack() as fake:
        fake.add_user("U1", "anna")
        client = make_client("xoxb-test", fake.base_url, connections=3)
        try:
            await asyncio.gather(*(client.users_info(user="U1") for _ in range(30)))
        finally:
            await client.close()
        assert len(fake.ports) == 30
        assert len(set(fake.ports)) <= 3, sorted(set(fake.ports))


async def test_bolts_client_per_request_shares_the_session():
    async with PortCountingSlack() as fake:
        fake.add_user("U1", "anna")
        client = make_client("xoxb-test", fake.base_url)
        app = AsyncApp(client=client, signing_secret="x", request_verification_enabled=False)

        @app.command("/vraag")
        async def command(ack, client) -> None:  # bolt's client for this request, not ours
            await ack()
            await client.users_info(user="U1")

        try:
            for n in range(10):
                body = f"command=%2Fvraag&text=help&user_id=U1&team_id=T0001&channel_id=D1&trigger_id=t{n}"
                response = await app.async_dispatch(AsyncBoltRequest(body=body, headers={
                    "content-type": ["application/x-www-form-urlencoded"]}))
                assert response.status == 200
            await fake.wait_for("users.info", count=10)
        finally:
            await client.close()
        assert len(set(fake.ports)) == 1, sorted(set(fake.ports))


async def test_after_closing_calls_still_go_out_on_their_own_connections():
    """Shutdown closes the session while the outbox may still finish a send: that send must not fail."""
    async with PortCountingSlack() as fake:
        fake.add_user("U1", "anna")
        client = make_client("xoxb-test", fake.base_url)
        await client.users_info(user="U1")
        await client.close()
        response = await client.users_info(user="U1")
        assert response["ok"]
        assert client.session is not None and client.session.closed  # no new shared session after close
