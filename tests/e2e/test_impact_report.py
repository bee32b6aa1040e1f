"""`vraagbot report --impact` (bot/impact_cli.py), run as a user
would, on a SQLite file holding a synthetic organisation with planted effects (tests/impact_world.py)."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import insert

from handlers.impact import whole_months
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.tables import TeamSchedule
from tests.e2e.cli import run_vraagbot
from tests.impact_world import Planted, generate, write

ZONE = "Europe/Amsterdam"


async def build(path: Path, *, people: int, language: str | None = None) -> None:
    url = f"sqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    now = datetime.now(UTC)
    months = whole_months(now, 12, ZONE)
    organisation = generate(people=people, start=months[0].start - timedelta(days=45), end=now, planted=Planted())
    try:
        async with engine.begin() as connection:
            await write(connection, organisation)
            if language:
                await connection.execute(insert(TeamSchedule).values(
                    workspace_id=organisation.workspace_id, channel="slack:C1", weekday=0, hour=9, minute=0,
                    time_zone=ZONE, language=language, enabled=True, changed_by=organisation.people[0],
                    created_at=now, updated_at=now))
    finally:
        await engine.dispose()


def report(db: Path, out: Path, *args: str):
    return run_vraagbot("report", "--impact", "--team", "slack:T1", "--out", str(out), *args,
                        env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}"})


def table(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.reader(handle))


async def test_the_report_shows_the_planted_effects_in_dutch_with_a_chart(tmp_path):
    db = tmp_path / "org.db"
    await build(db, people=300)
    result = report(db, tmp_path / "impact.png")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Werkt het? Synthetic T1, ") and "(groepen van minstens 5 mensen)" in lines[0]
    assert any(line.startswith("na een kortaf antwoord: ") and "na een antwoord met nieuwe informatie" in line
               and line.endswith("Uitkomst: lager.") for line in lines)
    assert any(line.startswith("na een kortaf antwoord (tekst 1): ") and "(tekst 2)" in line
               and line.endswith("Uitkomst: lager.") for line in lines)
    rows = table(tmp_path / "impact.csv")
    assert rows[0][:4] == ["onderdeel", "periode", "groep", "tekst"]
    sections = {row[0] for row in rows[1:]}
    assert {"opnieuw gevraagd binnen 4 weken (%)", "vergelijking", "vragen gemarkeerd als werk (%)",
            "mensen die een vraag stelden, per week"} <= sections
    # The last month's four weeks after it are not over: said so, no number.
    last = whole_months(datetime.now(UTC), 12, ZONE)[-1].label
    running = [row for row in rows if row[1] == last and row[0].startswith("opnieuw")]
    assert running and all(row[7] == "" and row[10].startswith("nog niet af") for row in running)
    with Image.open(tmp_path / "impact.png") as image:
        assert image.format == "PNG" and image.size[0] > 800


async def test_a_team_of_four_gets_no_figure_at_all_in_its_own_language(tmp_path):
    db = tmp_path / "four.db"
    await build(db, people=4, language="en")
    result = report(db, tmp_path / "four.png", "--months", "6")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("Is it working? Synthetic T1, ")
    rows = table(tmp_path / "four.csv")
    assert rows[0][0] == "part"
    values = [row for row in rows[1:] if row[7] not in ("", "too few people to tell")]
    assert values == []  # no share, count or verdict: four people is below the minimum group size
    assert all(row[4] == "" for row in rows[1:])  # nor how many people a cell has


async def test_an_unknown_team_is_one_line_and_exit_1(tmp_path):
    db = tmp_path / "org.db"
    await build(db, people=5)
    result = run_vraagbot("report", "--impact", "--team", "slack:NOPE", "--out", str(tmp_path / "x.png"),
                          env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}"})
    assert result.returncode == 1 and "no workspace 'slack:NOPE'" in result.stderr
    assert not (tmp_path / "x.png").exists()
