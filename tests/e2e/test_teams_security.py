"""Who can reach /api/messages and where the bot may send (issue 11, findings 2 and 3), driven the way the
attacks were: real activities over HTTP into the real app, a live local "attacker" server as serviceUrl, and a
Bot Framework OpenID endpoint that signs real tokens or never answers.

- No Teams configuration (also Slack-only): no /api/messages at all.
- VRAAGBOT_TEAMS_LOCAL_TESTING only on a loopback host.
- Only service URLs on the allow-list are contacted: not on receipt, not later from stored references.
- Only msteams activities (the emulator only with the local switch); only allowed tenants.
- Authentication never blocks the event loop, and every failure is a 401.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import aiohttp
import pytest
from botframework.connector.auth import ChannelValidation
from sqlalchemy import text

from bot.app import create_app
from bot.runtime import build_runtime
from bot.settings import load_settings
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from tests.e2e import teams_activities as ta
from tests.e2e.cli import VRAAGBOT, run_vraagbot
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.fake_openid import FakeOpenId, StalledServer
from tests.e2e.loopback import serving, until
from tests.e2e.slack_bot import running_slack_bot
from tests.e2e.teams_bot import NAMES, USERS, running_teams_bot
from tests.e2e.test_serve import free_port
from tests.fuzz.harness import table_counts

pytestmark = pytest.mark.timeout(120)

APP_ID = "00000000-0000-0000-0000-00000000a11d"
FORGED_KEY = "not the Bot Framework signing key, just a made-up one"


def db_path_of(url: str) -> str:
    return url.split("///", 1)[1]


def sanne_says(text: str, service_url: str, **kwargs) -> dict:
    return ta.personal_message(text, user_id=USERS["sanne"], user_name=NAMES["sanne"], service_url=service_url,
                               **kwargs)


@pytest.fixture
async def attacker():
    """A server the attacker controls; it must never hear from the bot."""
    async with FakeConnector() as server:
        yield server


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, db_path_of(sqlite_database_url)) as running:
        yield running


# --------------------------------------------------------------------------- deployments without Teams


async def _post_to_api_messages(url: str, session: aiohttp.ClientSession, service_url: str) -> int:
    status, _ = await ta.post_activity(session, f"{url}/api/messages", sanne_says("help", service_url))
    return status


async def test_without_any_teams_setting_there_is_no_api_messages(sqlite_database_url, attacker):
    runtime = build_runtime(load_settings(database_url=sqlite_database_url))
    async with serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
        assert await _post_to_api_messages(url, session, attacker.service_url) == 404
    assert runtime.teams is None and attacker.requests() == []


async def test_a_slack_only_deployment_has_no_api_messages(sqlite_database_url, attacker):
    async with running_slack_bot(sqlite_database_url, db_path_of(sqlite_database_url)) as slack:
        assert await _post_to_api_messages(slack.url, slack.session, attacker.service_url) == 404
        await asyncio.sleep(0.2)
    assert attacker.requests() == []
    assert table_counts(db_path_of(sqlite_database_url))["people"] == 0


def _serve(tmp_path, env: dict[str, str], host: str = "127.0.0.1") -> tuple[subprocess.Popen, int]:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "MICROSOFT_", "SLACK_"))}
    process = subprocess.Popen([VRAAGBOT, "serve", "--host", host, "--port", str(port)], cwd=tmp_path,
                               env={**clean, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process, port
        except OSError:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.2)
    process.terminate()
    raise AssertionError("vraagbot serve did not answer /healthz")


def _post_status(port: int, body: bytes, content_type: str = "application/json") -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/messages", data=body, method="POST",
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_vraagbot_serve_with_no_configuration_answers_404_on_api_messages(tmp_path):
    process, port = _serve(tmp_path, {})
    try:
        activity = sanne_says("help", "http://127.0.0.1:1/")
        assert _post_status(port, json.dumps(activity).encode()) == 404
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert "teams off" in output and "UNAUTHENTICATED" not in output


def test_vraagbot_serve_with_the_local_switch_on_loopback_serves_api_messages_and_warns(tmp_path):
    process, port = _serve(tmp_path, {"VRAAGBOT_TEAMS_LOCAL_TESTING": "true"})
    try:
        assert _post_status(port, b"hello", "text/plain") == 415  # the route exists
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert "UNAUTHENTICATED" in output


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "bot.example.com"])
def test_the_local_switch_is_refused_unless_serve_binds_to_loopback(tmp_path, host):
    result = run_vraagbot("serve", "--host", host, env={"VRAAGBOT_TEAMS_LOCAL_TESTING": "true"}, cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("vraagbot: VRAAGBOT_TEAMS_LOCAL_TESTING") and host in line, line
    assert not (tmp_path / "vraagbot.db").exists()


# --------------------------------------------------------------------------- service URLs on receipt


ATTACKER_URLS = ["attacker", "https://attacker.example/x", "http://127.0.0.1:1/",
                 "https://smba.trafficmanager.net.attacker.example/amer/", "https://attacker.example/smba.trafficmanager.net/",
                 "http://smba.trafficmanager.net/amer/", "https://smba.trafficmanager.net@attacker.example/"]


def _activities(service_url: str) -> dict[str, dict]:
    return {
        "message": sanne_says("vraag #contracten Mag dit?", service_url),
        "channel": ta.channel_mention("help", user_id=USERS["sanne"], user_name=NAMES["sanne"],
                                      service_url=service_url),
        "installed_in_team": ta.bot_added_to_team(service_url=service_url),
        "invoke": ta.invoke_action_execute("export", {"vraagbot_action": "export"}, user_id=USERS["sanne"],
                                           service_url=service_url),
    }


@pytest.mark.parametrize("kind", ["message", "channel", "installed_in_team", "invoke"])
@pytest.mark.parametrize("url", ATTACKER_URLS)
async def test_an_activity_with_a_service_url_not_on_the_list_is_refused_and_never_contacted(bot, attacker, url,
                                                                                            kind):
    service_url = attacker.service_url if url == "attacker" else url
    before = table_counts(bot.db_path)
    status, _ = await bot.post(_activities(service_url)[kind])
    assert status == 400
    await bot.runtime.dispatcher.dispatch_due()  # nothing queued that could go there later either
    assert table_counts(bot.db_path) == before
    assert attacker.requests() == [] and bot.fake.requests() == []


async def test_the_same_activity_from_the_allowed_service_url_is_served(bot):
    status, _ = await bot.post(sanne_says("help", bot.fake.service_url))
    assert status == 201
    assert await bot.fake.wait_for(conversation_id=bot.chat("sanne"))


# --------------------------------------------------------------------------- service URLs of stored references


async def _rewrite_service_url(bot, kind: str, service_url: str) -> None:
    """As if the reference had been stored before the allow-list existed. (Through the app's own engine:
    a blocking sqlite3 write here would wait for the app's event loop, which it blocks.)"""
    async with bot.runtime.engine.begin() as connection:
        rows = (await connection.execute(text("SELECT id, reference FROM conversation_refs WHERE kind = :kind"),
                                         {"kind": kind})).all()
        for row_id, reference in rows:
            stored = json.loads(reference) if isinstance(reference, str) else dict(reference)
            stored["serviceUrl"] = service_url
            await connection.execute(text("UPDATE conversation_refs SET reference = :reference WHERE id = :id"),
                                     {"reference": json.dumps(stored), "id": row_id})


async def _forget_personal_chats(bot) -> None:
    async with bot.runtime.engine.begin() as connection:
        await connection.execute(text("DELETE FROM conversation_refs WHERE kind = 'person'"))


async def _queue(bot, message: OutgoingMessage) -> int:
    now = datetime.now(UTC)
    async with bot.runtime.uow() as uow:
        row = await uow.outbox.add(dedupe_key=f"security-{message.kind}", message=message, period="w1", due_at=now,
                                   now=now)
        return row.id


@pytest.mark.parametrize("target", ["person", "channel", "new_personal_chat"])
async def test_a_stored_reference_with_a_service_url_not_on_the_list_is_never_contacted(bot, attacker, target):
    await bot.say("anna", "help")
    await bot.post(ta.bot_added_to_team(service_url=bot.fake.service_url))
    await bot.fake.wait_for(2)
    [(anna,)] = bot.rows("SELECT id FROM people WHERE external_id = ?", USERS["anna"])
    if target == "channel":
        await _rewrite_service_url(bot, "channel", attacker.service_url)
        message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "Vragen is werk.", channel=f"teams:{ta.CHANNEL_ID}",
                                  private=False)
    elif target == "person":
        await _rewrite_service_url(bot, "person", attacker.service_url)
        message = OutgoingMessage(MessageKind.WEEKLY_EXPERT, "Hoi Anna.", person_id=anna)
    else:  # Anna's chat is unknown: it would be opened from the channel's reference (its service URL)
        await _forget_personal_chats(bot)
        await _rewrite_service_url(bot, "channel", attacker.service_url)
        message = OutgoingMessage(MessageKind.WEEKLY_EXPERT, "Hoi Anna.", person_id=anna)
    sent_before = len(bot.fake.requests())
    row_id = await _queue(bot, message)
    await bot.runtime.dispatcher.dispatch_due()
    [(status, error)] = bot.rows("SELECT status, last_error FROM outbox WHERE id = ?", row_id)
    assert status == "failed" and "service URL" in error, (status, error)
    assert attacker.requests() == [] and len(bot.fake.requests()) == sent_before


