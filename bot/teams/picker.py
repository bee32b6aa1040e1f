"""Who is who between Teams and Microsoft Entra: the people picker's choice found in Teams, and each person's
Entra (AAD) object id kept, since Graph presence and the picker name people by it.

The ask card's people picker submits an Entra object id. It is found as a Teams user in this order: a person
we know with that object id (stored from ``from.aadObjectId`` on every contact), else the Bot Connector's
member look-up (async REST, the SDK's aio client; it accepts an object id) in the conversation the form was
sent from and then in the team channels the bot knows in the tenant. Found this way, the person is registered
with the question, in the turn's transaction; their personal chat is opened when the question is sent
(bot.teams.messenger). Not found: the asker is told, and nothing is stored."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity

from bot.teams.admission import activity_tenant
from bot.teams.cards import ACTION_KEY, ASK_FORM, EXPERT_ID, picked_object_id
from bot.teams.presence import TeamsPresence
from bot.teams.roster import looked_up_member
from handlers import dispatch
from handlers.context import Actor, Deps
from handlers.models import normalise_locale
from handlers.people import register_unnamed
from handlers.ports import Catalog, UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_CHANNELS = 5  # team channels asked at most per pick: each is a call inside the turn

Step = Callable[[Deps], Awaitable[None]]


async def _nothing(deps: Deps) -> None:
    return None


@dataclass(frozen=True)
class Member:
    user_id: str  # the Teams user id (29:...)
    name: str
    stored: bool  # we know them already


@dataclass
class Picked:
    """The submit as the use case reads it (with the picked person's Teams id), the step that registers
    them in the turn's transaction, or the refusal to say instead of running anything."""

    data: dict[str, Any]
    register: Step = field(default=_nothing)
    refusal: str | None = None


class Directory:
    def __init__(self, uow: UnitOfWorkFactory, catalog: Catalog, presence: TeamsPresence | None, *,
                 default_locale: str = "nl") -> None:
        self._uow = uow
        self._catalog = catalog
        self._default_locale = default_locale
        self._presence = presence
        self._known: set[tuple[str, str, str]] = set()  # (tenant, user id, object id) stored already

    async def before_turn(self, activity: Activity) -> None:
        """Tell the presence which workspace is this tenant, so its look-up inside the turn's transaction
        reads nothing (one read per tenant and process)."""
        tenant = activity_tenant(activity)
        if self._presence is None or not tenant or self._presence.knows(tenant):
            return
        try:
            async with self._uow() as uow:
                workspace = await uow.workspaces.by_external_id("teams", tenant)
        except Exception as error:  # the turn itself will meet the same database and say so
            log.warning("teams: could not read the workspace of tenant %s: %s", tenant, type(error).__name__)
            return
        if workspace is not None:
            self._presence.learn(workspace.id, tenant)

    async def after_turn(self, activity: Activity) -> None:
        """Keep the person's Entra object id (``from.aadObjectId``), once it changed or was never stored."""
        user = activity.from_property
        tenant = activity_tenant(activity)
        aad_object_id = getattr(user, "aad_object_id", None) if user is not None else None
        if not tenant or not user or not user.id or not isinstance(aad_object_id, str) or not aad_object_id:
            return
        key = (tenant, user.id, aad_object_id[:64])
        if key in self._known:
            return
        try:
            async with self._uow() as uow:
                person = await uow.people.by_platform_ids("teams", tenant, user.id)
                if person is None:
                    return  # not registered (a refusal, or forgotten): nothing to add it to
                if person.aad_object_id != key[2]:
                    person.aad_object_id = key[2]
        except Exception as error:  # only presence and the picker miss it; the next contact tries again
            log.warning("teams: could not store an Entra object id: %s", type(error).__name__)
            return
        self._known.add(key)

    async def prefetch_presence(self, actor: Actor, user_id: str | None) -> None:
        """Ask Graph ahead about a colleague a typed question names (@mention), when we know their object id."""
        if self._presence is None or not user_id:
            return
        async with self._uow() as uow:
            person = await uow.people.by_platform_ids("teams", actor.workspace_external_id, user_id)
        if person is not None and person.aad_object_id:
            await self._presence.prefetch(actor.workspace_external_id, person.aad_object_id)

    async def prepare(self, turn_context: TurnContext, actor: Actor, data: dict[str, Any]) -> Picked:
        """The ask form's submit with its people picker's choice found in Teams (and its presence asked
        ahead); other submits as they are."""
        data = {k: v for k, v in data.items() if k != EXPERT_ID}  # only we say who was found
        object_id = picked_object_id(data) if data.get(ACTION_KEY) == ASK_FORM else None
        if object_id is None:
            return Picked(data)
        tenant = actor.workspace_external_id
        member = await self._find(turn_context, tenant, object_id)
        if member is None:
            return Picked(data, refusal=self._catalog.text(normalise_locale(actor.locale, self._default_locale),
                                                           "teams.picked_unreachable"))
        if self._presence is not None:
            await self._presence.prefetch(tenant, object_id)

        async def register(deps: Deps) -> None:
            if member.user_id == actor.user_external_id:
                return  # asking yourself: the use case says so
            if not member.stored and member.name:  # the roster's name, never one the submit carried
                await dispatch.register(deps, Actor("teams", tenant, member.user_id, handle=_handle(member.name),
                                                    display_name=member.name))
            elif not member.stored:
                stand_in = deps.catalog.text(deps.policy.default_locale, "teams.unnamed_colleague")
                unnamed = Actor("teams", tenant, member.user_id)
                await deps.retry(lambda: register_unnamed(deps, unnamed, stand_in))
            async with deps.uow() as uow:
                person = await uow.people.by_platform_ids("teams", tenant, member.user_id)
                if person is not None and not person.aad_object_id:
                    person.aad_object_id = object_id

        return Picked({**data, EXPERT_ID: member.user_id}, register)

    async def _find(self, turn_context: TurnContext, tenant: str, object_id: str) -> Member | None:
        async with self._uow() as uow:
            workspace = await uow.workspaces.by_external_id("teams", tenant)
            person = await uow.people.by_aad_object_id(workspace.id, object_id) if workspace else None
            channels = [c.external_id for c in await uow.conversations.channels(workspace.id)] if workspace else []
        if person is not None:
            return Member(person.external_id, person.display_name, stored=True)
        client = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
        conversation = turn_context.activity.conversation
        here = [conversation.id.split(";")[0]] if conversation and conversation.id else []
        for conversation_id in list(dict.fromkeys(here + channels))[:MAX_CHANNELS + 1]:
            member = await self._member(client, conversation_id, object_id)
            if member is not None:
                return member
        return None

    async def _member(self, client: Any, conversation_id: str, object_id: str) -> Member | None:
        if client is None:
            return None
        account = await looked_up_member(client.conversations.get_conversation_member(conversation_id, object_id),
                                         "member look-up for the people picker")
        if account is None:
            return None
        return Member(account.id, getattr(account, "name", None) or "", stored=False)


def _handle(name: str) -> str | None:
    words = name.split()
    return words[0].lower() if words else None
