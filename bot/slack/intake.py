"""Slack's side of receiving (issue 12): every listener stores the request in the inbox and only then
acks, so what Slack got a 200 for survives kill -9. Nothing else happens before the ack, except what
must happen inside Slack's 3 seconds: opening a modal (its trigger_id expires) and a modal's field
errors. The work itself runs later, from the inbox (bot/slack/work.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from tenacity import AsyncRetrying, RetryError, retry_if_exception, stop_after_delay, wait_exponential

from bot.inbox.workers import InboxWorkers
from bot.slack.blocks import ASK_MODAL, OPEN_TOPICS_MODAL, TOPICS_MODAL, ask_modal, topics_modal
from bot.slack.payloads import ask_request_from, dedup_key, is_thread_reply, kind_of, person_key, user_of
from bot.slack.web import SlackMessenger, using_token
from handlers.actions import Action
from handlers.context import Deps
from handlers.messages import OutgoingMessage
from handlers.models import MAX_QUESTION_CHARS, MessageKind
from storage.failures import is_connection_error

log = logging.getLogger(__name__)

ACTIONS = re.compile("^(" + "|".join(a.value for a in Action) + ")$")
# The insert before an ack may wait this long for a database that blips, leaving room in Slack's 3 s.
STORE_SECONDS = 1.5


class NotStored(Exception):
    """The inbox could not store a request before the ack: Slack gets an error (and retries an event)."""


class SlackIntake:
    def __init__(self, deps: Deps, inbox: InboxWorkers, messenger: SlackMessenger) -> None:
        self.deps = deps
        self.inbox = inbox
        self.messenger = messenger
        self._notices: set[asyncio.Task[None]] = set()

    def register(self, app: AsyncApp) -> None:
        app.command("/vraag")(self.command)
        app.view(ASK_MODAL)(self.ask_modal)
        app.view(TOPICS_MODAL)(self.stored)
        app.action(ACTIONS)(self.stored)
        app.action(OPEN_TOPICS_MODAL)(self.open_topics_modal)
        app.event("message")(self.message)
        app.event("app_home_opened")(self.stored)

    # ------------------------------------------------------------------ listeners

    async def command(self, ack: Any, body: dict[str, Any], client: Any) -> None:
        if not (body.get("text") or "").strip():  # bare /vraag opens the form, within the trigger's 3 s
            await ack()
            await _open_modal(client, body.get("trigger_id"), ask_modal(self.deps.catalog, self._locale()))
            return
        try:
            await self._store(body)
        except NotStored:
            await ack(text=self._text("error.not_saved"), response_type="ephemeral")
            return
        if self._busy_for(body):  # a command's ack can carry the notice itself
            await ack(text=self._text("inbox.busy"), response_type="ephemeral")
        else:
            await ack()

    async def ask_modal(self, ack: Any, body: dict[str, Any], view: dict[str, Any], context: Any) -> None:
        request = ask_request_from(view)
        locale = view.get("private_metadata") or self._locale()
        if not (request.expert_external_id or request.topic):
            await ack(response_action="errors", errors={"expert": self.deps.catalog.text(locale, "modal.need_expert")})
            return
        if len(request.text) > MAX_QUESTION_CHARS:
            await ack(response_action="errors", errors={
                "question": self.deps.catalog.text(locale, "error.question_too_long", max=MAX_QUESTION_CHARS,
                                                   length=len(request.text))})
            return
        try:
            await self._store(body)
        except NotStored:  # the form stays open with the reason, so nothing typed is lost
            await ack(response_action="errors", errors={"question": self.deps.catalog.text(locale, "error.not_saved")})
            return
        await ack()
        self._tell_if_busy(body, context)

    async def stored(self, ack: Any, body: dict[str, Any], context: Any) -> None:
        """Interactions and events with nothing to check first: stored, then acked. When the store
        fails, NotStored makes the answer an error (bot/slack/guard.py): Slack shows the person that
        their press failed, and sends an event again later."""
        await self._store(body)
        await ack()
        self._tell_if_busy(body, context)

    async def message(self, ack: Any, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        if not is_thread_reply(event):  # not ours to keep: channel chatter is never stored
            await ack()
            return
        await self.stored(ack, body, context)

    async def open_topics_modal(self, ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        await _open_modal(client, body.get("trigger_id"), topics_modal(self.deps.catalog, self._locale()))

    # ------------------------------------------------------------------ helpers

    async def _store(self, body: dict[str, Any]) -> None:
        kind = kind_of(body)
        put = partial(self.inbox.put, platform="slack", kind=kind, dedup_key=dedup_key(kind, body),
                      person_key=person_key(body), payload=json.dumps(body))
        try:
            stored = await put()
        except Exception as error:
            if not is_connection_error(error):
                raise
            stored = await self._store_again(kind, put)
        if not stored:
            log.info("slack %s already received (a retry or a second submit): acknowledged again, worked once", kind)

    async def _store_again(self, kind: str, put: Callable[[], Awaitable[bool]]) -> bool:
        """The database blipped: tried again for STORE_SECONDS (the first try goes without this loop, which
        costs an ack a tenth of its CPU)."""
        retrying = AsyncRetrying(retry=retry_if_exception(is_connection_error), stop=stop_after_delay(STORE_SECONDS),
                                 wait=wait_exponential(multiplier=0.1, max=0.5), reraise=False)
        try:
            async for attempt in retrying:
                with attempt:
                    stored = await put()
        except RetryError as gave_up:
            error = gave_up.last_attempt.exception()
            log.error("slack %s not stored, database unreachable: %r", kind, error)
            raise NotStored(kind) from error
        except Exception as error:
            if is_connection_error(error):
                log.error("slack %s not stored, database unreachable: %r", kind, error)
                raise NotStored(kind) from error
            raise
        return stored

    def _busy_for(self, body: dict[str, Any]) -> bool:
        return self.inbox.busy.should_tell(self.inbox.backlog_age(), person_key(body))

    def _tell_if_busy(self, body: dict[str, Any], context: Any) -> None:
        """After the ack: a private line, sent in the background so the ack is not held up, with the
        token bolt authorized the request with (with OAuth distribution: its workspace's)."""
        user = user_of(body)
        if not user or not self._busy_for(body):
            return
        notice = OutgoingMessage(MessageKind.REPLY, self._text("inbox.busy"))
        with using_token(getattr(context, "bot_token", None)):  # the task starts with this token set
            task = asyncio.create_task(self._send_notice(user, notice))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _send_notice(self, user: str, notice: OutgoingMessage) -> None:
        try:
            await self.messenger.reply_privately(user, notice)
        except Exception as error:  # only a courtesy: the request itself is stored
            log.warning("slack: could not tell %s that it is busy: %r", user, error)

    def _locale(self) -> str:
        return self.deps.policy.default_locale

    def _text(self, key: str) -> str:
        return self.deps.catalog.text(self._locale(), key)


async def _open_modal(client: Any, trigger_id: Any, view: dict[str, Any]) -> None:
    """After the ack, a failure must not escape: bolt would then hold the HTTP answer for its 3 s ack
    timeout and answer 404, and Slack would show the user an error (found by tests/fuzz)."""
    if not isinstance(trigger_id, str) or not trigger_id:
        log.warning("slack: no trigger_id, cannot open the modal")
        return
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
        log.warning("slack: views.open failed: %s", getattr(error, "response", error))
