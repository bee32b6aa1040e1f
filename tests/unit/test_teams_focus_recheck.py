"""The arithmetic of Teams focus time: when a held question is looked at again, which presence holds it,
and Graph's per-tenant limits. (End to end: tests/e2e/test_teams_presence.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.teams.graph import DEFAULT_RETRY_AFTER, GraphPresence, TenantLimits, retry_after_seconds
from bot.teams.presence import holds
from handlers.focus import next_look
from handlers.ports import Recheck

ASKED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RECHECK = Recheck(first=timedelta(minutes=10), bound=timedelta(hours=2))


def looks(presence_says_busy_until: timedelta = timedelta(minutes=10)) -> list[int]:
    """Minutes after asking at which an expert who stays busy is looked at again, up to the bound."""
    now, seen = ASKED, []
    while (at := next_look(ASKED, now, now + presence_says_busy_until, RECHECK)) is not None:
        seen.append(int((at - ASKED).total_seconds() // 60))
        now = at
    return seen


def test_the_steps_double_and_the_last_look_is_at_the_bound():
    assert looks() == [10, 20, 40, 80, 120]


def test_at_or_after_the_bound_it_goes_out():
    assert next_look(ASKED, ASKED + timedelta(hours=2), ASKED + timedelta(hours=3), RECHECK) is None
    assert next_look(ASKED, ASKED + timedelta(hours=5), ASKED + timedelta(hours=6), RECHECK) is None


def test_a_longer_known_focus_end_is_kept_but_never_past_the_bound():
    assert next_look(ASKED, ASKED, ASKED + timedelta(minutes=45), RECHECK) == ASKED + timedelta(minutes=45)
    assert next_look(ASKED, ASKED, ASKED + timedelta(hours=9), RECHECK) == ASKED + timedelta(hours=2)


def test_which_presence_holds():
    held = [GraphPresence("DoNotDisturb", "Focusing"), GraphPresence("DoNotDisturb", "DoNotDisturb"),
            GraphPresence("Busy", "Presenting"), GraphPresence("Busy", "InACall"),
            GraphPresence("Busy", "InAConferenceCall")]
    free = [GraphPresence("Available", "Available"), GraphPresence("Busy", "InAMeeting"),
            GraphPresence("Busy", "Busy"), GraphPresence("Away", "Away"), GraphPresence("Offline", "OffWork"),
            GraphPresence("PresenceUnknown", "PresenceUnknown")]
    assert all(holds(p) for p in held)
    assert not any(holds(p) for p in free)


def test_the_budget_is_per_tenant_and_slides_over_30_seconds():
    clock = [0.0]
    limits = TenantLimits(3, clock=lambda: clock[0])
    assert [limits.take("a") for _ in range(4)] == [None, None, None, "budget"]
    assert limits.take("b") is None  # another tenant has its own
    clock[0] = 30.5
    assert limits.take("a") is None


def test_a_429_closes_the_tenant_for_its_retry_after():
    clock = [0.0]
    limits = TenantLimits(100, clock=lambda: clock[0])
    limits.close_for("a", retry_after_seconds("7"))
    assert limits.take("a") == "closed" and limits.take("b") is None
    clock[0] = 7.5
    assert limits.take("a") is None


def test_retry_after_that_is_not_a_number_of_seconds_waits_the_default():
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT") == DEFAULT_RETRY_AFTER
    assert retry_after_seconds(None) == DEFAULT_RETRY_AFTER
    assert retry_after_seconds("-1") == DEFAULT_RETRY_AFTER
    assert retry_after_seconds("2.5") == 2.5
