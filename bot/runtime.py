"""Composition root: builds the engine, the unit of work, the ports and the delivery loop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from handlers.context import Deps, Policy
from handlers.messages import OutgoingMessage
from handlers.ports import Clock, Messenger, PersonRecord, Presence, UnitOfWorkFactory
from nudges.catalog import TextCatalog, load_catalog
from nudges.outbox import OutboxDispatcher
from nudges.scheduler import DeliveryScheduler
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.uow import make_uow_factory

log = logging.getLogger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class NoPresence:
    """Used when no platform tells us about focus time: everyone is available."""

    async def focus_until(self, person: PersonRecord) -> datetime | None:
        return None


class PlatformRouter:
    """Sends each message through the messenger of the recipient's platform."""

    def __init__(self, uow: UnitOfWorkFactory, messengers: dict[str, Messenger]) -> None:
        self._uow = uow
        self._messengers = messengers

    async def send(self, message: OutgoingMessage) -> str | None:
        platform = await self._platform_of(message)
        messenger = self._messengers.get(platform)
        if messenger is None:
            raise RuntimeError(f"no messenger configured for platform {platform!r}")
        return await messenger.send(message)

    async def _platform_of(self, message: OutgoingMessage) -> str:
        if message.channel is not None:
            return message.channel.split(":", 1)[0]  # channels are stored as "<platform>:<id>"
        async with self._uow() as uow:
            person = await uow.people.get(message.person_id) if message.person_id else None
            workspace = await uow.workspaces.get(person.workspace_id) if person else None
        if workspace is None:
            raise RuntimeError(f"recipient person {message.person_id} no longer exists")
        return workspace.platform


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    catalog: TextCatalog
    deps: Deps
    dispatcher: OutboxDispatcher
    scheduler: DeliveryScheduler

    async def close(self) -> None:
        await self.scheduler.stop()
        await self.engine.dispose()


async def migrate(settings: Settings) -> None:
    # Alembic runs its own event loop; keep it off ours.
    await asyncio.to_thread(upgrade_to_head, settings.database_url)


def build_runtime(
    settings: Settings,
    *,
    messengers: dict[str, Messenger] | None = None,
    clock: Clock | None = None,
    presence: Presence | None = None,
) -> Runtime:
    engine = create_engine(settings.database_url)
    uow = make_uow_factory(engine)
    catalog = load_catalog()
    clock = clock or SystemClock()
    messenger = PlatformRouter(uow, messengers or {})
    dispatcher = OutboxDispatcher(uow, messenger, clock)
    scheduler = DeliveryScheduler(dispatcher, settings.outbox_tick_seconds)
    deps = Deps(
        uow=uow,
        clock=clock,
        presence=presence or NoPresence(),
        catalog=catalog,
        policy=Policy(default_locale=settings.default_language, default_time_zone=settings.default_time_zone),
        on_queued=scheduler.kick,
    )
    return Runtime(settings, engine, uow, catalog, deps, dispatcher, scheduler)
