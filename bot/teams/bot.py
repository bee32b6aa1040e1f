"""The Teams activity handler: commands as text (personal chat, or @mention in a channel), card
submits as message values (Action.Submit) or adaptiveCard/action invokes (Action.Execute)."""

from __future__ import annotations

import logging
import re
from typing import Any

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse, ChannelAccount

from bot.teams.activities import activities_for
from bot.teams.cards import ACTION_KEY, ANSWER, ASK_FORM, CARD, ask_form
from handlers import dispatch
from handlers.actions import Action
from handlers.asking import AskRequest
from handlers.commands import Ask
from handlers.context import Actor, Deps
from handlers.messages import Result
from handlers.models import QuestionKind
from handlers.people import remember_conversation

log = logging.getLogger(__name__)

MENTION = re.compile(r"<at>([^<]*)</at>")
KNOWN_SUBMITS = {ASK_FORM, ANSWER} | {a.value for a in Action}


def tenant_of(activity: Activity) -> str:
    channel_data = activity.channel_data or {}
    return (activity.conversation.tenant_id if activity.conversation else None) or \
        (channel_data.get("tenant") or {}).get("id") or "unknown-tenant"


def actor_of(activity: Activity) -> Actor:
    user = activity.from_property or ChannelAccount(id="unknown")
    name = user.name or user.id
    conversation = activity.conversation
    channel = conversation.id.split(";")[0] if conversation and conversation.conversation_type == "channel" else None
    return Actor("teams", tenant_of(activity), user.id, handle=name.split()[0].lower() if name else None,
                 display_name=name, locale=activity.locale, time_zone=activity.local_timezone, channel=channel)


