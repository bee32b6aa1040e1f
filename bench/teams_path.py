"""Benchmark of the Teams path (issue 12, item 6): how fast /api/messages answers under load, and what
each activity costs, against a bare botbuilder app.

    python -m bench.teams_path            # 20, 50 and 100 activities/s, 5 s each
    python -m bench.teams_path --quick    # 20/s for 2 s: a smoke run

The same open-loop load of quick asks ("vraag @expert ..." in a personal chat, shaped as Teams sends
them, no Authorization header) goes to a bare botbuilder CloudAdapter app that replies with a fixed
text (the baseline, bench/bare_teams_app.py), then to `vraagbot serve` in local-testing mode on SQLite,
then on PostgreSQL; everything on loopback against the e2e tests' fake Bot Connector in its own process.
Latency counts from the moment an activity was due until its HTTP answer. vraagbot answers after the
turn stored the question: right after each rate, every answered ask is looked up in the database
(and must be there exactly once). CPU per request is the server's own, until the questions were also
delivered to the experts (the outbox drained).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.load import Request, Run, ms, offer, percentile
from bench.servers import BIN, Server, _start, free_port
from bench.world import outbox_pending, postgres_database, reader, sqlite_url
from storage.tables import Question
from tests.e2e import teams_activities as ta
from tests.e2e.teams_bot import origin_of

EXPERTS, ASKERS = 10, 50
WARM_UP_ASKS = (20, 2.0)  # rate, seconds: fills caches and connection pools before anything is measured
DRAIN_SECONDS = 60.0  # at most this long after a rate for the outbox to deliver its questions
CONNECTOR_TIMEOUT = 15.0  # seconds the Bot Connector waits for an answer before it sends the activity again
KEY = re.compile(r"\btq\d+\b")
JSON = {"Content-Type": "application/json; charset=utf-8"}


def user(n: int) -> tuple[str, str]:
    return f"29:bench-{n:04d}", f"Persoon {n}"


class FakeConnectorProcess:
    """`python -m bench.fake_connector_app`: one for the whole run."""

    def __enter__(self) -> FakeConnectorProcess:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.fake_connector_app"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.service_url = self.process.stdout.readline().strip()
        if not self.service_url.startswith("http"):
            raise SystemExit("the fake Bot Connector did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()  # it serves until stdin closes
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def hello(service_url: str, n: int) -> Request:
    """Someone says 'help' in their personal chat: vraagbot registers them and stores their chat."""
    user_id, name = user(n)
    body = ta.personal_message("help", user_id=user_id, user_name=name, service_url=service_url)
    return Request("hello", f"hello{n}", json.dumps(body).encode(), JSON)


def asks(service_url: str, first: int, count: int) -> list[Request]:
    """Quick asks numbered first.., each from one of the askers to one of the experts, keyed tq<n>."""
    out = []
    for n in range(first, first + count):
        asker_id, asker_name = user(EXPERTS + n % ASKERS)
        expert_id, expert_name = user(n % EXPERTS)
        at = f"<at>{expert_name}</at>"
        body = ta.personal_message(f"vraag {at} Klopt termijn tq{n}?", user_id=asker_id, user_name=asker_name,
                                   service_url=service_url)
        body["entities"].append({"type": "mention", "mentioned": {"id": expert_id, "name": expert_name},
                                 "text": at})
        out.append(Request("ask", f"tq{n}", json.dumps(body).encode(), JSON))
    return out


@dataclass
class RateResult:
    target: str
    rate: int
    sent: int
    answered: int  # 2xx
    refused: int  # 503: no turn slot in time (Retry-After)
    failed: int  # anything else, or no answer
    over_limit: int  # answered after the connector's 15 s, or not at all
    p50: float
    p99: float
    max: float
    lag: float
    cpu_ms: float = math.nan
    stored: int = -1  # answered asks found in the database right after the load (-1: bare, nothing stored)
    duplicated: int = 0
    outbox_left: int = 0


def figures(target: str, run: Run) -> RateResult:
    latencies = [s.latency for s in run.sent if s.latency is not None]
    answered = sum(1 for s in run.sent if s.status is not None and 200 <= s.status < 300)
    refused = sum(1 for s in run.sent if s.status == 503)
    over = sum(1 for s in run.sent if s.latency is None or s.latency > CONNECTOR_TIMEOUT)
    return RateResult(target, run.rate, len(run.sent), answered, refused, len(run.sent) - answered - refused, over,
                      percentile(latencies, 50), percentile(latencies, 99), max(latencies, default=math.nan),
                      run.lag)


async def start(name: str, service_url: str, database_url: str | None) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_", "MICROSOFT_"))}
    if database_url is None:
        return await _start(name, [sys.executable, "-m", "bench.bare_teams_app", "--port", str(port)], env, port)
    env |= {"VRAAGBOT_DATABASE_URL": database_url, "VRAAGBOT_TEAMS_LOCAL_TESTING": "true",
            "VRAAGBOT_TEAMS_SERVICE_URLS": origin_of(service_url)}
    command = [str(BIN / "vraagbot"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return await _start(name, command, env, port)


async def stored_keys(engine: AsyncEngine, after_id: int) -> Counter[str]:
    async with engine.connect() as db:
        texts = (await db.execute(select(Question.text).where(Question.id > after_id))).scalars()
        return Counter(m.group(0) for text in texts if (m := KEY.search(text or "")))


async def max_question_id(engine: AsyncEngine) -> int:
    async with engine.connect() as db:
        return (await db.scalar(select(func.coalesce(func.max(Question.id), 0)))) or 0


async def drain(engine: AsyncEngine) -> int:
    """Wait until the outbox delivered the questions (or DRAIN_SECONDS passed); what is left."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:  # the database is polled: nothing in this process could signal it
        left = await outbox_pending(engine)
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.2)


