"""The Slack request path's benchmarks (issue 12), in one run, against the bare bolt app measured in the
same run:

    python -m bench.ack_path             # everything: 6 to 7 minutes on a 2-core machine
    python -m bench.ack_path --quick     # a smoke run of every phase (about 2 minutes)

Phase "ack" (targets 1 and 2 of issue 12): the same open-loop load (a quick ask, an "Mijn inschatting
klopte" press and an expert's thread reply, in turn, signed and shaped as Slack sends them) goes to the
bare ack-only bolt app, then to `vraagbot serve` on a fresh SQLite file, then on a fresh PostgreSQL
database, at each of --rates. After each of these the run waits until the work is done (the inbox
drained, the outbox sent, every answer at the fake Slack), so the server CPU per request includes the
work, and the next rate starts on an idle server. Then the --sweep rates follow back to back, without
waiting: for the largest ack only, while the backlog grows in the inbox.

Phase "e2e" (target 3): PostgreSQL, `vraagbot serve` with 1 process and `vraagbot serve --workers 2`,
each on a fresh database, climbing --ladder: end to end runs from the moment a request was due until
the fake Slack received its answer (an ask: the expert's question message; a press: the response_url
answer; a thread reply has no keyed answer, so its time runs until its row was stored), each request on
a connection of its own (as from many senders, so SO_REUSEPORT spreads them). A rate holds
when every request was acked within 3 s, nothing acked was lost or stored twice, every answer arrived,
and the p99 is under 1 s.

Everything runs on loopback on this machine: the load generator (this process), the fake Slack Web API
(its own process), the server and PostgreSQL share the cores; the CPU each took is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import ack_report
from bench.cpu import Meters, Used
from bench.load import AckFigures, Run, ack_figures, offer, percentile
from bench.servers import FakeApi, Server, start_bare, start_serve
from bench.world import (
    KINDS,
    World,
    baseline,
    database_name,
    postgres_database,
    read_stored,
    reader,
    requests_for,
    seed,
    seed_answered,
    sqlite_url,
    unfinished,
)

PEOPLE = 60
WARM_UP = (20, 2.0)  # rate, seconds: fills caches and connection pools before anything is measured
IDLE_SECONDS = 2.0  # after the warm-up: the server's CPU while nothing comes in (ticks, polls)
DRAIN_SECONDS = 120.0  # at most this long after the load ended for its work to be done
STALL_SECONDS = 10.0  # work still missing when nothing moved for this long counts as lost
ANSWERED = ("ask", "action")  # kinds whose answer the fake Slack sees by key (bench/fake_api.py)
# The fake Slack has no rate limit; the default pacing (300 posts a minute per replica, for a real
# workspace) would make the outbox, not the bot, the bottleneck of every figure here.
SERVE_ENV = {"VRAAGBOT_SLACK_POSTS_PER_MINUTE": "1000000"}


@dataclass
class RateResult:
    target: str
    phase: str  # "ack" or "e2e"
    rate: int
    ack: AckFigures
    lag: float  # the load generator's worst lateness in starting a request
    cpu: Used  # CPU ms per request: server (work included), load generator (during the load), fake, PostgreSQL
    e2e: list[float] = field(default_factory=list)  # asks and presses: seconds from due until the answer arrived
    e2e_last: list[float] = field(default_factory=list)  # those due in the load's last second: still growing?
    reply_stored: list[float] = field(default_factory=list)  # thread replies: due until stored
    acked: int = 0
    lost: int = 0  # acked, and its work never stored
    doubled: int = 0  # acked, and its work stored more than once
    unanswered: int = 0  # acked and stored, but its answer never reached the fake Slack
    resent: int = 0  # its answer reached the fake Slack more than once
    drain_seconds: float = 0.0  # from the end of the load until all work was done
    complete: bool = True  # False: the wait for the work stalled or timed out
    worked_off: bool = True  # False (sweep rates): the next load began at once, CPU counts the load only

    def e2e_p(self, p: float) -> float:
        return percentile(self.e2e, p)

    @property
    def measured_work(self) -> bool:
        return self.target != "bare" and self.worked_off

    @property
    def holds(self) -> bool:
        """Target 3's condition: all acked in time, nothing lost or doubled, every answer there, p99 < 1 s."""
        return (self.ack.sustained and self.complete and self.lost == 0 and self.doubled == 0
                and self.unanswered == 0 and self.resent == 0 and bool(self.e2e)
                and self.e2e_p(99) < ack_report.E2E_TARGET)


