"""`vraagbot nudges preview` and `vraagbot report`, run as a user would, on a SQLite file."""

from __future__ import annotations

import asyncio
import csv
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image

from handlers import dispatch
from handlers.actions import Action
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.uow import make_uow_factory
from tests.e2e.cli import run_vraagbot
from tests.unit.world import CATALOG, World

TEAM = ["sanne", "anna", "lotte", "bram", "femke"]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def monday_of(moment: datetime) -> datetime:
    local = moment.astimezone(AMSTERDAM)
    monday = (local - timedelta(days=local.weekday())).replace(hour=12, minute=0, second=0, microsecond=0)
    return monday.astimezone(UTC)


async def build_team(path) -> None:
    """Five people; questions in three earlier weeks (one of them among only four people) and today."""
    url = f"sqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    try:
        world = World(uow=make_uow_factory(engine), db_path=str(path))
        now = datetime.now(UTC).replace(microsecond=0)
        world.clock.current = now - timedelta(weeks=12)
        for handle in TEAM:
            await world.add_person(handle)

        async def ring(people: list[str], confirm_first: int) -> None:
            for n, (asker, expert) in enumerate(zip(people, people[1:] + people[:1], strict=True)):
                qid = (await world.say(asker, f"@{expert} Klopt deze termijn?")).question_id
                await world.reply(expert, qid, "Ja, die klopt. Fijn dat je het even checkt.")
                await world.press(asker, Action.OUTCOME_CONFIRMED if n < confirm_first else Action.OUTCOME_NEW_INFO,
                                  qid)

        this_monday = monday_of(now)
        world.clock.current = this_monday - timedelta(weeks=3)
        await ring(TEAM, confirm_first=4)  # 5 questions, 4 of 5 confirmed
        world.clock.current = this_monday - timedelta(weeks=2)
        await ring(TEAM[:4], confirm_first=4)  # only four people: left empty
        world.clock.current = this_monday - timedelta(weeks=1)
        await ring(TEAM, confirm_first=1)
        world.clock.current = now - timedelta(hours=1)
        await ring(TEAM, confirm_first=5)
        tomorrow = (now.astimezone(AMSTERDAM).weekday() + 1) % 7
        world.clock.current = now - timedelta(minutes=30)
        actor = replace(world.actor("anna"), channel="C1")
        weekday = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"][tomorrow]
        result = await dispatch.handle_text(world.deps, actor, f"team-nudge {weekday} 09:00 Europe/Amsterdam nl")
        assert result.ok, result.replies[0].text
    finally:
        await engine.dispose()


async def test_preview_prints_the_next_message_with_this_weeks_figures(tmp_path):
    db = tmp_path / "team.db"
    await build_team(db)
    result = run_vraagbot("nudges", "preview", "--channel", "slack:C1",
                          env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}"})
    assert result.returncode == 0, result.stderr
    header, _rule, *body = result.stdout.splitlines()
    assert header.startswith("Next weekly message for slack:C1: ") and "09:00 Europe/Amsterdam, language nl" in header
    text = "\n".join(body)
    assert text.startswith("Het weekbericht van vraagbot")
    assert CATALOG.variants["nl"]["weekly.reframe"][0] in text  # the channel's first text
    assert "het team 5 vragen via vraagbot" in text
    assert "Dank aan Anna, Bram, Femke, Lotte en Sanne" in text
    # Nothing was queued by looking.
    missing = run_vraagbot("nudges", "preview", "--channel", "slack:C404",
                           env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}"})
    assert missing.returncode == 1 and "has no weekly message" in missing.stderr


def colour_pixels(image: Image.Image, rgb: tuple[int, int, int]) -> int:
    return sum(count for count, pixel in image.getcolors(maxcolors=1 << 20) if pixel[:3] == rgb)


async def test_report_writes_a_chart_with_three_series_and_the_same_figures_as_csv(tmp_path):
    db = tmp_path / "team.db"
    await build_team(db)
    out = tmp_path / "out" / "report.png"
    out.parent.mkdir()
    result = run_vraagbot("report", "--team", "slack:T1", "--weeks", "12", "--out", str(out),
                          env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}"})
    assert result.returncode == 0, result.stderr

    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out) as image:
        assert image.size == (1000, 500)
        image = image.convert("RGB")
        for series in ((0x9E, 0xCA, 0xE1), (0x31, 0xA3, 0x54), (0xE6, 0x55, 0x0D)):  # bars, werk, confirmation
            assert colour_pixels(image, series) > 50, series

    with (tmp_path / "out" / "report.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12
    weeks = [r["week"] for r in rows]
    assert weeks == sorted(weeks) and len(set(weeks)) == 12
    # Whole weeks only, the same ones the weekly messages are about: the week in progress (whose
    # figures would change from one run to the next) is not in the report.
    iso = datetime.now(AMSTERDAM).isocalendar()
    assert weeks[-1] < f"{iso.year}-W{iso.week:02d}"
    three_back, two_back, last = rows[-3:]
    assert (three_back["questions"], three_back["share_werk_pct"], three_back["share_confirmed_pct"],
            three_back["shown"]) == ("5", "100.0", "80.0", "yes")
    assert (two_back["questions"], two_back["share_werk_pct"], two_back["shown"]) == ("", "", "no")
    assert (last["questions"], last["share_confirmed_pct"]) == ("5", "20.0")
    assert all(r["questions"] == "0" for r in rows[:9])


def test_report_for_an_unknown_team_says_so(tmp_path):
    db = tmp_path / "empty.db"
    upgrade_to_head(f"sqlite:///{db}")
    result = run_vraagbot("report", "--team", "slack:TNOPE", "--out", str(tmp_path / "r.png"),
                          env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}"})
    assert result.returncode == 1 and "no workspace 'slack:TNOPE'" in result.stderr
    assert not (tmp_path / "r.png").exists()
