"""`vraagbot serve` on its embedded default: migrates, answers /healthz, and refuses bad settings."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import time
import urllib.request

from tests.e2e.cli import VRAAGBOT, run_vraagbot


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_on_sqlite_default_and_answers_healthz(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VRAAGBOT_")}
    process = subprocess.Popen([VRAAGBOT, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    body = response.read().decode()
            except OSError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.2)
        assert body == '{"status": "ok"}'
        db = tmp_path / "vraagbot.db"  # the default: a SQLite file in the working directory
        with sqlite3.connect(db) as connection:
            tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"questions", "people", "outbox", "alembic_version"} <= tables
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode in (0, -15)


def test_a_wrong_setting_stops_start_up_with_one_clear_line(tmp_path):
    result = run_vraagbot("serve", env={"VRAAGBOT_MIN_GROUP_SIZE": "3"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "vraagbot: wrong setting: VRAAGBOT_MIN_GROUP_SIZE: must be at least 5 (privacy floor) (got '3')"]
    assert not (tmp_path / "vraagbot.db").exists()


def test_migrate_command_is_idempotent(tmp_path):
    env = {"VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path}/m.db"}
    for _ in range(2):
        result = run_vraagbot("migrate", env=env)
        assert result.returncode == 0 and "up to date" in result.stdout, result.stderr