@dataclass
class TargetResult:
    name: str
    phase: str
    workers: int
    rates: list[RateResult]
    ready_seconds: float
    rss_idle: int
    rss_after: int
    idle_cpu_ms_per_s: float
    notes: list[str]
    log: Path


@dataclass
class Target:
    """One started server, its database (None for the bare app) and the world the requests use."""

    name: str
    phase: str
    workers: int
    fake: FakeApi
    server: Server
    engine: AsyncEngine | None
    world: World
    meters: Meters
    session: aiohttp.ClientSession
    kinds: tuple[str, ...]
    profile_dir: Path | None
    idle_cpu_ms_per_s: float = math.nan
    rss_idle: int = 0

    async def offer_and_wait(self, rate: float, seconds: float, *, quiet: bool = False,
                             work_off: bool = True) -> RateResult:
        """Offer ``rate`` requests a second for ``seconds``; then, with ``work_off``, wait until their work
        is done, so that the CPU counts it and the next rate finds an idle server."""
        count = math.ceil(rate * seconds)
        await seed_answered(self.engine, self.world, count // len(self.kinds) + 2)
        requests = requests_for(self.world, self.fake, count, self.kinds)
        marks = await baseline(self.engine) if self.engine is not None else None
        profiler = self._profile(rate) if work_off else None
        before = self.meters.read()
        # The e2e phase compares 1 and 2 replicas on one port: a connection per request spreads the acks.
        run = await offer(self.server.events_url, requests, rate, fresh_connections=self.phase == "e2e")
        after_load = self.meters.read()
        loaded = time.monotonic()
        result = RateResult(self.name, self.phase, int(rate), ack_figures(run), run.lag, Used(0, 0, 0, 0),
                            acked=sum(s.ok for s in run.sent), worked_off=work_off)
        if self.engine is not None and marks is not None and work_off:
            await self._wait_and_collect(run, marks, result)
        elif self.engine is None:
            await asyncio.sleep(0.5)  # the bare app has no work after its ack
        result.drain_seconds = time.monotonic() - loaded if work_off else math.nan
        after = self.meters.read() if work_off else after_load
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            profiler.wait(timeout=30)
        used = Meters.used(before, after)
        generator = Meters.used(before, after_load).generator
        result.cpu = Used(used.server, generator, used.fake, used.postgres).per_request_ms(len(requests))
        if self.server.process.poll() is not None:
            raise SystemExit(f"{self.name} died during the run:\n{self.server.log_tail()}")
        if not quiet:
            print(ack_report.progress_line(result), flush=True)
        return result

    async def _wait_and_collect(self, run: Run, marks, result: RateResult) -> None:
        acked = [s for s in run.sent if s.ok]
        store_keys = {s.request.key for s in acked}
        answer_keys = {s.request.key for s in acked if s.request.kind in ANSWERED}
        assert self.engine is not None
        deadline = time.monotonic() + DRAIN_SECONDS
        moved, seen = time.monotonic(), None
        while True:
            await read_stored(self.engine, marks)
            arrivals = await self.fake.arrivals(self.session)
            waiting, due = await unfinished(self.engine)
            done = len(store_keys & marks.stored.keys()) + len(answer_keys & arrivals.keys())
            if done == len(store_keys) + len(answer_keys) and waiting == 0 and due == 0:
                break
            if (done, waiting, due) != seen:
                moved, seen = time.monotonic(), (done, waiting, due)
            elif time.monotonic() - moved > STALL_SECONDS or time.monotonic() > deadline:
                result.complete = False
                break
            await asyncio.sleep(0.25)
        last_due = max((s.due_wall for s in run.sent), default=0.0)
        for sent in acked:
            key, kind = sent.request.key, sent.request.kind
            copies = marks.copies.get(key, 0)
            if copies == 0:
                result.lost += 1
                continue
            result.doubled += copies > 1
            if kind not in ANSWERED:
                result.reply_stored.append(marks.stored[key] - sent.due_wall)
                continue
            arrival = arrivals.get(key)
            if arrival is None:
                result.unanswered += 1
                continue
            at, count = arrival
            result.resent += count > 1
            result.e2e.append(at - sent.due_wall)
            if sent.due_wall >= last_due - 1.0:
                result.e2e_last.append(at - sent.due_wall)

    def _profile(self, rate: float) -> subprocess.Popen[bytes] | None:
        if self.profile_dir is None or self.engine is None:
            return None
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        out = self.profile_dir / f"{self.name}-{self.phase}-{int(rate)}.txt"
        spy = Path(sys.executable).parent / "py-spy"
        command = [str(spy), "record", "--pid", str(self.server.process.pid), "--subprocesses", "--rate", "200",
                   "--gil", "--format", "raw", "--output", str(out), "--nonblocking"]
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@asynccontextmanager
async def started(name: str, phase: str, fake: FakeApi, *, workers: int = 1, kinds: tuple[str, ...] = KINDS,
                  profile_dir: Path | None = None, inbox_workers: int | None = None) -> AsyncIterator[Target]:
    """Start one target on a fresh database, seed its world, warm it up and measure it idle."""
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())
        await fake.reset_arrivals(session)
        env = dict(SERVE_ENV)
        if inbox_workers is not None:
            env["VRAAGBOT_INBOX_WORKERS"] = str(inbox_workers)
        if name == "bare":
            server = await start_bare(fake)
            stack.callback(server.stop)
            engine, world, database = None, World(PEOPLE), None
            world.threads = [(i % 10, f"GSEED{i:06d}", f"1700000000.{i:06d}") for i in range(200)]
        else:
            if name.startswith("sqlite"):
                url = sqlite_url(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vraagbot-bench-"))))
            else:
                url = await stack.enter_async_context(postgres_database())
            database = database_name(url)
            server = await start_serve(fake, url, name, workers=workers, env=env)
            stack.callback(server.stop)
            await _all_listening(server, workers)
            engine = reader(url)
            stack.push_async_callback(engine.dispose)
            world = await seed(engine, PEOPLE, threads=200, answered=0)
        target = Target(name, phase, workers, fake, server, engine, world,
                        Meters(server.process.pid, fake.process.pid if fake.process else 0, database),
                        session, kinds, profile_dir)
        await _warm_up(target)
        yield target


async def _warm_up(target: Target) -> None:
    """A short load whose figures are thrown away (no profile either), then the server's CPU while idle."""
    profile_dir, target.profile_dir = target.profile_dir, None
    try:
        await target.offer_and_wait(*WARM_UP, quiet=True)
    finally:
        target.profile_dir = profile_dir
    await asyncio.sleep(0.5)
    target.rss_idle = target.server.rss()
    before = target.meters.read()
    await asyncio.sleep(IDLE_SECONDS)
    target.idle_cpu_ms_per_s = 1000 * Meters.used(before, target.meters.read()).server / IDLE_SECONDS


async def _all_listening(server: Server, workers: int, seconds: float = 60.0) -> None:
    """`serve --workers N` answers /readyz from the first replica up; wait until every replica listens."""
    if workers <= 1:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        log = server.log_path.read_text(errors="replace")
        if all(f"worker {i}/{workers} listening" in log for i in range(1, workers + 1)):
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"{server.name}: not all {workers} workers listened within {seconds:.0f} s")