# --------------------------------------------------------------------------- channels and tenants


@pytest.mark.parametrize(("channel_id", "status"), [("slack", 400), ("webchat", 400), ("", 400), (None, 400),
                                                     ("emulator", 201), ("msteams", 201)])
async def test_only_teams_activities_and_with_the_local_switch_the_emulator(bot, channel_id, status):
    activity = sanne_says("help", bot.fake.service_url)
    if channel_id is None:
        del activity["channelId"]
    else:
        activity["channelId"] = channel_id
    assert (await bot.post(activity))[0] == status
    if status >= 400:
        await asyncio.sleep(0.1)
        assert bot.rows("SELECT count(*) FROM people") == [(0,)] and bot.fake.requests() == []


@pytest.fixture
async def one_tenant_bot(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, db_path_of(sqlite_database_url),
                                 teams_tenants="tenant-1, tenant-9") as running:
        yield running


def _with_tenant(activity: dict, conversation: str | None, channel_data: str | None) -> dict:
    if conversation is None:
        activity["conversation"].pop("tenantId", None)
    else:
        activity["conversation"]["tenantId"] = conversation
    if channel_data is None:
        activity["channelData"].pop("tenant", None)
    else:
        activity["channelData"]["tenant"] = {"id": channel_data}
    return activity


