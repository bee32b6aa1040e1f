"""The processes a benchmark runs: the fake Slack Web API, `vraagbot serve` and the bare bolt app,
each on a free loopback port, with its start-up time and resident memory."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from bench.fake_api import handle, user_id

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
BIN = Path(sys.executable).parent
REPOSITORY = Path(__file__).resolve().parent.parent  # working directory, so `-m bench.bare_app` imports


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class FakeApi:
    """`python -m bench.fake_api` in its own process."""

    users: int
    process: subprocess.Popen[str] | None = None
    url: str = ""

    def __enter__(self) -> FakeApi:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.fake_api", "--users", str(self.users)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise SystemExit("the fake Slack Web API did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.close()  # it serves until stdin closes
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    @staticmethod
    def user(n: int) -> tuple[str, str]:
        return user_id(n), handle(n)

    async def arrivals(self, session: aiohttp.ClientSession) -> dict[str, tuple[float, int]]:
        """When each keyed answer first reached the fake, and how often (bench/fake_api.py)."""
        async with session.get(f"{self.url}/bench/arrivals") as response:
            return {key: (at, count) for key, (at, count) in (await response.json()).items()}

    async def reset_arrivals(self, session: aiohttp.ClientSession) -> None:
        async with session.post(f"{self.url}/bench/reset") as response:
            response.raise_for_status()


@dataclass
class Server:
    """A server process; ``ready_seconds`` runs from spawn until ``ready_path`` answered 200."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path
    workdir: Path
    ready_seconds: float = 0.0
    ready_path: str = "/readyz"
    notes: list[str] = field(default_factory=list)

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    def rss(self) -> int:
        """Resident memory in bytes of the server and any children it started."""
        parent = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server (and any children) used so far."""
        parent = psutil.Process(self.process.pid)
        return sum(sum(p.cpu_times()[:2]) for p in [parent, *parent.children(recursive=True)])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        kept = Path(tempfile.gettempdir()) / f"vraagbot-bench-{self.name}.log"  # the last run's log, to read after
        shutil.copyfile(self.log_path, kept)
        self.log_path = kept
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _env(fake: FakeApi, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_", "MICROSOFT_"))}
    return {**env, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base_url,
            **extra}


async def start_serve(fake: FakeApi, database_url: str, name: str, *, workers: int = 1,
                      env: dict[str, str] | None = None) -> Server:
    """`vraagbot serve` exactly as README runs it, plus the three SLACK_* variables and the database;
    ``workers`` > 1 runs `serve --workers N` (N replicas on one port, PostgreSQL only)."""
    port = free_port()
    command = [str(BIN / "vraagbot"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    return await _start(name, command, _env(fake, VRAAGBOT_DATABASE_URL=database_url, **(env or {})), port)


async def start_bare(fake: FakeApi) -> Server:
    port = free_port()
    return await _start("bare", [sys.executable, "-m", "bench.bare_app", "--port", str(port)], _env(fake), port)


async def _start(name: str, command: list[str], env: dict[str, str], port: int) -> Server:
    workdir = Path(tempfile.mkdtemp(prefix=f"vraagbot-bench-{name}-"))
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        spawned = time.perf_counter()
        # Popen returns at once; the wait for readiness below is async.
        process = subprocess.Popen(command, cwd=REPOSITORY, env=env, stdout=log,  # noqa: ASYNC220
                                   stderr=subprocess.STDOUT)
    server = Server(name, process, f"http://127.0.0.1:{port}", log_path, workdir)
    try:
        await _wait_ready(server, spawned)
    except BaseException:
        server.stop()
        raise
    return server


async def _wait_ready(server: Server, spawned: float, seconds: float = 120.0) -> None:
    deadline = spawned + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.perf_counter() < deadline:
            if server.process.poll() is not None:
                raise SystemExit(f"{server.name} exited at start-up:\n{server.log_tail()}")
            try:
                async with session.get(server.url + server.ready_path) as response:
                    if response.status == 200:
                        server.ready_seconds = time.perf_counter() - spawned
                        return
                    if response.status == 404 and server.ready_path == "/readyz":
                        server.ready_path = "/healthz"
                        server.notes.append("no /readyz in this version: start-up measured until /healthz answered")
                        continue
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.01)
    raise SystemExit(f"{server.name} did not answer {server.ready_path} within {seconds:.0f} s:\n{server.log_tail()}")