def _result(target: Target, rates: list[RateResult]) -> TargetResult:
    return TargetResult(target.name, target.phase, target.workers, rates, target.server.ready_seconds,
                        target.rss_idle, target.server.rss(), target.idle_cpu_ms_per_s, target.server.notes,
                        target.server.log_path)


async def measure(name: str, fake: FakeApi, rates: list[int], seconds: float, *, sweep: list[int] = (),
                  phase: str = "ack", workers: int = 1, profile_dir: Path | None = None,
                  kinds: tuple[str, ...] = KINDS, inbox_workers: int | None = None) -> TargetResult:
    """Start one target and offer the load at each of ``rates`` in turn, each worked off before the next;
    then each of ``sweep``, back to back (acks only: the backlog may grow, acks must not wait for it)."""
    async with started(name, phase, fake, workers=workers, kinds=kinds, profile_dir=profile_dir,
                       inbox_workers=inbox_workers) as target:
        results = [await target.offer_and_wait(rate, seconds) for rate in rates]
        results += [await target.offer_and_wait(rate, seconds, work_off=False) for rate in sweep]
        result = _result(target, results)
    result.log = target.server.log_path  # where stop() kept it
    return result


async def climb(name: str, fake: FakeApi, ladder: list[int], seconds: float, *, workers: int, start: int,
                must: int | None = None, profile_dir: Path | None = None, kinds: tuple[str, ...] = KINDS,
                inbox_workers: int | None = None) -> TargetResult:
    """Up the ladder from ``start`` until a rate does not hold, then ``must`` if not measured yet; when
    even ``start`` does not hold, down the ladder until one does."""
    async with started(name, "e2e", fake, workers=workers, kinds=kinds, profile_dir=profile_dir,
                       inbox_workers=inbox_workers) as target:
        first = next((i for i, rate in enumerate(ladder) if rate >= start), len(ladder) - 1)
        results: list[RateResult] = []
        for rate in ladder[first:]:
            results.append(await target.offer_and_wait(rate, seconds))
            if not results[-1].holds:
                break
        if must is not None and all(r.rate < must for r in results):
            results.append(await target.offer_and_wait(must, seconds))
        if not any(r.holds for r in results):
            for rate in reversed(ladder[:first]):
                results.append(await target.offer_and_wait(rate, seconds))
                if results[-1].holds:
                    break
        result = _result(target, sorted(results, key=lambda r: r.rate))
    result.log = target.server.log_path
    return result