async def measure(name: str, service_url: str, rates: list[int], seconds: float) -> list[RateResult]:
    async with AsyncExitStack() as stack:
        url: str | None = None
        if name == "sqlite":
            url = sqlite_url(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vraagbot-bench-"))))
        elif name == "postgres":
            url = await stack.enter_async_context(postgres_database())
        server = await start(name, service_url, url)
        stack.callback(server.stop)
        engine = reader(url) if url else None
        if engine is not None:
            stack.push_async_callback(engine.dispose)
        endpoint = f"{server.url}/api/messages"
        await offer(endpoint, [hello(service_url, n) for n in range(EXPERTS + ASKERS)], 20, give_up=30)
        counter = math.ceil(WARM_UP_ASKS[0] * WARM_UP_ASKS[1])
        await offer(endpoint, asks(service_url, 0, counter), WARM_UP_ASKS[0], give_up=30)
        if engine is not None:
            await drain(engine)
        results = []
        for rate in rates:
            load = asks(service_url, counter, math.ceil(rate * seconds))
            counter += len(load)
            mark = await max_question_id(engine) if engine is not None else 0
            cpu = server.cpu_seconds()
            run = await offer(endpoint, load, rate, give_up=30)
            result = figures(name, run)
            if engine is not None:
                found = await stored_keys(engine, mark)  # at once: an answered ask was stored before its answer
                answered = {s.request.key for s in run.sent if s.status is not None and 200 <= s.status < 300}
                result.stored = sum(1 for key in answered if found[key])
                result.duplicated = sum(1 for n in found.values() if n > 1)
                result.outbox_left = await drain(engine)
            else:
                await asyncio.sleep(0.5)
            result.cpu_ms = 1000 * (server.cpu_seconds() - cpu) / len(load)
            results.append(result)
            print(f"  {name:<8} {rate:>4}/s  p50 {ms(result.p50):>6} ms  p99 {ms(result.p99):>6} ms  "
                  f"2xx {result.answered}/{result.sent}  503 {result.refused}  cpu/req {result.cpu_ms:.1f} ms",
                  flush=True)
        if server.process.poll() is not None:
            raise SystemExit(f"{name} died during the run:\n{server.log_tail()}")
    print(f"  {name} log: {server.log_path}", flush=True)
    return results


def table(results: list[RateResult]) -> str:
    bare = {r.rate: r for r in results if r.target == "bare"}
    lines = ["Teams /api/messages: HTTP answer latency (ms, from the moment each activity was due; ratio = p99 / bare "
             "p99); cpu/req = server CPU ms per activity, incl. delivering the question to the expert, and its ratio "
             "to bare; stored = answered asks in the database right after the load (dup = stored twice)",
             f"{'target':<9}{'rate/s':>7}{'sent':>6}{'2xx':>6}{'503':>5}{'other':>6}{'>15s':>6}{'p50':>7}{'p99':>7}"
             f"{'max':>7}{'ratio':>7}{'cpu/req':>8}{'ratio':>7}{'stored':>8}{'dup':>5}{'gen lag':>8}"]
    for r in results:
        base = bare.get(r.rate)
        ratio = r.p99 / base.p99 if base and base.p99 > 0 else math.nan
        cpu_ratio = r.cpu_ms / base.cpu_ms if base and base.cpu_ms > 0 else math.nan
        stored = "-" if r.stored < 0 else str(r.stored)
        lines.append(f"{r.target:<9}{r.rate:>7}{r.sent:>6}{r.answered:>6}{r.refused:>5}{r.failed:>6}{r.over_limit:>6}"
                     f"{ms(r.p50):>7}{ms(r.p99):>7}{ms(r.max):>7}{_ratio(ratio):>7}{r.cpu_ms:>8.1f}"
                     f"{_ratio(cpu_ratio):>7}{stored:>8}{r.duplicated:>5}{ms(r.lag):>8}")
    return "\n".join(lines)


def _ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.teams_path", description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="20,50,100", help="activities per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=5.0, help="load duration per rate")
    parser.add_argument("--targets", default="bare,sqlite,postgres")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20/s for 2 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.rates, args.seconds = "20", 2.0
    args.rates = [int(r) for r in args.rates.split(",")]
    args.targets = args.targets.split(",")
    return args


async def main_async(args: argparse.Namespace) -> list[RateResult]:
    results = []
    with FakeConnectorProcess() as fake:
        for name in args.targets:
            print(f"{name}: starting", flush=True)
            results.extend(await measure(name, fake.service_url, args.rates, args.seconds))
    return results


def main() -> None:
    args = parse_args()
    started = time.monotonic()
    results = asyncio.run(main_async(args))
    print()
    print(table(results))
    print(f"(run took {time.monotonic() - started:.0f} s; load {args.seconds:.0f} s per rate; "
          f"VRAAGBOT_TEAMS_CONCURRENCY {os.environ.get('VRAAGBOT_TEAMS_CONCURRENCY', 'default')})")


if __name__ == "__main__":
    main()
