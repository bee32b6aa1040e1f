"""The Teams activity handler: commands as text (personal chat, or @mention in a channel), card
submits as message values (Action.Submit) or adaptiveCard/action invokes (Action.Execute). Each of
them takes effect once, even when the Bot Connector sends it again (bot/teams/turns.py)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from botbuilder.core import CardFactory, InvokeResponse, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse, ChannelAccount
from botbuilder.schema.teams import FileConsentCardResponse

from bot.teams.activities import activities_for
from bot.teams.card_updates import update_pressed_card
from bot.teams.cards import ACTION_KEY, ANSWER, ASK_FORM, CARD, ask_form, submitted_command
from bot.teams.escape import card_text, message_text
from bot.teams.files import export_bytes, file_info_activity, is_export_consent, upload
from bot.teams.messenger import TeamsMessenger
from bot.teams.picker import Directory
from bot.teams.privacy import answer_privately, result_is_private
from bot.teams.roster import Roster, TeamOwners
from bot.teams.turns import OnceOnly, once_key
from bot.teams.welcome import is_personal, nothing_else, welcome_key
from handlers import dispatch
from handlers.actions import Action
from handlers.button_commands import ExportData
from handlers.commands import addressed_expert, parse_or_refusal
from handlers.context import Actor, Deps
from handlers.errors import RecipientUnreachable, StorageUnavailable, TransientSendError
from handlers.messages import DataExport, Result
from handlers.people import register_unnamed, remember_conversation
from handlers.team_commands import SetTeamNudge, SwitchTeamNudge

log = logging.getLogger(__name__)

MAX_MENTIONS = 20  # per activity; more is a flood, not a message (issue 11, finding 10)
MENTION = re.compile(r"<at>([^<]*)</at>")
KNOWN_SUBMITS = {ASK_FORM, ANSWER} | {a.value for a in Action}

Work = Callable[[Deps], Awaitable[Result]]  # a turn's use case, run once (bot.teams.turns)
Step = Callable[[Deps], Awaitable[Any]]  # a part of it


def tenant_of(activity: Activity) -> str:
    """The tenant the allow-list checked (conversation.tenantId, else channelData.tenant.id); only the
    Emulator, in local testing, names none."""
    from bot.teams.admission import activity_tenant

    return activity_tenant(activity) or "unknown-tenant"


def actor_of(activity: Activity) -> Actor:
    """The person acting. ``from.name`` is theirs (Teams sets it), so it names them; without one the
    stored name stays as it is."""
    user = activity.from_property or ChannelAccount(id="unknown")
    conversation = activity.conversation
    channel = conversation.id.split(";")[0] if conversation and conversation.conversation_type == "channel" else None
    return Actor("teams", tenant_of(activity), user.id, handle=handle_of(user.name), display_name=user.name or None,
                 locale=activity.locale, time_zone=activity.local_timezone, channel=channel)


def handle_of(name: str | None) -> str | None:
    """What people type after @ for someone: the first word of their name, lower case."""
    words = (name or "").split()
    return words[0].lower() if words else None


def mentions_of(activity: Activity) -> list[tuple[str | None, str]]:
    """(mentioned id, its ``<at>...</at>`` text) for the activity's first MAX_MENTIONS mention entities."""
    found: list[tuple[str | None, str]] = []
    for entity in activity.entities or []:
        if entity.type != "mention":
            continue
        props = entity.additional_properties or {}
        mentioned = getattr(entity, "mentioned", None) or props.get("mentioned") or {}
        mentioned_id = mentioned.get("id") if isinstance(mentioned, dict) else getattr(mentioned, "id", None)
        mention_text = props.get("text") or getattr(entity, "text", None) or ""
        if mention_text:
            found.append((mentioned_id, mention_text))
    if len(found) > MAX_MENTIONS:
        log.warning("teams: an activity with %s mentions; only the first %s are read", len(found), MAX_MENTIONS)
    return found[:MAX_MENTIONS]


