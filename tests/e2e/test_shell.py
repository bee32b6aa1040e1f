"""`vraagbot shell` driven through a full lifecycle from stdin, checked on output and stored rows."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from tests.e2e.cli import received, run_vraagbot

ROOT = Path(__file__).resolve().parents[2]

LIFECYCLE = """\
sanne: /vraag @anna #inkoop Mag ik deze offerte zonder tweede handtekening goedkeuren? | inschatting: ja | twijfel
anna: knop hoort bij mijn werk, onthoud
anna: antwoord 1 Nee. Staat gewoon in de handleiding, had je zelf kunnen lezen. Zoals ik al zei: eerst zoeken.
sanne: knop het antwoord voelde kortaf
sanne: knop mijn inschatting klopte
sanne: /vraag mijn-gegevens
sanne: knop exporteer
"""


def shell(script: str, db: Path) -> str:
    result = run_vraagbot("shell", stdin=script, env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def test_full_lifecycle_each_person_receives_the_right_messages(tmp_path):
    db = tmp_path / "shell.db"
    out = shell(LIFECYCLE, db)
    messages = received(out)
    to_anna = [text for who, text in messages if who == "anna"]
    to_sanne = [text for who, text in messages if who == "sanne"]

    assert "Vraag #1 van Sanne" in to_anna[0] and "[Hoort bij mijn werk]" in to_anna[0]
    assert any("hoort bij je werk, en #inkoop staat nu bij je rol" in t for t in to_anna)
    assert any("Je antwoord op vraag #1 is bij Sanne" in t for t in to_anna)
    assert not any("kortaf" in t.lower() for t in to_anna)  # the expert never sees the curt signal

    assert "Je vraag (#1) staat bij Anna" in to_sanne[0]
    assert any("Anna" in t and "werk" in t for t in to_sanne[1:3])  # tagged werk notice
    assert any("Antwoord van Anna op je vraag #1" in t for t in to_sanne)
    assert any("[Mijn inschatting klopte]" in t for t in to_sanne)
    curt_reframes = [t for t in to_sanne if "timing" in t or "drukte" in t or "oordeel" in t]
    assert len(curt_reframes) == 1  # detected and reported: one private reframing
    assert any(("inschatting klopte" in t and "checken" in t.lower()) or "bevestiging" in t.lower()
               for t in to_sanne)

    export = out[out.index("bijlage/attachment (JSON):"):]
    data = json.loads(export[export.index("{"):export.rindex("}") + 1])
    assert data["person"]["handle"] == "sanne"
    assert data["questions"][0]["outcome"] == "confirmed"

    assert rows(db, "SELECT tag, tag_source, outcome, status FROM questions") == [
        ("werk", "expert", "confirmed", "closed")]
    assert sorted(k for (k,) in rows(db, "SELECT kind FROM signals")) == [
        "confirmation_only", "curt_detected", "curt_reported"]
    assert rows(db, "SELECT count(*) FROM outbox WHERE status != 'sent'") == [(0,)]


def test_forget_me_in_the_shell_removes_the_person(tmp_path):
    db = tmp_path / "shell.db"
    shell(LIFECYCLE, db)
    out = shell("sanne: /vraag vergeet-mij\nsanne: knop ja, verwijder\nsanne: /vraag mijn-gegevens\n", db)
    texts = [text for who, text in received(out) if who == "sanne"]
    assert any("Weet je het zeker?" in t for t in texts)
    assert any("is verwijderd" in t for t in texts)
    assert "De bot bewaart niets over jou." in texts[-1]
    assert rows(db, "SELECT count(*) FROM people WHERE handle = 'sanne'") == [(0,)]
    assert rows(db, "SELECT count(*) FROM questions") == [(0,)]


def test_focus_time_holds_a_question_until_the_clock_passes_it(tmp_path):
    out = shell("focus lotte 45\nsanne: /vraag @lotte Welke versie is actueel?\nklok +46m\n", tmp_path / "f.db")
    before, after = out.split("(klok:")
    assert "focustijd" in before and "Vraag #1 van Sanne" not in before
    assert "Vraag #1 van Sanne" in after and "De focustijd van Lotte is voorbij" in after


def test_the_bundled_demo_script_runs_and_reruns_the_same_with_reset(tmp_path):
    script = (ROOT / "bot" / "demo" / "demo.txt").read_text()
    db = tmp_path / "demo.db"
    outputs = []
    for _ in range(2):
        result = run_vraagbot("shell", "--reset", stdin=script, env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}"})
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    first, second = outputs
    assert "Klaar: alles wat de bot over jou bewaarde is verwijderd." in first
    assert not [line for line in first.splitlines() if line.startswith("  ?")]  # every line was understood
    # Same messages to the same people both times (times of day aside: the shell clock starts at now).
    assert _without_times(first) == _without_times(second)


def _without_times(transcript: str) -> list[tuple[str, str]]:
    return [(who, re.sub(r"\d\d:\d\d", "HH:MM", text)) for who, text in received(transcript)
            if "bijlage" not in text]  # the export carries creation timestamps
