"""Proactive sends to Teams from stored conversation references, with Teams' throttling rules:
paced per conversation, 429/412/502/504 retried with backoff (honouring Retry-After), 403
(blocked the bot) reported as unreachable. A reference whose service URL is not an allowed Bot
Framework one (stored before the allow-list, or planted) is never contacted."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters, ConversationReference
from msrest.exceptions import HttpOperationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from bot.metrics import rate_limited
from bot.teams.activities import activities_for
from bot.teams.service_urls import ServiceUrls
from handlers.errors import RecipientUnreachable, TransientSendError
from handlers.messages import OutgoingMessage
from handlers.ports import Catalog, PersonRecord, UnitOfWorkFactory

log = logging.getLogger(__name__)

RETRY_STATUSES = {412, 429, 502, 504}  # what Microsoft's rate-limit guide says to retry
SENDS_PER_SECOND = 7  # per bot per conversation (Teams throttling, docs/architecture.md)
SEND_TIMEOUT_SECONDS = 15.0  # one Bot Connector call; a hanging connector must not hold an outbox worker


class TeamsSendError(TransientSendError):
    def __init__(self, status: int | None, retry_after: float | None) -> None:
        super().__init__(f"teams send failed (HTTP {status})", retry_after=retry_after)
        self.status = status


def send_error(error: Exception) -> Exception:
    """Bot Connector failures: 403 means blocked (give up), the rest may pass (try later)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status == 429:
        rate_limited("teams")
    if status == 403:
        return RecipientUnreachable("teams: the bot is blocked or removed (403)")
    value = response.headers.get("Retry-After") if response is not None and response.headers else None
    retry_after = float(value) if value and value.replace(".", "", 1).isdigit() else None
    return TeamsSendError(status, retry_after)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, TeamsSendError) and error.status in RETRY_STATUSES


def _wait(state: Any) -> float:
    """Retry-After when Teams gives one, else 1 s, 2 s (the outbox takes over after that)."""
    error = state.outcome.exception()
    hinted = getattr(error, "retry_after", None)
    return min(float(hinted), 20.0) if hinted is not None else float(2 ** (state.attempt_number - 1))


class Pacer:
    """At most SENDS_PER_SECOND sends per conversation, without blocking other conversations."""

    def __init__(self, per_second: int = SENDS_PER_SECOND) -> None:
        self._interval = 1.0 / per_second
        self._next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, conversation_id: str) -> None:
        async with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(conversation_id, now))
            self._next[conversation_id] = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)


