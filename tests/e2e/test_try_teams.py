"""README's 'try Teams without Teams' command works as a new user would run it, and shows what each
person would see in Teams: in whose chat, the whole text, the cards with their buttons, the updated cards
and the exported file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 100  # no printed line is wider: long messages are wrapped, not cut
ANNA, SANNE = "chat of Anna de Vries with vraagbot", "chat of Sanne Jansen with vraagbot"
UPDATED = ", a card was updated (it now reads)"


@pytest.fixture(scope="module")
def out() -> str:
    result = subprocess.run([sys.executable, "-m", "tests.e2e.try_teams"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def shown(out: str) -> list[tuple[str, str]]:
    """(where, what) for each message shown: the '-> where:' line, then its lines with the wrapping undone."""
    messages: list[tuple[str, str]] = []
    for line in out.splitlines():
        if line.startswith("    -> ") and line.endswith(":"):
            messages.append((line[len("    -> "):-1], ""))
        elif line.startswith(" " * 8) and messages:
            where, what = messages[-1]
            messages[-1] = (where, " ".join(f"{what} {line}".split()))
    return messages


def seen(out: str, where: str, text: str) -> list[str]:
    return [what for place, what in shown(out) if place == where and text in what]


def test_each_person_is_welcomed_once_in_their_own_chat(out):
    assert len(seen(out, ANNA, "Welkom bij vraagbot.")) == 1
    assert len(seen(out, SANNE, "Welkom bij vraagbot.")) == 1
    assert out.count("Welkom bij vraagbot.") == 2  # Teams told each install twice: welcomed once


def test_the_typed_question_reaches_the_expert_as_a_card_with_buttons(out):
    assert "sanne types: vraag @anna Mag ik deze offerte goedkeuren?" in out
    [card] = seen(out, ANNA, "Vraag #1 van Sanne Jansen")
    assert "Mag ik deze offerte goedkeuren?" in card and "Je antwoord: ____" in card
    assert "[ Hoort bij mijn werk ] [ Is een gunst ] [ Antwoord versturen ]" in card
    assert seen(out, SANNE, "Je vraag (#1) staat bij Anna de Vries.")


def test_pressed_cards_are_shown_updated_without_their_buttons(out):
    [question] = seen(out, ANNA + UPDATED, "Vraag #1 van Sanne Jansen")
    assert "Gemarkeerd als werk door Anna de Vries." in question
    assert "[ Hoort bij mijn werk ]" not in question and "[ Antwoord versturen ]" in question
    [outcome] = seen(out, SANNE + UPDATED, "Hoe liep vraag #1 af?")
    assert "Je gaf aan dat je eigen inschatting klopte." in outcome
    assert "[ Mijn inschatting klopte ]" not in outcome and "[ Het antwoord voelde kortaf ]" in outcome


def test_the_answer_and_the_outcome_reach_the_asker(out):
    assert seen(out, SANNE, "Antwoord van Anna de Vries op je vraag #1: Klopt, dat mag.")
    assert seen(out, SANNE, "[ Mijn inschatting klopte ] [ Ik kreeg nieuwe informatie ]")
    assert seen(out, SANNE, "Genoteerd: vraag #1 bevestigde je inschatting.")
    assert seen(out, SANNE, "Je inschatting klopte. Dat maakt je vraag niet overbodig")


def test_the_export_arrives_as_a_file_after_consent(out):
    [consent] = seen(out, SANNE, "File: vraagbot-gegevens.json")[:1]
    assert "[ Allow ] [ Decline ]" in consent
    assert seen(out, "Sanne's OneDrive (the upload, HTTP 201)", "vraagbot-gegevens.json")
    assert seen(out, SANNE, "File: vraagbot-gegevens.json (json, in your OneDrive")
    assert seen(out, SANNE, "het bestand staat in je eigen OneDrive")


def test_presence_was_asked_and_lines_are_wrapped(out):
    assert seen(out, "Microsoft Graph (presence, for focus time)", "she was available")
    assert max(len(line) for line in out.splitlines()) <= WIDTH
