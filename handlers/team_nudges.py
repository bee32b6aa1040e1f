"""A team channel's weekly nudge: set it, stop it, start it again, show it with its next send time.

The setting belongs to the channel the command is typed in, within the workspace it is typed from
(a channel id seen from two workspaces has a setting per workspace). What is sent each week is
decided in nudges.planner; the outbox key (channel, kind, ISO week, workspace) makes it once per week.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_day_names

from handlers.addresses import ChannelAddress
from handlers.context import Actor, Deps
from handlers.errors import InvalidInput, NotAllowed
from handlers.messages import OutgoingMessage, Result
from handlers.models import MessageKind
from handlers.people import ensure_person
from handlers.ports import TeamScheduleRecord, UnitOfWork
from handlers.queueing import dedupe_key
from handlers.schedule_time import WeeklyTime, following_occurrence, next_occurrence, week_period
from handlers.team_commands import SetTeamNudge


def team_key(workspace_id: int, channel: ChannelAddress, period: str) -> str:
    """The outbox key of a workspace's weekly nudge in a channel for one ISO week (0007 gave the
    keys queued before it their workspace)."""
    return f"{dedupe_key(OutgoingMessage(MessageKind.WEEKLY_TEAM, '', channel=channel), period)}:w{workspace_id}"


def channel_of(schedule: TeamScheduleRecord) -> ChannelAddress:
    """The channel a setting is for (stored as its address's text); ValueError when that text is no address."""
    return ChannelAddress.parse(schedule.channel)


def weekly_time(schedule: TeamScheduleRecord) -> WeeklyTime:
    return WeeklyTime(schedule.weekday, schedule.hour, schedule.minute, schedule.time_zone)


async def next_send(uow: UnitOfWork, schedule: TeamScheduleRecord, now: datetime) -> datetime:
    """The next moment the channel gets its nudge: skips a week whose nudge already went out
    (the setting moved to later in a week that had its message)."""
    when = weekly_time(schedule)
    moment = next_occurrence(when, now)
    if await uow.outbox.exists(team_key(schedule.workspace_id, channel_of(schedule),
                                        week_period(moment, schedule.time_zone))):
        moment = following_occurrence(when, moment)
    return moment


def _channel(actor: Actor) -> ChannelAddress:
    if not actor.channel:
        raise InvalidInput("error.team_nudge_no_channel")
    return ChannelAddress(actor.platform, actor.channel)


def _may_change(deps: Deps, actor: Actor) -> None:
    if deps.policy.team_nudge_admins_only and not actor.is_admin:
        raise NotAllowed("error.team_nudge_admins_only")


def describe(deps: Deps, schedule: TeamScheduleRecord, locale: str) -> dict[str, str]:
    """The catalog parameters that say when and how a channel's nudge goes out."""
    return {
        "weekday": get_day_names("wide", locale=locale)[schedule.weekday],
        "time": f"{schedule.hour:02d}:{schedule.minute:02d}",
        "zone": schedule.time_zone,
        "language": deps.catalog.text(locale, f"word.language_{schedule.language}"),
    }


def local_moment(moment: datetime, time_zone: str, locale: str) -> str:
    """``maandag 30 november 2026 09:00`` in the schedule's own time zone."""
    return format_datetime(moment.astimezone(ZoneInfo(time_zone)), "EEEE d MMMM y HH:mm", locale=locale)


async def set_schedule(deps: Deps, actor: Actor, command: SetTeamNudge) -> Result:
    channel = _channel(actor)
    _may_change(deps, actor)
    async with deps.uow() as uow:
        person = await ensure_person(uow, deps, actor)
        now = deps.clock.now()
        schedule = await uow.team_schedules.save(
            workspace_id=person.workspace_id, channel=channel, weekday=command.weekday, hour=command.hour,
            minute=command.minute, time_zone=command.time_zone or person.time_zone or deps.policy.default_time_zone,
            language=command.language or person.locale, changed_by=person.id, now=now,
            org_workspace=actor.org_workspace)
        upcoming = await next_send(uow, schedule, now)
        text = deps.catalog.text(person.locale, "team_nudge.set", **describe(deps, schedule, person.locale),
                                 next=local_moment(upcoming, schedule.time_zone, person.locale))
    return _reply(text, person.id)


async def switch(deps: Deps, actor: Actor, enabled: bool) -> Result:
    channel = _channel(actor)
    _may_change(deps, actor)
    async with deps.uow() as uow:
        person = await ensure_person(uow, deps, actor)
        schedule = await uow.team_schedules.for_channel(person.workspace_id, channel)
        if schedule is None:
            raise InvalidInput("team_nudge.none")
        now = deps.clock.now()
        if schedule.enabled != enabled:
            # Switching on starts afresh: a send time that passed while it was off does not count.
            schedule.enabled, schedule.changed_by, schedule.updated_at = enabled, person.id, now
        params = describe(deps, schedule, person.locale)
        if enabled:
            params["next"] = local_moment(await next_send(uow, schedule, now), schedule.time_zone, person.locale)
        text = deps.catalog.text(person.locale, "team_nudge.on" if enabled else "team_nudge.off", **params)
    return _reply(text, person.id)


async def show(deps: Deps, actor: Actor) -> Result:
    channel = _channel(actor)
    async with deps.uow() as uow:
        person = await ensure_person(uow, deps, actor)
        schedule = await uow.team_schedules.for_channel(person.workspace_id, channel)
        if schedule is None:
            text = deps.catalog.text(person.locale, "team_nudge.none")
        elif not schedule.enabled:
            text = deps.catalog.text(person.locale, "team_nudge.show_off", **describe(deps, schedule, person.locale))
        else:
            upcoming = await next_send(uow, schedule, deps.clock.now())
            text = deps.catalog.text(person.locale, "team_nudge.show", **describe(deps, schedule, person.locale),
                                     next=local_moment(upcoming, schedule.time_zone, person.locale))
    return _reply(text, person.id)


async def recognition(deps: Deps, actor: Actor, opt_out: bool | None) -> Result:
    """Whether the person's name may appear in the weekly recognition of those who answered."""
    async with deps.uow() as uow:
        person = await ensure_person(uow, deps, actor)
        if opt_out is not None:
            person.recognition_opt_out = opt_out
        key = "recognition.off" if person.recognition_opt_out else "recognition.on"
        text = deps.catalog.text(person.locale, key)
    return _reply(text, person.id)


def _reply(text: str, person_id: int) -> Result:
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=person_id)])
