"""What a new user trips over at start-up gets one clear line and a non-zero exit, never a traceback
(issue 14, bug 5): a database that cannot be reached or does not exist, a SQLite file in a folder that
does not exist, a busy port, a .env file that is not text; and a misspelt VRAAGBOT_ variable is named."""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path

import pytest

from tests.db_fixtures import _require_postgres, postgres_url
from tests.e2e.cli import run_vraagbot
from tests.e2e.test_serve import free_port

DATABASE_EXIT = 2  # a setting, the .env file or the database it names needs fixing first
PORT_EXIT = 1  # as `vraagbot serve --workers N` says it


def commands(tmp_path: Path) -> dict[str, list[str]]:
    return {
        "serve": ["serve", "--host", "127.0.0.1", "--port", str(free_port())],
        "migrate": ["migrate"],
        "shell": ["shell"],
        "preview": ["nudges", "preview", "--channel", "slack:C0123"],
        "report": ["report", "--team", "1", "--out", str(tmp_path / "report.png")],
        "retention": ["retention", "--dry-run"],
    }


COMMANDS = ["serve", "migrate", "shell", "preview", "report", "retention"]


def clean_env(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_", "MICROSOFT_"))}
    return {**env, **variables}


def run(tmp_path: Path, args: list[str], **variables: str):
    return run_vraagbot(*args, env=clean_env(**variables), cwd=tmp_path, timeout=120)


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith("vraagbot: "), lines
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_postgresql_is_one_line(tmp_path, command):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = run(tmp_path, commands(tmp_path)[command],
                 VRAAGBOT_DATABASE_URL=f"postgresql://vraagbot:geheim-wachtwoord@127.0.0.1:{port}/vraagbot")
    line = one_line(result)
    assert result.returncode == DATABASE_EXIT, line
    assert f"127.0.0.1:{port}" in line and "VRAAGBOT_DATABASE_URL" in line, line
    assert "geheim-wachtwoord" not in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("command", COMMANDS)
def test_a_database_that_does_not_exist_is_one_line(tmp_path, command):
    _require_postgres()
    name = f"vraagbot_missing_{uuid.uuid4().hex[:8]}"
    result = run(tmp_path, commands(tmp_path)[command], VRAAGBOT_DATABASE_URL=postgres_url(name))
    line = one_line(result)
    assert result.returncode == DATABASE_EXIT, line
    assert f'"{name}" does not exist' in line and "createdb" in line, line


@pytest.mark.parametrize("command", COMMANDS)
def test_a_sqlite_file_in_a_missing_folder_is_one_line(tmp_path, command):
    folder = tmp_path / "no" / "such" / "folder"
    result = run(tmp_path, commands(tmp_path)[command], VRAAGBOT_DATABASE_URL=f"sqlite:///{folder}/vraagbot.db")
    line = one_line(result)
    assert result.returncode == DATABASE_EXIT, line
    assert str(folder) in line, line
    assert not (tmp_path / "no").exists()


def test_a_busy_port_is_one_line_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run(tmp_path, ["serve", "--host", "127.0.0.1", "--port", str(port)],
                     VRAAGBOT_DATABASE_URL=f"sqlite:///{tmp_path}/v.db")
    line = one_line(result)  # no "listening", no scheduler, no platforms line before it
    assert result.returncode == PORT_EXIT, line
    assert f"127.0.0.1:{port}" in line and "--port" in line, line
    assert not (tmp_path / "v.db").exists()  # nothing was started, not even the migrations


@pytest.mark.parametrize("content", [bytes(range(256)), b"VRAAGBOT_LOG_LEVEL=INFO\n\xff\xfe\x00oops\n"])
def test_a_binary_env_file_is_one_line(tmp_path, content):
    (tmp_path / ".env").write_bytes(content)
    result = run(tmp_path, ["migrate"])
    line = one_line(result)
    assert result.returncode == DATABASE_EXIT, line
    assert ".env" in line and "UTF-8" in line, line
    assert not (tmp_path / "vraagbot.db").exists()


def test_a_misspelt_setting_is_named_with_the_closest_known_one(tmp_path):
    result = run(tmp_path, ["migrate"], VRAAGBOT_DATABASE_URL=f"sqlite:///{tmp_path}/v.db",
                 VRAAGBOT_MIN_GROUPSIZE="7", VRAAGBOT_SLACK_BOT_TOKEN="xoxb-not-here", VRAAGBOT_ZZZ="1")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]  # not a terminal: JSON
    warned = {line["event"] for line in lines if line["level"] == "warning"}
    assert warned == {
        "unknown setting VRAAGBOT_MIN_GROUPSIZE is ignored; did you mean VRAAGBOT_MIN_GROUP_SIZE?",
        "unknown setting VRAAGBOT_SLACK_BOT_TOKEN is ignored; did you mean SLACK_BOT_TOKEN?",
        "unknown setting VRAAGBOT_ZZZ is ignored",
    }, lines
    assert "xoxb-not-here" not in result.stderr  # a value is never shown: it may be a secret
