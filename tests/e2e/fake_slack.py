"""A local fake of the Slack Web API for end-to-end tests.

The real `slack_sdk` AsyncWebClient (and so slack_bolt's AsyncApp) talks to it over HTTP:

    async with FakeSlack() as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url)
        await client.chat_postMessage(channel="C1", text="hi")
        [call] = await fake.wait_for("chat.postMessage")

Every `/api/<method>` request is recorded as a `Call`; posts to `response_url(name)` are recorded as a
`ResponsePost`. Answers are canned and shaped like the real ones, as Slack documents them.
Faults can be injected per method: `rate_limit`, `fail` (plain HTTP error), `error` (`ok: false`) and
`hang` (answer only after a delay, past the client's timeout; optionally after accepting the call).
Accepted `chat.postMessage`s are kept per channel (`posted`) and served by `conversations.history`,
metadata included when asked for. `apps.connections.open` takes the app-level token (`app_token`) and
hands out a Socket Mode URL from `socket_urls`, which tests/e2e/fake_socket_mode.py sets.

OAuth (issue 16): `add_install(code, ...)` prepares what `oauth.v2.access` hands out for an install's code
(checking the app's `client_id`/`client_secret`), `refresh_token` trades a rotating token for a new one, and
each installed bot token answers `auth.test` with its own workspace (`token_owner`). Once any token was
installed, only known tokens are accepted, and `revoke(token)` makes Slack refuse one.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from aiohttp import BasicAuth, web

from tests.e2e.loopback import LoopbackServer

TEAM_ID = "T0001"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A0001"
# Top-level string arguments that are free text, never decoded as JSON even if they look like it.
_TEXT_ARGS = {"text", "initial_comment", "title", "alt_txt", "filename", "trigger_id"}
# Methods that take the app-level token (xapp-) instead of the bot token.
_APP_LEVEL = {"apps.connections.open"}


@dataclass
class Call:
    """One request to `/api/<method>`. `headers` keys are lower-case."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    limited: bool = False


@dataclass
class ResponsePost:
    """One POST to a `response_url(name)`. `body` is the parsed JSON (or the raw text if it is not JSON)."""

    name: str
    body: Any
    headers: dict[str, str]
    at: float


class UploadedFile(NamedTuple):
    file_id: str
    title: str
    content: bytes
    channel_id: str | None


@dataclass
class _Fault:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    limited: bool = False
    delay: float = 0.0  # answer only after this many seconds
    accept: bool = False  # with a delay: carry the call out first (a response lost, not a request)
    carried_out: bool = False  # carry the call out, then answer with the error all the same


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", "0", "false", 0)


