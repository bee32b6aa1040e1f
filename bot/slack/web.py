"""The Slack Web API side: client, people directory, presence (DND) and the Messenger."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import rate_limited
from bot.slack.blocks import fallback_text, message_blocks
from handlers.context import Actor
from handlers.errors import RecipientUnreachable, TransientSendError
from handlers.messages import DataExport, Image, OutgoingMessage
from handlers.models import MessageKind
from handlers.ports import PersonRecord, Recipient, UnitOfWorkFactory

log = logging.getLogger(__name__)

# Errors that mean this person or conversation cannot be reached: retrying will not help.
UNREACHABLE = {"user_not_found", "channel_not_found", "account_inactive", "cannot_dm_bot", "user_disabled",
               "is_archived", "not_in_channel", "user_not_visible"}


# Web API methods that deliver something: an attempt of one that ends without a clear answer may
# have arrived all the same.
DELIVERING = ("/chat.postMessage", "/files.completeUploadExternal")
# Statuses and error codes after which Slack may have carried the call out (its docs on
# internal_error and fatal_error: "it's possible some aspect of the operation succeeded").
UNKNOWN_STATUSES = {500, 502, 504}
UNKNOWN_CODES = {"internal_error", "fatal_error"}
# Set by SlackMessenger.send for the duration of one send: what NoteUnknownOutcomes saw.
_unknown_outcomes: ContextVar[list[str] | None] = ContextVar("unknown_outcomes", default=None)
# OAuth distribution (issue 16): the bot token of the workspace the work at hand is for. SharedSessionClient
# calls with it while it is set (using_token), and with its own token (SLACK_BOT_TOKEN, or none) otherwise.
_workspace_token: ContextVar[str | None] = ContextVar("workspace_token", default=None)
# With an org-wide Grid install: the org's workspace the request at hand came from. Methods that take an
# org token only with a team_id (dnd.info) name it; '' outside such a request.
_org_workspace: ContextVar[str] = ContextVar("org_workspace", default="")
# A recipient's bot token: a message's (bot/slack/installations.py); None without OAuth distribution.
MessageTokens = Callable[[OutgoingMessage], Awaitable[str]]
PersonTokens = Callable[[int], Awaitable[str | None]]


@contextlib.contextmanager
def using_token(token: str | None) -> Iterator[None]:
    """Web API calls of this task (and the tasks it starts) use ``token`` until the block ends."""
    reset = _workspace_token.set(token)
    try:
        yield
    finally:
        _workspace_token.reset(reset)


@contextlib.contextmanager
def in_org_workspace(team_id: str) -> Iterator[None]:
    """Web API calls of this task that need a workspace of the org (``team_id``) name it until the block ends."""
    reset = _org_workspace.set(team_id)
    try:
        yield
    finally:
        _org_workspace.reset(reset)


def outcome_unknown(response: Any = None, error: Any = None) -> bool:
    """Whether an attempt ended without telling us if Slack carried it out: a timeout or a dropped
    connection (but not one never made), a 500/502/504, internal_error. A 429, a 503 or any other
    answer is definite: nothing arrived."""
    if error is not None:
        return not isinstance(error, aiohttp.ClientConnectorError)
    if response is None:
        return False
    body = response.body if isinstance(getattr(response, "body", None), dict) else {}
    return response.status_code in UNKNOWN_STATUSES or body.get("error") in UNKNOWN_CODES


class NoteUnknownOutcomes(AsyncRetryHandler):
    """Never retries itself; sees every attempt (the SDK's own retries included) and notes, for the
    send in progress, a delivering call whose outcome stayed unknown. The final error alone cannot
    tell: a 500 retried by the SDK and then a 429 is still in doubt."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=1_000_000)

    async def _can_retry_async(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        noted = _unknown_outcomes.get()
        if noted is not None and request.url.endswith(DELIVERING) and outcome_unknown(response, error):
            noted.append(request.url.rsplit("/", 1)[-1])
        return False


class SlackSendError(TransientSendError):
    """Try later; ``outcome_unknown`` says whether this attempt may have arrived after all (the
    outbox then looks it up before sending again) or surely did not (a 429, an error code)."""

    def __init__(self, message: str, retry_after: float | None = None, *, outcome_unknown: bool) -> None:
        super().__init__(message, retry_after=retry_after)
        self.outcome_unknown = outcome_unknown


class _SafeForDeliveries:
    """An SDK retry handler that does not retry a delivering call whose attempt may have arrived: the
    SDK would post it a second time. Such a send fails instead, noted as in doubt, and the outbox looks
    it up (find_delivered) before it sends again. A call never made, or any other method, retries."""

    async def _can_retry_async(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        if request.url.endswith(DELIVERING) and outcome_unknown(response, error):
            return False
        return await super()._can_retry_async(  # type: ignore[misc]
            state=state, request=request, response=response, error=error)


class SafeConnectionErrorRetry(_SafeForDeliveries, AsyncConnectionErrorRetryHandler):
    pass


class SafeServerErrorRetry(_SafeForDeliveries, AsyncServerErrorRetryHandler):
    pass


class CountRateLimits(AsyncRetryHandler):
    """Never retries itself; counts every 429 for /metrics before the SDK's own handler waits it out."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=1_000_000)

    async def _can_retry_async(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
        if response is not None and response.status_code == 429:
            rate_limited("slack")
        return False


# The metadata label on outbox posts (exactly-once after a crash), and how far before the in-doubt
# attempt's start find_delivered looks (clock skew between us and Slack).
DELIVERY_EVENT = "vraagbot_outbox"
LOOKBACK_SECONDS = 60.0


class PostPacer:
    """Slack lets an app make "several hundred" chat.postMessage calls a minute per workspace
    (docs/architecture.md): this process spaces its posts out to ``per_minute``, so a fan-out of weekly messages flows
    at that rate instead of running into 429s and their waits."""

    def __init__(self, per_minute: float) -> None:
        self._interval = 60.0 / per_minute
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self._interval  # no await in between: the event loop makes this atomic
        if slot > now:
            await asyncio.sleep(slot - now)


class LookupPacer(PostPacer):
    """conversations.history is a Tier 3 method: about 50 calls a minute per workspace. The outbox's
    look-ups are spaced out to that, and a 429's Retry-After holds every later look-up back too."""

    def __init__(self, per_minute: float = 50.0) -> None:
        super().__init__(per_minute)

    def hold(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)


class PacedRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """The SDK's wait for a 429's Retry-After, and then, for a post, a slot from the pacer: a retried
    post counts against the workspace's allowance like any other, so it must not jump the queue."""

    def __init__(self, posts: PostPacer, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._posts = posts

    async def prepare_for_next_attempt_async(self, *, state: Any, request: Any, response: Any = None,
                                             error: Any = None) -> None:
        await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)
        if request.url.endswith("/chat.postMessage"):
            await self._posts.wait()


# Connections to Slack kept open at once: the outbox's concurrent sends (8 by default) and the inbox
# workers' calls (4), with room for look-ups and App Home views. More would only queue at Slack's limits.
CONNECTIONS = 20


class SharedSessionClient(AsyncWebClient):
    """An AsyncWebClient with one aiohttp session for all its calls. Without one the SDK opens and
    closes a session, and so a TCP (and TLS) connection, for every call. The session is made on first
    use inside the running event loop (aiohttp binds it to that loop), never at construction; bolt's
    per-request clients copy ``session`` from this one, so they share it too. After ``close()`` the
    SDK's own one-off sessions take over, so a send finishing during shutdown still goes out."""

    def __init__(self, *args: Any, connections: int = CONNECTIONS, **kwargs: Any) -> None:
        self._shared: aiohttp.ClientSession | None = None
        self._own_token: str | None = None
        self._connections = connections
        self._closed = False
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def session(self) -> aiohttp.ClientSession | None:
        if self._shared is None and not self._closed:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return None  # outside the event loop (construction, import): nothing to open yet
            # The SDK gives a session of its own the client's timeout; a shared one needs it too.
            self._shared = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout),
                                                 connector=aiohttp.TCPConnector(limit=self._connections))
        return self._shared

    @session.setter
    def session(self, value: aiohttp.ClientSession | None) -> None:  # the SDK's constructor sets it
        self._shared = value

    @property  # type: ignore[override]
    def token(self) -> str | None:
        """The workspace's token while ``using_token`` holds one, else the client's own."""
        return _workspace_token.get() or self._own_token

    @token.setter
    def token(self, value: str | None) -> None:  # the SDK's constructor sets it
        self._own_token = value

    async def start(self) -> None:
        """Open the session now (in the running loop) rather than at the first call."""
        _ = self.session

    async def close(self) -> None:
        """At shutdown: close the connections. Idempotent."""
        self._closed = True
        if self._shared is not None and not self._shared.closed:
            await self._shared.close()


def make_client(token: str | None, base_url: str, *, posts: PostPacer | None = None,
                connections: int = CONNECTIONS) -> SharedSessionClient:
    """The SDK's own retry handlers: wait out a 429's Retry-After (posts then queue at ``posts``
    again), retry connection and 5xx errors (a post only when it surely did not arrive). One shared
    session; close it with ``close()``."""
    handlers: list[AsyncRetryHandler] = [
        NoteUnknownOutcomes(),
        CountRateLimits(),
        PacedRateLimitRetry(posts) if posts is not None else AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        SafeConnectionErrorRetry(max_retry_count=2),
        SafeServerErrorRetry(max_retry_count=2),
    ]
    return SharedSessionClient(token=token, base_url=base_url if base_url.endswith("/") else base_url + "/",
                               retry_handlers=handlers, timeout=10, connections=connections)


def as_send_error(error: Exception, *, unknown: bool = False) -> Exception:
    """Map a Web API failure onto the outbox's two kinds: try later, or give up on this recipient.
    ``unknown``: some attempt of this send may have arrived (NoteUnknownOutcomes saw it)."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        code = error.response.get("error") if isinstance(error.response.data, dict) else None
        if status == 429:
            retry_after = error.response.headers.get("Retry-After") or error.response.headers.get("retry-after")
            return SlackSendError(f"slack rate limited ({code})", retry_after=float(retry_after or 30),
                                  outcome_unknown=unknown)
        if code in UNREACHABLE:
            return RecipientUnreachable(code)
        return SlackSendError(f"slack error {status} {code}", outcome_unknown=unknown)
    return SlackSendError(f"slack unreachable: {type(error).__name__}", outcome_unknown=unknown)


@dataclass
class _Cached:
    until: float
    actor: Actor


class SlackDirectory:
    """Who a Slack user is (name, language, time zone), from users.info, cached for an hour."""

    TTL = 3600.0

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._cache: dict[tuple[str, str], _Cached] = {}

    async def actor(self, team_id: str, user_id: str, fallback_name: str | None = None) -> Actor:
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached and cached.until > time.monotonic():
            return cached.actor
        try:
            response = await self._client.users_info(user=user_id, include_locale=True)
            user = response["user"]
            profile = user.get("profile", {})
            actor = Actor("slack", team_id, user_id, handle=user.get("name") or fallback_name,
                          display_name=profile.get("display_name") or user.get("real_name") or user.get("name"),
                          locale=user.get("locale"), time_zone=user.get("tz"),
                          is_admin=bool(user.get("is_admin") or user.get("is_owner")))
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            # Still act for them; name and language fall back to what we know.
            log.warning("users.info failed for %s: %s", user_id, getattr(error, "response", error))
            return Actor("slack", team_id, user_id, handle=fallback_name, display_name=fallback_name)
        self._cache[key] = _Cached(time.monotonic() + self.TTL, actor)
        return actor


class SlackPresence:
    """Do-not-disturb from dnd.info. For other users Slack gives only the scheduled DND window.

    ``prefetch`` asks before the inbox worker opens its transaction, when the expert is known from the
    request (named in the command or chosen in the form): the ask's look-up inside the transaction then
    finds the answer here, so no network call holds the transaction (on SQLite: the write lock) open."""

    PREFETCHED_SECONDS = 15.0  # a do-not-disturb window changes seldom; this only spans one request

    def __init__(self, client: AsyncWebClient, tokens: PersonTokens | None = None) -> None:
        self._client = client
        self._tokens = tokens  # OAuth distribution: outside a request, the person's workspace's token
        self._prefetched: dict[str, tuple[float, datetime | None]] = {}

    async def prefetch(self, user_id: str) -> None:
        self._prefetched[user_id] = (time.monotonic() + self.PREFETCHED_SECONDS, await self._ask(user_id, user_id))

    async def focus_until(self, person: PersonRecord, platform: str) -> datetime | None:
        if platform != "slack":
            return None
        until, answer = self._prefetched.pop(person.external_id, (0.0, None))
        if until > time.monotonic():
            return answer
        if self._tokens is not None and _workspace_token.get() is None:  # a recheck from the outbox
            with using_token(await self._tokens(person.id)):
                return await self._ask(person.external_id, f"person {person.id}")
        return await self._ask(person.external_id, f"person {person.id}")

    async def _ask(self, user_id: str, who: str) -> datetime | None:
        if len(self._prefetched) > 1000:  # forget answers nobody came back for
            now = time.monotonic()
            self._prefetched = {u: a for u, a in self._prefetched.items() if a[0] > now}
        try:
            # An org token needs the workspace: the request's (outside one, Slack refuses and we deliver now).
            team = {"team_id": team_id} if (team_id := _org_workspace.get()) else {}
            info = await self._client.dnd_info(user=user_id, **team)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            log.warning("dnd.info failed for %s, delivering at once: %s", who, error)
            return None  # not knowing is no reason to hold a question back
        if not info.get("dnd_enabled"):
            return None
        start, end = info.get("next_dnd_start_ts"), info.get("next_dnd_end_ts")
        now = time.time()
        if isinstance(start, int | float) and isinstance(end, int | float) and start <= now < end:
            return datetime.fromtimestamp(end, UTC)
        return None


class ChannelPacer:
    """Slack allows about one message per second per channel: space posts to one channel out.
    Per process; the outbox sends one weekly message per channel, so replicas do not collide."""

    def __init__(self, interval: float = 1.0) -> None:
        self._interval = interval
        self._next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, channel: str) -> None:
        async with self._lock:
            now = time.monotonic()
            if len(self._next) > 1000:  # forget channels whose slot has long passed
                self._next = {c: t for c, t in self._next.items() if t > now}
            slot = max(now, self._next.get(channel, 0.0))
            self._next[channel] = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class SlackMessenger:
    """Questions go to a group DM of asker and expert (or the expert's DM when that fails); every
    other message to a person goes to their DM with the bot, so nobody else sees it."""

    def __init__(self, client: AsyncWebClient, uow: UnitOfWorkFactory, *, posts: PostPacer | None = None,
                 lookups: LookupPacer | None = None, tokens: MessageTokens | None = None) -> None:
        self._client = client
        self._uow = uow
        self._tokens = tokens  # OAuth distribution: each message goes with its recipient's workspace's token
        self._pacer = ChannelPacer()
        self._posts = posts or PostPacer(300.0)  # pass the client's pacer, so retries queue there too
        self._lookups = lookups or LookupPacer()  # one client, one workspace: one Tier 3 allowance
        self._recipients: Mapping[int, str] | None = None  # Slack user ids for one send, see addressed()

    def addressed(self, recipients: Mapping[int, Recipient]) -> SlackMessenger:
        """This messenger for one send (handlers.ports.AddressedMessenger): the recipients' user ids come
        from the outbox's claim, not from a unit of work per person. It shares the client and the pacers;
        the ids live only as long as the send, as a person's id may name someone else once they are forgotten."""
        one_send = copy.copy(self)
        one_send._recipients = {person: r.external_id for person, r in recipients.items() if r.platform == "slack"}
        return one_send

    async def send(self, message: OutgoingMessage) -> str | None:
        unknown: list[str] = []  # filled by NoteUnknownOutcomes while this send runs
        noting = _unknown_outcomes.set(unknown)
        try:
            async with self._as_recipients_app(message):
                return await self._send(message)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            raise as_send_error(error, unknown=bool(unknown)) from error
        finally:
            _unknown_outcomes.reset(noting)

    async def _send(self, message: OutgoingMessage) -> str | None:
        if message.channel is not None:
            return await self._send_to_channel(message)
        if message.kind == MessageKind.QUESTION:
            return await self._send_question(message)
        if message.kind == MessageKind.ANSWER_RELAY and _asker_sees_thread(message.thread_ref):
            return None  # the asker read the answer in the shared thread already
        channel = await self._open([await self._user_id(message.person_id)])
        if message.attachment is not None:
            await self._upload(channel, message)
            return None
        await self._posts.wait()
        response = await self._client.chat_postMessage(channel=channel, text=fallback_text(message),
                                                       blocks=message_blocks(message), **_labelled(message))
        return f"{channel}:{response['ts']}"

    async def _send_to_channel(self, message: OutgoingMessage) -> str:
        """A team channel; the bot must be a member to post there."""
        if message.channel is None or message.channel.platform != "slack":
            raise RecipientUnreachable(f"not a Slack channel: {message.channel!r}")
        channel = message.channel.channel_id
        await self._pacer.wait(channel)
        await self._posts.wait()
        if isinstance(message.attachment, Image):  # the monthly picture
            return await self._upload_image(channel, message, message.attachment)
        response = await self._client.chat_postMessage(channel=channel, text=fallback_text(message),
                                                       blocks=message_blocks(message), **_labelled(message))
        return f"{channel}:{response['ts']}"

    async def _send_question(self, message: OutgoingMessage) -> str:
        expert = await self._user_id(message.person_id)
        users = [await self._user_id(p) for p in message.participants] or [expert]
        try:
            channel = await self._open(users)
        except SlackApiError as error:
            log.info("group DM for question %s not possible (%s); using the expert's DM",
                     message.question_id, error.response.get("error"))
            channel = await self._open([expert])
        await self._posts.wait()
        response = await self._client.chat_postMessage(channel=channel, text=fallback_text(message),
                                                       blocks=message_blocks(message), **_labelled(message))
        return f"{channel}:{response['ts']}"

    async def find_delivered(self, message: OutgoingMessage, since: datetime) -> str | None:
        """Whether a post labelled with ``message.delivery_key`` reached the conversation(s) this message
        goes to since ``since``: reads only that window of history, and only our label on each message.
        Raises TransientSendError when Slack cannot tell now (a 429 holds later look-ups back too)."""
        if not message.delivery_key:
            return None
        image = _labelled_file_name(message)  # a picture's file carries the label in its name
        if message.attachment is not None and image is None:
            log.warning("%s: an earlier upload may have arrived; uploads carry no label to look up, so it is "
                        "uploaded again (it may arrive twice)", message.delivery_key)
            return None
        try:
            async with self._as_recipients_app(message):
                for channel in await self._conversations_of(message):
                    if ts := await self._labelled_post(channel, message.delivery_key, since, image):
                        return f"{channel}:{ts}"
            return None
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            failure = as_send_error(error)
            if not isinstance(failure, TransientSendError):  # "cannot tell": the send finds out the rest
                raise SlackSendError(f"slack look-up failed: {failure}", outcome_unknown=True) from error
            if failure.retry_after is not None:
                self._lookups.hold(failure.retry_after)
            raise failure from error

    @contextlib.asynccontextmanager
    async def _as_recipients_app(self, message: OutgoingMessage) -> AsyncIterator[None]:
        """With OAuth distribution: the calls for this message carry the token of the recipient's workspace
        (RecipientUnreachable when the app is no longer installed there)."""
        if self._tokens is None:
            yield
            return
        with using_token(await self._tokens(message)):
            yield

    async def _conversations_of(self, message: OutgoingMessage) -> list[str]:
        if message.channel is not None:
            return [message.channel.channel_id] if message.channel.platform == "slack" else []
        person = await self._user_id(message.person_id)
        if message.kind == MessageKind.QUESTION:  # the group DM, or the expert's DM it fell back to
            users = [await self._user_id(p) for p in message.participants] or [person]
            channels = []
            with contextlib.suppress(SlackApiError):
                channels.append(await self._open(users))
            return [*channels, await self._open([person])]
        return [await self._open([person])]

    async def _labelled_post(self, channel: str, key: str, since: datetime, file_name: str | None = None
                             ) -> str | None:
        cursor = None
        oldest = f"{since.timestamp() - LOOKBACK_SECONDS:.6f}"
        for _ in range(20):  # a bounded number of pages: the window is minutes, not months
            await self._lookups.wait()
            response = await self._client.conversations_history(channel=channel, oldest=oldest, limit=200,
                                                                 include_all_metadata=True, cursor=cursor)
            for posted in response.get("messages") or []:
                metadata = posted.get("metadata") or {}
                if metadata.get("event_type") == DELIVERY_EVENT and \
                        (metadata.get("event_payload") or {}).get("delivery") == key:
                    return posted.get("ts")
                if file_name and any(f.get("name") == file_name for f in posted.get("files") or []):
                    return posted.get("ts")
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    async def reply_privately(self, user_id: str, message: OutgoingMessage) -> None:
        """A reply to someone who acted outside a response_url (modal, App Home)."""
        channel = await self._open([user_id])
        if message.attachment is not None:
            await self._upload(channel, message)
        else:
            await self._client.chat_postMessage(channel=channel, text=fallback_text(message),
                                                blocks=message_blocks(message))

    async def upload_to(self, user_id: str, message: OutgoingMessage) -> None:
        await self._upload(await self._open([user_id]), message)

    async def _upload(self, channel: str, message: OutgoingMessage) -> None:
        export = message.attachment
        if not isinstance(export, DataExport):  # no other kind of attachment is sent yet
            raise TypeError(f"cannot upload a {type(export).__name__} to Slack")
        content = json.dumps(export.content, ensure_ascii=False, indent=2)
        await self._client.files_upload_v2(channel=channel, content=content, filename=export.filename,
                                           title="vraagbot", initial_comment=fallback_text(message))

    async def _upload_image(self, channel: str, message: OutgoingMessage, image: Image) -> str:
        """The files upload v2 flow (getUploadURLExternal, the upload, completeUploadExternal with the
        channel and the text as its comment): Slack shares the file in the channel in one message."""
        response = await self._client.files_upload_v2(
            channel=channel, file=image.png, filename=_labelled_file_name(message) or image.filename,
            title=image.alt_text, alt_txt=image.alt_text, initial_comment=fallback_text(message),
            request_file_info=False)
        files = response.get("files") or [{}]
        return f"{channel}:{files[0].get('id', '')}"

    async def _open(self, users: list[str]) -> str:
        response = await self._client.conversations_open(users=",".join(users))
        return response["channel"]["id"]

    async def _user_id(self, person_id: int | None) -> str:
        if self._recipients is not None:  # the claim read everyone who still exists
            if person_id is None or person_id not in self._recipients:
                raise RecipientUnreachable(f"person {person_id} no longer exists")
            return self._recipients[person_id]
        async with self._uow() as uow:
            person = await uow.people.get(person_id) if person_id is not None else None
        if person is None:
            raise RecipientUnreachable(f"person {person_id} no longer exists")
        return person.external_id


def _labelled(message: OutgoingMessage) -> dict[str, Any]:
    """Message metadata naming the outbox delivery, so find_delivered can recognise the post."""
    if not message.delivery_key:
        return {}
    return {"metadata": {"event_type": DELIVERY_EVENT, "event_payload": {"delivery": message.delivery_key}}}


def _labelled_file_name(message: OutgoingMessage) -> str | None:
    """A picture's file name with the outbox delivery in it (uploads take no metadata), so that
    find_delivered can recognise the shared file in the channel's history."""
    image = message.attachment
    if not isinstance(image, Image) or not message.delivery_key:
        return None
    stem, dot, extension = image.filename.rpartition(".")
    return f"{stem}-{message.delivery_key}.{extension}" if dot else f"{image.filename}-{message.delivery_key}"


def _asker_sees_thread(thread_ref: str | None) -> bool:
    # Slack DM ids start with D: a question posted in the expert's DM is not visible to the asker.
    return bool(thread_ref) and not thread_ref.startswith("D")