class TeamsMessenger:
    def __init__(self, adapter: CloudAdapter, app_id: str, uow: UnitOfWorkFactory, catalog: Catalog, *,
                 service_urls: ServiceUrls, attempts: int = 3, send_timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self._adapter = adapter
        self._service_urls = service_urls
        self._send_timeout = send_timeout
        self._app_id = app_id
        self._uow = uow
        self._catalog = catalog
        self._attempts = attempts
        self._pacer = Pacer()

    async def send(self, message: OutgoingMessage) -> str | None:
        reference, locale = await self._target(message)
        self._check_service_url(reference)
        activities = activities_for(message, self._catalog, locale)
        sent_ids: list[str] = []
        for activity in activities:
            async for attempt in AsyncRetrying(retry=retry_if_exception(_retryable), wait=_wait,
                                               stop=stop_after_attempt(self._attempts), reraise=True):
                with attempt:
                    sent_ids.append(await self._send_one(reference, activity))
        return sent_ids[0] if sent_ids else None

    def _check_service_url(self, reference: ConversationReference) -> None:
        """The same check as on receipt (bot/teams/service_urls.py), before anything is sent."""
        if not self._service_urls.allows(reference.service_url):
            log.warning("teams: not sending to service URL %.120r: not on VRAAGBOT_TEAMS_SERVICE_URLS",
                        reference.service_url)
            raise RecipientUnreachable(f"the stored service URL {reference.service_url!r:.120} is not an allowed "
                                       "Bot Framework service URL")

    async def _send_one(self, reference: ConversationReference, activity: Activity) -> str:
        await self._pacer.wait(reference.conversation.id)
        sent: list[str] = []
        failed: list[Exception] = []

        async def deliver(turn_context: TurnContext) -> None:
            # The adapter hands errors inside a turn to on_turn_error and swallows them; keep them.
            try:
                response = await turn_context.send_activity(activity)
            except Exception as error:
                failed.append(error)
            else:
                sent.append(response.id if response else "")

        try:
            async with asyncio.timeout(self._send_timeout):
                await self._adapter.continue_conversation(reference, deliver, self._app_id)
            if failed:
                raise failed[0]
        except HttpOperationError as error:
            raise send_error(error) from error
        except (OSError, TimeoutError) as error:  # connector unreachable: the outbox tries again later
            raise TransientSendError(f"teams connector unreachable: {error}") from error
        return sent[0] if sent else ""

    async def _target(self, message: OutgoingMessage) -> tuple[ConversationReference, str]:
        async with self._uow() as uow:
            if message.channel is not None:
                on_teams = message.channel.platform == "teams"
                stored = await uow.conversations.find_channel(message.channel.channel_id) if on_teams else None
                if stored is None:
                    raise RecipientUnreachable(f"no stored Teams channel {message.channel}")
                return ConversationReference().deserialize(stored.reference), "nl"
            person = await uow.people.get(message.person_id) if message.person_id is not None else None
            if person is None:
                raise RecipientUnreachable(f"person {message.person_id} no longer exists")
            stored = await uow.conversations.get(person.workspace_id, "person", person.external_id)
            if stored is not None:
                return ConversationReference().deserialize(stored.reference), person.locale
            known = await uow.conversations.channels(person.workspace_id) or []
            template = known[0].reference if known else await self._any_reference(uow, person)
            workspace = await uow.workspaces.get(person.workspace_id)
        if template is None or workspace is None:
            raise RecipientUnreachable("no Teams conversation known in this tenant to start one from")
        reference = ConversationReference().deserialize(template)
        return await self._create_personal_chat(person, workspace.external_id, reference), person.locale

    async def _any_reference(self, uow: Any, person: PersonRecord) -> dict[str, Any] | None:
        """Any stored reference in the same tenant, for its service URL and bot account."""
        asked = await uow.questions.answered_by(person.id)
        for question in asked:
            asker = await uow.people.get(question.asker_id)
            if asker is not None:
                stored = await uow.conversations.get(asker.workspace_id, "person", asker.external_id)
                if stored is not None:
                    return stored.reference
        return None

    async def _create_personal_chat(self, person: PersonRecord, tenant_id: str, template: ConversationReference
                                    ) -> ConversationReference:
        """The expert never talked to the bot: open their personal chat for the tenant (docs/architecture.md)."""
        self._check_service_url(template)
        created: list[ConversationReference] = []

        async def remember(turn_context: TurnContext) -> None:
            created.append(TurnContext.get_conversation_reference(turn_context.activity))

        parameters = ConversationParameters(is_group=False, bot=template.bot,
                                            members=[ChannelAccount(id=person.external_id)], tenant_id=tenant_id,
                                            channel_data={"tenant": {"id": tenant_id}})
        try:
            await self._adapter.create_conversation(self._app_id, remember, parameters, template.channel_id,
                                                    template.service_url, None)
        except HttpOperationError as error:
            raise send_error(error) from error
        reference = created[0]
        async with self._uow() as uow:
            await uow.conversations.save(workspace_id=person.workspace_id, kind="person",
                                         external_id=person.external_id, name=person.display_name,
                                         reference=reference.serialize(), now=datetime.now(UTC))
        return reference

    # ---------------------------------------------------------------- personal answers (issue 11, finding 4)

    async def send_to_personal_chat(self, activities: list[Activity], *, tenant_id: str, user_id: str,
                                    via: ConversationReference) -> None:
        """A personal answer to something asked in a channel or group chat goes to the person's own 1:1
        chat (privacy rules, docs/architecture.md): the stored one, or one opened now from ``via`` (the
        conversation they wrote in: its service URL and bot account). A chat opened here is not stored: the
        person may just have asked to be forgotten. Raises RecipientUnreachable or TransientSendError."""
        async with self._uow() as uow:
            workspace = await uow.workspaces.by_external_id("teams", tenant_id)
            stored = await uow.conversations.get(workspace.id, "person", user_id) if workspace else None
        if stored is not None:
            reference = ConversationReference().deserialize(stored.reference)
        else:
            self._check_service_url(via)
            reference = await self._open_personal_chat(tenant_id, user_id, via)
        self._check_service_url(reference)
        for activity in activities:
            async for attempt in AsyncRetrying(retry=retry_if_exception(_retryable), wait=_wait,
                                               stop=stop_after_attempt(self._attempts), reraise=True):
                with attempt:
                    await self._send_one(reference, activity)

    async def _open_personal_chat(self, tenant_id: str, user_id: str, via: ConversationReference
                                  ) -> ConversationReference:
        created: list[ConversationReference] = []

        async def remember(turn_context: TurnContext) -> None:
            created.append(TurnContext.get_conversation_reference(turn_context.activity))

        parameters = ConversationParameters(is_group=False, bot=via.bot, members=[ChannelAccount(id=user_id)],
                                            tenant_id=tenant_id, channel_data={"tenant": {"id": tenant_id}})
        try:
            async with asyncio.timeout(self._send_timeout):
                await self._adapter.create_conversation(self._app_id, remember, parameters, via.channel_id,
                                                        via.service_url, None)
        except HttpOperationError as error:
            raise send_error(error) from error
        except (OSError, TimeoutError) as error:
            raise TransientSendError(f"teams connector unreachable: {error}") from error
        return created[0]