@pytest.mark.parametrize(("conversation", "channel_data", "status"), [
    ("tenant-2", "tenant-2", 403),   # another tenant
    ("tenant-2", "tenant-1", 400),   # the two disagree: channelData cannot smuggle an allowed tenant in
    ("tenant-1", "tenant-2", 400),
    (None, "tenant-1", 201),         # Teams leaves conversation.tenantId out of some activities
    (None, "tenant-2", 403),
    (None, None, 400),               # no tenant at all
    ("tenant-1", "tenant-1", 201),
    ("tenant-9", None, 201),
])
async def test_only_activities_from_an_allowed_tenant_are_served(one_tenant_bot, conversation, channel_data, status):
    bot = one_tenant_bot
    activity = _with_tenant(sanne_says("help", bot.fake.service_url), conversation, channel_data)
    assert (await bot.post(activity))[0] == status
    if status >= 400:
        await asyncio.sleep(0.1)
        assert bot.rows("SELECT count(*) FROM people") == [(0,)] and bot.fake.requests() == []
    else:
        assert bot.rows("SELECT w.external_id FROM workspaces w") == [(conversation or channel_data,)]


# --------------------------------------------------------------------------- authenticated mode


@pytest.fixture
def openid(monkeypatch):
    with FakeOpenId() as server:
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", server.metadata_url)
        yield server


@pytest.fixture
async def secured(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, db_path_of(sqlite_database_url), teams_local_testing=False,
                                 MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="secret") as running:
        yield running


def _typing(service_url: str, channel_id: str = "msteams") -> dict:
    """An activity the bot takes without answering (with an app id, answering needs Azure AD)."""
    activity = sanne_says("", service_url)
    activity.update(type="typing", channelId=channel_id)
    return activity


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_bot_framework_signed_activity_is_accepted_and_the_keys_are_fetched_once(secured, openid):
    url = secured.fake.service_url
    for _ in range(3):
        status, _ = await secured.post(_typing(url), headers=bearer(openid.token(APP_ID, url)))
        assert status == 201
    assert openid.requests == ["/v1/.well-known/openidconfiguration", "/v1/.well-known/keys"]  # cached