def _decode_json_strings(args: dict[str, Any]) -> dict[str, Any]:
    """Form/query values like `blocks`, `view` or `files` arrive as JSON strings: turn them back into objects."""
    decoded = {}
    for key, value in args.items():
        if isinstance(value, str) and key not in _TEXT_ARGS and value[:1] in ("[", "{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = value
            value = parsed if isinstance(parsed, (list, dict)) else value
        decoded[key] = value
    return decoded


def _short_id(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha1(seed.encode()).hexdigest()[:10].upper()


class FakeSlack(LoopbackServer):
    """An aiohttp server on 127.0.0.1:<random port>, started in the running event loop."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.dnd: dict[str, tuple[int, int]] = {}
        self.fail_mpim = False
        self.opened: dict[str, list[str]] = {}  # conversation id -> the users it was opened with
        self._calls: list[Call] = []
        self._responses: list[ResponsePost] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._used_triggers: set[str] = set()
        self._uploads: dict[str, dict[str, Any]] = {}  # file_id -> {filename, content, title, channel_id, done}
        self._counter = itertools.count(1)
        # channel -> (wall-clock time accepted, message), oldest first. The fake's ts values are not
        # wall-clock times, so history's ``oldest`` is compared with the time accepted, as Slack's ts is.
        self._posted: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        # Socket Mode: the app-level token apps.connections.open accepts, and what hands out its URLs
        # (None: the app is not in Socket Mode).
        self.app_token: str | None = None
        self.socket_urls: Callable[[], str] | None = None
        # OAuth: the app's credentials, what each install's code hands out, who each token belongs to.
        self.client_id, self.client_secret = "1111.2222", "fake-client-secret"
        self._installs: dict[str, dict[str, Any]] = {}
        self.token_owner: dict[str, dict[str, Any]] = {}  # bot token -> its auth.test identity
        self._refreshes: dict[str, dict[str, Any]] = {}  # refresh token -> what refreshing hands out
        self.revoked: set[str] = set()

    # ---- lifecycle

    def _routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{name}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    # ---- configuration

    def add_user(self, user_id: str, name: str, real_name: str | None = None, tz: str = "Europe/Amsterdam",
                 locale: str = "nl-NL") -> None:
        real_name = real_name or name
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        self.users[user_id] = {
            "id": user_id, "team_id": TEAM_ID, "name": name, "deleted": False, "real_name": real_name,
            "tz": tz, "tz_label": tz, "tz_offset": int(offset.total_seconds()) if offset else 0, "locale": locale,
            "is_bot": False, "profile": {"display_name": real_name, "real_name": real_name, "team": TEAM_ID},
        }

    def set_dnd(self, user_id: str, start_ts: int, end_ts: int) -> None:
        self.dnd[user_id] = (int(start_ts), int(end_ts))

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        body = {"ok": False, "error": "ratelimited"}
        self._add_fault(method, times, _Fault(429, body, {"Retry-After": str(retry_after)}, limited=True))

    def fail(self, method: str, status: int = 500, times: int = 1, *, carried_out: bool = False) -> None:
        """``carried_out``: Slack did the work and still answers the error (its internal_error can mean that)."""
        self._add_fault(method, times, _Fault(status, "Internal Server Error" if status >= 500 else "Error",
                                              carried_out=carried_out))

    def error(self, method: str, error: str = "channel_not_found", times: int = 1) -> None:
        self._add_fault(method, times, _Fault(200, {"ok": False, "error": error}))

    def hang(self, method: str, seconds: float, times: int = 1, *, accept: bool = False) -> None:
        """Answer ``times`` calls only after ``seconds`` (a 500 then, unless ``accept``: then the call is
        carried out at once and only its answer is late, as when a response is lost on the way)."""
        self._add_fault(method, times, _Fault(500, "Internal Server Error", delay=seconds, accept=accept))

    def add_install(self, code: str, *, token: str, team_id: str | None, team_name: str = "Team",
                    enterprise_id: str | None = None, is_enterprise_install: bool = False, installer: str = "UINSTALL",
                    refresh_token: str | None = None, expires_in: int | None = None) -> None:
        """What oauth.v2.access answers for ``code``: an install into ``team_id``, or org-wide into
        ``enterprise_id`` (``team_id`` None). With ``refresh_token`` the token rotates (``expires_in`` seconds)."""
        answer: dict[str, Any] = {
            "ok": True, "app_id": APP_ID, "authed_user": {"id": installer}, "scope": "chat:write,commands",
            "token_type": "bot", "access_token": token, "bot_user_id": BOT_USER_ID,
            "team": {"id": team_id, "name": team_name} if team_id else None,
            "enterprise": {"id": enterprise_id, "name": "Org"} if enterprise_id else None,
            "is_enterprise_install": is_enterprise_install}
        if refresh_token is not None:
            answer.update(refresh_token=refresh_token, expires_in=expires_in or 43200)
        self._installs[code] = answer
        self.token_owner[token] = {"team_id": team_id, "enterprise_id": enterprise_id,
                                   "is_enterprise_install": is_enterprise_install}

    def refresh_token(self, refresh_token: str, *, token: str, new_refresh_token: str, expires_in: int = 43200,
                      like: str) -> None:
        """Refreshing with ``refresh_token`` hands out ``token`` (for the workspace of the token ``like``)."""
        self._refreshes[refresh_token] = {"ok": True, "token_type": "bot", "access_token": token,
                                          "refresh_token": new_refresh_token, "expires_in": expires_in}
        self.token_owner[token] = self.token_owner[like]

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def _add_fault(self, method: str, times: int, fault: _Fault) -> None:
        self._faults.setdefault(method, []).extend([fault] * times)

    # ---- inspection

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self._calls if method is None or c.method == method]

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages chat.postMessage accepted (faulted calls excluded), and the messages that share an
        uploaded file in a channel (``files``), in one channel or all."""
        return [m for c, messages in self._posted.items() if channel in (None, c) for _, m in messages]

    def responses(self, name: str | None = None) -> list[ResponsePost]:
        return [r for r in self._responses if name is None or r.name == name]

    def uploaded_files(self) -> list[UploadedFile]:
        """Files completed with files.completeUploadExternal, in upload order."""
        return [UploadedFile(file_id, u["title"], u["content"], u["channel_id"])
                for file_id, u in self._uploads.items() if u["done"]]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:  # noqa: ASYNC109
        await self._poll(lambda: len(self.calls(method)) >= count, timeout,
                         lambda: f"expected {count} call(s) of {method}, got: {[c.method for c in self._calls]}")
        return self.calls(method)

    async def wait_for_response(self, count: int = 1, timeout: float = 5.0,  # noqa: ASYNC109
                                *, name: str | None = None) -> list[ResponsePost]:
        def describe() -> str:
            got = [(r.name, r.body) for r in self._responses]
            return f"expected {count} response_url post(s) for {name or 'any name'}, got: {got}"

        await self._poll(lambda: len(self.responses(name)) >= count, timeout, describe)
        return self.responses(name)

    @staticmethod
    async def _poll(done, seconds: float, describe) -> None:
        deadline = time.monotonic() + seconds
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(describe())
            await asyncio.sleep(0.02)

    # ---- HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, await self._read_args(request), {k.lower(): v for k, v in request.headers.items()},
                    time.time())
        self._calls.append(call)
        if refused := self._auth_error(method, request.headers.get("Authorization", "")):
            return web.json_response({"ok": False, "error": refused})
        faults = self._faults.get(method)
        if faults:
            fault = faults.pop(0)
            call.limited = fault.limited
            if fault.accept or fault.carried_out:
                handler = getattr(self, "_api_" + method.replace(".", "_"), None)
                answer = handler(call.args) if handler else {"ok": True}
            if fault.accept:
                await asyncio.sleep(fault.delay)
                return web.json_response(answer)
            await asyncio.sleep(fault.delay)
            if isinstance(fault.body, dict):
                return web.json_response(fault.body, status=fault.status, headers=fault.headers)
            return web.Response(text=fault.body, status=fault.status, headers=fault.headers)
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if method == "auth.test":  # who the token belongs to
            return web.json_response(self._api_auth_test(call.args, call.headers.get("authorization", "")))
        if method == "dnd.info" and not call.args.get("team_id") and self._org_token(call):
            return web.json_response({"ok": False, "error": "missing_argument"})  # an org token needs team_id
        return web.json_response(handler(call.args) if handler else {"ok": True})

    def _auth_error(self, method: str, authorization: str) -> str | None:
        """Slack's answer to a missing or wrong token: bot tokens for the Web API, the app-level token
        (exactly ours) for Socket Mode's method."""
        if method == "oauth.v2.access":  # the app's own credentials, as HTTP basic auth
            try:
                credentials = BasicAuth.decode(authorization)
            except ValueError:
                return "invalid_client_id"
            if credentials.login != self.client_id:
                return "invalid_client_id"
            return None if credentials.password == self.client_secret else "bad_client_secret"
        if not authorization.startswith("Bearer "):
            return "not_authed"
        token = authorization.removeprefix("Bearer ")
        if token in self.revoked:
            return "token_revoked"
        if method not in _APP_LEVEL:
            if self.token_owner and token.startswith("xoxb-") and token not in self.token_owner:
                return "invalid_auth"  # with installs, only their tokens are valid
            return None if token.startswith("xoxb-") else "not_authed"
        if not token.startswith("xapp-"):
            return "not_allowed_token_type"
        return None if token == self.app_token else "invalid_auth"

    @staticmethod
    async def _read_args(request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else None
            args.update(body or {})
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            args.update(await request.post())
        return _decode_json_strings(args)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        text = await request.text()
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        headers = {k.lower(): v for k, v in request.headers.items()}
        self._responses.append(ResponsePost(request.match_info["name"], body, headers, time.time()))
        return web.Response(text="ok")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        upload = self._uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="Not Found")
        upload["content"] = await request.read()
        return web.Response(text=f"OK - {len(upload['content'])}")

    # ---- canned answers, one per method: `_api_<method with dots as underscores>(args) -> dict`

    def _next_ts(self) -> str:
        micros = 1_700_000_000_000_000 + 100 * next(self._counter)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _api_auth_test(self, args: dict, authorization: str = "") -> dict:
        owner = self.token_owner.get(authorization.removeprefix("Bearer "))
        if owner is not None:
            return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "vraagbot",
                    "team_id": owner["team_id"], "enterprise_id": owner["enterprise_id"], "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID, "is_enterprise_install": owner["is_enterprise_install"]}
        return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "vraagbot", "team_id": TEAM_ID,
                "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _org_token(self, call: Call) -> bool:
        owner = self.token_owner.get(call.headers.get("authorization", "").removeprefix("Bearer "))
        return bool(owner and owner["is_enterprise_install"])

    def _api_oauth_v2_access(self, args: dict) -> dict:
        if args.get("grant_type") == "refresh_token":
            return self._refreshes.pop(str(args.get("refresh_token")), {"ok": False, "error": "invalid_refresh_token"})
        return self._installs.pop(str(args.get("code")), {"ok": False, "error": "invalid_code"})  # a code works once

    def _api_apps_connections_open(self, args: dict) -> dict:
        if self.socket_urls is None:
            return {"ok": False, "error": "not_allowed"}  # no Socket Mode server for this app
        return {"ok": True, "url": self.socket_urls()}

    def _api_chat_postMessage(self, args: dict) -> dict:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        ts = self._next_ts()
        message = {"type": "message", "subtype": "bot_message", "text": args.get("text", ""), "ts": ts,
                   "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID}
        message.update({k: args[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if k in args})
        self._posted.setdefault(args["channel"], []).append((time.time(), message))
        return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}

    def _api_conversations_history(self, args: dict) -> dict:
        """Newest first; ``oldest`` filters, ``limit`` and ``cursor`` (an offset here) page;
        metadata only with ``include_all_metadata``, as in Slack."""
        oldest, limit = float(args.get("oldest") or 0), int(args.get("limit") or 100)
        offset = int(args.get("cursor") or 0)
        found = [m for at, m in reversed(self._posted.get(args.get("channel", ""), [])) if at > oldest]
        page = found[offset:offset + limit]
        if not _truthy(args.get("include_all_metadata")):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = offset + limit < len(found)
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(offset + limit) if more else ""}}

    def _api_chat_postEphemeral(self, args: dict) -> dict:
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_chat_update(self, args: dict) -> dict:
        for _, posted in self._posted.get(args.get("channel", ""), []):  # what history serves changes too
            if posted.get("ts") == args.get("ts"):
                posted.update({k: args[k] for k in ("text", "blocks") if k in args}, edited={"user": BOT_USER_ID})
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text", ""),
                "message": {"text": args.get("text", ""), "user": BOT_USER_ID, "bot_id": BOT_ID}}

    def _api_conversations_open(self, args: dict) -> dict:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}, "no_op": True, "already_open": True}
        users = sorted(u.strip() for u in str(args.get("users", "")).split(",") if u.strip())
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        if len(users) > 1 and self.fail_mpim:
            return {"ok": False, "error": "not_allowed"}
        channel_id = _short_id("D" if len(users) == 1 else "G", ",".join(users))
        self.opened[channel_id] = users
        return {"ok": True, "channel": {"id": channel_id}}

    def _api_users_info(self, args: dict) -> dict:
        user = self.users.get(args.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        user = dict(user)
        if not _truthy(args.get("include_locale")):
            user.pop("locale")
        return {"ok": True, "user": user}

    def _api_dnd_info(self, args: dict) -> dict:
        # Only the four fields a bot sees for another user: snooze_* are for the calling user only.
        user = args.get("user", BOT_USER_ID)
        if user in self.dnd:
            start, end = self.dnd[user]
            return {"ok": True, "dnd_enabled": True, "next_dnd_start_ts": start, "next_dnd_end_ts": end}
        return {"ok": True, "dnd_enabled": False, "next_dnd_start_ts": 1, "next_dnd_end_ts": 1}

    def _api_views_open(self, args: dict) -> dict:
        trigger_id = args.get("trigger_id")
        if not trigger_id or not isinstance(args.get("view"), dict):
            return {"ok": False, "error": "invalid_arguments"}
        if trigger_id in self._used_triggers:
            return {"ok": False, "error": "trigger_exchanged"}
        self._used_triggers.add(trigger_id)
        return self._view_answer(args, "modal")

    def _api_views_publish(self, args: dict) -> dict:
        return self._view_answer(args, "home")

    def _api_views_update(self, args: dict) -> dict:
        return self._view_answer(args, "modal")

    def _view_answer(self, args: dict, default_type: str) -> dict:
        view = args.get("view") if isinstance(args.get("view"), dict) else {}
        view_id = args.get("view_id") or f"V{next(self._counter):08d}"
        echoed = {"type": default_type, "blocks": [], "private_metadata": "", "callback_id": "", "external_id": "",
                  **view, "id": view_id, "team_id": TEAM_ID, "state": {"values": {}}, "hash": f"{time.time():.0f}.x",
                  "app_id": APP_ID, "bot_id": BOT_ID, "root_view_id": view_id, "previous_view_id": None}
        return {"ok": True, "view": echoed}

    def _api_files_getUploadURLExternal(self, args: dict) -> dict:
        if not args.get("filename") or not args.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._counter):08d}"
        self._uploads[file_id] = {"filename": args["filename"], "title": args["filename"], "content": None,
                                  "channel_id": None, "done": False}
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, args: dict) -> dict:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        if any(self._uploads.get(f.get("id"), {}).get("content") is None for f in files):
            return {"ok": False, "error": "file_not_found"}
        channel_id = args.get("channel_id") or args.get("channels")
        answered = []
        for f in files:
            upload = self._uploads[f["id"]]
            upload.update(title=f.get("title") or upload["filename"], channel_id=channel_id, done=True)
            answered.append({"id": f["id"], "title": upload["title"], "name": upload["filename"]})
        if channel_id:  # Slack shares the files in the channel as one message, the comment as its text
            message = {"type": "message", "text": args.get("initial_comment", ""), "ts": self._next_ts(),
                       "user": BOT_USER_ID, "bot_id": BOT_ID, "team": TEAM_ID, "upload": True, "files": answered}
            self._posted.setdefault(str(channel_id), []).append((time.time(), message))
        return {"ok": True, "files": answered}
