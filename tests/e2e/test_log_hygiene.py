"""README: no message text in logs at INFO and above. slack-bolt and slack_sdk put request bodies into
some of their own lines (a refused signature, an unhandled request, a middleware that answered nothing);
requests that are refused or not understood must leave a log line without what the person wrote."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import time
from urllib.parse import quote

import pytest

from tests.e2e import slack_requests as sr
from tests.e2e.cli import VRAAGBOT, run_vraagbot
from tests.e2e.log_capture import captured_logs
from tests.e2e.loopback import until
from tests.e2e.slack_bot import SECRET, USERS

MARKER = "VERTROUWELIJK-KOSTENPLAATS-4417"


@pytest.fixture
def debug_json_logs():
    """Our logging set-up at DEBUG, into a buffer (DEBUG may hold bodies; INFO and above may not). Ask for it
    before `slack`: as in `vraagbot serve`, bolt copies the root level into its loggers when the app is built."""
    with captured_logs("DEBUG") as buffer:
        yield buffer


def info_and_above(buffer: io.StringIO) -> list[dict]:
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    return [line for line in lines if line["level"] != "debug"]


def command(text: str) -> str:
    return sr.slash_command(text, user_id=USERS["sanne"], user_name="sanne",
                            response_url="http://127.0.0.1:9/never", enterprise_id=None)


async def post(slack, body: str, content_type: str, headers: dict[str, str]) -> int:
    async with slack.session.post(f"{slack.url}/slack/events", data=body.encode(),
                                  headers={"Content-Type": content_type, **headers}) as response:
        return response.status


async def test_a_refused_request_is_logged_without_its_body(debug_json_logs, slack):
    body = command(f"@anna Mag dit? {MARKER}")
    wrong_secret = sr.sign(body, "not-the-secret")
    stale = sr.sign(body, SECRET, timestamp=int(time.time()) - 3600)
    assert await post(slack, body, sr.FORM, wrong_secret) == 401
    assert await post(slack, body, sr.FORM, stale) == 401
    assert await post(slack, body, sr.FORM, {}) == 401  # no signature at all
    json_body = sr.event_callback({"type": "message", "text": MARKER, "user": USERS["sanne"], "channel": "D1"})
    assert await post(slack, json_body, sr.JSON, sr.sign(json_body, "not-the-secret")) == 401

    await until(lambda: debug_json_logs.getvalue().count("Invalid request signature") >= 4)
    lines = info_and_above(debug_json_logs)
    refused = [line for line in lines if "Invalid request signature" in line["event"]]
    assert len(refused) >= 4, lines  # the refusal itself stays visible
    leaking = [line for line in lines if MARKER in json.dumps(line)]
    assert not leaking, leaking
    assert SECRET not in debug_json_logs.getvalue()


async def test_a_signed_request_bolt_does_not_handle_is_logged_without_its_payload(debug_json_logs, slack):
    # Signed, but nothing of ours listens to it: bolt warns "Unhandled request (...)" with parts of it.
    dialog = json.dumps({"type": "dialog_submission", "callback_id": "old_dialog", "team": {"id": "T0001"},
                         "user": {"id": USERS["sanne"], "name": "sanne"}, "channel": {"id": "C0001"},
                         "submission": {"vraag": MARKER}, "response_url": "http://127.0.0.1:9/never",
                         "state": "", "action_ts": "1.2"})
    body = f"payload={quote(dialog)}"
    status = await post(slack, body, sr.FORM, sr.sign(body, SECRET))
    assert status in (200, 400, 404), status

    await until(lambda: any(line["level"] in ("warning", "error") for line in info_and_above(debug_json_logs)))
    lines = info_and_above(debug_json_logs)
    leaking = [line for line in lines if MARKER in json.dumps(line)]
    assert not leaking, leaking


SHAPES = [  # signed, but not shaped as Slack shapes them: refused as not understood
    (sr.JSON, json.dumps({"type": "event_callback", "team_id": "T0001", "event_id": "Ev9", "event": MARKER})),
    (sr.JSON, json.dumps({"type": "event_callback", "team_id": "T0001", "event_id": "Ev8",
                          "event": {"type": "message", "text": {"nested": MARKER}, "user": [MARKER]}})),
    (sr.FORM, "payload=" + quote(json.dumps(
        {"type": "block_actions", "team": {"id": "T0001"}, "user": MARKER, "actions": MARKER}))),
    (sr.FORM, "payload=" + quote(json.dumps(
        {"type": "view_submission", "team": {"id": "T0001"}, "user": {"id": USERS["sanne"]},
         "view": {"callback_id": MARKER, "state": {"values": MARKER}, "private_metadata": MARKER}}))),
    (sr.FORM, "command=/vraag&text=" + MARKER + "&user_id=" + MARKER),
]


@pytest.mark.parametrize(("content_type", "body"), SHAPES)
async def test_a_signed_payload_that_is_not_understood_is_logged_without_its_text(debug_json_logs, slack,
                                                                                   content_type, body):
    status = await post(slack, body, content_type, sr.sign(body, SECRET))
    assert status < 500 or status == 503, status
    lines = info_and_above(debug_json_logs)
    leaking = [line for line in lines if MARKER in json.dumps(line)]
    assert not leaking, leaking


# ---------------------------------------------------------------- the log format follows where stderr goes


def stderr_on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """Runs `vraagbot` with standard error on a pseudo-terminal, as from a shell; what it wrote there."""
    controller, terminal = pty.openpty()
    try:
        subprocess.run([VRAAGBOT, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal,
                       env=env, timeout=120, check=True)
    finally:
        os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the terminal's other side is closed and everything was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return b"".join(chunks).decode()


def env_with(tmp_path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_", "MICROSOFT_"))}
    return {**env, "VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path}/v.db", "VRAAGBOT_ZZZ": "1", **variables}


def test_logs_are_text_on_a_terminal_and_json_elsewhere_unless_the_setting_says(tmp_path):
    [on_terminal] = stderr_on_a_terminal("migrate", env=env_with(tmp_path)).strip().splitlines()
    assert not on_terminal.startswith("{") and "warning" in on_terminal, on_terminal
    assert "unknown setting VRAAGBOT_ZZZ is ignored" in on_terminal

    piped = run_vraagbot("migrate", env=env_with(tmp_path))
    [line] = piped.stderr.strip().splitlines()
    assert json.loads(line)["event"] == "unknown setting VRAAGBOT_ZZZ is ignored"

    [forced] = stderr_on_a_terminal("migrate", env=env_with(tmp_path, VRAAGBOT_LOG_FORMAT="json")).strip().splitlines()
    assert json.loads(forced)["level"] == "warning"
    piped_text = run_vraagbot("migrate", env=env_with(tmp_path, VRAAGBOT_LOG_FORMAT="text"))
    assert not piped_text.stderr.startswith("{") and "VRAAGBOT_ZZZ" in piped_text.stderr
