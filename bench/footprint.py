"""Benchmark 5 of issue 7: footprint of `vraagbot serve`.

    python -m bench.footprint            # start-up 3 times per target, then benchmark 1's load (50/200/500 per s)
    python -m bench.footprint --quick    # 2 starts, 20 and 50 per s for 3 s

Start-up runs from spawning the process until GET /readyz answers 200 (the first start on an empty
database includes the migrations; restarts find it migrated). Resident memory (psutil RSS) is read
at idle, one second after ready, and after benchmark 1's load. Baseline: the bare ack-only bolt app
(bench.bare_app) on the same aiohttp stack, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.ack_path import PEOPLE, measure
from bench.servers import FakeApi, start_bare, start_serve
from bench.world import postgres_database, sqlite_url

MIB = 1024 * 1024


@dataclass
class Footprint:
    name: str
    first_start: float  # seconds; on an empty database for vraagbot (migrations included)
    restarts: list[float]
    rss_idle: int
    rss_after: int
    notes: list[str]

    @property
    def restart(self) -> float:
        return statistics.median(self.restarts) if self.restarts else self.first_start


async def start_times(name: str, fake: FakeApi, starts: int) -> tuple[float, list[float], list[str]]:
    """Seconds until ready: the first start, and the restarts after it (same database)."""
    async with AsyncExitStack() as stack:
        if name == "sqlite":
            url = sqlite_url(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vraagbot-bench-"))))
        elif name == "postgres":
            url = await stack.enter_async_context(postgres_database())
        times, notes = [], []
        for _ in range(starts):
            server = await (start_bare(fake) if name == "bare" else start_serve(fake, url, name))
            server.stop()
            times.append(server.ready_seconds)
            notes = server.notes
        return times[0], times[1:], notes


async def main_async(args: argparse.Namespace) -> list[Footprint]:
    results = []
    with FakeApi(PEOPLE) as fake:
        for name in args.targets:
            print(f"{name}: starting {args.starts} times", flush=True)
            first, restarts, notes = await start_times(name, fake, args.starts)
            print(f"{name}: benchmark 1 load at {', '.join(map(str, args.rates))}/s", flush=True)
            loaded = await measure(name, fake, args.rates, args.seconds)
            results.append(Footprint(name, first, restarts, loaded.rss_idle, loaded.rss_after, notes + loaded.notes))
    return results


def table(results: list[Footprint]) -> str:
    bare = next((r for r in results if r.name == "bare"), None)

    def ratio(value: float, base: float | None) -> str:
        return f"{value / base:.2f}" if base else "-"

    lines = ["Benchmark 5: footprint (ratio = against the bare bolt app measured in this run)",
             f"{'target':<9}{'first start s':>14}{'restart s':>10}{'ratio':>7}{'idle MiB':>9}{'ratio':>7}"
             f"{'after load MiB':>15}{'ratio':>7}{'growth MiB':>11}"]
    for r in results:
        lines.append(f"{r.name:<9}{r.first_start:>14.2f}{r.restart:>10.2f}"
                     f"{ratio(r.restart, bare.restart if bare else None):>7}{r.rss_idle / MIB:>9.1f}"
                     f"{ratio(r.rss_idle, bare.rss_idle if bare else None):>7}{r.rss_after / MIB:>15.1f}"
                     f"{ratio(r.rss_after, bare.rss_after if bare else None):>7}"
                     f"{(r.rss_after - r.rss_idle) / MIB:>11.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.footprint", description=__doc__.split("\n")[0])
    parser.add_argument("--targets", default="bare,sqlite,postgres")
    parser.add_argument("--starts", type=int, default=3, help="starts per target (the first on an empty database)")
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 starts, 20 and 50/s for 3 s")
    args = parser.parse_args()
    if args.quick:
        args.starts, args.rates, args.seconds = 2, "20,50", 3.0
    args.targets = args.targets.split(",")
    args.rates = [int(r) for r in args.rates.split(",")]
    results = asyncio.run(main_async(args))
    print()
    for r in results:
        for note in dict.fromkeys(r.notes):
            print(f"note ({r.name}): {note}")
    print(table(results))


if __name__ == "__main__":
    main()
