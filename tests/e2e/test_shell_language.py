"""`vraagbot shell` in English: with VRAAGBOT_DEFAULT_LANGUAGE=en its own lines (help, what it narrates,
what it did not understand) are English, and the English command words work next to the Dutch ones.

The messages the bot sends keep each person's own language (sanne, anna and lotte Dutch, bram English).
"""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
from pathlib import Path

from tests.e2e.cli import VRAAGBOT, received, run_vraagbot

DUTCH_SHELL_WORDS = ("Typ wat", "knop <", "Zonder naam", "zit ", "klok:", "Begin met", "knoppen van", "drukt op",
                     "Gebruik ", "bijlage")


def english(db: Path, script: str) -> str:
    result = run_vraagbot("shell", stdin=script,
                          env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}", "VRAAGBOT_DEFAULT_LANGUAGE": "en"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def shell_lines(transcript: str) -> list[str]:
    """What the shell itself printed, unindented: neither the echoed input ('» ...') nor a message someone
    received."""
    return [line.strip() for line in transcript.splitlines()
            if not line.startswith(("» ", "  → ", "      "))]


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def test_the_english_help_lists_the_english_command_words(tmp_path):
    out = english(tmp_path / "s.db", "help\n")
    assert out.startswith("» help\nType what a person does")
    for command in ("button <start of label>", "answer [<nr>] <text>", "focus <name> <minutes>", "clock +<n>m",
                    "people ", "help | stop"):
        assert command in out, command
    assert "knop" in out and "antwoord" in out  # the Dutch words are named as still working
    assert not [word for word in ("Typ wat", "knop <", "Zonder naam") if word in out]


def test_an_english_run_narrates_in_english_and_the_bot_keeps_each_persons_language(tmp_path):
    db = tmp_path / "s.db"
    script = ("focus lotte 45\n"
              "sanne: /vraag @lotte Welke versie is actueel?\n"
              "clock +46m\n"
              "lotte: button\n"
              "lotte: button nonsense\n"
              "lotte: answer Staat op intranet.\n"
              "bram: answer Hello?\n"
              "nobody: /vraag help\n"
              "just words\n"
              "sanne: something else\n"
              "people\n"
              "sanne: /vraag mijn-gegevens\n"
              "sanne: button export\n")
    out = english(db, script)
    own = "\n".join(shell_lines(out))
    assert "(lotte is in focus time for 45 minutes)" in own
    assert "(clock: " in own
    assert "(buttons of lotte, newest first;" in own and "question #1: [" in own
    assert "? lotte has no button that starts like that. Type 'lotte: button' for the list." in own
    assert "? bram has not been asked anything to answer yet." in own
    assert "? nobody is not in the demo workspace. Type 'people'." in own
    assert "? Start with a name, for example 'bram: /vraag help', or type 'help'." in own
    assert "? Use /vraag ..., button <label> or answer <nr> <text>." in own
    assert "bram (Bram, en) topics: #security" in own
    assert "(sanne presses [Exporteer als bestand])" in own
    assert "      attachment (JSON):" in out
    assert not [word for word in DUTCH_SHELL_WORDS if word in own]
    # What the bot sent stays in the receiver's language: Dutch for sanne and lotte.
    to_sanne = [text for who, text in received(out) if who == "sanne"]
    assert any("Antwoord van Lotte op je vraag #1" in text for text in to_sanne)
    assert rows(db, "SELECT count(*) FROM replies") == [(1,)]


def test_the_dutch_command_words_keep_working_in_an_english_run(tmp_path):
    db = tmp_path / "s.db"
    script = ("sanne: /vraag @anna #inkoop Mag ik deze offerte goedkeuren?\n"
              "sanne: /vraag @anna #inkoop En deze tweede offerte?\n"
              "anna: knop 1 is een gunst\n"
              "anna: button hoort bij mijn werk\n"
              "anna: antwoord 1 Ja, dat mag.\n"
              "anna: answer Deze ook.\n"
              "klok +1m\n"
              "mensen\n")
    own = shell_lines(english(db, script))
    assert "(anna presses [Is een gunst] on question #1)" in own
    assert "(anna presses [Hoort bij mijn werk] on question #2)" in own
    assert any(line.startswith("(clock: ") for line in own)
    assert "anna (Anna, nl) topics: #contracten, #privacy" in own
    assert not [line for line in own if line.startswith("?")]  # every line was understood
    assert rows(db, "SELECT id, tag FROM questions ORDER BY id") == [(1, "gunst"), (2, "werk")]
    assert rows(db, "SELECT question_id FROM replies ORDER BY question_id") == [(1,), (2,)]


def test_an_interactive_english_shell_greets_in_english(tmp_path):
    """On a terminal the shell greets and says where its log lines go: stdin is a pseudo-terminal here."""
    env = {**os.environ, "VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}", "VRAAGBOT_DEFAULT_LANGUAGE": "en"}
    terminal, keyboard = pty.openpty()
    with subprocess.Popen([VRAAGBOT, "shell"], stdin=keyboard, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env) as process:
        os.close(keyboard)
        try:
            os.write(terminal, b"stop\n")
            out, err = process.communicate(timeout=120)
        finally:
            os.close(terminal)
    assert process.returncode == 0, err
    assert out.startswith("vraagbot shell: demo workspace. Type what a person does")
    assert f"(log lines are in {tmp_path / 'vraagbot-shell.log'})" in out
    assert "demo-werkruimte" not in out and "logregels" not in out
