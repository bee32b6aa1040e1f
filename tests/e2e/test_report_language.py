"""`vraagbot report` draws its chart in the team's language: that of the team's weekly message, or
the one asked for with --language."""

from __future__ import annotations

import sqlite3

from tests.e2e.cli import run_vraagbot
from tests.e2e.test_nudges_cli import build_team


async def test_the_report_speaks_the_language_of_the_teams_weekly_message(tmp_path):
    db = tmp_path / "team.db"
    await build_team(db)  # its weekly message is in Dutch
    env = {"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}", "VRAAGBOT_DEFAULT_LANGUAGE": "en"}
    dutch = run_vraagbot("report", "--team", "slack:T1", "--out", str(tmp_path / "nl.png"), env=env)
    assert dutch.returncode == 0, dutch.stderr
    assert ", in nl;" in dutch.stdout and "marked hidden" in dutch.stdout
    english = run_vraagbot("report", "--team", "slack:T1", "--language", "en", "--out", str(tmp_path / "en.png"),
                           env=env)
    assert english.returncode == 0, english.stderr
    assert ", in en;" in english.stdout
    assert (tmp_path / "nl.png").read_bytes() != (tmp_path / "en.png").read_bytes()

    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE team_schedules SET language = 'en'")
    switched = run_vraagbot("report", "--team", "slack:T1", "--out", str(tmp_path / "again.png"), env=env)
    assert ", in en;" in switched.stdout
    assert (tmp_path / "again.png").read_bytes() == (tmp_path / "en.png").read_bytes()  # same figures, same picture
