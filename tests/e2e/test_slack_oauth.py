"""OAuth distribution end to end (issue 16, item 2): the real bolt app's install flow over HTTP (/slack/install,
/slack/oauth_redirect with its state and cookie) against the fake Slack's oauth.v2.access; then requests from
two workspaces, each served with its own bot token (the fake sees which token every call carries); token
rotation; an uninstall (tokens deleted, the workspace's data kept until retention); and the stored tokens
unreadable without the key. SQLite here; tests/integration/test_installation_store.py runs the store on
PostgreSQL too."""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from cryptography.fernet import Fernet, InvalidToken

from bot.app import create_app
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from nudges.texts.catalog import load_catalog
from tests.e2e import slack_requests as sr
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.loopback import serving, until

SECRET = "test-signing-secret"
KEY = Fernet.generate_key().decode()
# Two workspaces, two people each: an asker and an expert.
WORKSPACES = {"T0001": "xoxb-t1-0001", "T0002": "xoxb-t2-0002"}
PEOPLE = {"sanne": ("USANNE", "T0001"), "anna": ("UANNA", "T0001"), "lotte": ("ULOTTE", "T0002"),
          "bram": ("UBRAM", "T0002")}


@dataclass
class OAuthBot:
    url: str
    fake: FakeSlack
    db_path: str
    session: aiohttp.ClientSession
    runtime: Runtime
    _ids = count(1)

    async def install_page(self) -> tuple[str, str]:
        """GET /slack/install: the "Add to Slack" link, and the state cookie it set."""
        async with self.session.get(f"{self.url}/slack/install", allow_redirects=False) as response:
            assert response.status == 200, await response.text()
            page = await response.text()
            cookie = response.headers["Set-Cookie"]
        [link] = re.findall(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
        return link.replace("&amp;", "&"), cookie

    async def redirect(self, query: str, cookie: str | None) -> tuple[int, str]:
        """GET /slack/oauth_redirect, as the installer's browser does when Slack sends it back."""
        headers = {"Cookie": cookie.split(";", 1)[0]} if cookie else {}
        async with self.session.get(f"{self.url}/slack/oauth_redirect?{query}", headers=headers,
                                    allow_redirects=False) as response:
            return response.status, await response.text()

    async def install(self, code: str, **install: Any) -> tuple[int, str]:
        """The whole flow, as an admin clicking "Add to Slack" and allowing it."""
        self.fake.add_install(code, **install)
        link, cookie = await self.install_page()
        [state] = parse_qs(urlparse(link).query)["state"]
        return await self.redirect(f"code={code}&state={state}", cookie)

    async def post(self, body: str, content_type: str) -> tuple[int, str]:
        status, text, _ = await sr.post_signed(self.session, f"{self.url}/slack/events", body, secret=SECRET,
                                               content_type=content_type)
        return status, text

    async def command(self, who: str, text: str, **fields: str) -> tuple[int, str]:
        user_id, team = PEOPLE[who]
        name = f"cmd{next(self._ids)}"
        body = sr.slash_command(text, user_id=user_id, user_name=who, team_id=team, enterprise_id=None,
                                response_url=self.fake.response_url(name), trigger_id=f"trigger-{name}")
        for key, value in fields.items():  # Enterprise Grid fields (tests/e2e/test_slack_grid.py)
            body += f"&{key}={value}"
        return await self.post(body, sr.FORM)

    async def event(self, event: dict[str, Any], *, team: str) -> tuple[int, str]:
        return await self.post(sr.event_callback(event, team_id=team, event_id=f"Ev{next(self._ids):04d}"), sr.JSON)

    def rows(self, sql: str, *args: object) -> list[tuple]:
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql, args).fetchall()

    def tokens_of(self, method: str) -> list[tuple[str, str]]:
        """(token, the call's user or channel) of every call of ``method`` the fake saw."""
        return [(c.headers.get("authorization", "").removeprefix("Bearer "),
                 str(c.args.get("user") or c.args.get("users") or c.args.get("channel") or ""))
                for c in self.fake.calls(method)]


@asynccontextmanager
async def running_oauth_bot(database_url: str, db_path: str, *, users: dict[str, tuple[str, str]] = PEOPLE,
                            **settings: Any) -> AsyncIterator[OAuthBot]:
    async with FakeSlack() as fake:
        for handle, (user_id, _) in users.items():
            fake.add_user(user_id, handle, real_name=handle.title())
        config = load_settings(database_url=database_url, outbox_tick_seconds=0.2, SLACK_CLIENT_ID=fake.client_id,
                               SLACK_CLIENT_SECRET=fake.client_secret, SLACK_SIGNING_SECRET=SECRET,
                               SLACK_API_URL=fake.base_url, slack_token_key=settings.pop("slack_token_key", KEY),
                               **settings)
        runtime = build_runtime(config)
        async with serving(create_app(runtime)) as url, aiohttp.ClientSession() as session:
            yield OAuthBot(url, fake, db_path, session, runtime)


