"""Decides which weekly messages are due and queues each one once in the outbox.

Every replica runs this on every planning tick. Exactly once comes from the outbox's unique key
(recipient, kind, ISO week): whoever inserts first wins, later inserts are no-ops, and the outbox
delivery (row locks, leases) sends each row once. Nothing about "what was sent" is kept in memory,
so restarts and extra replicas change nothing.

The grace window is decided here, when queueing: a send moment longer ago than ``grace`` (the bot
was down) is recorded as a skipped outbox row with a log line, so it is neither sent late nor
reconsidered on every tick. A row queued in time is sent even if delivery itself is then delayed
(a platform outage): the outbox's lease moves ``due_at``, so it cannot carry this decision.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.context import Policy
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.ports import (
    Catalog,
    Clock,
    PersonRecord,
    QuestionRecord,
    TeamScheduleRecord,
    UnitOfWork,
    UnitOfWorkFactory,
)
from handlers.queueing import dedupe_key, queue
from handlers.schedule_time import WeeklyTime, latest_occurrence, week_period
from handlers.team_nudges import channel_of, next_send, team_key, weekly_time
from handlers.weeks import reported_week, team_time_zone
from nudges.weekly import WEEK, compose_expert, compose_team, expert_week, gather_team_week

log = logging.getLogger(__name__)

# Each expert's own summary: Monday 10:00 in their own time zone, about the team's week that ended
# before it (handlers.weeks), the same fixed week as the channels' messages.
EXPERT_SUMMARY = (0, 10, 0)


class WeeklyPlanner:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, catalog: Catalog, policy: Policy, *,
                 grace: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._catalog = catalog
        self._policy = policy
        self._grace = grace

    async def plan_due(self) -> int:
        """Queue every weekly message that is due now; returns how many were queued to send."""
        now = self._clock.now()
        async with self._uow() as uow:
            # Settle the common cases for every channel at once (not due since the setting changed,
            # or queued already), so a tick with nothing new costs two queries, not a transaction
            # per channel (bench/fanout.py). _plan_team checks again, in its own transaction.
            schedules = await uow.team_schedules.enabled()
            moments = {s.id: _latest_moment(s, now) for s in schedules}
            queued_already = await uow.outbox.existing([m[1] for m in moments.values() if m is not None])
        # (workspace, channel): a channel id seen from two workspaces has a setting for each.
        channels = [(s.workspace_id, s.channel) for s in schedules if (moment := moments[s.id]) is None
                    or (moment[0] >= s.updated_at and moment[1] not in queued_already)]
        queued = 0
        for workspace_id, channel in channels:
            try:
                queued += await self._plan_team(workspace_id, channel, now)
            except Exception:  # one broken channel must not keep the others from their nudge
                log.exception("weekly nudge for %s (workspace %s) could not be planned", channel, workspace_id)
        try:
            queued += await self._plan_experts(now)
        except Exception:
            log.exception("weekly expert summaries could not be planned")
        return queued

    async def _plan_team(self, workspace_id: int, channel: str, now: datetime) -> int:
        async with self._uow() as uow:
            schedule = await uow.team_schedules.for_channel(workspace_id, channel)
            if schedule is None or not schedule.enabled:
                return 0
            due = latest_occurrence(weekly_time(schedule), now)
            if due < schedule.updated_at:  # a new or changed setting starts with its next send moment
                return 0
            period = week_period(due, schedule.time_zone)
            address = channel_of(schedule)
            key = team_key(workspace_id, address, period)
            if await uow.outbox.exists(key):
                return 0
            if now - due > self._grace:
                await self._skip(uow, key, OutgoingMessage(MessageKind.WEEKLY_TEAM, "", channel=address,
                                                           private=False), period, due)
                return 0
            seed = await uow.outbox.count_for_channel(channel, MessageKind.WEEKLY_TEAM)
            # The team's last whole week, whatever this channel's own day, time and zone.
            # Computed by the first message about the week and stored; later ones reuse it.
            week = await gather_team_week(uow, schedule.workspace_id,
                                          reported_week(due, team_time_zone(self._policy)), now=now,
                                          org_workspace=schedule.org_workspace)
            text = compose_team(self._catalog, schedule.language, seed, week, self._policy.min_group_size)
            message = OutgoingMessage(MessageKind.WEEKLY_TEAM, text, channel=address, private=False)
            queued = await queue(uow, self._clock, message, period=period, due_at=due, key=key)
        if queued:
            log.info("weekly nudge for %s (%s) queued", channel, period)
        return int(queued)

    async def _plan_experts(self, now: datetime) -> int:
        async with self._uow() as uow:
            # Any expert's last summary is about one of the two whole weeks before this one: three
            # weeks and a day back cover it in every time zone.
            recent = await uow.questions.answered_between(now - 3 * WEEK - timedelta(days=1), now)
            by_expert: dict[int, list[QuestionRecord]] = defaultdict(list)
            for question in recent:
                if question.expert_id is not None:
                    by_expert[question.expert_id].append(question)
            # Everyone at once (people, and whose summary is queued already): with thousands of
            # experts a query each made every planning tick take seconds (bench/insights.py).
            people = [p for p in await uow.people.get_many(sorted(by_expert)) if not p.unreachable]
            keys = {p.id: self._expert_moment(p, now)[2] for p in people}
            queued_already = await uow.outbox.existing(list(keys.values()))
            queued = 0
            for person in sorted(people, key=lambda p: p.id):
                if keys[person.id] not in queued_already:
                    queued += await self._plan_expert(uow, person, by_expert[person.id], now)
        return queued

    def _expert_moment(self, person: PersonRecord, now: datetime) -> tuple[datetime, str, str]:
        """(latest send moment, its ISO week, outbox key) of the person's summary."""
        zone = _zone(person.time_zone, self._policy.default_time_zone)
        due = latest_occurrence(WeeklyTime(*EXPERT_SUMMARY, zone), now)
        period = week_period(due, zone)
        return due, period, dedupe_key(OutgoingMessage(MessageKind.WEEKLY_EXPERT, "", person_id=person.id), period)

    async def _plan_expert(self, uow: UnitOfWork, person: PersonRecord, answered: list[QuestionRecord],
                           now: datetime) -> int:
        due, period, key = self._expert_moment(person, now)
        week = reported_week(due, team_time_zone(self._policy))
        theirs = expert_week(week, answered)
        if not theirs:
            return 0
        empty = OutgoingMessage(MessageKind.WEEKLY_EXPERT, "", person_id=person.id)
        if await uow.outbox.exists(key):
            return 0
        if now - due > self._grace:
            await self._skip(uow, key, empty, period, due)
            return 0
        seed = await uow.outbox.count_for(person.id, MessageKind.WEEKLY_EXPERT)
        text = compose_expert(self._catalog, person.locale, seed, week, theirs)
        message = OutgoingMessage(MessageKind.WEEKLY_EXPERT, text, person_id=person.id)
        return int(await queue(uow, self._clock, message, period=period, due_at=due, key=key))

    async def _skip(self, uow: UnitOfWork, key: str, message: OutgoingMessage, period: str, due: datetime) -> None:
        reason = f"due at {due.isoformat()}, more than {self._grace} before the bot got to it"
        # Not queued when another replica queued it in time meanwhile.
        if await queue(uow, self._clock, message, period=period, due_at=due, key=key, skipped=reason):
            log.warning("%s skipped (grace window passed): %s", key, reason)


