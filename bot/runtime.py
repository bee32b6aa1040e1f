"""Composition root: builds the engine, the unit of work, the ports and the delivery loop."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery_hooks import delivery_hooks
from bot.inbox.workers import InboxWorkers
from bot.platforms import Platform, Platforms
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.slack.platform import SlackPlatform
    from bot.teams.platform import TeamsPlatform
    from bot.teams.registration import TeamsRegistration
from handlers.context import Deps, Policy
from handlers.messages import OutgoingMessage
from handlers.ports import Clock, Messenger, PersonRecord, Recheck, Recipient, UnitOfWorkFactory
from handlers.retention import RetentionReport, apply_retention
from nudges.delivery.outbox import OutboxDispatcher
from nudges.delivery.scheduler import DeliveryScheduler
from nudges.monthly import MonthlyPlanner
from nudges.planner import WeeklyPlanner
from nudges.texts.catalog import TextCatalog, load_catalog
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.retry import StorageRetry
from storage.uow import make_uow_factory

log = logging.getLogger(__name__)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class NoPresence:
    """Used when no platform tells us about focus time: everyone is available."""

    async def focus_until(self, person: PersonRecord, platform: str) -> datetime | None:
        return None


class PresenceRouter:
    """Asks the platform the person lives on; platforms without focus information say 'available'."""

    def __init__(self, platforms: Platforms) -> None:
        self._platforms = platforms

    async def focus_until(self, person: PersonRecord, platform: str) -> datetime | None:
        presence = self._platforms.presence(platform)
        return await presence.focus_until(person, platform) if presence else None

    def recheck(self, platform: str) -> Recheck | None:
        """The platform's Recheck when its presence gives no end time (handlers.ports.RecheckingPresence)."""
        recheck = getattr(self._platforms.presence(platform), "recheck", None)
        return recheck(platform) if recheck is not None else None


class PlatformRouter:
    """Sends each message through the messenger of the recipient's platform."""

    def __init__(self, uow: UnitOfWorkFactory, platforms: Platforms) -> None:
        self._uow = uow
        self._platforms = platforms
        self._recipients: Mapping[int, Recipient] | None = None  # for one send, see addressed()

    def addressed(self, recipients: Mapping[int, Recipient]) -> PlatformRouter:
        """For one send with the recipients of the outbox's claim (handlers.ports.AddressedMessenger): their
        platform needs no look-up, and the platform's messenger gets them too when it takes them."""
        one_send = copy.copy(self)
        one_send._recipients = recipients
        return one_send

    async def send(self, message: OutgoingMessage) -> str | None:
        platform = await self._platform_of(message)
        messenger = self._messenger(platform)
        if messenger is None:
            raise RuntimeError(f"no messenger configured for platform {platform!r}")
        return await messenger.send(message)

    async def find_delivered(self, message: OutgoingMessage, since: datetime) -> str | None:
        platform = await self._platform_of(message)
        lookup = getattr(self._messenger(platform), "find_delivered", None)
        if lookup is None:  # Teams cannot tell (no label to search for): at least once, never lost
            log.warning("%s: an earlier attempt on %s may have arrived; %s cannot tell, so it is sent again "
                        "(it may arrive twice)", message.delivery_key, platform, platform)
            return None
        return await lookup(message, since)

    def _messenger(self, platform: str) -> Messenger | None:
        messenger = self._platforms.messenger(platform)
        addressed = getattr(messenger, "addressed", None)
        return addressed(self._recipients) if addressed is not None and self._recipients is not None else messenger

    async def _platform_of(self, message: OutgoingMessage) -> str:
        if message.channel is not None:
            return message.channel.platform
        if self._recipients is not None and message.person_id in self._recipients:
            return self._recipients[message.person_id].platform
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
    inbox: InboxWorkers
    platforms: Platforms = field(default_factory=Platforms)

    @property
    def slack(self) -> SlackPlatform | None:
        return cast("SlackPlatform | None", self.platforms.get("slack"))

    @property
    def teams(self) -> TeamsPlatform | None:
        registration = cast("TeamsRegistration | None", self.platforms.get("teams"))
        return registration.teams if registration is not None else None

    async def start(self, *, scheduler: bool = True) -> None:
        for platform in self.platforms:
            await platform.start()
        self.inbox.start()  # work that waited in the inbox (a restart after a crash) starts at once
        if scheduler:
            self.scheduler.start()

    async def close(self, grace_seconds: float = 25.0) -> None:
        """Take no more requests, then finish the work (it may still queue messages), then the delivery
        loop, then the platforms' connections, then the database; whatever is still running when
        ``grace_seconds`` are up is cancelled, and unsent messages stay in the outbox for the next
        start or another replica."""
        deadline = asyncio.get_running_loop().time() + grace_seconds
        for platform in self.platforms:
            await platform.stop()
        await self.inbox.stop(grace_seconds * 0.6)
        await self.scheduler.stop(max(0.5, deadline - asyncio.get_running_loop().time()))
        for platform in self.platforms:  # after the work and the sends above, which use their connections
            await platform.close()
        await self.engine.dispose()