@pytest.mark.parametrize("case", ["unknown key", "other audience", "other service url claim", "expired",
                                  "forged signature"])
async def test_every_authentication_failure_is_a_401(secured, openid, case):
    url = secured.fake.service_url
    tokens = {
        "unknown key": openid.token(APP_ID, url, kid="no-such-key"),
        "other audience": openid.token("someone-else", url),
        "other service url claim": openid.token(APP_ID, "https://smba.trafficmanager.net/amer/"),
        "expired": openid.token(APP_ID, url, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200),
        "forged signature": FakeOpenId().token(APP_ID, url),
    }
    status, _ = await secured.post(sanne_says("help", url), headers=bearer(tokens[case]))
    assert status == 401
    assert secured.rows("SELECT count(*) FROM people") == [(0,)] and secured.fake.requests() == []


@pytest.mark.parametrize("channel_id", ["emulator", "slack", "directline"])
async def test_with_an_app_id_a_signed_activity_from_another_channel_is_refused(secured, openid, channel_id):
    url = secured.fake.service_url
    status, _ = await secured.post(_typing(url, channel_id), headers=bearer(openid.token(APP_ID, url)))
    assert status == 400
    assert secured.rows("SELECT count(*) FROM people") == [(0,)]


async def test_with_an_app_id_a_signed_activity_for_a_service_url_not_on_the_list_is_refused(secured, openid,
                                                                                           attacker):
    url = attacker.service_url  # the token names it too: only the allow-list stops it
    status, _ = await secured.post(sanne_says("help", url), headers=bearer(openid.token(APP_ID, url)))
    assert status == 400
    await asyncio.sleep(0.2)
    assert attacker.requests() == [] and secured.rows("SELECT count(*) FROM people") == [(0,)]


def _forged(service_url: str) -> dict[str, str]:
    """A token naming the Bot Framework as issuer, signed by someone else: botbuilder has to fetch the
    Bot Framework's keys before it can tell."""
    import jwt

    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": service_url}
    return bearer(jwt.encode(claims, FORGED_KEY, algorithm="HS256", headers={"kid": "k1"}))


async def _healthz(bot) -> int:
    async with bot.session.get(f"{bot.url}/healthz") as response:
        return response.status


async def test_a_forged_token_waiting_for_a_stalled_key_fetch_blocks_nothing_and_ends_in_401(secured, monkeypatch):
    url = secured.fake.service_url
    with StalledServer() as stalled:
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", stalled.url)
        forged = [asyncio.create_task(secured.post(sanne_says("help", url), headers=_forged(url))) for _ in range(3)]
        await until(lambda: stalled.accepted, seconds=30)
        for _ in range(5):  # the event loop keeps answering while the key fetch hangs
            assert await _healthz(secured) == 200
        assert not any(task.done() for task in forged), [t.result() for t in forged if t.done()]
        stalled.release()  # the metadata endpoint gives up: the keys cannot be had, so nobody is authenticated
        assert [status for status, _ in await asyncio.gather(*forged)] == [401, 401, 401]
        assert stalled.accepted == 1  # one fetch for all three, not one each
    assert secured.rows("SELECT count(*) FROM people") == [(0,)] and secured.fake.requests() == []


async def test_a_key_fetch_that_never_answers_times_out_into_a_401_and_is_not_retried_at_once(secured,
                                                                                             monkeypatch):
    url = secured.fake.service_url
    monkeypatch.setattr("bot.teams.signing_keys.FETCH_TIMEOUT_SECONDS", 0.3)
    with StalledServer() as stalled:
        monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", stalled.url)
        status, _ = await secured.post(sanne_says("help", url), headers=_forged(url))
        assert status == 401 and stalled.accepted == 1
        status, _ = await secured.post(sanne_says("help", url), headers=_forged(url))
        assert status == 401 and stalled.accepted == 1  # a failed fetch pauses: forged tokens cannot hammer it
        assert await _healthz(secured) == 200
