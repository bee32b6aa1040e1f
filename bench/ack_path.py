"""Benchmarks 1 and 2 of issue 7: Slack ack latency and end-to-end processing, in one run.

    python -m bench.ack_path            # 50, 200 and 500 requests/s, 10 s each (a few minutes)
    python -m bench.ack_path --quick    # 20 and 50 requests/s, 3 s each: a smoke run

The same open-loop load (quick asks, "Mijn inschatting klopte" presses and expert thread replies, in
turn, signed and shaped as Slack sends them) goes to a bare ack-only bolt app (the baseline), then to
`vraagbot serve` on SQLite, then on PostgreSQL, everything on loopback against the e2e tests' fake
Slack Web API. Ack latency counts from the moment a request was due; end-to-end time runs until the
row holding the request's work (question, reply, signal) was stored.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import subprocess
import sys
import tempfile
import time
from collections import deque
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import AckFigures, Run, ack_figures, ms, offer, percentile
from bench.servers import FakeApi, Server, start_bare, start_serve
from bench.world import (
    EXPERTS,
    KINDS,
    World,
    baseline,
    outbox_pending,
    postgres_database,
    read_stored,
    reader,
    requests_for,
    seed,
    sqlite_url,
)

PEOPLE = 60
WARM_UP = (20, 2.0)  # rate, seconds: fills caches and connection pools before anything is measured
DRAIN_SECONDS = 180.0  # at most this long after the load ended for its work to be stored
STALL_SECONDS = 10.0  # work still missing when nothing new was stored for this long counts as lost
E2E_TARGET = 1.0
ACK_RATIO_TARGET = 1.2


@dataclass
class RateResult:
    target: str
    rate: int
    ack: AckFigures
    lag: float
    e2e: list[float] = field(default_factory=list)  # seconds from due until stored, per stored request
    lost: int = 0
    lost_kinds: dict[str, int] = field(default_factory=dict)
    stored_of: int = 0
    outbox_pending: int = 0  # messages still queued when the rate's work was all stored
    cpu_ms: float = math.nan  # server CPU per request, ack and all the work after it (less noisy than latency)

    def e2e_p(self, p: float) -> float:
        return percentile(self.e2e, p)


@dataclass
class TargetResult:
    name: str
    rates: list[RateResult]
    ready_seconds: float
    rss_idle: int
    rss_after: int
    notes: list[str]
    log: Path


async def measure(name: str, fake: FakeApi, rates: list[int], seconds: float, *,
                  profile_dir: Path | None = None, kinds: tuple[str, ...] = KINDS) -> TargetResult:
    """Start one target, offer the load at each rate in turn, and stop it."""
    total = sum(math.ceil(r * seconds) for r in rates) + math.ceil(WARM_UP[0] * WARM_UP[1])
    async with AsyncExitStack() as stack:
        if name == "bare":
            server = await start_bare(fake)
            stack.callback(server.stop)
            rss_idle = server.rss()
            engine, world = None, _unstored_world(total)
        else:
            if name == "sqlite":
                url = sqlite_url(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vraagbot-bench-"))))
            else:
                url = await stack.enter_async_context(postgres_database())
            server = await start_serve(fake, url, name)
            stack.callback(server.stop)
            await asyncio.sleep(1.0)  # let start-up work (first ticks) settle before "idle"
            rss_idle = server.rss()
            engine = reader(url)
            stack.push_async_callback(engine.dispose)
            world = await seed(engine, PEOPLE, threads=200, answered=total + 10)
        warm_up = requests_for(world, fake, math.ceil(WARM_UP[0] * WARM_UP[1]))
        marks = await baseline(engine) if engine is not None else None
        await offer(server.events_url, warm_up, WARM_UP[0])
        if engine is not None:
            await _drain(engine, {r.key for r in warm_up}, 10.0, marks)
        results = []
        for rate in rates:
            requests = requests_for(world, fake, math.ceil(rate * seconds), kinds)
            marks = await baseline(engine) if engine is not None else None
            profiler = _profile(server, profile_dir, rate, seconds) if profile_dir and engine is not None else None
            cpu = server.cpu_seconds()
            run = await offer(server.events_url, requests, rate)
            if profiler is not None:
                profiler.wait()
            result = RateResult(name, rate, ack_figures(run), run.lag)
            if engine is not None and marks is not None:
                await _collect(engine, marks, run, result)
                result.outbox_pending = await outbox_pending(engine)
            else:
                await asyncio.sleep(0.5)
            result.cpu_ms = 1000 * (server.cpu_seconds() - cpu) / len(requests)
            results.append(result)
            print(f"  {name:<8} {rate:>4}/s  ack p99 {ms(result.ack.p99):>6} ms  errors {result.ack.errors}"
                  + (f"  e2e p99 {ms(result.e2e_p(99)):>6} ms  lost {result.lost} {result.lost_kinds or ''}"
                     if engine is not None else ""),
                  flush=True)
        if server.process.poll() is not None:
            raise SystemExit(f"{name} died during the run:\n{server.log_tail()}")
        result = TargetResult(name, results, server.ready_seconds, rss_idle, server.rss(), server.notes, Path())
    result.log = server.log_path  # where stop() kept it
    return result


def _unstored_world(total: int) -> World:
    """The bare app stores nothing: any question ids and threads do."""
    world = World(PEOPLE)
    world.threads = [(i % EXPERTS, f"GSEED{i:06d}", f"1700000000.{i:06d}") for i in range(200)]
    world.answered = deque((i + 1, EXPERTS + i % (PEOPLE - EXPERTS)) for i in range(total + 10))
    return world


async def _collect(engine, marks, run: Run, result: RateResult) -> None:
    keys = {s.request.key for s in run.sent}
    await _drain(engine, keys, DRAIN_SECONDS, marks)
    for sent in run.sent:
        stored = marks.stored.get(sent.request.key)
        if stored is None:
            result.lost += 1
            result.lost_kinds[sent.request.kind] = result.lost_kinds.get(sent.request.kind, 0) + 1
        else:
            result.e2e.append(stored - sent.due_wall)
    result.stored_of = len(run.sent)


async def _drain(engine, keys: set[str], seconds: float, marks=None) -> None:
    """Wait until every key's work is stored, or nothing new was stored for STALL_SECONDS (the rest is
    lost), or ``seconds`` passed. The outbox is not waited for: it posts at Slack's pace
    (VRAAGBOT_SLACK_POSTS_PER_MINUTE), far below these rates, and keeps sending through the next rate."""
    deadline = time.monotonic() + seconds
    progress, seen = time.monotonic(), -1
    while marks is not None and time.monotonic() < deadline:
        await read_stored(engine, marks)
        stored = len(keys & marks.stored.keys())
        if stored == len(keys):
            return
        if stored != seen:
            progress, seen = time.monotonic(), stored
        elif time.monotonic() - progress > STALL_SECONDS:
            return
        await asyncio.sleep(0.5)


def _profile(server: Server, directory: Path, rate: int, seconds: float) -> subprocess.Popen[bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{server.name}-{rate}.txt"
    spy = Path(sys.executable).parent / "py-spy"
    command = [str(spy), "record", "--pid", str(server.process.pid), "--duration", str(math.ceil(seconds)),
               "--rate", "200", "--gil", "--format", "raw", "--output", str(out), "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ---------------------------------------------------------------- report


def ack_table(results: list[TargetResult]) -> str:
    bare = {r.rate: r for t in results if t.name == "bare" for r in t.rates}
    lines = ["Benchmark 1: Slack ack latency (ms, from the moment each request was due; ratio = p99 / bare p99;",
             "cpu/req = server CPU ms per request including the work after the ack, and its ratio to bare)",
             f"{'target':<9}{'rate/s':>7}{'sent':>7}{'ok':>7}{'errors':>7}{'>3s':>6}{'p50':>7}{'p99':>7}{'max':>7}"
             f"{'ratio':>7}{'gen lag':>8}{'cpu/req':>8}{'ratio':>7}"]
    for target in results:
        for r in target.rates:
            base = bare.get(r.rate)
            ratio = r.ack.p99 / base.ack.p99 if base and base.ack.p99 > 0 else math.nan
            cpu_ratio = r.cpu_ms / base.cpu_ms if base and base.cpu_ms > 0 else math.nan
            lines.append(f"{r.target:<9}{r.rate:>7}{r.ack.sent:>7}{r.ack.ok:>7}{r.ack.errors:>7}{r.ack.over_limit:>6}"
                         f"{ms(r.ack.p50):>7}{ms(r.ack.p99):>7}{ms(r.ack.max):>7}{_ratio(ratio):>7}{ms(r.lag):>8}"
                         f"{r.cpu_ms:>8.1f}{_ratio(cpu_ratio):>7}")
    return "\n".join(lines)


def ack_verdict(results: list[TargetResult]) -> str:
    bare = {r.rate: r for t in results if t.name == "bare" for r in t.rates}
    misses = []
    for target in results:
        if target.name == "bare":
            continue
        for r in target.rates:
            base = bare.get(r.rate)
            if r.ack.over_limit:
                misses.append(f"{target.name} {r.rate}/s: {r.ack.over_limit} over 3 s")
            if base and base.ack.sustained and r.ack.p99 > ACK_RATIO_TARGET * base.ack.p99:
                misses.append(f"{target.name} {r.rate}/s: p99 {r.ack.p99 / base.ack.p99:.2f}x bare")
    sustained = [str(rate) for rate, r in sorted(bare.items()) if r.ack.sustained]
    head = (f"Target 1 (p99 within {ACK_RATIO_TARGET}x bare at every rate bare sustains "
            f"[{', '.join(sustained) or 'none'}/s]; nothing over 3 s): ")
    return head + ("MET" if not misses else "MISSED (" + "; ".join(misses) + ")")


def e2e_table(results: list[TargetResult]) -> str:
    lines = ["Benchmark 2: end to end (ms from due until the work was stored; ratios: p99 / 1 s budget, "
             "p99 / p99 at the lowest rate;",
             "outbox = messages still queued for Slack when the rate's work was stored)",
             f"{'target':<9}{'rate/s':>7}{'sent':>7}{'stored':>7}{'lost':>6}{'p50':>7}{'p99':>7}{'max':>7}"
             f"{'/1s':>8}{'/low':>8}{'outbox':>8}"]
    for target in results:
        if target.name == "bare" or not target.rates:
            continue
        low = target.rates[0].e2e_p(99)
        for r in target.rates:
            p99 = r.e2e_p(99)
            lines.append(f"{r.target:<9}{r.rate:>7}{r.stored_of:>7}{len(r.e2e):>7}{r.lost:>6}{ms(r.e2e_p(50)):>7}"
                         f"{ms(p99):>7}{ms(max(r.e2e, default=math.nan)):>7}{_ratio(p99 / E2E_TARGET):>8}"
                         f"{_ratio(p99 / low if low > 0 else math.nan):>8}{r.outbox_pending:>8}")
    return "\n".join(lines)


def e2e_verdict(results: list[TargetResult], at_rate: int = 200) -> str:
    lines = []
    for target in results:
        if target.name == "bare":
            continue
        holds = [r.rate for r in target.rates if r.lost == 0 and r.e2e_p(99) < E2E_TARGET]
        highest = max(holds, default=None)
        lines.append(f"  {target.name}: highest tested rate with p99 < 1 s and nothing lost: "
                     f"{f'{highest}/s' if highest else 'none'}")
    pg = {r.rate: r for t in results if t.name == "postgres" for r in t.rates}
    if at_rate in pg:
        r = pg[at_rate]
        met = r.lost == 0 and r.e2e_p(99) < E2E_TARGET
        verdict = (f"Target 2 (PostgreSQL at {at_rate}/s: p99 < 1 s, nothing lost): "
                   f"{'MET' if met else 'MISSED'} (p99 {ms(r.e2e_p(99))} ms, lost {r.lost})")
    else:
        verdict = f"Target 2: not measured ({at_rate}/s on PostgreSQL was not in this run)"
    return "\n".join([*lines, verdict])


def _ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ack_path", description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="50,200,500", help="requests per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="load duration per rate")
    parser.add_argument("--targets", default="bare,sqlite,postgres")
    parser.add_argument("--kinds", default=",".join(KINDS), help="request kinds, sent in turn")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 and 50/s for 3 s each")
    parser.add_argument("--profile", type=Path, default=None,
                        help="directory for py-spy profiles (raw stacks) of vraagbot serve during each rate")
    args = parser.parse_args(argv)
    if args.quick:
        args.rates, args.seconds = "20,50", 3.0
    args.rates = [int(r) for r in args.rates.split(",")]
    args.targets = args.targets.split(",")
    args.kinds = tuple(args.kinds.split(","))
    return args


async def main_async(args: argparse.Namespace) -> list[TargetResult]:
    results = []
    with FakeApi(PEOPLE) as fake:
        for name in args.targets:
            print(f"{name}: starting", flush=True)
            results.append(await measure(name, fake, args.rates, args.seconds, profile_dir=args.profile,
                                         kinds=args.kinds))
    return results


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    results = asyncio.run(main_async(args))
    print()
    for target in results:
        for note in target.notes:
            print(f"note ({target.name}): {note}")
        print(f"{target.name} log: {target.log}")
    print(ack_table(results))
    print()
    print(e2e_table(results))
    print()
    if args.profile:
        print(f"py-spy profiles in {args.profile}; summary: python -m bench.profile_summary {args.profile}/*.txt")
    print(f"(run took {time.monotonic() - started:.0f} s; load {args.seconds:.0f} s per rate; "
          f"lost = never stored: missing when nothing new was stored for {STALL_SECONDS:.0f} s, "
          f"or {DRAIN_SECONDS:.0f} s after the load ended)")
    print(ack_verdict(results))
    print(e2e_verdict(results))


if __name__ == "__main__":
    main()