def _latest_moment(schedule: TeamScheduleRecord, now: datetime) -> tuple[datetime, str] | None:
    """The channel's latest send moment and its outbox key; None when they cannot be worked out
    (``_plan_team`` then logs why)."""
    try:
        due = latest_occurrence(weekly_time(schedule), now)
        return due, team_key(schedule.workspace_id, channel_of(schedule), week_period(due, schedule.time_zone))
    except (ValueError, KeyError, ZoneInfoNotFoundError):
        return None


def _zone(name: str, default: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
    return name


@dataclass(frozen=True)
class Preview:
    channel: str
    enabled: bool
    language: str
    time_zone: str
    send_at: datetime  # UTC
    text: str


async def preview(uow_factory: UnitOfWorkFactory, clock: Clock, catalog: Catalog, policy: Policy,
                  channel: str) -> Preview | None:
    """What the channel's next weekly message would say if it were sent with today's figures
    (the team's whole week before the next send moment, as far as it has happened). None without a setting.
    A channel id set from two workspaces: the oldest setting."""
    async with uow_factory() as uow:
        settings = await uow.team_schedules.in_channel(channel)
        if not settings:
            return None
        schedule = settings[0]
        send_at = await next_send(uow, schedule, clock.now())
        seed = await uow.outbox.count_for_channel(channel, MessageKind.WEEKLY_TEAM)
        # Stored figures where the week has them; a preview stores none (the week may not have ended).
        week = await gather_team_week(uow, schedule.workspace_id, reported_week(send_at, team_time_zone(policy)),
                                      keep=False, org_workspace=schedule.org_workspace)
    text = compose_team(catalog, schedule.language, seed, week, policy.min_group_size)
    return Preview(channel, schedule.enabled, schedule.language, schedule.time_zone, send_at, text)
