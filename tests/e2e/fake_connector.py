"""A local fake of the Bot Framework Connector (the `serviceUrl` a Teams bot replies to) for end-to-end tests.

The real botbuilder CloudAdapter talks to it over HTTP when an inbound activity's `serviceUrl` is `fake.service_url`:

    async with FakeConnector() as fake:
        await post_activity(session, bot_url, personal_message("hoi", ..., service_url=fake.service_url))
        [reply] = await fake.wait_for(1)
        assert FakeConnector.text_of(reply.body) == "..."

Every request is recorded as a `Sent`; `sent()` lists only the activities the bot posted (replies and sends).
Answers are shaped like the real connector's. Faults can be injected for activity posts:
`throttle` (429 + Retry-After), `fail` (any status) and `block` (403 MessageWritesBlocked, as for a user who
blocked or uninstalled the bot).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.e2e.loopback import LoopbackServer

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
BLOCKED_FIXTURE = Path(__file__).resolve().parents[1] / "data/fixtures/teams/proactive_blocked_403.docs_example.http"
PREFIX = "/teams/"
# Kinds of request, as recorded in `Sent.kind`.
REPLY, SEND, UPDATE, DELETE, CREATE, MEMBERS = "reply", "send", "update", "delete", "create", "members"
UPLOAD, TEAM = "upload", "team"  # a PUT to an upload URL (OneDrive's, in Teams), GET v3/teams/{id}
ACTIVITY_POSTS = (REPLY, SEND)


@dataclass
class Sent:
    """One request to the fake. `path` is the percent-decoded path below the service URL prefix ("/v3/...");
    `body` is the parsed JSON ({} when there is none); `headers` keys are lower-case; `status` is what we answered."""

    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int
    kind: str = ""
    answered_id: str | None = None  # the id the fake gave a posted activity (what an update later names)


@dataclass
class _Fault:
    status: int
    body: Any  # a dict is sent as JSON, a str as-is with a JSON content type
    headers: dict[str, str]
    conversation_id: str | None
    kinds: tuple[str, ...]
    delay: float = 0.0  # seconds before answering: longer than the client waits is a hang


def _blocked_body() -> str:
    """The JSON body of the documented 403 for a blocked bot (the part after the blank line of the .http fixture)."""
    return BLOCKED_FIXTURE.read_text().split("\n\n", 1)[1].strip()


def _error(code: str, message: str) -> dict[str, Any]:
    """A Bot Framework ErrorResponse."""
    return {"error": {"code": code, "message": message}}


class FakeConnector(LoopbackServer):
    """An aiohttp server on 127.0.0.1:<random port>, started in the running event loop."""

    def __init__(self) -> None:
        self.rosters: dict[str, list[dict[str, Any]]] = {}  # conversation id -> TeamsChannelAccount dicts
        self.teams: dict[str, dict[str, Any]] = {}  # team id -> TeamDetails
        self._requests: list[Sent] = []
        self._faults: list[_Fault] = []
        self._blocked: set[str] = set()
        self._ids = itertools.count(1_700_000_000_001)
        self._conversations = itertools.count(1)

    # ---- lifecycle

    def _routes(self, app: web.Application) -> None:
        v3 = PREFIX + "v3/conversations"
        app.router.add_post(v3, self._handle_create)
        app.router.add_post(v3 + "/{conversation_id}/activities", self._handle_activity)
        app.router.add_route("*", v3 + "/{conversation_id}/activities/{activity_id}", self._handle_activity)
        app.router.add_get(v3 + "/{conversation_id}/members", self._handle_members)
        app.router.add_get(v3 + "/{conversation_id}/members/{member_id}", self._handle_members)
        app.router.add_get(v3 + "/{conversation_id}/pagedmembers", self._handle_members)
        app.router.add_get(PREFIX + "v3/teams/{team_id}", self._handle_team)
        app.router.add_put("/upload/{name}", self._handle_upload)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self._port}{PREFIX}"

    # ---- configuration

    def set_roster(self, conversation_id: str, members: list[dict[str, Any]]) -> None:
        """Members answered for `conversation_id` (a conversation, channel or team id; a channel's
        threads share its roster), e.g.
        `{"id": "29:1", "name": "An", "aadObjectId": "...", "email": "...", "userPrincipalName": "...",
        "tenantId": "...", "userRole": "user"}`."""
        self.rosters[conversation_id] = list(members)

    def set_team(self, team_id: str, aad_group_id: str, name: str = "Team") -> None:
        """What GET v3/teams/{team_id} answers (TeamDetails); unknown teams answer 404."""
        self.teams[team_id] = {"id": team_id, "name": name, "aadGroupId": aad_group_id}

    def upload_url(self, name: str) -> str:
        """An upload URL as a file consent's uploadInfo carries (OneDrive's, in Teams): PUTs there are `uploads()`."""
        return f"http://127.0.0.1:{self._port}/upload/{name}"

    def uploads(self) -> list[Sent]:
        """The PUTs to upload URLs (body: the parsed JSON file), faulted ones included (kind UPLOAD)."""
        return [s for s in self._requests if s.kind == UPLOAD]

    def throttle(self, times: int = 1, retry_after: int = 1, conversation_id: str | None = None,
                 kinds: tuple[str, ...] = ACTIVITY_POSTS) -> None:
        """The next `times` activity posts (to `conversation_id`, if given) answer 429 with Retry-After."""
        body = _error("TooManyRequests", "Too many requests. Please retry after some time.")
        self._add_fault(times, _Fault(429, body, {"Retry-After": str(retry_after)}, conversation_id, kinds))

    def fail(self, status: int, times: int = 1, conversation_id: str | None = None,
             kinds: tuple[str, ...] = ACTIVITY_POSTS) -> None:
        """The next `times` activity posts (to `conversation_id`, if given) answer `status` (e.g. 412/500/502/504)."""
        phrase = HTTPStatus(status).phrase
        body = _error(phrase.replace(" ", ""), f"{status} {phrase}")
        self._add_fault(times, _Fault(status, body, {}, conversation_id, kinds))

    def hang(self, seconds: float, times: int = 1, status: int = 503, kinds: tuple[str, ...] = ACTIVITY_POSTS) -> None:
        """The next `times` activity posts get no answer for `seconds`, then `status` (not delivered)."""
        body = _error("ServiceUnavailable", "the connector did not answer in time")
        self._add_fault(times, _Fault(status, body, {}, None, kinds, delay=seconds))

    def block(self, conversation_id: str) -> None:
        """Every write (post, update, delete) to `conversation_id` answers 403 MessageWritesBlocked, for good."""
        self._blocked.add(conversation_id)

    def unblock(self, conversation_id: str) -> None:
        self._blocked.discard(conversation_id)

    def _add_fault(self, times: int, fault: _Fault) -> None:
        self._faults.extend([fault] * times)

    # ---- inspection

    def requests(self) -> list[Sent]:
        """Every request, in arrival order, including faulted and unknown ones."""
        return list(self._requests)

    def sent(self, conversation_id: str | None = None) -> list[Sent]:
        """Activities the bot posted (ReplyToActivity and SendToConversation), faulted ones included."""
        return [s for s in self._requests
                if s.kind in ACTIVITY_POSTS and conversation_id in (None, s.conversation_id)]

    def delivered(self, conversation_id: str | None = None) -> list[Sent]:
        """Like `sent`, but only the posts that were answered with success."""
        return [s for s in self.sent(conversation_id) if s.status < 300]

    def updated(self, conversation_id: str | None = None) -> list[Sent]:
        """The updates (PUT .../activities/{id}) to `conversation_id`, if given, faulted ones included."""
        return [s for s in self._requests if s.kind == UPDATE and conversation_id in (None, s.conversation_id)]

    def created(self) -> list[dict[str, Any]]:
        """The ConversationParameters bodies of POST v3/conversations, in order."""
        return [s.body for s in self._requests if s.kind == CREATE]

    async def wait_for(self, count: int = 1, *, conversation_id: str | None = None,
                       timeout: float = 5.0) -> list[Sent]:  # noqa: ASYNC109
        """Wait until at least `count` activity posts (to `conversation_id`, if given) arrived; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.sent(conversation_id)) < count:
            if time.monotonic() > deadline:
                got = [(s.conversation_id, s.status, self.all_text(s.body)) for s in self.sent()]
                raise AssertionError(f"expected {count} activity post(s) to {conversation_id or 'any'}, got: {got}")
            await asyncio.sleep(0.02)
        return self.sent(conversation_id)

    # ---- reading sent activities

    @staticmethod
    def text_of(body: dict[str, Any]) -> str:
        return body.get("text") or ""

    @staticmethod
    def card_of(body: dict[str, Any]) -> dict[str, Any] | None:
        """The content of the first Adaptive Card attachment, or None."""
        for attachment in body.get("attachments") or []:
            if attachment.get("contentType") == ADAPTIVE_CARD:
                content = attachment.get("content")
                return json.loads(content) if isinstance(content, str) else content
        return None

    @classmethod
    def all_text(cls, body: dict[str, Any]) -> str:
        """The activity text plus the text of every TextBlock (and TextRun) in its Adaptive Card, one per line."""
        texts = [cls.text_of(body)] if cls.text_of(body) else []
        return "\n".join(texts + cls.card_texts(body))

    @classmethod
    def card_texts(cls, body: dict[str, Any], types: tuple[str, ...] = ("TextBlock", "TextRun")) -> list[str]:
        """The texts of the Adaptive Card's elements of these types, in card order."""
        texts: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") in types and node.get("text"):
                    texts.append(node["text"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(cls.card_of(body))
        return texts

    # ---- HTTP handlers

    async def _record(self, request: web.Request, kind: str) -> Sent:
        body: Any = {}
        if request.can_read_body:
            raw = await request.text()
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"_raw": raw}
        info = request.match_info
        path = request.path[len(PREFIX) - 1:] if request.path.startswith(PREFIX) else request.path
        sent = Sent(request.method, path, info.get("conversation_id"), info.get("activity_id"), body,
                    {k.lower(): v for k, v in request.headers.items()}, time.time(), 0, kind)
        self._requests.append(sent)
        return sent

    @staticmethod
    def _answer(sent: Sent, status: int, body: Any = None, headers: dict[str, str] | None = None) -> web.Response:
        sent.status = status
        if isinstance(body, str):
            return web.Response(text=body, status=status, headers=headers, content_type="application/json")
        return web.json_response(body, status=status, headers=headers)

    def _take_fault(self, sent: Sent) -> _Fault | None:
        if sent.kind in (REPLY, SEND, UPDATE, DELETE) and sent.conversation_id in self._blocked:
            return _Fault(403, _blocked_body(), {}, sent.conversation_id, ())
        for fault in self._faults:
            if sent.kind in fault.kinds and fault.conversation_id in (None, sent.conversation_id):
                self._faults.remove(fault)
                return fault
        return None

    def _new_id(self) -> str:
        return str(next(self._ids))

    async def _handle_activity(self, request: web.Request) -> web.Response:
        kind = {"PUT": UPDATE, "DELETE": DELETE, "POST": REPLY if "activity_id" in request.match_info else SEND}
        if request.method not in kind:
            return await self._handle_unknown(request)
        sent = await self._record(request, kind[request.method])
        fault = self._take_fault(sent)
        if fault is not None:
            sent.status = fault.status  # decided now: a caller that gives up mid-hang got nothing delivered
            await asyncio.sleep(fault.delay)
            return self._answer(sent, fault.status, fault.body, fault.headers)
        if sent.kind == DELETE:
            return self._answer(sent, 200)
        if sent.kind == UPDATE:
            return self._answer(sent, 200, {"id": sent.activity_id})
        sent.answered_id = self._new_id()
        return self._answer(sent, 201, {"id": sent.answered_id})

    async def _handle_create(self, request: web.Request) -> web.Response:
        sent = await self._record(request, CREATE)
        fault = self._take_fault(sent)
        if fault is not None:
            return self._answer(sent, fault.status, fault.body, fault.headers)
        answer = {"id": f"a:new-{next(self._conversations)}", "activityId": self._new_id(),
                  "serviceUrl": self.service_url}
        return self._answer(sent, 201, answer)

    async def _handle_members(self, request: web.Request) -> web.Response:
        sent = await self._record(request, MEMBERS)
        fault = self._take_fault(sent)
        if fault is not None:
            await asyncio.sleep(fault.delay)  # a roster that hangs (hang(..., kinds=(MEMBERS,)))
            return self._answer(sent, fault.status, fault.body, fault.headers)
        roster = self._roster(sent.conversation_id or "")
        member_id = request.match_info.get("member_id")
        if member_id is not None:
            member = next((m for m in roster if member_id in (m.get("id"), m.get("aadObjectId"))), None)
            if member is None:
                return self._answer(sent, 404, _error("MemberNotFoundInConversation", "The member was not found"))
            return self._answer(sent, 200, member)
        if request.path.endswith("/pagedmembers"):
            start = int(request.query.get("continuationToken") or 0)
            size = int(request.query.get("pageSize") or 200)
            token = str(start + size) if start + size < len(roster) else None
            return self._answer(sent, 200, {"continuationToken": token, "members": roster[start:start + size]})
        return self._answer(sent, 200, roster)

    def _roster(self, conversation_id: str) -> list[dict[str, Any]]:
        """The members of a conversation; a channel thread (`<channel>;messageid=<root>`) has its channel's."""
        if conversation_id in self.rosters:
            return self.rosters[conversation_id]
        return self.rosters.get(conversation_id.split(";messageid=")[0], [])

    async def _handle_team(self, request: web.Request) -> web.Response:
        sent = await self._record(request, TEAM)
        team = self.teams.get(request.match_info["team_id"])
        if team is None:
            return self._answer(sent, 404, _error("NotFound", "team not found"))
        return self._answer(sent, 200, team)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """An upload session that takes the whole file in one PUT, as OneDrive's does (201 and the item)."""
        sent = await self._record(request, UPLOAD)
        fault = self._take_fault(sent)
        if fault is not None:
            return self._answer(sent, fault.status, fault.body, fault.headers)
        size = int(sent.headers.get("content-length") or 0)
        if sent.headers.get("content-range") != f"bytes 0-{size - 1}/{size}":
            return self._answer(sent, 400, _error("invalidRange", "Content-Range must cover the whole file"))
        return self._answer(sent, 201, {"id": "item-" + self._new_id(), "name": request.match_info["name"],
                                        "size": size})

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        sent = await self._record(request, "unknown")
        return self._answer(sent, 404, _error("NotFound", f"no route for {request.method} {request.path}"))
