"""The fixed weeks every weekly figure is about (docs/architecture.md: aggregates cannot be taken apart).

A week is an ISO week, Monday 00:00 to the next Monday 00:00 in the team's time zone; a weekly
message is about the last such week that had ended when it is sent, never about "the seven days
before the send moment". With moving windows, two channels sent an hour apart around one reply
differed by exactly that reply and its verdict. Every channel of a workspace (whatever its own
send day, time and zone), the experts' summaries, `vraagbot nudges preview` and `vraagbot report`
take their weeks from here, so in any one week they all show the same figures.

The team's time zone: workspaces store none (neither Slack nor Teams gives one for a whole team,
and channel schedules of one workspace may differ), so it is the policy's default time zone
(``VRAAGBOT_DEFAULT_TIME_ZONE``), the same for every channel of the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.context import Policy


@dataclass(frozen=True)
class Week:
    label: str  # ISO week, e.g. "2026-W53"
    monday: date  # its first day, local
    start: datetime  # Monday 00:00 local, as UTC (inclusive)
    end: datetime  # the next Monday 00:00 local, as UTC (exclusive); 167 or 169 hours across DST
    time_zone: str  # IANA name the week is local to

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment < self.end

    def before(self, weeks: int = 1) -> Week:
        return week_starting(self.monday - timedelta(weeks=weeks), self.time_zone)


def team_time_zone(policy: Policy) -> str:
    """The time zone a workspace's weeks run in (see the module docstring)."""
    return policy.default_time_zone


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # A midnight skipped by a DST change (Asia/Tehran, 22 March 2021) resolves to the first moment
    # of that day; the week before ends at the same instant, so weeks never overlap or leave gaps.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def week_starting(monday: date, time_zone: str) -> Week:
    if monday.weekday() != 0:
        raise ValueError(f"{monday} is not a Monday")
    zone = ZoneInfo(time_zone)
    iso = monday.isocalendar()
    return Week(f"{iso.year}-W{iso.week:02d}", monday, _midnight(monday, zone),
                _midnight(monday + timedelta(weeks=1), zone), time_zone)


def week_of(moment: datetime, time_zone: str) -> Week:
    """The ISO week, local to ``time_zone``, that contains ``moment`` (timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("a moment without a time zone is ambiguous")
    local = moment.astimezone(ZoneInfo(time_zone)).date()
    return week_starting(local - timedelta(days=local.weekday()), time_zone)


def reported_week(moment: datetime, time_zone: str) -> Week:
    """The week a weekly message sent at ``moment`` is about: the last whole week before it."""
    return week_of(moment, time_zone).before()
