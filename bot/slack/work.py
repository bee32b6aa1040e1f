"""Slack's side of the work (issue 12): a stored request, claimed by an inbox worker, becomes a use case
run in one transaction, and then the person's answer (response_url, an ephemeral reply in the thread,
the App Home). Name look-ups (users.info) happen before the transaction, answers after it."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.internals import extract_enterprise_id, extract_is_enterprise_install
from slack_sdk.web.async_client import AsyncWebClient

from bot.inbox.workers import Transact
from bot.slack.blocks import ASK_MODAL, TOPICS_MODAL, fallback_text, home_view, message_blocks
from bot.slack.installations import WorkspaceTokens, workspace_key_of
from bot.slack.message_updates import update_pressed_message
from bot.slack.payloads import ask_request_from, is_thread_reply, team_channel, team_of, topics_field, user_of
from bot.slack.web import SlackDirectory, SlackMessenger, SlackPresence, in_org_workspace, using_token
from handlers import dispatch
from handlers.commands import Ask, addressed_expert, parse_or_refusal, topics_command
from handlers.context import Actor, Deps
from handlers.messages import OutgoingMessage, Result
from handlers.models import MessageKind
from handlers.pressed import pressed
from storage.repositories.inbox import ClaimedRequest

log = logging.getLogger(__name__)


def workspace_of(body: dict[str, Any]) -> str:
    """The workspace someone acts in, as vraagbot keys it: with an org-wide install on Enterprise Grid the
    org, whose user ids are the same in each of its workspaces (one person, colleagues in any of them);
    otherwise the workspace (team) itself."""
    if extract_is_enterprise_install(body) and (org := extract_enterprise_id(body)):
        return org
    return team_of(body)


def org_workspace_of(body: dict[str, Any]) -> str:
    """With an org-wide install: the org's workspace someone acts in, a team of its own for figures
    (questions asked there, that channel's weekly message). '' otherwise: the workspace is the team."""
    if not (extract_is_enterprise_install(body) and extract_enterprise_id(body)):
        return ""
    return team_of(body) or (body.get("event") or {}).get("team") or (body.get("view") or {}).get("team_id") or ""


class SlackWork:
    """Implements bot.inbox.workers.InboxRunner for Slack."""

    def __init__(self, deps: Deps, directory: SlackDirectory, messenger: SlackMessenger, presence: SlackPresence,
                 client: AsyncWebClient, tokens: WorkspaceTokens | None = None) -> None:
        self.deps = deps
        self.directory = directory
        self.messenger = messenger
        self.presence = presence
        self.client = client
        self.tokens = tokens  # OAuth distribution: each workspace's own bot token

    async def run(self, request: ClaimedRequest, transact: Transact) -> None:
        body = json.loads(request.payload)
        # With OAuth distribution every Web API call of this request's work goes with the token of the install it
        # came through (None: the client's own, SLACK_BOT_TOKEN); an org token's calls name the request's workspace.
        token = await self.tokens.bot_token(workspace_key_of(body)) if self.tokens is not None else None
        with using_token(token), in_org_workspace(org_workspace_of(body)):
            await self._run(request, body, transact)

    async def _run(self, request: ClaimedRequest, body: dict[str, Any], transact: Transact) -> None:
        if request.kind == "command":
            await self._command(body, transact)
        elif request.kind == "view_submission":
            callback = (body.get("view") or {}).get("callback_id")
            if callback == ASK_MODAL:
                await self._ask_modal(body, transact)
            elif callback == TOPICS_MODAL:
                await self._topics_modal(body, transact)
        elif request.kind == "block_actions":
            await self._action(body, transact)
        elif request.kind == "event_callback":
            event = body.get("event") or {}
            if event.get("type") == "message" and is_thread_reply(event):
                await self._thread_message(body, event, transact)
            elif event.get("type") == "app_home_opened" and event.get("tab", "home") == "home":
                actor = await self._actor(body)
                await self._publish_home(actor, await transact(lambda deps: dispatch.overview(deps, actor)))
        else:
            log.warning("slack: stored request %s of kind %r has no work; done", request.id, request.kind)

    async def given_up(self, request: ClaimedRequest) -> None:
        body = json.loads(request.payload) if request.payload else {}
        token = await self.tokens.bot_token(workspace_key_of(body)) if self.tokens is not None else None
        if (user := user_of(body)) and (self.tokens is None or token):
            text = self.deps.catalog.text(self.deps.policy.default_locale, "inbox.given_up")
            with using_token(token):
                await self.messenger.reply_privately(user, OutgoingMessage(MessageKind.REPLY, text))

    # ------------------------------------------------------------------ per kind

    async def _command(self, body: dict[str, Any], transact: Transact) -> None:
        parsed = parse_or_refusal(body.get("text") or "")  # read once: whom it names, then what it does
        actor = replace(await self._actor(body, body.get("user_name")), channel=team_channel(body))
        expert_id = addressed_expert(parsed)
        # A colleague named as <@U123> may not have used the bot yet: registered with the question.
        expert = await self._named_expert(workspace_of(body), expert_id)

        async def work(deps: Deps) -> Result:
            if expert is not None:
                await dispatch.register(deps, expert)
            return await dispatch.handle_parsed(deps, actor, parsed)

        await self._respond(await transact(work), actor, body)

    async def _ask_modal(self, body: dict[str, Any], transact: Transact) -> None:
        actor = await self._actor(body, (body.get("user") or {}).get("username"))
        request = ask_request_from(body["view"])
        expert = await self._named_expert(workspace_of(body), request.expert_external_id)

        async def work(deps: Deps) -> Result:
            if expert is not None:
                await dispatch.register(deps, expert)
            return await dispatch.handle_command(deps, actor, Ask(request))

        for reply in (await transact(work)).replies:
            await self.messenger.reply_privately(actor.user_external_id, reply)

    async def _topics_modal(self, body: dict[str, Any], transact: Transact) -> None:
        actor = await self._actor(body, (body.get("user") or {}).get("username"))
        raw = topics_field(body["view"])

        async def work(deps: Deps) -> tuple[Result, Any]:
            result = await dispatch.handle_input(deps, actor, topics_command, raw)
            return result, await dispatch.overview(deps, actor)

        result, overview = await transact(work)
        for reply in result.replies:
            await self.messenger.reply_privately(actor.user_external_id, reply)
        await self._publish_home(actor, overview)

    async def _action(self, body: dict[str, Any], transact: Transact) -> None:
        actions = body.get("actions") or [{}]
        action = actions[0]
        actor = await self._actor(body, (body.get("user") or {}).get("username"))
        on_home = (body.get("view") or {}).get("type") == "home"

        async def work(deps: Deps) -> tuple[Result, Any]:
            result = await dispatch.handle_action(deps, actor, action.get("action_id", ""), action.get("value", ""))
            return result, (await dispatch.overview(deps, actor) if on_home else None)

        result, overview = await transact(work)
        if body.get("response_url"):
            await self._respond(result, actor, body)
        else:  # pressed in the App Home: no response_url there
            for reply in result.replies:
                await self.messenger.reply_privately(actor.user_external_id, reply)
        if overview is not None:
            await self._publish_home(actor, overview)
        await self._update_pressed(body, action, actor, result)

    async def _update_pressed(self, body: dict[str, Any], action: dict[str, Any], actor: Actor, result: Result) -> None:
        """A one-shot button that took effect: its message shows the choice instead (bot/slack/message_updates.py)."""
        if not result.ok:
            return
        done = pressed(self.deps.catalog, self.deps.locale_of(actor), action.get("action_id", ""),
                       action.get("value", ""), by=actor.display_name or actor.handle or actor.user_external_id)
        if done is not None:
            await update_pressed_message(self.client, body, done)

    async def _thread_message(self, body: dict[str, Any], event: dict[str, Any], transact: Transact) -> None:
        actor = replace(await self.directory.actor(workspace_of(body) or event.get("team", ""), event["user"]),
                        org_workspace=org_workspace_of(body))
        thread = f"{event['channel']}:{event['thread_ts']}"
        result = await transact(lambda deps: dispatch.handle_thread_message(
            deps, actor, thread, event.get("text", ""), event_id=body.get("event_id")))
        for reply in result.replies:  # visible to the writer only, inside the thread
            await self.client.chat_postEphemeral(channel=event["channel"], user=event["user"],
                                                 thread_ts=event["thread_ts"], text=fallback_text(reply),
                                                 blocks=message_blocks(reply))

    # ------------------------------------------------------------------ helpers

    async def _named_expert(self, team_id: str, user_id: str | None) -> Actor | None:
        """The colleague a question names, looked up (and their focus time asked) before the transaction."""
        if not user_id:
            return None
        await self.presence.prefetch(user_id)
        return await self.directory.actor(team_id, user_id)

    async def _actor(self, body: dict[str, Any], fallback_name: str | None = None) -> Actor:
        actor = await self.directory.actor(workspace_of(body), user_of(body), fallback_name)
        return replace(actor, org_workspace=org_workspace_of(body))

    async def _publish_home(self, actor: Actor, overview: Any) -> None:
        await self.client.views_publish(user_id=actor.user_external_id, view=home_view(self.deps.catalog, overview))

    async def _respond(self, result: Result, actor: Actor, body: dict[str, Any]) -> None:
        respond = AsyncRespond(response_url=body.get("response_url"))
        for reply in result.replies:
            if reply.attachment is not None:
                await self.messenger.upload_to(actor.user_external_id, reply)
            else:
                await respond(text=fallback_text(reply), blocks=message_blocks(reply), response_type="ephemeral",
                              replace_original=False)
