"""The fixed weeks of handlers.weeks: ISO weeks, Monday 00:00 to Monday 00:00 in the team's zone,
across daylight-saving changes and year boundaries (ISO week 53), without gaps or overlaps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from handlers.context import Policy
from handlers.weeks import reported_week, team_time_zone, week_of, week_starting

AMS = "Europe/Amsterdam"
HOUR = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_week_runs_from_local_monday_midnight_to_the_next():
    week = week_of(utc(2026, 11, 25, 12), AMS)  # a Wednesday
    assert (week.label, week.monday) == ("2026-W48", date(2026, 11, 23))
    assert (week.start, week.end) == (utc(2026, 11, 22, 23), utc(2026, 11, 29, 23))  # CET is UTC+1
    assert week.start in week and week.end not in week and week.end - timedelta(microseconds=1) in week


def test_the_local_date_decides_not_the_utc_date():
    # Sunday 23:30 UTC is Monday 00:30 in Amsterdam: the new week has begun there, not in New York.
    moment = utc(2026, 11, 22, 23, 30)
    assert week_of(moment, AMS).label == "2026-W48"
    assert week_of(moment, "America/New_York").label == "2026-W47"
    assert week_of(moment, "UTC").label == "2026-W47"


def test_a_message_is_about_the_last_whole_week_whatever_its_send_time():
    # Every send moment from the first instant of a week to its last reports the same week before it.
    week = week_starting(date(2026, 11, 23), AMS)
    for moment in (week.start, week.start + HOUR, utc(2026, 11, 26, 15), week.end - timedelta(microseconds=1)):
        assert reported_week(moment, AMS) == week_starting(date(2026, 11, 16), AMS), moment
    assert reported_week(week.end, AMS) == week


@pytest.mark.parametrize(("monday", "label", "hours"), [
    (date(2026, 3, 23), "2026-W13", 167),  # clocks go forward on Sunday 29 March
    (date(2026, 10, 19), "2026-W43", 169),  # clocks go back on Sunday 25 October
    (date(2026, 11, 2), "2026-W45", 168),
])
def test_dst_weeks_are_shorter_or_longer_but_still_midnight_to_midnight(monday, label, hours):
    week = week_starting(monday, AMS)
    assert week.label == label and week.end - week.start == timedelta(hours=hours)
    assert week.end == week_starting(monday + timedelta(days=7), AMS).start  # no gap, no overlap
    assert reported_week(week.end + 9 * HOUR, AMS) == week


def test_a_monday_midnight_skipped_by_dst_starts_the_week_at_that_days_first_moment():
    # Asia/Tehran went from 00:00 straight to 01:00 on Monday 22 March 2021.
    week = week_of(utc(2021, 3, 24, 12), "Asia/Tehran")
    assert (week.label, week.start) == ("2021-W12", utc(2021, 3, 21, 20, 30))  # 01:00 local, +04:30
    assert week.end - week.start == timedelta(hours=167)  # the skipped hour belongs to this week
    before = week.before()
    assert before.end == week.start and before.end - before.start == timedelta(hours=168)
    assert week_of(utc(2021, 3, 21, 20, 29), "Asia/Tehran").label == "2021-W11"


def test_iso_week_53_and_the_year_boundary():
    last = week_of(utc(2026, 12, 31, 12), AMS)  # Thursday 31 December 2026
    assert (last.label, last.monday) == ("2026-W53", date(2026, 12, 28))
    assert week_of(utc(2027, 1, 3, 22, 59), AMS).label == "2026-W53"  # Sunday 23:59 local
    assert week_of(utc(2027, 1, 3, 23, 0), AMS).label == "2027-W01"  # Monday 4 January 00:00 local
    assert reported_week(utc(2027, 1, 4, 8), AMS) == last
    assert reported_week(utc(2027, 1, 1, 12), AMS).label == "2026-W52"  # New Year's Day is still in W53
    assert last.before(53).label == "2025-W52" and last.before().label == "2026-W52"
    # A week whose ISO year is not its calendar year: Monday 30 December 2024 is 2025-W01.
    assert week_of(utc(2024, 12, 31, 12), AMS).label == "2025-W01"
    assert week_of(utc(2021, 1, 3, 12), AMS).label == "2020-W53"


def test_weeks_are_consecutive_for_years():
    week = week_starting(date(2019, 12, 30), AMS)
    for _ in range(400):
        following = week_starting(week.monday + timedelta(days=7), AMS)
        assert following.before() == week and following.start == week.end
        week = following


def test_refuses_what_would_be_ambiguous():
    with pytest.raises(ValueError, match="not a Monday"):
        week_starting(date(2026, 11, 24), AMS)
    with pytest.raises(ValueError, match="time zone"):
        week_of(datetime(2026, 11, 24, 12), AMS)  # naive: whose clock?


def test_the_team_zone_is_the_policy_default_not_a_channels_zone():
    assert team_time_zone(Policy(default_time_zone="Asia/Tokyo")) == "Asia/Tokyo"
