"""Weekly local send times: when "every Monday 09:00 Europe/Amsterdam" falls in UTC, and which ISO
week a send belongs to (the period in its outbox key).

Local wall-clock time is kept across daylight-saving changes. A time that does not exist on the
day the clocks go forward (02:30 in Amsterdam) is sent at the same distance after the change
(03:30); a time that occurs twice when they go back is sent at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@dataclass(frozen=True)
class WeeklyTime:
    weekday: int  # 0 = Monday ... 6 = Sunday
    hour: int
    minute: int
    time_zone: str  # IANA name


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def canonical_zone(raw: str) -> str | None:
    """The IANA name as tzdata spells it (``europe/amsterdam`` -> ``Europe/Amsterdam``), or None."""
    return _zones_by_lower_name().get(raw.strip().lower())


def _in_week(when: WeeklyTime, monday: date) -> datetime:
    local = datetime.combine(monday + timedelta(days=when.weekday), time(when.hour, when.minute),
                             tzinfo=ZoneInfo(when.time_zone))
    return local.astimezone(UTC)


def _monday_of(moment: datetime, zone: str) -> date:
    today = moment.astimezone(ZoneInfo(zone)).date()
    return today - timedelta(days=today.weekday())


def latest_occurrence(when: WeeklyTime, now: datetime) -> datetime:
    """The most recent send moment at or before ``now`` (UTC), possibly in the previous week."""
    monday = _monday_of(now, when.time_zone)
    this_week = _in_week(when, monday)
    return this_week if this_week <= now else _in_week(when, monday - timedelta(days=7))


def next_occurrence(when: WeeklyTime, now: datetime) -> datetime:
    """The first send moment strictly after ``now`` (UTC)."""
    monday = _monday_of(now, when.time_zone)
    this_week = _in_week(when, monday)
    return this_week if this_week > now else _in_week(when, monday + timedelta(days=7))


def following_occurrence(when: WeeklyTime, occurrence: datetime) -> datetime:
    """The send moment one local week after ``occurrence`` (not always 168 hours later)."""
    return _in_week(when, _monday_of(occurrence, when.time_zone) + timedelta(days=7))


def week_period(occurrence: datetime, time_zone: str) -> str:
    """The ISO week of the local send date, e.g. ``2026-W48``."""
    iso = occurrence.astimezone(ZoneInfo(time_zone)).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"