async def migrate(settings: Settings) -> None:
    # Alembic runs its own event loop; keep it off ours.
    await asyncio.to_thread(upgrade_to_head, settings.database_url)


def build_runtime(
    settings: Settings,
    *,
    platforms: Sequence[Platform] = (),
    clock: Clock | None = None,
) -> Runtime:
    """``platforms``: more than the settings turn on (the shell's)."""
    engine = create_engine(settings.database_url)
    uow = make_uow_factory(engine)
    catalog = load_catalog()
    clock = clock or SystemClock()
    # Filled below, once the handlers' dependencies exist: the routers look platforms up per message.
    registry = Platforms()
    presence = PresenceRouter(registry)
    dispatcher = OutboxDispatcher(uow, PlatformRouter(uow, registry), clock,
                                  hooks=delivery_hooks(clock, catalog, presence, uow),
                                  lease=timedelta(seconds=settings.outbox_lease_seconds),
                                  concurrency=settings.outbox_concurrency,
                                  lookup_seconds=settings.outbox_lookup_seconds)
    policy = Policy(default_locale=settings.default_language, default_time_zone=settings.default_time_zone,
                    min_group_size=settings.min_group_size, team_nudge_admins_only=settings.team_nudge_admins_only,
                    text_retention_days=settings.text_retention_days)
    planner = WeeklyPlanner(uow, clock, catalog, policy, grace=timedelta(hours=settings.nudge_grace_hours))
    retention_clock = clock  # bound for the closure below

    async def retention() -> RetentionReport:
        return await apply_retention(uow, retention_clock, settings.text_retention_days)

    monthly = MonthlyPlanner(uow, clock, catalog, policy, grace=timedelta(hours=settings.nudge_grace_hours))
    scheduler = DeliveryScheduler(dispatcher, settings.outbox_tick_seconds, planner=planner,
                                  plan_seconds=settings.nudge_plan_seconds, retention=retention, monthly=monthly)
    deps = Deps(
        uow=uow,
        clock=clock,
        presence=presence,
        catalog=catalog,
        policy=policy,
        on_queued=scheduler.kick,
        retry=StorageRetry(settings.db_retry_seconds),
    )
    inbox = InboxWorkers(engine, uow, deps, clock, size=settings.inbox_workers,
                         lease_seconds=settings.inbox_lease_seconds, busy_seconds=settings.inbox_busy_seconds)
    add_enabled_platforms(registry, settings, deps, uow, catalog, inbox)
    for platform in platforms:
        registry.add(platform)
    return Runtime(settings, engine, uow, catalog, deps, dispatcher, scheduler, inbox, registry)


def add_enabled_platforms(registry: Platforms, settings: Settings, deps: Deps, uow: UnitOfWorkFactory,
                          catalog: TextCatalog, inbox: InboxWorkers) -> None:
    """The platforms the settings turn on; each is imported only then (botbuilder takes a while)."""
    if settings.slack_enabled:
        from bot.slack.platform import slack_parts, slack_platform

        registry.add(slack_platform(settings, deps, slack_parts(settings, uow, catalog), inbox))
    else:
        registry.mark_off("slack", "(no SLACK_BOT_TOKEN)")
    # Teams only with an app id, or unauthenticated behind the local-testing switch (loopback only:
    # bot/cli.py); otherwise there is no /api/messages and nothing is ever sent to a Bot Connector.
    if settings.teams_enabled:
        from bot.teams.registration import teams_registration

        registry.add(teams_registration(settings, deps, uow, catalog))
    else:
        registry.mark_off("teams", "(no MICROSOFT_APP_ID): no /api/messages")
