"""The monthly picture: once a month, in every team channel that has a weekly message, the team's
trend chart with two sentences, in the channel's language.

When: with the channel's own weekly message in the week after a month's last week (a week belongs to
the month its Thursday is in, the ISO rule, so each week is in exactly one month), one minute after
it, so the picture follows the week's message. By then every week of the month has ended.

Exactly once per channel and month comes from the outbox key (channel, kind, month, workspace), as
for the weekly messages: every replica may plan on every tick, the first insert wins and the others
are no-ops, restarts keep nothing in memory. The grace window is the weekly planner's: a month whose
moment passed longer ago than ``grace`` (the bot was down) is recorded as skipped, never sent late.

Privacy: the same weeks and thresholds as the weekly figures (nudges.weekly.weekly_history: stored
week figures where a weekly message fixed them). A hidden week is marked hidden on the chart and left
out of the month's total, never counted as zero, so the total cannot give away what a weekly message
held back. A month with too few people says so.

The outbox row stores the figures and texts (a handlers.messages.Chart), not the PNG: the chart is
drawn when it is sent (nudges.charts.drawn).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from babel.dates import format_date

from handlers.addresses import ChannelAddress
from handlers.context import Policy
from handlers.insights import PRIVACY_FLOOR
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.ports import Catalog, Clock, TeamScheduleRecord, UnitOfWorkFactory
from handlers.queueing import dedupe_key, queue
from handlers.schedule_time import latest_occurrence
from handlers.team_nudges import channel_of, weekly_time
from handlers.weeks import Week, reported_week, team_time_zone, week_starting
from nudges.charts import chart_week, make_chart
from nudges.weekly import HistoryWeek, percent, team_title, weekly_history

log = logging.getLogger(__name__)

CHART_WEEKS = 12  # the chart shows the month in the weeks before it, so a trend can be seen
FOLLOWS_WEEKLY = timedelta(minutes=1)  # after the channel's weekly message of the same moment
SKIPPED_EMPTY = "no questions in any week of the chart"


def month_of(week: Week) -> str:
    """The month a week belongs to, ``2026-11``: the month of its Thursday."""
    return _month_of_monday(week.monday)


def _month_of_monday(monday: date) -> str:
    thursday = monday + timedelta(days=3)
    return f"{thursday.year}-{thursday.month:02d}"


def closes_month(week: Week) -> bool:
    """Whether ``week`` is the last week of its month."""
    return month_of(week) != month_of(week_starting(week.monday + timedelta(weeks=1), week.time_zone))


def monthly_key(workspace_id: int, channel: ChannelAddress, month: str) -> str:
    return f"{dedupe_key(OutgoingMessage(MessageKind.MONTHLY_TEAM, '', channel=channel), month)}:w{workspace_id}"


@dataclass(frozen=True)
class MonthMoment:
    """When a channel's picture of a month goes out, and under which key; from its weekly setting."""

    weekly_due: datetime  # the weekly message's moment it follows
    week: Week  # the month's last week
    month: str
    key: str


def month_moment(schedule: TeamScheduleRecord, now: datetime, team_zone: str) -> MonthMoment | None:
    """The picture this channel's latest weekly moment brings, or None when that moment brings none
    (its week is not the one after a month's end, or the setting is newer than the moment)."""
    due = latest_occurrence(weekly_time(schedule), now)
    if due < schedule.updated_at:  # a new or changed setting starts with its next send moment
        return None
    week = reported_week(due, team_zone)
    if not closes_month(week):
        return None
    month = month_of(week)
    return MonthMoment(due, week, month, monthly_key(schedule.workspace_id, channel_of(schedule), month))