@pytest.fixture
async def bot(sqlite_database_url):
    async with running_oauth_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


async def install_both(bot: OAuthBot) -> None:
    for number, (team, token) in enumerate(WORKSPACES.items(), 1):
        status, page = await bot.install(f"code-{number}", token=token, team_id=team, team_name=f"Team {number}")
        assert status == 200, page


async def ask(bot: OAuthBot, asker: str, expert: str, text: str) -> None:
    status, _ = await bot.command(asker, f"<@{PEOPLE[expert][0]}|{expert}> {text}")
    assert status == 200
    await until(lambda: bot.rows("SELECT 1 FROM questions WHERE text = ? AND delivered_at IS NOT NULL", text))


# ---------------------------------------------------------------- the install flow


async def test_install_page_links_to_slack_with_our_scopes_and_a_state_cookie(bot):
    link, cookie = await bot.install_page()
    query = parse_qs(urlparse(link).query)
    assert query["client_id"] == [bot.fake.client_id]
    assert set(query["scope"][0].split(",")) >= {"chat:write", "commands", "users:read", "im:write"}
    [state] = query["state"]
    assert cookie.startswith(f"slack-app-oauth-state={state}")
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert bot.rows("SELECT count(*) FROM slack_oauth_states") == [(1,)]
    async with bot.session.get(f"{bot.url}/slack/install", allow_redirects=False) as response:
        page = html.unescape(await response.text())
    for locale in ("nl", "en"):  # our page, in both languages, not bolt's English one
        assert all(load_catalog().text(locale, key) in page for key in ("install.intro", "install.add"))


async def test_install_through_the_redirect_stores_the_workspace_and_its_token_encrypted(bot):
    status, page = await bot.install("code-1", token=WORKSPACES["T0001"], team_id="T0001", team_name="Sales")
    assert status == 200, page
    [exchange] = bot.fake.calls("oauth.v2.access")
    assert exchange.args["code"] == "code-1"
    [(key, team, stored)] = bot.rows("SELECT workspace_key, team_id, bot_token FROM slack_installations")
    assert (key, team) == ("T0001", "T0001")
    assert "xoxb" not in stored and WORKSPACES["T0001"] not in stored  # ciphertext only
    assert Fernet(KEY.encode()).decrypt(stored.encode()).decode() == WORKSPACES["T0001"]
    with pytest.raises(InvalidToken):  # without the key it is unreadable
        Fernet(Fernet.generate_key()).decrypt(stored.encode())
    assert bot.rows("SELECT count(*) FROM slack_oauth_states") == [(0,)]  # the state was used up
    # The page says so in our words, Dutch first and English too (not bolt's English "Thank you!").
    said = html.unescape(page)
    assert all(load_catalog().text(locale, "install.done", workspace="Sales") in said for locale in ("nl", "en"))


@pytest.mark.parametrize("tamper", ["no_cookie", "other_state", "state_twice", "no_state"])
async def test_a_redirect_without_its_own_valid_state_installs_nothing(bot, tamper):
    bot.fake.add_install("code-1", token=WORKSPACES["T0001"], team_id="T0001")
    link, cookie = await bot.install_page()
    [state] = parse_qs(urlparse(link).query)["state"]
    if tamper == "no_cookie":
        status, _ = await bot.redirect(f"code=code-1&state={state}", None)
    elif tamper == "other_state":  # a state we never issued, in URL and cookie alike
        status, _ = await bot.redirect("code=code-1&state=forged", "slack-app-oauth-state=forged")
    elif tamper == "state_twice":
        bot.fake.add_install("code-0", token="xoxb-t9-0009", team_id="T0009")
        first, _ = await bot.redirect(f"code=code-0&state={state}", cookie)
        assert first == 200
        status, _ = await bot.redirect(f"code=code-1&state={state}", cookie)
    else:
        status, page = await bot.redirect("code=code-1", cookie)
    assert status in (400, 401)
    if tamper == "no_state":  # the failure page: ours, and where to start again
        assert load_catalog().text("nl", "install.failed", start="/slack/install") in html.unescape(page)
    assert ("T0001",) not in bot.rows("SELECT workspace_key FROM slack_installations")


