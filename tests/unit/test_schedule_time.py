"""Weekly local send times across time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.schedule_time import (
    WeeklyTime,
    canonical_zone,
    following_occurrence,
    latest_occurrence,
    next_occurrence,
    week_period,
)

MONDAY_9_AMS = WeeklyTime(0, 9, 0, "Europe/Amsterdam")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_winter_and_summer_time_in_amsterdam():
    assert next_occurrence(MONDAY_9_AMS, utc(2026, 11, 20, 12)) == utc(2026, 11, 23, 8)  # CET, UTC+1
    assert next_occurrence(MONDAY_9_AMS, utc(2026, 6, 5, 12)) == utc(2026, 6, 8, 7)  # CEST, UTC+2


def test_the_week_the_clocks_go_back_keeps_local_time():
    sunday_9 = WeeklyTime(6, 9, 0, "Europe/Amsterdam")  # the clocks go back on Sunday 2026-10-25 at 03:00
    before = next_occurrence(sunday_9, utc(2026, 10, 17))
    assert before == utc(2026, 10, 18, 7)
    after = following_occurrence(sunday_9, before)
    assert after == utc(2026, 10, 25, 8)  # still 09:00 local, so one hour later in UTC
    assert after - before == timedelta(hours=169)
    # On the change day itself: 08:30 local (07:30 UTC) is not yet the send time.
    assert latest_occurrence(sunday_9, utc(2026, 10, 25, 7, 30)) == before
    assert latest_occurrence(sunday_9, utc(2026, 10, 25, 8, 0)) == after


def test_a_time_that_does_not_exist_or_occurs_twice():
    spring = WeeklyTime(6, 2, 30, "Europe/Amsterdam")  # 2026-03-29 02:00 -> 03:00
    assert next_occurrence(spring, utc(2026, 3, 28)) == utc(2026, 3, 29, 1, 30)  # = 03:30 CEST
    autumn = WeeklyTime(6, 2, 30, "Europe/Amsterdam")  # 02:30 happens twice on 2026-10-25
    assert next_occurrence(autumn, utc(2026, 10, 24)) == utc(2026, 10, 25, 0, 30)  # the first one, CEST


@pytest.mark.parametrize(("zone", "expected"), [
    ("Europe/Amsterdam", utc(2026, 11, 23, 8)),
    ("America/New_York", utc(2026, 11, 23, 14)),  # EST, UTC-5 (its change was on 1 November)
    ("Asia/Tokyo", utc(2026, 11, 23, 0)),
    ("Pacific/Auckland", utc(2026, 11, 22, 20)),  # NZDT, UTC+13: still Sunday in UTC
])
def test_monday_nine_in_several_time_zones(zone, expected):
    when = WeeklyTime(0, 9, 0, zone)
    assert next_occurrence(when, utc(2026, 11, 21)) == expected
    assert week_period(expected, zone) == "2026-W48"  # the local week, whatever the UTC date


def test_new_york_across_its_own_change():
    when = WeeklyTime(0, 9, 0, "America/New_York")
    first = next_occurrence(when, utc(2026, 10, 25))
    assert first == utc(2026, 10, 26, 13)  # EDT, UTC-4
    assert following_occurrence(when, first) == utc(2026, 11, 2, 14)  # EST, UTC-5


def test_latest_occurrence_reaches_back_into_the_previous_week():
    # Monday 07:59 UTC is 08:59 in Amsterdam: this week's 09:00 has not come yet.
    assert latest_occurrence(MONDAY_9_AMS, utc(2026, 11, 23, 7, 59)) == utc(2026, 11, 16, 8)
    assert latest_occurrence(MONDAY_9_AMS, utc(2026, 11, 23, 8, 0)) == utc(2026, 11, 23, 8)
    assert next_occurrence(MONDAY_9_AMS, utc(2026, 11, 23, 8, 0)) == utc(2026, 11, 30, 8)


def test_iso_week_at_the_turn_of_the_year():
    sunday = next_occurrence(WeeklyTime(6, 18, 0, "Europe/Amsterdam"), utc(2026, 12, 30))
    assert sunday == utc(2027, 1, 3, 17)
    assert week_period(sunday, "Europe/Amsterdam") == "2026-W53"


def test_zone_names_are_matched_case_insensitively_and_strictly():
    assert canonical_zone("europe/amsterdam") == "Europe/Amsterdam"
    assert canonical_zone("UTC") == "UTC"
    assert canonical_zone("Mars/Olympus") is None
    assert canonical_zone("../../etc/passwd") is None