def compose_month(catalog: Catalog, locale: str, *, team: str, month: str, history: Sequence[HistoryWeek],
                  min_group_size: int) -> OutgoingMessage | None:
    """The picture of ``month`` (``history``: the chart's weeks, oldest first, the month's last week
    at the end); None when no week of the chart had a question (nothing worth a post)."""
    minimum = max(min_group_size, PRIVACY_FLOOR)
    weeks = [chart_week(h.week, h.start, h.figures, minimum) for h in history]
    if not any(w.hidden or w.asked for w in weeks):
        return None
    in_month = [(h, w) for h, w in zip(history, weeks, strict=True) if _month_of_monday(h.start) == month]
    shown = [h.figures for h, w in in_month if not w.hidden]
    year, number = (int(part) for part in month.split("-"))
    name = format_date(date(year, number, 1), "LLLL y", locale=locale)
    if not shown:
        first = catalog.text(locale, "monthly.all_hidden", month=name, min=minimum)
    else:
        asked, werk = sum(f.asked for f in shown), sum(f.werk for f in shown)
        key = "monthly.summary" if len(shown) == len(in_month) else "monthly.summary_some"
        first = catalog.text(locale, key, month=name, count=asked, werk_pct=percent(werk / asked if asked else 0))
    hidden = sum(w.hidden for w in weeks)
    second = (catalog.text(locale, "monthly.chart_hidden", count=hidden, weeks=len(weeks), min=minimum) if hidden
              else catalog.text(locale, "monthly.chart", weeks=len(weeks)))
    chart = make_chart(catalog, locale, weeks, team=team, min_group_size=minimum,
                       filename=f"vraagbot-{month}.png")
    return OutgoingMessage(MessageKind.MONTHLY_TEAM, f"{first} {second}", private=False, attachment=chart)


class MonthlyPlanner:
    """Queues each channel's monthly picture once; run next to the weekly planner on its tick."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, catalog: Catalog, policy: Policy, *,
                 grace: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._catalog = catalog
        self._policy = policy
        self._grace = grace

    async def plan_due(self) -> int:
        """Queue every monthly picture that is due now; returns how many were queued to send."""
        now = self._clock.now()
        zone = team_time_zone(self._policy)
        async with self._uow() as uow:
            # Most ticks of a month bring no picture at all: settle that for every channel in memory
            # and with one query, before a transaction per channel.
            schedules = await uow.team_schedules.enabled()
            moments = {s.id: _moment(s, now, zone) for s in schedules}
            queued_already = await uow.outbox.existing([m.key for m in moments.values() if m is not None])
        queued = 0
        for schedule in schedules:
            moment = moments[schedule.id]
            if moment is None or moment.key in queued_already:
                continue
            try:
                queued += await self._plan_channel(schedule.workspace_id, schedule.channel, now)
            except Exception:  # one broken channel must not keep the others from their picture
                log.exception("monthly picture for %s (workspace %s) could not be planned", schedule.channel,
                              schedule.workspace_id)
        return queued

    async def _plan_channel(self, workspace_id: int, channel: str, now: datetime) -> int:
        zone = team_time_zone(self._policy)
        async with self._uow() as uow:
            schedule = await uow.team_schedules.for_channel(workspace_id, channel)
            moment = _moment(schedule, now, zone) if schedule is not None and schedule.enabled else None
            if schedule is None or moment is None or await uow.outbox.exists(moment.key):
                return 0
            address = channel_of(schedule)
            empty = OutgoingMessage(MessageKind.MONTHLY_TEAM, "", channel=address, private=False)
            due = moment.weekly_due + FOLLOWS_WEEKLY
            if now - moment.weekly_due > self._grace:
                reason = f"due at {due.isoformat()}, more than {self._grace} before the bot got to it"
                if await queue(uow, self._clock, empty, period=moment.month, due_at=due, key=moment.key,
                               skipped=reason):
                    log.warning("%s skipped (grace window passed): %s", moment.key, reason)
                return 0
            workspace = await uow.workspaces.get(workspace_id)
            history = await weekly_history(uow, workspace_id, CHART_WEEKS, moment.week.end, zone,
                                           org_workspace=schedule.org_workspace)
            team = team_title(workspace.name, schedule.org_workspace) if workspace else ""
            composed = compose_month(self._catalog, schedule.language, team=team,
                                     month=moment.month, history=history,
                                     min_group_size=self._policy.min_group_size)
            if composed is None:  # recorded, so the month is not reconsidered on every tick
                await queue(uow, self._clock, empty, period=moment.month, due_at=due, key=moment.key,
                            skipped=SKIPPED_EMPTY)
                return 0
            message = OutgoingMessage(composed.kind, composed.text, channel=address, private=False,
                                      attachment=composed.attachment)
            queued = await queue(uow, self._clock, message, period=moment.month, due_at=due, key=moment.key)
        if queued:
            log.info("monthly picture for %s (%s) queued", channel, moment.month)
        return int(queued)


def _moment(schedule: TeamScheduleRecord, now: datetime, zone: str) -> MonthMoment | None:
    try:
        return month_moment(schedule, now, zone)
    except (ValueError, KeyError, ZoneInfoNotFoundError):  # a broken setting: the weekly planner logs why
        return None