async def test_a_cancelled_install_stores_nothing(bot):
    _, cookie = await bot.install_page()
    status, page = await bot.redirect("error=access_denied", cookie)
    assert status == 200
    assert load_catalog().text("nl", "install.cancelled", start="/slack/install") in html.unescape(page)
    assert bot.rows("SELECT count(*) FROM slack_installations") == [(0,)]
    assert bot.fake.calls("oauth.v2.access") == []


# ---------------------------------------------------------------- serving many workspaces


async def test_two_workspaces_are_served_each_with_its_own_token(bot):
    await install_both(bot)
    await ask(bot, "sanne", "anna", "Klopt deze offerte?")
    await ask(bot, "lotte", "bram", "Mag dit contract zo de deur uit?")
    token_of = {user: WORKSPACES[team] for user, team in PEOPLE.values()}
    # The request's own authorize (bolt) and the work after the ack (users.info, conversations.open) ...
    looked_up = bot.tokens_of("users.info")
    assert looked_up and all(token == token_of[user] for token, user in looked_up), looked_up
    opened = bot.tokens_of("conversations.open")
    assert opened and all(token == token_of[users.split(",")[0]] for token, users in opened), opened
    # ... and the outbox's sends: each question went out with its own workspace's token.
    for text, team in (("Klopt deze offerte?", "T0001"), ("Mag dit contract zo de deur uit?", "T0002")):
        [post] = [c for c in bot.fake.calls("chat.postMessage") if text in c.args.get("text", "")]
        assert post.headers["authorization"] == f"Bearer {WORKSPACES[team]}"
    # Each workspace is a workspace of its own: its own people.
    assert bot.rows("SELECT w.external_id, count(*) FROM people p JOIN workspaces w ON w.id = p.workspace_id "
                    "GROUP BY w.external_id ORDER BY 1") == [("T0001", 2), ("T0002", 2)]


async def test_the_busy_notice_goes_out_with_its_workspace_s_own_token(sqlite_database_url):
    """A press while the inbox is behind: the notice, sent after the ack outside the stored work, carries
    the token bolt authorized the request with (it had none before: Slack refused it, not_authed)."""
    async with running_oauth_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1], inbox_workers=1,
                                 inbox_busy_seconds=1) as bot:
        await install_both(bot)
        bot.fake.hang("users.info", seconds=4)  # the only worker is held up by the first request
        await bot.command("sanne", "<@UANNA|anna> Kan dit even?")
        await asyncio.sleep(1.6)  # the oldest waiting request is now older than the busy threshold
        press = sr.block_action("tag_werk", "1", user_id="ULOTTE", user_name="lotte", team_id="T0002",
                                response_url=bot.fake.response_url("press"))
        assert (await bot.post(press, sr.FORM))[0] == 200
        busy = load_catalog().text("nl", "inbox.busy")
        [notice] = await until(lambda: [c for c in bot.fake.calls("chat.postMessage") if busy in c.args["text"]])
        assert notice.headers["authorization"] == f"Bearer {WORKSPACES['T0002']}"


async def test_a_request_from_a_workspace_without_an_install_is_not_stored(bot):
    await install_both(bot)
    user_id = "UOTHER"
    bot.fake.add_user(user_id, "other")
    body = sr.slash_command("help", user_id=user_id, user_name="other", team_id="T0404", enterprise_id=None,
                            response_url=bot.fake.response_url("stranger"), trigger_id="trigger-stranger")
    status, _ = await bot.post(body, sr.FORM)
    assert status == 200  # bolt tells the person through the response_url that the app is not installed
    [told] = await bot.fake.wait_for_response(name="stranger")
    catalog = load_catalog()  # our words, the default language first, not bolt's English
    assert told.body["text"] == f"{catalog.text('nl', 'install.missing')}\n{catalog.text('en', 'install.missing')}"
    assert bot.rows("SELECT count(*) FROM inbox") == [(0,)]