def command_text(activity: Activity) -> str:
    """The text without the bot's own @mention; other people's mentions become <@id|name> tokens,
    the form the shared command grammar reads."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for mentioned_id, mention_text in mentions_of(activity):
        if mentioned_id == bot_id:
            text = text.replace(mention_text, " ")
        else:
            handle = (MENTION.sub(r"\1", mention_text).split() or ["?"])[0].lower()
            text = text.replace(mention_text, f"<@{mentioned_id}|{handle}>")
    return " ".join(MENTION.sub(r"\1", text).split())


class VraagbotTeamsBot(TeamsActivityHandler):
    def __init__(self, deps: Deps, messenger: TeamsMessenger, *, directory: Directory | None = None,
                 roster: Roster | None = None, owners: TeamOwners | None = None) -> None:
        self.deps = deps
        self.roster = roster or Roster()  # names from Teams' member roster (bot/teams/roster.py)
        self.owners = owners or TeamOwners(None)  # team owners from Graph, for admins-only settings
        self.messenger = messenger  # for answers that belong in the person's personal chat
        self.once_only = OnceOnly(deps)
        # Entra object ids: the people picker's choice, and presence asked ahead (bot.teams.picker)
        self.directory = directory or Directory(deps.uow, deps.catalog, None)

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self.directory.before_turn(turn_context.activity)
        await super().on_turn(turn_context)
        await self.directory.after_turn(turn_context.activity)

    # ------------------------------------------------------------------ messages and card submits

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        actor = await self._actor(turn_context)
        await self._remember(activity, actor)
        if isinstance(activity.value, dict) and activity.value.get(ACTION_KEY):
            privately = answer_privately(activity, None)
            picked = await self.directory.prepare(turn_context, actor, activity.value)  # the people picker's choice
            if picked.refusal is not None:
                await turn_context.send_activity(MessageFactory.text(message_text(picked.refusal)))
                return

            async def submit(deps: Deps) -> Result:
                await picked.register(deps)
                return await _submit(deps, actor, picked.data)

            result = await self._once(activity, actor, submit)
        else:
            text = command_text(activity)
            words = text.split(maxsplit=1)
            # 'vraag ...' in Teams; '/vraag ...' too, the Slack form that help and the data summary show
            if words and words[0].lower().removeprefix("/") in ("vraag", "ask"):
                text = words[1] if len(words) > 1 else ""
                if not text:  # plain 'vraag' opens the form, like /vraag in Slack
                    form = ask_form(self.deps.catalog, self.deps.locale_of(actor))
                    await turn_context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(form)))
                    return
            privately = answer_privately(activity, text)
            parsed = parse_or_refusal(text)  # read once: for the colleague it names, then to run it
            actor = await self._with_role(turn_context, actor, parsed)
            register = await self._colleague(turn_context, actor, addressed_expert(parsed))
            await self.directory.prefetch_presence(actor, addressed_expert(parsed))  # no Graph call in the transaction

            async def work(deps: Deps) -> Result:
                await register(deps)
                return await dispatch.handle_parsed(deps, actor, parsed)

            result = await self._once(activity, actor, work)
        if result is None:
            await turn_context.send_activity(MessageFactory.text(message_text(self._already_received(actor))))
            return
        privately = privately or result_is_private(activity, result)
        said = await self._answer(turn_context, actor, result, privately)
        if privately and said:
            await turn_context.send_activity(MessageFactory.text(message_text(said)))
        await update_pressed_card(turn_context, self.deps, actor, activity.value, result)  # bot/teams/card_updates.py

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            response = await super().on_invoke_activity(turn_context)
            if response is None or response.status == 501:  # botbuilder's "no handler": the sender asked wrong
                return InvokeResponse(status=400)
            return response
        data = _card_data(activity.value)
        actor = await self._actor(turn_context)
        if not isinstance(data.get(ACTION_KEY), str) or data[ACTION_KEY] not in KNOWN_SUBMITS:
            text = self.deps.catalog.text(self.deps.locale_of(actor), "teams.unknown_invoke")
            return _invoke_message(text)
        await self._remember(activity, actor)
        result = await self._once(activity, actor, lambda deps: _submit(deps, actor, data))
        if result is None:  # the first delivery's answer timed out; this one answers in its place
            return _invoke_message(self._already_received(actor))
        # The answer replaces the clicked card where it was clicked: in a channel, only the short line.
        text = await self._answer(turn_context, actor, result, answer_privately(activity, None))
        return _invoke_message(text[:1000])

    async def _once(self, activity: Activity, actor: Actor, work: Work) -> Result | None:
        """The use case's Result, once it is committed; None when this activity had already taken effect."""
        try:
            return await self.once_only.run(once_key(activity), work)
        except StorageUnavailable:
            return dispatch.not_saved(self.deps, actor)

    def _already_received(self, actor: Actor) -> str:
        return self.deps.catalog.text(self.deps.locale_of(actor), "teams.already_received")

    # ------------------------------------------------------------------ installs

    async def on_teams_members_added_dispatch(self, members_added: list[Any], team_info: Any,
                                              turn_context: TurnContext) -> None:
        """Only whether the bot itself was added matters here (names come from bot/teams/roster.py), so the
        SDK's look-up of every other added member is skipped: one Bot Connector call each, and a member it
        cannot find failed the whole turn."""
        await self.on_teams_members_added(list(members_added), team_info, turn_context)

    async def on_teams_members_added(self, members_added: list[Any], team_info: Any,
                                     turn_context: TurnContext) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if not any(member.id == bot_id for member in members_added):
            return
        if team_info is None and is_personal(activity):
            await self._welcome(turn_context)
            return
        actor = actor_of(activity)
        await self._remember_team(turn_context, actor, team_info)
        text = self.deps.catalog.text(self.deps.policy.default_locale, "teams.greeting_team")
        await turn_context.send_activity(MessageFactory.text(message_text(text)))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        if is_personal(turn_context.activity):  # a team install is greeted through its conversationUpdate
            await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        """Greet a person who installed the app, in their language, once for all install events
        (bot/teams/welcome.py). The person and their chat are stored first, with their roster name."""
        activity = turn_context.activity
        actor = await self._actor(turn_context)
        await self._remember(activity, actor)
        try:
            first = await self.once_only.run(welcome_key(activity), nothing_else)
        except StorageUnavailable:
            first = None
            log.warning("teams: no welcome: the database could not record it")
        if first is None:
            return
        text = self.deps.catalog.text(self.deps.locale_of(actor), "teams.greeting_personal",
                                      days=self.deps.policy.text_retention_days)
        await turn_context.send_activity(MessageFactory.text(message_text(text)))

    # ------------------------------------------------------------------ exports as files (bot/teams/files.py)

    async def on_teams_file_consent_accept(self, turn_context: TurnContext,
                                           file_consent_card_response: FileConsentCardResponse) -> None:
        """The person allowed the upload: their export, made now, goes to the URL Teams gave, once."""
        activity = turn_context.activity
        actor = await self._actor(turn_context)
        locale = self.deps.locale_of(actor)
        if not is_export_consent(file_consent_card_response.context) or not is_personal(activity):
            await turn_context.send_activity(MessageFactory.text(message_text(
                self.deps.catalog.text(locale, "teams.unknown_invoke"))))
            return
        result = await self._once(activity, actor, lambda deps: dispatch.handle_parsed(deps, actor, ExportData()))
        if result is None:  # a resend: the first delivery uploaded (or said why not)
            return
        export = next((r.attachment for r in result.replies if isinstance(r.attachment, DataExport)), None)
        if export is None:  # nothing stored any more, or not saved: say what the use case says
            for reply in result.replies:
                await turn_context.send_activity(MessageFactory.text(message_text(reply.text)))
            return
        info = file_consent_card_response.upload_info
        if info is None or not await upload(info.upload_url, export_bytes(export)):
            text = self.deps.catalog.text(locale, "teams.export_upload_failed")
            await turn_context.send_activity(MessageFactory.text(message_text(text)))
            return
        await turn_context.send_activity(file_info_activity(info))
        text = self.deps.catalog.text(locale, "teams.export_uploaded")
        await turn_context.send_activity(MessageFactory.text(message_text(text)))

    async def on_teams_file_consent_decline(self, turn_context: TurnContext,
                                            file_consent_card_response: FileConsentCardResponse) -> None:
        activity = turn_context.activity
        actor = await self._actor(turn_context)
        if await self._once(activity, actor, nothing_else) is None:
            return
        text = self.deps.catalog.text(self.deps.locale_of(actor), "teams.export_declined")
        await turn_context.send_activity(MessageFactory.text(message_text(text)))

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

    async def _colleague(self, turn_context: TurnContext, actor: Actor, expert_id: str | None) -> Step:
        """How to register the colleague a question @mentions, who may not have used the bot yet; run with
        the question, after the roster look-up (a network call, so outside the transaction). Anyone can
        label any id with any name in a mention, so their name comes from the roster (or later from their
        own message), never from the mention (issue 11, finding 10)."""
        if not expert_id or expert_id == actor.user_external_id:
            return _no_registration
        member = await self._roster_member(turn_context, expert_id)
        if member is not None and member.name:
            named = Actor("teams", actor.workspace_external_id, expert_id, handle=handle_of(member.name),
                          display_name=member.name)
            return lambda deps: dispatch.register(deps, named)
        stand_in = self.deps.catalog.text(self.deps.policy.default_locale, "teams.unnamed_colleague")
        unnamed = Actor("teams", actor.workspace_external_id, expert_id)
        return lambda deps: deps.retry(lambda: register_unnamed(deps, unnamed, stand_in))

    async def _roster_member(self, turn_context: TurnContext, member_id: str) -> Any:
        """The member as the Bot Connector knows them in this conversation (its team, in a channel), or None."""
        return await self.roster.member(turn_context, member_id)

    async def _actor(self, turn_context: TurnContext) -> Actor:
        """The person acting, with their roster name when the activity carries none (an invoke, an install)."""
        activity = turn_context.activity
        actor = actor_of(activity)
        if actor.display_name or actor.user_external_id == "unknown":
            return actor
        name = await self.roster.own_name(turn_context, actor.workspace_external_id, actor.user_external_id)
        return replace(actor, display_name=name, handle=handle_of(name)) if name else actor

    async def _with_role(self, turn_context: TurnContext, actor: Actor, parsed: Any) -> Actor:
        """A team owner counts as an admin for a channel's weekly message (asked of Graph only then)."""
        changes_nudge = isinstance(parsed, SetTeamNudge | SwitchTeamNudge)
        if not changes_nudge or not actor.channel or not self.deps.policy.team_nudge_admins_only:
            return actor
        owner = await self.owners.is_owner(turn_context, actor.workspace_external_id)
        return replace(actor, is_admin=True) if owner else actor

    async def _answer(self, turn_context: TurnContext, actor: Actor, result: Result, privately: bool) -> str:
        """Send the result and return what it says where it was asked for. Privately (bot.teams.privacy):
        the whole result goes to the person's personal chat and what is said here is one short line."""
        locale = self.deps.locale_of(actor)
        activities = [a for reply in result.replies for a in activities_for(reply, self.deps.catalog, locale)]
        if not privately:
            for activity in activities:
                await turn_context.send_activity(activity)
            return "\n".join(r.text for r in result.replies)
        if not activities:
            return ""
        try:
            await self.messenger.send_to_personal_chat(
                activities, tenant_id=actor.workspace_external_id, user_id=actor.user_external_id,
                via=TurnContext.get_conversation_reference(turn_context.activity))
        except (RecipientUnreachable, TransientSendError) as error:
            log.warning("teams: a personal answer could not be sent to the personal chat: %s", error)
            return self.deps.catalog.text(locale, "teams.private_unreachable")
        return self.deps.catalog.text(locale, "teams.sent_privately")


async def _submit(deps: Deps, actor: Actor, data: dict[str, Any]) -> Result:
    # Parsed inside dispatch's guard: a card that no longer works is told so, like a refused use case.
    return await dispatch.handle_input(deps, actor, submitted_command, data)


async def _no_registration(deps: Deps) -> None:
    return None


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
    card = {"type": "AdaptiveCard", "version": "1.4",
            "body": [{"type": "TextBlock", "text": card_text(text), "wrap": True}]}
    return InvokeResponse(status=200, body=AdaptiveCardInvokeResponse(status_code=200, type=CARD, value=card))
