"""Issue 14, bug 4: `vraagbot shell` as a new user meets it, run as the installed command.

Each test reads what a person would read in the terminal (stdout) and what the database keeps.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.cli import received, run_vraagbot

TEAM = "shell:team"
WEEKLY = "sanne: /vraag team-nudge maandag 09:00\nklok +7d\n"


def shell(db: Path, script: str, *args: str):
    result = run_vraagbot("shell", *args, stdin=script, env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}"})
    assert result.returncode == 0, result.stderr
    return result


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def to(who: str, transcript: str) -> list[str]:
    return [text for name, text in received(transcript) if name == who]


def test_an_english_person_gets_english_help_and_refusals(tmp_path):
    out = shell(tmp_path / "s.db", "bram: /vraag help\nbram: /vraag weer\n").stdout
    help_text, refusal = to("bram", out)
    assert help_text.startswith("vraagbot helps you") and "Vragen stellen" not in help_text
    assert "ken ik niet" not in refusal and "/vraag help" in refusal


def test_letting_a_week_pass_sends_the_weekly_team_message(tmp_path):
    db = tmp_path / "s.db"
    script = ("sanne: /vraag @anna #inkoop Mag ik deze offerte goedkeuren?\n"
              "anna: antwoord Ja, dat mag.\n" + WEEKLY + "klok +1d\n")
    out = shell(db, script).stdout
    after = out[out.index("(klok:"):]
    assert len(to(TEAM, after)) == 1  # the channel's message of the week the clock passed
    assert rows(db, "SELECT status FROM outbox WHERE kind = 'weekly_team'") == [("sent",)]
    # Anna answered a question: her own summary comes on the Monday after that week, also passed.
    assert rows(db, "SELECT status FROM outbox WHERE kind = 'weekly_expert'") == [("sent",)]
    assert len([t for t in to("anna", after)]) == 1
    assert rows(db, "SELECT count(*) FROM outbox WHERE status = 'skipped'") == [(0,)]


def test_letting_a_month_pass_sends_the_monthly_picture_too(tmp_path):
    db = tmp_path / "s.db"
    script = ("sanne: /vraag @anna #inkoop Mag ik deze offerte goedkeuren?\n"
              "anna: antwoord Ja, dat mag.\n" + WEEKLY + "klok +35d\n")
    out = shell(db, script).stdout
    assert rows(db, "SELECT status FROM outbox WHERE kind = 'monthly_team'") == [("sent",)]
    [picture] = [text for text in to(TEAM, out) if "bijlage/attachment" in text]
    assert ".png" in picture and "KB)" in picture  # a terminal shows the picture in words


def test_reset_forgets_the_team_channel_too(tmp_path):
    db = tmp_path / "s.db"
    first = shell(db, WEEKLY).stdout
    assert len(to(TEAM, first)) == 1
    shown = shell(db, "sanne: /vraag team-nudge\n", "--reset").stdout
    assert "nog geen weekbericht" in to("sanne", shown)[0]
    assert rows(db, "SELECT count(*) FROM team_schedules") == [(0,)]
    assert rows(db, f"SELECT count(*) FROM outbox WHERE channel = '{TEAM}'") == [(0,)]
    assert rows(db, "SELECT count(*) FROM team_week_figures") == [(0,)]
    again = shell(db, WEEKLY, "--reset").stdout  # the same week, played again from the start
    assert len(to(TEAM, again)) == 1


def test_log_lines_go_to_a_file_not_into_the_conversation(tmp_path):
    db = tmp_path / "s.db"
    result = shell(db, WEEKLY + "sanne: /vraag weer\n")
    assert result.stderr == ""
    assert not [line for line in result.stdout.splitlines() if line.startswith("{") or "nudges.planner" in line]
    log = (tmp_path / "vraagbot-shell.log").read_text()
    assert "weekly nudge" in log


ASKED_TWICE = ("sanne: /vraag @anna #inkoop Mag ik deze offerte goedkeuren?\n"
               "sanne: /vraag @anna #inkoop En deze tweede offerte?\n")


def test_knop_chooses_the_question_and_lists_the_buttons(tmp_path):
    db = tmp_path / "s.db"
    out = shell(db, ASKED_TWICE + "anna: knop\nanna: knop 1 is een gunst\nanna: knop hoort bij mijn werk\n").stdout
    listing = out[out.index("» anna: knop\n"):out.index("» anna: knop 1")]
    assert "#1" in listing and "#2" in listing and "[Is een gunst]" in listing
    assert listing.index("#2") < listing.index("#1")  # newest first: what plain 'knop <label>' presses
    assert rows(db, "SELECT id, tag, tag_source FROM questions ORDER BY id") == [
        (1, "gunst", "expert"), (2, "werk", "expert")]


def test_knop_with_a_question_that_has_no_such_button_says_so(tmp_path):
    out = shell(tmp_path / "s.db", ASKED_TWICE + "anna: knop 7 is een gunst\n").stdout
    assert "  ? " in out.split("» anna: knop 7")[1]