async def test_a_rotating_token_is_refreshed_before_it_expires_and_the_new_one_stored(bot):
    status, _ = await bot.install("code-1", token="xoxb-t1-old", team_id="T0001", refresh_token="xoxe-1-r1",
                                  expires_in=600)  # within the refresh window (2 hours before expiry)
    assert status == 200
    bot.fake.refresh_token("xoxe-1-r1", token="xoxb-t1-new", new_refresh_token="xoxe-1-r2", like="xoxb-t1-old")
    bot.fake.revoke("xoxb-t1-old")  # Slack stops taking the old token once refreshed
    await ask(bot, "sanne", "anna", "Is dit bedrag juist?")
    refreshes = [c for c in bot.fake.calls("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]
    assert [c.args["refresh_token"] for c in refreshes] == ["xoxe-1-r1"]  # once, however many calls followed
    [post] = [c for c in bot.fake.calls("chat.postMessage") if "Is dit bedrag juist?" in c.args.get("text", "")]
    assert post.headers["authorization"] == "Bearer xoxb-t1-new"
    [(token, refresh, expires)] = bot.rows("SELECT bot_token, bot_refresh_token, bot_token_expires_at "
                                           "FROM slack_installations")
    fernet = Fernet(KEY.encode())
    assert fernet.decrypt(token.encode()) == b"xoxb-t1-new" and fernet.decrypt(refresh.encode()) == b"xoxe-1-r2"
    assert expires > time.strftime("%Y-%m-%d", time.gmtime())


async def test_work_without_a_request_refreshes_the_token_once_for_all_at_once(bot):
    """The outbox's sends (weekly messages, nudges) need no request from Slack: they refresh a token too."""
    status, _ = await bot.install("code-1", token="xoxb-t1-old", team_id="T0001", refresh_token="xoxe-1-r1",
                                  expires_in=600)
    assert status == 200
    bot.fake.refresh_token("xoxe-1-r1", token="xoxb-t1-new", new_refresh_token="xoxe-1-r2", like="xoxb-t1-old")
    assert bot.runtime.slack is not None and bot.runtime.slack.parts.oauth is not None
    tokens = bot.runtime.slack.parts.oauth.tokens
    assert await asyncio.gather(*(tokens.bot_token("T0001") for _ in range(3))) == ["xoxb-t1-new"] * 3
    assert len(bot.fake.calls("oauth.v2.access")) == 2  # the install's, and one refresh for the three
    assert await tokens.bot_token("T0404") is None  # not installed there


# ---------------------------------------------------------------- uninstalling


async def test_uninstall_deletes_the_tokens_keeps_the_data_until_retention_and_sends_nothing_more(bot):
    await install_both(bot)
    await ask(bot, "lotte", "bram", "Wie tekent dit?")
    # A question for bram waits for the end of his focus time; meanwhile his workspace uninstalls the app.
    now = int(time.time())
    bot.fake.set_dnd("UBRAM", now - 60, now + 5)
    status, _ = await bot.command("lotte", "<@UBRAM|bram> Kan dit na je focustijd?")
    assert status == 200
    await until(lambda: bot.rows("SELECT 1 FROM questions WHERE status = 'held'"))
    status, _ = await bot.event({"type": "app_uninstalled", "event_ts": f"{time.time():.6f}"}, team="T0002")
    assert status == 200
    # Acknowledged means done: the tokens were deleted before the answer.
    assert bot.rows("SELECT workspace_key FROM slack_installations") == [("T0001",)]
    # The held question is given up once due, not sent with some other workspace's token (nor none).
    await until(lambda: bot.rows("SELECT 1 FROM outbox WHERE status = 'failed' AND last_error LIKE 'unreachable%'"),
                seconds=20)
    assert not [c for c in bot.fake.calls("chat.postMessage") if "focustijd" in c.args.get("text", "")]
    # The workspace's data stays (texts go with the usual retention); a reinstall picks it up again.
    assert bot.rows("SELECT count(*) FROM questions q JOIN workspaces w ON w.id = q.workspace_id "
                    "WHERE w.external_id = 'T0002'") == [(2,)]
    assert bot.rows("SELECT count(*) FROM people p JOIN workspaces w ON w.id = p.workspace_id "
                    "WHERE w.external_id = 'T0002'") == [(2,)]
    # The other workspace goes on as before, with its own token.
    sent_before = len(bot.fake.calls("chat.postMessage"))
    await ask(bot, "sanne", "anna", "Nog steeds bereikbaar?")
    late = bot.fake.calls("chat.postMessage")[sent_before:]
    assert late and all(c.headers["authorization"] == f"Bearer {WORKSPACES['T0001']}" for c in late)
    # Reinstalled: the same workspace row and people, new token.
    status, _ = await bot.install("code-again", token="xoxb-t2-again", team_id="T0002")
    assert status == 200
    await ask(bot, "lotte", "bram", "Weer terug?")
    [post] = [c for c in bot.fake.calls("chat.postMessage") if "Weer terug?" in c.args.get("text", "")]
    assert post.headers["authorization"] == "Bearer xoxb-t2-again"
    assert bot.rows("SELECT count(*) FROM people WHERE external_id IN ('ULOTTE', 'UBRAM')") == [(2,)]


async def test_tokens_revoked_clears_the_bot_token(bot):
    await install_both(bot)
    event = {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}, "event_ts": f"{time.time():.6f}"}
    status, _ = await bot.event(event, team="T0001")
    assert status == 200
    assert bot.rows("SELECT workspace_key FROM slack_installations") == [("T0002",)]
