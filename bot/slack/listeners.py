"""Slack listeners. Each one acks at once (no database or Web API work before ack, except opening
a modal, whose trigger_id expires in 3 seconds) and does the work in a lazy listener after."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import (
    ASK_MODAL,
    OPEN_TOPICS_MODAL,
    TOPICS_MODAL,
    ask_modal,
    fallback_text,
    home_view,
    message_blocks,
    topics_modal,
)
from bot.slack.web import SlackDirectory, SlackMessenger
from handlers import dispatch
from handlers.actions import Action
from handlers.asking import AskRequest
from handlers.commands import Ask, mentioned_expert
from handlers.context import Actor, Deps
from handlers.errors import StorageUnavailable
from handlers.messages import Result
from handlers.models import MAX_QUESTION_CHARS, QuestionKind
from nudges.inflight import InFlight

log = logging.getLogger(__name__)

ACTIONS = re.compile("^(" + "|".join(a.value for a in Action) + ")$")


class SlackListeners:
    def __init__(self, deps: Deps, directory: SlackDirectory, messenger: SlackMessenger, inflight: InFlight) -> None:
        self.deps = deps
        self.directory = directory
        self.messenger = messenger
        self.inflight = inflight

    def register(self, app: AsyncApp) -> None:
        def lazy(work: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
            # Shutdown waits for work that runs after the ack; a database that stays away is told.
            return self.inflight.track(self._telling_when_not_saved(work))

        app.command("/vraag")(ack=self.ack_command, lazy=[lazy(self.run_command)])
        app.view(ASK_MODAL)(ack=self.ack_ask_modal, lazy=[lazy(self.run_ask_modal)])
        app.view(TOPICS_MODAL)(ack=self.ack_plain, lazy=[lazy(self.run_topics_modal)])
        app.action(ACTIONS)(ack=self.ack_plain, lazy=[lazy(self.run_action)])
        app.action(OPEN_TOPICS_MODAL)(self.open_topics_modal)
        app.event("message")(ack=self.ack_plain, lazy=[lazy(self.run_message)])
        app.event("app_home_opened")(ack=self.ack_plain, lazy=[lazy(self.run_home)])

    # ------------------------------------------------------------------ acks: fast, no storage

    async def ack_plain(self, ack: Any) -> None:
        await ack()

    async def ack_command(self, ack: Any, command: dict[str, Any], client: Any) -> None:
        await ack()
        if not command.get("text", "").strip():  # bare /vraag opens the form, within the trigger's 3 s
            await _open_modal(client, command.get("trigger_id"),
                              ask_modal(self.deps.catalog, self.deps.policy.default_locale))

    async def open_topics_modal(self, ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        await _open_modal(client, body.get("trigger_id"),
                          topics_modal(self.deps.catalog, self.deps.policy.default_locale))

    async def ack_ask_modal(self, ack: Any, view: dict[str, Any]) -> None:
        request = ask_request_from(view)
        locale = view.get("private_metadata") or self.deps.policy.default_locale
        if not (request.expert_external_id or request.topic):
            await ack(response_action="errors", errors={"expert": self.deps.catalog.text(locale, "modal.need_expert")})
        elif len(request.text) > MAX_QUESTION_CHARS:
            await ack(response_action="errors", errors={
                "question": self.deps.catalog.text(locale, "error.question_too_long", max=MAX_QUESTION_CHARS,
                                                   length=len(request.text))})
        else:
            await ack()

    # ------------------------------------------------------------------ work, after the ack

    async def run_command(self, command: dict[str, Any], respond: Any) -> None:
        text = command.get("text", "")
        if not text.strip():
            return
        actor = await self.directory.actor(command["team_id"], command["user_id"], command.get("user_name"))
        actor = replace(actor, channel=team_channel(command))
        expert_id = mentioned_expert(text)
        if expert_id:  # a colleague named as <@U123> may not have used the bot yet
            await self._register(command["team_id"], expert_id)
        result = await dispatch.handle_text(self.deps, actor, text)
        await self._respond(result, actor, respond)

    async def run_ask_modal(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        team_id, user_id = _team(body), body["user"]["id"]
        actor = await self.directory.actor(team_id, user_id, body["user"].get("username"))
        request = ask_request_from(view)
        if request.expert_external_id:
            await self._register(team_id, request.expert_external_id)
        result = await dispatch.handle_command(self.deps, actor, Ask(request))
        for reply in result.replies:
            await self.messenger.reply_privately(user_id, reply)

    async def run_topics_modal(self, body: dict[str, Any], view: dict[str, Any], client: Any) -> None:
        team_id, user_id = _team(body), body["user"]["id"]
        actor = await self.directory.actor(team_id, user_id, body["user"].get("username"))
        raw = view["state"]["values"]["topics"]["value"].get("value") or ""
        result = await dispatch.handle_text(self.deps, actor, f"rol {raw}")
        for reply in result.replies:
            await self.messenger.reply_privately(user_id, reply)
        await self._publish_home(client, actor)

    async def run_action(self, body: dict[str, Any], action: dict[str, Any], respond: Any, client: Any) -> None:
        team_id, user_id = _team(body), body["user"]["id"]
        actor = await self.directory.actor(team_id, user_id, body["user"].get("username"))
        result = await dispatch.handle_action(self.deps, actor, action["action_id"], action.get("value", ""))
        if body.get("response_url"):
            await self._respond(result, actor, respond)
        else:  # pressed in the App Home: no response_url there
            for reply in result.replies:
                await self.messenger.reply_privately(user_id, reply)
        if body.get("view", {}).get("type") == "home":
            await self._publish_home(client, actor)

    async def run_message(self, body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        thread_ts, ts = event.get("thread_ts"), event.get("ts")
        # Only people's replies inside a thread; edits, joins and bot posts carry a subtype or bot_id.
        if not thread_ts or thread_ts == ts or event.get("bot_id") or not event.get("user"):
            return
        if event.get("subtype") not in (None, "thread_broadcast"):
            return
        actor = await self.directory.actor(_team(body) or event.get("team", ""), event["user"])
        result = await dispatch.handle_thread_message(self.deps, actor, f"{event['channel']}:{thread_ts}",
                                                      event.get("text", ""), event_id=body.get("event_id"))
        for reply in result.replies:  # visible to the writer only, inside the thread
            await client.chat_postEphemeral(channel=event["channel"], user=event["user"], thread_ts=thread_ts,
                                            text=fallback_text(reply), blocks=message_blocks(reply))

    async def run_home(self, body: dict[str, Any], event: dict[str, Any], client: Any) -> None:
        if event.get("tab", "home") != "home":
            return
        actor = await self.directory.actor(_team(body), event["user"])
        await self._publish_home(client, actor)

    # ------------------------------------------------------------------ helpers

    def _telling_when_not_saved(self, work: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """Use cases already answer "not saved" themselves; this covers the storage calls around them
        (registering a named colleague, the App Home overview), so no request is dropped silently."""

        @functools.wraps(work)
        async def guarded(**kwargs: Any) -> None:
            try:
                await work(**kwargs)
            except StorageUnavailable:
                await self._tell_not_saved(kwargs)

        return guarded

    async def _tell_not_saved(self, kwargs: dict[str, Any]) -> None:
        body = kwargs.get("body") or kwargs.get("command") or {}
        event = kwargs.get("event") or {}
        user_id = body.get("user_id") or (body.get("user") or {}).get("id") or event.get("user")
        if not user_id:
            return
        actor = await self.directory.actor(_team(body), user_id)
        [reply] = dispatch.not_saved(self.deps, actor).replies
        try:
            if body.get("response_url") and kwargs.get("respond") is not None:
                await kwargs["respond"](text=fallback_text(reply), response_type="ephemeral",
                                        replace_original=False)
            else:
                await self.messenger.reply_privately(user_id, reply)
        except Exception:
            log.exception("could not tell %s that their request was not saved", user_id)

    async def _register(self, team_id: str, user_id: str) -> None:
        await dispatch.register(self.deps, await self.directory.actor(team_id, user_id))

    async def _publish_home(self, client: Any, actor: Actor) -> None:
        overview = await dispatch.overview(self.deps, actor)
        await client.views_publish(user_id=actor.user_external_id, view=home_view(self.deps.catalog, overview))

    async def _respond(self, result: Result, actor: Actor, respond: Any) -> None:
        for reply in result.replies:
            if reply.attachment is not None:
                await self.messenger.upload_to(actor.user_external_id, reply)
            else:
                await respond(text=fallback_text(reply), blocks=message_blocks(reply), response_type="ephemeral",
                              replace_original=False)


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


def team_channel(command: dict[str, Any]) -> str | None:
    """The channel a slash command was typed in, unless it is a direct or group message: those are
    not team channels (their ids start with D; group DMs are named mpdm-...)."""
    channel, name = command.get("channel_id") or "", command.get("channel_name") or ""
    if not channel or channel.startswith("D") or name == "directmessage" or name.startswith("mpdm-"):
        return None
    return channel


def _team(body: dict[str, Any]) -> str:
    # Events carry team_id at the top; interactivity payloads carry a team object.
    return body.get("team_id") or (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id") or ""


def ask_request_from(view: dict[str, Any]) -> AskRequest:
    values = view["state"]["values"]

    def field(block: str) -> dict[str, Any]:
        return values.get(block, {}).get("value", {}) or {}

    kind = (field("kind").get("selected_option") or {}).get("value")
    urgent = any(o.get("value") == "urgent" for o in field("urgent").get("selected_options") or [])
    return AskRequest(
        text=(field("question").get("value") or "").strip(),
        expert_external_id=field("expert").get("selected_user"),
        topic=(field("topic").get("value") or "").strip() or None,
        first_assessment=field("assessment").get("value"),
        kind=QuestionKind(kind) if kind in ("doubt", "complex") else None,
        urgent=urgent,
        share_kind=any(o.get("value") == "share" for o in field("share_kind").get("selected_options") or []),
    )