def highest_holding(result: TargetResult) -> int | None:
    return max((r.rate for r in result.rates if r.holds), default=None)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ack_path", description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="50,200,500", help="ack phase: rates held against the 1.5x target")
    parser.add_argument("--sweep", default="750,1000", help="ack phase: further rates, for the max ack only")
    parser.add_argument("--seconds", type=float, default=3.0, help="ack phase: load duration per rate")
    parser.add_argument("--targets", default="bare,sqlite,postgres", help="ack phase targets")
    parser.add_argument("--ladder", default="10,15,20,25,30,40,50,75,100,150,200,250,300,400,500,600,800",
                        help="e2e phase: the rates climbed")
    parser.add_argument("--e2e-seconds", type=float, default=5.0, help="e2e phase: load duration per rate")
    parser.add_argument("--processes", default="1,2", help="e2e phase: `vraagbot serve --workers N` for each N")
    parser.add_argument("--e2e-at", type=int, default=200, help="e2e phase: the one-process rate always measured")
    parser.add_argument("--phases", default="ack,e2e")
    parser.add_argument("--inbox-workers", type=int, default=None,
                        help="VRAAGBOT_INBOX_WORKERS for every server (default: the bot's own default)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="request kinds, sent in turn")
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer, lower rates, 2 s each")
    parser.add_argument("--profile", type=Path, default=None,
                        help="directory for py-spy profiles (raw stacks) of vraagbot serve during each rate, "
                             "from the start of the load until its work was done")
    args = parser.parse_args(argv)
    if args.quick:
        args.rates, args.sweep, args.seconds = "20,50", "100", 2.0
        args.ladder, args.e2e_seconds, args.e2e_at = "10,25,50", 2.0, 50
    args.rates = [int(r) for r in args.rates.split(",") if r]
    args.sweep = [int(r) for r in args.sweep.split(",") if r]
    args.ladder = [int(r) for r in args.ladder.split(",") if r]
    args.processes = [int(n) for n in args.processes.split(",") if n]
    args.targets = args.targets.split(",")
    args.phases = args.phases.split(",")
    args.kinds = tuple(args.kinds.split(","))
    return args


async def main_async(args: argparse.Namespace) -> list[TargetResult]:
    results: list[TargetResult] = []
    options = {"profile_dir": args.profile, "kinds": args.kinds, "inbox_workers": args.inbox_workers}
    with FakeApi(PEOPLE) as fake:
        if "ack" in args.phases:
            sweep = [rate for rate in args.sweep if rate not in args.rates]
            for name in args.targets:
                print(f"{name}: ack phase, {', '.join(map(str, args.rates))}/s each worked off, then "
                      f"{', '.join(map(str, sweep))}/s back to back, {args.seconds:g} s each", flush=True)
                results.append(await measure(name, fake, args.rates, args.seconds, sweep=sweep, **options))
        if "e2e" in args.phases:
            start = args.ladder[0]
            for workers in args.processes:
                name = f"postgres-{workers}p"
                print(f"{name}: e2e phase, climbing from {start}/s, {args.e2e_seconds:g} s each", flush=True)
                climbed = await climb(name, fake, args.ladder, args.e2e_seconds, workers=workers, start=start,
                                      must=args.e2e_at if workers == 1 else None, **options)
                results.append(climbed)
                start = highest_holding(climbed) or args.ladder[0]
    return results


def main() -> None:
    args = parse_args()
    started_at, load_before = time.monotonic(), os.getloadavg()
    results = asyncio.run(main_async(args))
    print()
    print(ack_report.report(results, args, time.monotonic() - started_at, load_before))


if __name__ == "__main__":
    main()


__all__ = ["PEOPLE", "RateResult", "TargetResult", "climb", "measure"]
