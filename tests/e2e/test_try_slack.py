"""README's 'try Slack without Slack' commands work as a new user would run them, and show what each
person would see in Slack: the whole text, the buttons, and to whom. One run per mode: HTTP (the default),
Socket Mode, and OAuth distribution; the same question plays through each."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from nudges.texts.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 100  # no printed line is wider: long messages are wrapped, not cut
ACK_LIMIT_SECONDS = 3.0  # Slack's limit for an ack (a protocol rule, not a performance target)
STATUS = re.compile(r"  \((HTTP \d+|acked in \d+\.\d+ s)\)$")  # what ends a step's title line
JOURNEY_STEPS = 4  # the command, the tag press, the thread reply, the outcome press


def _try_slack(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "tests.e2e.try_slack", *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def out() -> str:
    return _try_slack()


@pytest.fixture(scope="module")
def socket_out() -> str:
    return _try_slack("--mode", "socket")


@pytest.fixture(scope="module")
def oauth_out() -> str:
    return _try_slack("--mode", "oauth")


def _flowing(out: str) -> str:
    """The output with the wrapping undone: every run of whitespace one space."""
    return " ".join(out.split())


@dataclass
class Step:
    """One step of the output: its title line, what it was answered with (``HTTP 200``, ``acked in 0.05 s``,
    or "" for a line of narration) and the indented lines under it: what "Slack" showed."""

    title: str
    status: str
    lines: list[str]

    def shown(self) -> str:
        return _flowing(" ".join(self.lines))


def _steps(out: str) -> list[Step]:
    steps: list[Step] = []
    for line in out.splitlines():
        if line.startswith(" ") and steps:
            steps[-1].lines.append(line)
        else:
            match = STATUS.search(line)
            steps.append(Step(line[:match.start()], match.group(1), []) if match else Step(line, "", []))
    return steps


def _step(out: str, words: str) -> int:
    """The index of the one step whose title has ``words``."""
    [found] = [n for n, step in enumerate(_steps(out)) if words in step.title]
    return found


def _journey(out: str) -> list[tuple[str, list[str]]]:
    """The four steps of the question (titles and what was shown), wherever they start in the output."""
    start = _step(out, "sanne: /vraag <@UANNA|anna> Mag ik")
    return [(step.title, step.lines) for step in _steps(out)[start:start + JOURNEY_STEPS]]


# ------------------------------------------------------------------------------------- HTTP (the default)


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


# ------------------------------------------------------------------------------------------- Socket Mode


def test_socket_mode_plays_the_same_question_as_http(out, socket_out):
    journey = _journey(socket_out)
    assert journey == _journey(out)
    assert all(lines for _, lines in journey)  # every step got an answer in "Slack"


def test_socket_mode_acks_every_envelope_within_slacks_3_seconds(socket_out):
    acks = [float(step.status.split()[2]) for step in _steps(socket_out) if step.status.startswith("acked")]
    assert len(acks) == JOURNEY_STEPS + 1  # and the request after the reconnect
    assert max(acks) < ACK_LIMIT_SECONDS, acks
    assert "HTTP 200" not in [step.status for step in _steps(socket_out)]  # nothing of it went over HTTP


def test_socket_mode_has_no_slack_events_route(socket_out):
    assert _steps(socket_out)[_step(socket_out, "POST /slack/events")].status == "HTTP 404"


def test_socket_mode_serves_a_request_after_a_disconnect(socket_out):
    steps = _steps(socket_out)
    reconnect = _step(socket_out, "disconnect")
    assert "connection #2" in steps[reconnect].shown()
    [after] = steps[reconnect + 1:]
    assert after.status.startswith("acked in ")
    assert "Je vraag (#2) staat bij Anna." in after.shown() and "Vraag #2 van Sanne" in after.shown()
    assert max(len(line) for line in socket_out.splitlines()) <= WIDTH


# -------------------------------------------------------------------------------------- OAuth distribution


def test_oauth_shows_the_install_page_and_the_redirect(oauth_out):
    steps = _steps(oauth_out)
    install = steps[_step(oauth_out, "GET /slack/install")]
    assert install.status == "HTTP 200"
    assert "https://slack.com/oauth/v2/authorize" in install.shown()
    scopes = re.search(r"scopes: ([a-z:_]+(?:, [a-z:_]+)*)", install.shown())
    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert scopes and set(scopes.group(1).split(", ")) == set(manifest["oauth_config"]["scopes"]["bot"])
    redirect = steps[_step(oauth_out, "GET /slack/oauth_redirect")]
    assert redirect.status == "HTTP 200"
    assert redirect.lines and redirect.lines[0].strip()  # the page's first line of text
    assert "1 row in slack_installations" in redirect.shown()  # the workspace's tokens, stored


def test_oauth_plays_the_same_question_as_http_in_the_installed_workspace(out, oauth_out):
    journey = _journey(oauth_out)
    assert journey == _journey(out)
    assert all(lines for _, lines in journey)


def test_oauth_a_workspace_without_an_install_is_told_so(oauth_out):
    stranger = _steps(oauth_out)[_step(oauth_out, "never installed")]
    catalog = load_catalog()
    assert _flowing(catalog.text("nl", "install.missing")) in stranger.shown()
    assert _flowing(catalog.text("en", "install.missing")) in stranger.shown()


def test_oauth_an_uninstall_deletes_the_tokens(oauth_out):
    uninstall = _steps(oauth_out)[_step(oauth_out, "app_uninstalled")]
    assert uninstall.status == "HTTP 200"
    assert "0 rows in slack_installations" in uninstall.shown()
    assert max(len(line) for line in oauth_out.splitlines()) <= WIDTH
