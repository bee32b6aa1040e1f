"""`/vraag team-nudge ...` and `/vraag erkenning ...`: grammar, use cases, refusals that write nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from handlers import dispatch
from handlers.actions import Action
from handlers.commands import parse
from handlers.context import Policy
from handlers.errors import InvalidInput
from handlers.team_commands import Recognition, SetTeamNudge, ShowTeamNudge, SwitchTeamNudge
from tests.unit.world import CATALOG

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "expected"), [
    ("team-nudge maandag 09:00 Europe/Amsterdam nl", SetTeamNudge(0, 9, 0, "Europe/Amsterdam", "nl")),
    ("team-nudge Friday 16:30 en america/new_york", SetTeamNudge(4, 16, 30, "America/New_York", "en")),
    ("team-nudge vr 8.15", SetTeamNudge(4, 8, 15, None, None)),
    ("team-nudge zondag 23:59 UTC", SetTeamNudge(6, 23, 59, "UTC", None)),
    ("team-nudge", ShowTeamNudge()),
    ("team-nudge uit", SwitchTeamNudge(False)),
    ("team-nudge OFF", SwitchTeamNudge(False)),
    ("team-nudge aan", SwitchTeamNudge(True)),
    ("erkenning", Recognition(None)),
    ("erkenning uit", Recognition(True)),
    ("recognition on", Recognition(False)),
])
def test_grammar(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "key"), [
    ("team-nudge blauwdag 09:00", "error.team_nudge_weekday"),
    ("team-nudge maandag 25:00", "error.team_nudge_time"),
    ("team-nudge maandag 9", "error.team_nudge_time"),
    ("team-nudge maandag 09:00 Mars/Olympus", "error.team_nudge_zone"),
    ("team-nudge maandag 09:00 de", "error.team_nudge_zone"),
    ("team-nudge maandag 09:00 nl en", "error.team_nudge_zone"),
    ("team-nudge maandag", "error.team_nudge_usage"),
    ("team-nudge maandag 09:00 UTC nl extra", "error.team_nudge_usage"),
    ("erkenning misschien", "error.recognition_usage"),
])
def test_bad_input_is_refused_with_its_own_text(text, key):
    with pytest.raises(InvalidInput) as refused:
        parse(text)
    assert refused.value.key == key
    assert CATALOG.text("nl", key, **refused.value.params)  # the text exists and fills in


def test_every_key_the_new_modules_use_exists():
    pattern = re.compile(r'"((?:team_nudge|recognition|weekly|error|word|nudge)\.[a-z_]+)"')
    used = set()
    for name in ("handlers/team_nudges.py", "handlers/team_commands.py", "nudges/weekly.py", "handlers/answering.py"):
        used |= set(pattern.findall((ROOT / name).read_text()))
    for lang in ("nl", "en"):
        known = set(CATALOG.texts[lang]) | set(CATALOG.variants[lang]) | set(CATALOG.plurals[lang])
        assert used - known == set()


async def say_in(world, handle, text, channel="C1", **changes):
    actor = replace(world.actor(handle), channel=channel, **changes)
    return await dispatch.handle_text(world.deps, actor, text)


async def test_set_show_off_on(world):
    result = await say_in(world, "anna", "team-nudge maandag 09:00 Europe/Amsterdam nl")
    assert result.ok
    [reply] = result.replies
    # The clock is Monday 2026-11-23 10:00 in Amsterdam: today's 09:00 has passed, so next week.
    assert "elke maandag om 09:00 (Europe/Amsterdam)" in reply.text
    assert "maandag 30 november 2026 09:00" in reply.text
    assert world.rows("SELECT channel, weekday, hour, minute, time_zone, language, enabled FROM team_schedules") == [
        ("slack:C1", 0, 9, 0, "Europe/Amsterdam", "nl", 1)]

    shown = (await say_in(world, "sanne", "team-nudge")).replies[0].text
    assert "maandag 30 november 2026 09:00" in shown

    off = await say_in(world, "lotte", "team-nudge uit")
    assert "staat uit" in off.replies[0].text
    assert world.rows("SELECT enabled FROM team_schedules") == [(0,)]
    assert "staat uit" in (await say_in(world, "sanne", "team-nudge")).replies[0].text

    on = await say_in(world, "lotte", "team-nudge aan")
    assert "weer aan" in on.replies[0].text and "30 november 2026 09:00" in on.replies[0].text
    assert world.rows("SELECT enabled, changed_by FROM team_schedules") == [(1, world.people["lotte"].id)]


async def test_english_and_defaults_from_the_person(world):
    result = await say_in(world, "bram", "team-nudge friday 16:00")
    text = result.replies[0].text
    assert "every Friday at 16:00 (Europe/Amsterdam)" in text and "in English" in text
    assert world.rows("SELECT time_zone, language FROM team_schedules") == [("Europe/Amsterdam", "en")]


async def test_a_second_setting_replaces_the_first(world):
    await say_in(world, "anna", "team-nudge maandag 09:00")
    await say_in(world, "lotte", "team-nudge dinsdag 10:30 Europe/London en")
    assert world.rows("SELECT weekday, hour, minute, time_zone, language FROM team_schedules") == [
        (1, 10, 30, "Europe/London", "en")]


async def test_channels_are_separate(world):
    await say_in(world, "anna", "team-nudge maandag 09:00", channel="C1")
    assert "nog geen weekbericht" in (await say_in(world, "anna", "team-nudge", channel="C2")).replies[0].text


async def test_outside_a_team_channel_it_is_refused_and_nothing_is_written(world):
    before = world.counts()
    result = await say_in(world, "anna", "team-nudge maandag 09:00", channel=None)
    assert not result.ok and "kanaal van je team" in result.replies[0].text
    assert world.counts() == before
    assert world.rows("SELECT count(*) FROM team_schedules") == [(0,)]


async def test_bad_input_writes_nothing(world):
    before = world.counts()
    result = await say_in(world, "anna", "team-nudge maandag 09:00 Mars/Olympus")
    assert not result.ok and "Mars/Olympus" in result.replies[0].text
    assert world.counts() == before and world.rows("SELECT count(*) FROM team_schedules") == [(0,)]


async def test_switching_a_channel_without_a_setting_says_how_to_set_one(world):
    result = await say_in(world, "anna", "team-nudge uit")
    assert not result.ok and "/vraag team-nudge maandag 09:00" in result.replies[0].text


async def test_admins_only_when_configured(world):
    world.deps = replace(world.deps, policy=Policy(team_nudge_admins_only=True))
    refused = await say_in(world, "anna", "team-nudge maandag 09:00")
    assert not refused.ok and "beheerders" in refused.replies[0].text
    assert world.rows("SELECT count(*) FROM team_schedules") == [(0,)]
    assert (await say_in(world, "anna", "team-nudge")).ok  # looking is for everyone
    allowed = await say_in(world, "anna", "team-nudge maandag 09:00", is_admin=True)
    assert allowed.ok and world.rows("SELECT count(*) FROM team_schedules") == [(1,)]


async def test_recognition_opt_out_and_back(world):
    result = await world.say("anna", "erkenning uit")
    assert "niet meer in het weekbericht" in result.replies[0].text
    assert world.rows("SELECT recognition_opt_out FROM people WHERE handle='anna'") == [(1,)]
    assert "niet meer" in (await world.say("anna", "erkenning")).replies[0].text
    await world.say("anna", "erkenning aan")
    assert world.rows("SELECT recognition_opt_out FROM people WHERE handle='anna'") == [(0,)]


async def test_who_changed_a_setting_is_in_their_data_and_goes_when_they_are_forgotten(world):
    await say_in(world, "anna", "team-nudge maandag 09:00")
    export = await world.press("anna", Action.EXPORT_DATA, world.people["anna"].id)
    [change] = export.replies[0].attachment.content["team_nudge_settings_last_changed_by_you"]
    assert change["channel"] == "slack:C1"
    await world.press("anna", Action.FORGET_CONFIRM, world.people["anna"].id)
    assert world.rows("SELECT channel, changed_by, enabled FROM team_schedules") == [("slack:C1", None, 1)]
