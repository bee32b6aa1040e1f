"""README's 'try Slack without Slack' command works as a new user would run it, and shows what each
person would see in Slack: the whole text, the buttons, and to whom."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 100  # no printed line is wider: long messages are wrapped, not cut


@pytest.fixture(scope="module")
def out() -> str:
    result = subprocess.run([sys.executable, "-m", "tests.e2e.try_slack"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _flowing(out: str) -> str:
    """The output with the wrapping undone: every run of whitespace one space."""
    return " ".join(out.split())


def test_try_slack_plays_a_question_through_vraagbot_serve(out):
    assert "(HTTP 200)" in out and "Vraag #1 van Sanne" in out
    assert "Genoteerd: vraag #1 bevestigde je inschatting." in out
    assert out.strip().endswith("(HTTP 401)")  # the forged request, and nothing after it


def test_a_long_message_is_shown_whole_and_wrapped(out):
    # The reframing text after a confirmation is longer than one line: all of it is there, wrapped.
    assert ("Je inschatting klopte. Dat maakt je vraag niet overbodig: met wat je op dat moment wist, "
            "was checken de goede keuze.") in _flowing(out)
    assert max(len(line) for line in out.splitlines()) <= WIDTH


def test_buttons_are_shown_with_their_labels(out):
    assert "[ Hoort bij mijn werk ]" in out and "[ Is een gunst ]" in out
    assert "[ Mijn inschatting klopte ]" in out


def test_each_message_says_to_whom(out):
    assert "group DM with Anna, Sanne" in out  # the question, in the group DM of asker, expert and bot
    assert "DM with Sanne" in out  # the outcome question and the reframing text
    assert "only Anna sees this" in out  # the ephemeral thanks after her answer
    assert "G52FEC" not in _flowing(out)  # no bare conversation ids
