"""`vraagbot serve --workers N`: a supervisor process and N workers, each a full replica of `serve`
(its own scheduler and workers; the outbox, the planner and the inbox are safe across replicas), all
listening on one host:port with SO_REUSEPORT, so the kernel spreads new connections over them.

Standard library only (asyncio subprocesses and signals): the supervisor starts the workers, forwards
SIGTERM/SIGINT and waits for their own graceful shutdown. When a worker dies it stops the others and
exits non-zero, and the platform's supervisor (systemd, Kubernetes) restarts the whole: no restart
loop of our own. A worker whose supervisor disappears (SIGKILL, OOM) stops by itself, so no orphan
keeps the port."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from contextlib import suppress

import structlog
from aiohttp import web

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# On top of VRAAGBOT_SHUTDOWN_SECONDS: interpreter start and exit. A worker still running then is killed.
KILL_GRACE_SECONDS = 10.0
SUPERVISOR_CHECK_SECONDS = 1.0


def label(index: int, count: int) -> str:
    return f"worker {index}/{count}"


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def port_taken(host: str, port: int) -> str | None:
    """Why host:port cannot be listened on, or None. Checked without SO_REUSEPORT first: the workers
    set it, and would otherwise silently share the port with whatever already listens there (an
    earlier vraagbot still running, say) instead of failing."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return str(error.strerror or error)
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does: TIME_WAIT is fine
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
                probe.listen(1)
            except OSError as error:
                return str(error.strerror or error)
    return None


# --------------------------------------------------------------------------- the supervisor


def worker_command(host: str, port: int, index: int, count: int) -> list[str]:
    return [sys.executable, "-m", "bot", "serve", "--host", host, "--port", str(port), "--workers", str(count),
            "--worker-index", str(index), "--supervisor-pid", str(os.getpid())]


def worker_environment(index: int, metrics_port: int | None) -> dict[str, str]:
    """Each worker's own metrics listener: counters are per process, so each is its own scrape target
    (VRAAGBOT_METRICS_PORT, the next port for the next worker)."""
    env = dict(os.environ)
    if metrics_port is not None:
        env["VRAAGBOT_METRICS_PORT"] = str(metrics_port + index - 1)
    return env


def supervise(host: str, port: int, count: int, *, metrics_port: int | None, shutdown_seconds: float) -> int:
    """Runs the workers until a stop signal (0 when they all stop cleanly) or until one dies (1)."""
    structlog.contextvars.bind_contextvars(worker="supervisor")
    return asyncio.run(_supervise(host, port, count, metrics_port, shutdown_seconds + KILL_GRACE_SECONDS))


async def _supervise(host: str, port: int, count: int, metrics_port: int | None, stop_within: float) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)

    log.info("starting %d workers on http://%s:%s", count, host, port)
    workers: dict[int, asyncio.subprocess.Process] = {}
    for index in range(1, count + 1):
        if stop.is_set():
            break
        # stdout and stderr are inherited: the workers' log lines go where ours go.
        workers[index] = await asyncio.create_subprocess_exec(*worker_command(host, port, index, count),
                                                              env=worker_environment(index, metrics_port))
        log.info("%s started (pid %d)", label(index, count), workers[index].pid)

    exits = {asyncio.ensure_future(process.wait()): index for index, process in workers.items()}
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([*exits, stopping], return_when=asyncio.FIRST_COMPLETED)
    failed = not stop.is_set()
    if failed:
        index = next(index for task, index in exits.items() if task.done())
        log.error("%s (pid %d) stopped unexpectedly: %s; stopping the others", label(index, count),
                  workers[index].pid, describe_exit(workers[index].returncode))
    else:
        log.info("%s received: stopping %d workers", received[0], len(workers))
    stopping.cancel()

    for process in workers.values():
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    _, hanging = await asyncio.wait(exits, timeout=stop_within)
    for task in hanging:
        index = exits[task]
        log.error("%s (pid %d) did not stop within %.0fs; killed", label(index, count), workers[index].pid,
                  stop_within)
        workers[index].kill()
    if hanging:
        await asyncio.wait(hanging)
        return 1
    if failed:
        return 1
    # Stopped by our SIGTERM before it could set up its own handling: it had nothing running yet.
    stopped_by_us = {0, -signal.SIGTERM, -signal.SIGINT}
    unclean = [index for index, process in workers.items() if process.returncode not in stopped_by_us]
    for index in unclean:
        log.error("%s (pid %d) did not stop cleanly: %s", label(index, count), workers[index].pid,
                  describe_exit(workers[index].returncode))
    if not unclean:
        log.info("all %d workers stopped", len(workers))
    return 1 if unclean else 0


# --------------------------------------------------------------------------- one worker


def serve_worker(build: Callable[[], Awaitable[web.Application]], host: str, port: int, *, index: int, count: int,
                 supervisor_pid: int, shutdown_timeout: float, database: str) -> None:
    """One replica: like web.run_app, plus SO_REUSEPORT, a log line once the port is really bound,
    one graceful stop however many stop signals arrive (systemd's default signals every process of
    the service, and the supervisor forwards as well), and a stop when the supervisor is gone."""
    structlog.contextvars.bind_contextvars(worker=f"{index}/{count}")  # on every log line of this process
    asyncio.run(_serve_worker(build, host, port, label(index, count), supervisor_pid, shutdown_timeout, database))


async def _serve_worker(build: Callable[[], Awaitable[web.Application]], host: str, port: int, name: str,
                        supervisor_pid: int, shutdown_timeout: float, database: str) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            log.info("%s: %s while already stopping; the graceful stop goes on", name, sig.name)
        stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    watch = asyncio.create_task(_stop_when_orphaned(supervisor_pid, name, stop))

    app = await build()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_port=True).start()
        log.info("%s listening on http://%s:%s (database: %s)", name, host, port, database)
        await stop.wait()
        log.info("%s stopping", name)
    finally:
        watch.cancel()
        await runner.cleanup()


async def _stop_when_orphaned(supervisor_pid: int, name: str, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if os.getppid() != supervisor_pid:  # re-parented: the supervisor died without telling us
            log.warning("%s: the supervisor (pid %d) is gone; stopping", name, supervisor_pid)
            stop.set()
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SUPERVISOR_CHECK_SECONDS)