def command_text(activity: Activity) -> str:
    """The text without the bot's own @mention; other people's mentions become <@id|name> tokens,
    the form the shared command grammar reads."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        if entity.type != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = getattr(entity, "mentioned", None) or props.get("mentioned") or {}
        mentioned_id = mentioned.get("id") if isinstance(mentioned, dict) else getattr(mentioned, "id", None)
        mention_text = props.get("text") or getattr(entity, "text", None) or ""
        if not mention_text:
            continue
        if mentioned_id == bot_id:
            text = text.replace(mention_text, " ")
        else:
            handle = (MENTION.sub(r"\1", mention_text).split() or ["?"])[0].lower()
            text = text.replace(mention_text, f"<@{mentioned_id}|{handle}>")
    return " ".join(MENTION.sub(r"\1", text).split())


class VraagbotTeamsBot(TeamsActivityHandler):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # ------------------------------------------------------------------ messages and card submits

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        actor = actor_of(activity)
        await self._remember(activity, actor)
        if isinstance(activity.value, dict) and activity.value.get(ACTION_KEY):
            result = await self._submit(actor, activity.value)
        else:
            text = command_text(activity)
            words = text.split(maxsplit=1)
            if words and words[0].lower() in ("vraag", "ask"):
                text = words[1] if len(words) > 1 else ""
                if not text:  # plain 'vraag' opens the form, like /vraag in Slack
                    form = ask_form(self.deps.catalog, self.deps.locale_of(actor))
                    await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(form)))
                    return
            await self._register_mentioned(activity, actor)
            result = await dispatch.handle_text(self.deps, actor, text)
        await self._reply(turn_context, actor, result)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            response = await super().on_invoke_activity(turn_context)
            if response is None or response.status == 501:  # botbuilder's "no handler": the sender asked wrong
                return InvokeResponse(status=400)
            return response
        data = _card_data(activity.value)
        actor = actor_of(activity)
        if not isinstance(data.get(ACTION_KEY), str) or data[ACTION_KEY] not in KNOWN_SUBMITS:
            text = self.deps.catalog.text(self.deps.locale_of(actor), "teams.unknown_invoke")
            return _invoke_message(text)
        await self._remember(activity, actor)
        result = await self._submit(actor, data)
        await self._reply(turn_context, actor, result)
        text = "\n".join(r.text for r in result.replies)[:1000]
        return _invoke_message(text)

    async def _submit(self, actor: Actor, data: dict[str, Any]) -> Result:
        kind = data.get(ACTION_KEY)
        if kind == ASK_FORM:
            return await dispatch.handle_command(self.deps, actor, Ask(_ask_request(data)))
        if kind == ANSWER:
            try:
                question_id = int(str(data.get("value", "")))
            except ValueError:
                question_id = 0
            return await dispatch.handle_reply(self.deps, actor, question_id, str(data.get("answer") or ""))
        return await dispatch.handle_action(self.deps, actor, str(kind), str(data.get("value", "")))

    # ------------------------------------------------------------------ installs

    async def on_teams_members_added(self, members_added: list[Any], team_info: Any,
                                     turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if not any(member.id == bot_id for member in members_added):
            return
        actor = actor_of(activity)
        if team_info is not None or (activity.conversation and activity.conversation.conversation_type == "channel"):
            await self._remember_team(turn_context, actor, team_info)
            text = self.deps.catalog.text(self.deps.policy.default_locale, "teams.greeting_team")
        else:
            await self._remember(activity, actor)
            text = self.deps.catalog.text(self.deps.locale_of(actor), "teams.greeting_personal")
        await turn_context.send_activity(MessageFactory.text(text))

    async def _remember_team(self, turn_context: TurnContext, actor: Actor, team_info: Any) -> None:
        """The channel the bot was added in. (TeamsInfo.get_team_channels would list the others, but it
        uses a blocking HTTP client that stalls the event loop; channels where the bot is @mentioned
        are stored when that happens.)"""
        activity = turn_context.activity
        reference = TurnContext.get_conversation_reference(activity)
        channel_id = activity.conversation.id.split(";")[0]
        reference.conversation.id = channel_id
        await remember_conversation(self.deps, actor, kind="channel", external_id=channel_id,
                                    name=getattr(team_info, "name", "") or "", reference=reference.serialize())

    # ------------------------------------------------------------------ helpers

    async def _remember(self, activity: Activity, actor: Actor) -> None:
        """Every contact refreshes the stored reference, so proactive sends work after a restart."""
        reference = TurnContext.get_conversation_reference(activity)
        if activity.conversation and activity.conversation.conversation_type in (None, "personal"):
            await remember_conversation(self.deps, actor, kind="person", external_id=actor.user_external_id,
                                        name=actor.display_name or "", reference=reference.serialize())
        elif actor.channel:  # a channel where the bot was @mentioned: its root, for weekly nudges
            reference.conversation.id = actor.channel
            await remember_conversation(self.deps, actor, kind="channel", external_id=actor.channel,
                                        name="", reference=reference.serialize())

    async def _register_mentioned(self, activity: Activity, actor: Actor) -> None:
        bot_id = activity.recipient.id if activity.recipient else None
        for entity in activity.entities or []:
            props = entity.additional_properties or {}
            mentioned = props.get("mentioned") if entity.type == "mention" else None
            if isinstance(mentioned, dict) and mentioned.get("id") and mentioned.get("id") != bot_id:
                name = mentioned.get("name") or mentioned["id"]
                await dispatch.register(self.deps, Actor("teams", actor.workspace_external_id, mentioned["id"],
                                                         handle=name.split()[0].lower(), display_name=name))

    async def _reply(self, turn_context: TurnContext, actor: Actor, result: Result) -> None:
        locale = self.deps.locale_of(actor)
        for reply in result.replies:
            for activity in activities_for(reply, self.deps.catalog, locale):
                await turn_context.send_activity(activity)


def _card_data(value: Any) -> dict[str, Any]:
    """The data of an Action.Execute, with its verb as the action when the data names none. Any part
    may be missing or of the wrong type in a request not made by Teams: then there is no action."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict):
        return {}
    data = action.get("data")
    data = dict(data) if isinstance(data, dict) else {}
    data.setdefault(ACTION_KEY, action.get("verb"))
    return data


def _invoke_message(text: str) -> InvokeResponse:
    """Universal Actions answer: the clicked card is replaced by one that says what happened.
    (botbuilder's model only serialises a card here, not the plain 'message' variant.)"""
    card = {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "TextBlock", "text": text, "wrap": True}]}
    return InvokeResponse(status=200, body=AdaptiveCardInvokeResponse(status_code=200, type=CARD, value=card))


def _ask_request(data: dict[str, Any]) -> AskRequest:
    expert = str(data.get("expert") or "").strip()
    kind = data.get("kind")
    return AskRequest(
        text=str(data.get("question") or "").strip(),
        expert_handle=expert.lstrip("@").split()[0].lower() if expert else None,
        topic=str(data.get("topic") or "").strip() or None,
        first_assessment=str(data.get("assessment") or "").strip() or None,
        kind=QuestionKind(kind) if kind in ("doubt", "complex") else None,
        urgent=str(data.get("urgent")).lower() == "true",
    )

