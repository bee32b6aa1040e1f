"""README's 'try Slack without Slack' command works as a new user would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_try_slack_plays_a_question_through_vraagbot_serve():
    result = subprocess.run([sys.executable, "-m", "tests.e2e.try_slack"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "(HTTP 200)" in out and "Vraag #1 van Sanne" in out
    assert "Genoteerd: vraag #1 bevestigde je inschatting." in out
    assert out.strip().endswith("(HTTP 401)")  # the forged request, and nothing after it
