"""`vraagbot serve --workers N` (issue 12, item 5): one supervisor process, N full replicas on one
port (SO_REUSEPORT), on PostgreSQL. Real processes; the process tree is read with psutil."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiohttp
import psutil
import pytest

from tests.db_fixtures import empty_postgres_database
from tests.e2e.cli import VRAAGBOT, run_vraagbot
from tests.e2e.loopback import eventually
from tests.e2e.test_serve import free_port

WORKERS = 2


@pytest.fixture
def pg_url() -> Iterator[str]:
    with empty_postgres_database() as url:  # not migrated: the supervisor migrates, once
        yield url


def bot_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_", "MICROSOFT_"))}
    env.update({"VRAAGBOT_DATABASE_URL": url, "VRAAGBOT_LOG_FORMAT": "text", "VRAAGBOT_SHUTDOWN_SECONDS": "5"})
    return env


class Served:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    def text(self) -> str:
        return self.log.read_text()

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def listening(self, worker: psutil.Process) -> bool:
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port
                   for c in worker.net_connections(kind="tcp"))

    def connections_to(self, worker: psutil.Process) -> int:
        return sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.port
                   for c in worker.net_connections(kind="tcp"))

    async def exit_code(self) -> int:
        """Waits for the supervisor; the bound is only there so a hang fails instead of stalling."""
        return await asyncio.to_thread(self.process.wait, 90)


def start_supervisor(url: str, port: int, log: Path) -> subprocess.Popen:
    with log.open("w") as output:  # a file, not a pipe: a full pipe would block the processes
        return subprocess.Popen([VRAAGBOT, "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(WORKERS)],
                                env=bot_env(url), cwd=log.parent, stdout=output, stderr=subprocess.STDOUT)


@asynccontextmanager
async def serve_workers(url: str, tmp_path: Path) -> AsyncIterator[Served]:
    port = free_port()
    log = tmp_path / "serve.log"
    process = start_supervisor(url, port, log)
    served = Served(process, port, log)
    tree: list[psutil.Process] = []
    try:
        def all_listening() -> bool:
            assert process.poll() is None, served.text()
            return all(f"worker {n}/{WORKERS} listening on http://127.0.0.1:{port}" in served.text()
                       for n in range(1, WORKERS + 1))

        await eventually(all_listening)
        tree = served.workers()
        yield served
    finally:
        for member in [psutil.Process(process.pid), *tree] if process.poll() is None else tree:
            with suppress(psutil.NoSuchProcess):
                member.kill()
        with suppress(subprocess.TimeoutExpired):
            process.wait(30)


async def healthz_on_new_connection(session: aiohttp.ClientSession, port: int) -> int:
    async with session.get(f"http://127.0.0.1:{port}/healthz", headers={"Connection": "close"}) as response:
        return response.status


async def open_keepalive_connections(port: int, count: int) -> list[asyncio.StreamWriter]:
    """``count`` connections that each got a /healthz answer and stay open (HTTP/1.1 keep-alive)."""
    writers = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 200"), "healthz did not answer 200"
        writers.append(writer)
    return writers


@pytest.mark.postgres
async def test_workers_share_the_port_answer_and_stop_together_on_sigterm(pg_url, tmp_path):
    async with serve_workers(pg_url, tmp_path) as served:
        workers = served.workers()
        assert len(workers) == WORKERS, served.text()
        assert all(served.listening(worker) for worker in workers)  # each its own socket on the one port
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            statuses = [await healthz_on_new_connection(session, served.port) for _ in range(40)]
        assert statuses == [200] * 40
        # The kernel spreads connections over the workers: with 24 open at once, each worker holds
        # some (all on one worker would happen by chance once in eight million runs).
        writers = await open_keepalive_connections(served.port, 24)
        try:
            counts = [served.connections_to(worker) for worker in workers]
            assert all(count > 0 for count in counts), counts
            assert sum(counts) == 24, counts
        finally:
            for writer in writers:
                writer.close()
        assert all(worker.is_running() for worker in workers)

        served.process.send_signal(signal.SIGTERM)
        assert await served.exit_code() == 0, served.text()
        assert not any(psutil.pid_exists(worker.pid) for worker in workers), served.text()
        assert "Traceback" not in served.text(), served.text()


@pytest.mark.postgres
async def test_a_worker_that_dies_stops_the_others_and_the_supervisor_fails(pg_url, tmp_path):
    async with serve_workers(pg_url, tmp_path) as served:
        first, second = served.workers()
        first.send_signal(signal.SIGKILL)
        assert await served.exit_code() != 0, served.text()
        assert not psutil.pid_exists(second.pid), served.text()
        died = [line for line in served.text().splitlines() if f"pid {first.pid}" in line and "SIGKILL" in line]
        assert len(died) == 1, served.text()


@pytest.mark.postgres
async def test_workers_stop_themselves_when_the_supervisor_is_killed(pg_url, tmp_path):
    async with serve_workers(pg_url, tmp_path) as served:
        workers = served.workers()
        served.process.send_signal(signal.SIGKILL)  # no forwarding: each worker must notice alone
        await served.exit_code()

        def gone(worker: psutil.Process) -> bool:
            try:
                return not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return True

        def all_gone() -> bool:
            return all(gone(worker) for worker in workers)

        await eventually(all_gone)
        with suppress(ConnectionError):  # nobody is left on the port
            _, writer = await asyncio.open_connection("127.0.0.1", served.port)
            writer.close()
            pytest.fail("a worker still listens after the supervisor died")


def test_more_than_one_worker_on_sqlite_is_refused_in_one_line(tmp_path):
    result = run_vraagbot("serve", "--port", str(free_port()), "--workers", "2", cwd=tmp_path,
                          env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path}/bot.db"})
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--workers" in lines[0] and "PostgreSQL" in lines[0], lines
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "bot.db").exists()  # refused before anything touched the database
