"""CPU time of everything a benchmark run keeps busy on this machine, so a figure per request can be
charged to the server and the reader can see what the load generator, the fake Slack and PostgreSQL
took from the same cores.

Each meter reads user+system seconds with psutil. PostgreSQL's share is the backends serving the
run's own database (their process title names it); processes that started after the first reading
count from zero, ones that ended in between are missed (the pools keep their connections, so few)."""

from __future__ import annotations

from dataclasses import dataclass

import psutil


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def tree_seconds(pid: int) -> float:
    """A process and all its children (the supervisor of `serve --workers N` and its workers)."""
    parent = psutil.Process(pid)
    total = 0.0
    for process in [parent, *parent.children(recursive=True)]:
        try:
            total += _cpu(process)
        except psutil.NoSuchProcess:
            pass
    return total


def backends_of(database: str | None) -> dict[int, float]:
    """CPU seconds per PostgreSQL backend process connected to ``database``."""
    if not database:
        return {}
    found = {}
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        title = " ".join(cmdline)
        if title.startswith("postgres:") and f" {database} " in f" {title} ":
            try:
                found[process.pid] = _cpu(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
    return found


@dataclass(frozen=True)
class Reading:
    server: float
    generator: float
    fake: float
    postgres: dict[int, float]


@dataclass(frozen=True)
class Used:
    """CPU seconds used between two readings."""

    server: float
    generator: float
    fake: float
    postgres: float

    def per_request_ms(self, requests: int) -> Used:
        scale = 1000 / max(1, requests)
        return Used(self.server * scale, self.generator * scale, self.fake * scale, self.postgres * scale)


@dataclass(frozen=True)
class Meters:
    server_pid: int
    fake_pid: int
    database: str | None  # PostgreSQL database name, or None

    def read(self) -> Reading:
        return Reading(tree_seconds(self.server_pid), _cpu(psutil.Process()), tree_seconds(self.fake_pid),
                       backends_of(self.database))

    @staticmethod
    def used(before: Reading, after: Reading) -> Used:
        postgres = sum(seconds - before.postgres.get(pid, 0.0) for pid, seconds in after.postgres.items())
        return Used(after.server - before.server, after.generator - before.generator, after.fake - before.fake,
                    postgres)
