"""Benchmark 3: the weekly nudge fan-out to 1,000 team channels due at the same minute.

    python -m bench.fanout            # 1,000 channels, about four minutes
    python -m bench.fanout --quick    # 100 channels, under a minute

The real `vraagbot serve` (a subprocess, on a fresh PostgreSQL database of its own) posts to a fake
Slack Web API on loopback that enforces Slack's limits (bench/limited_slack.py): 300 posts a minute
workspace-wide with a burst of 10, one post a second per channel, and 429 with Retry-After on 5%
of the calls within those limits. 300 a minute is the lowest reading of "several hundred messages
per minute" (chat.postMessage, docs/architecture.md); the bot's own pacing is set to the same figure.

Baseline: the minimum time those limits allow for the calls this run needed (every accepted post
plus every injected 429, since Slack counts calls: ``(calls - burst) / rate``). Meanwhile a trickle of
signed slash commands measures the bot's ack latency, in a quiet period first and then during the
fan-out, so that ratio is measured in one run on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

from bench import pg
from bench.limited_slack import LimitedSlack
from tests.e2e import slack_requests as sr

DATABASE = "vraagbot_fanout_bench"
ZONE = "Europe/Amsterdam"
SECRET = "bench-signing-secret"
TARGET = 1.1
VRAAGBOT = str(Path(sys.executable).parent / "vraagbot")


@dataclass(frozen=True)
class Ack:
    at: float  # time.time() when sent
    latency: float | None  # None: no answer, or not a 200
    status: int | None


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 channels instead of 1,000")
    parser.add_argument("--channels", type=int, help="how many team channels (default 1000, --quick 100)")
    parser.add_argument("--per-minute", type=float, default=300.0, help="workspace-wide chat.postMessage limit")
    parser.add_argument("--burst", type=int, default=10, help="workspace-wide burst allowance, calls")
    parser.add_argument("--inject", type=float, default=0.05, help="share of calls answered 429 anyway")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After of those 429s, seconds")
    parser.add_argument("--quiet-seconds", type=float, default=20.0, help="ack latency before the fan-out")
    parser.add_argument("--ack-interval", type=float, default=0.25, help="seconds between trickle requests")
    parser.add_argument("--bot-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra setting for the bot, e.g. VRAAGBOT_OUTBOX_CONCURRENCY=1")
    parser.add_argument("--profile", metavar="FILE", help="record the bot with py-spy into FILE (.svg)")
    args = parser.parse_args()
    args.channels = args.channels or (100 if args.quick else 1000)
    return args


# ---------------------------------------------------------------- database set-up


async def prepare_database(channels: list[str]) -> str:
    """A fresh, migrated database with one Slack workspace and the channels' schedules, not yet due."""
    from storage.engine import create_engine
    from storage.migrate import upgrade_to_head
    from storage.uow import make_uow_factory

    url = await pg.recreate(DATABASE)
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    try:
        now = datetime.now(UTC)
        async with make_uow_factory(engine)() as uow:
            workspace = await uow.workspaces.get_or_create("slack", "T0001", "Bench")
            person = await uow.people.add(workspace_id=workspace.id, external_id="UANNA", handle="anna",
                                          display_name="Anna", locale="nl", time_zone=ZONE, now=now)
            for channel in channels:  # set "just now": this week's moment does not count yet
                await uow.team_schedules.save(workspace_id=workspace.id, channel=f"slack:{channel}", weekday=0,
                                              hour=9, minute=0, time_zone=ZONE, language="nl",
                                              changed_by=person.id, now=now)
    finally:
        await engine.dispose()
    return url


async def make_due() -> float:
    """The clock reaches every channel's send time at once: each schedule's moment becomes the
    current local minute (set a day ago). Returns the time.time() of the commit."""
    connection = await pg.connect(DATABASE)
    try:
        local = datetime.now(ZoneInfo(ZONE))
        await connection.execute("UPDATE team_schedules SET weekday = $1, hour = $2, minute = $3, updated_at = $4",
                                 local.weekday(), local.hour, local.minute,
                                 datetime.now(UTC) - timedelta(days=1))
        return time.time()
    finally:
        await connection.close()


async def outbox_statuses() -> Counter[str]:
    connection = await pg.connect(DATABASE)
    try:
        rows = await connection.fetch("SELECT status, count(*) FROM outbox WHERE kind = 'weekly_team' GROUP BY 1")
        return Counter({row[0]: row[1] for row in rows})
    finally:
        await connection.close()


# ---------------------------------------------------------------- the bot


def start_bot(url: str, fake: LimitedSlack, port: int, log: Path, args: argparse.Namespace) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAAGBOT_", "SLACK_"))}
    env.update({
        "VRAAGBOT_DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.base_url, "VRAAGBOT_LOG_LEVEL": "WARNING",
        # Planning runs every minute by default; the bench starts the fan-out at an arbitrary
        # second, so it plans every 2 s to keep the wait for the next planning tick out of the figure.
        "VRAAGBOT_NUDGE_PLAN_SECONDS": "2",
        "VRAAGBOT_SLACK_POSTS_PER_MINUTE": str(args.per_minute),
    })
    env.update(dict(item.split("=", 1) for item in args.bot_env))
    with log.open("w") as output:  # a file, not a pipe: a full pipe would block the server
        return subprocess.Popen([VRAAGBOT, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                                cwd=log.parent, stdout=output, stderr=subprocess.STDOUT)


async def until_healthy(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                fail("vraagbot serve stopped", log)
            with suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    fail("vraagbot serve did not come up", log)


def fail(what: str, log: Path) -> None:
    raise SystemExit(f"{what}:\n{log.read_text()}")


def start_profiler(pid: int, output: str) -> subprocess.Popen:
    """py-spy, sampling the bot's CPU time (not its waits) until it gets SIGINT."""
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--output", output, "--rate", "50"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(30)
    if process.poll() is None:
        process.kill()


# ---------------------------------------------------------------- ack latency trickle


async def trickle(port: int, fake: LimitedSlack, interval: float, acks: list[Ack], stop_event: asyncio.Event) -> None:
    """A signed `/vraag help` every ``interval`` seconds, each on its own task, so a slow answer
    does not hold the next request back."""
    url = f"http://127.0.0.1:{port}/slack/events"
    n = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async def one(name: str) -> None:
            body = sr.slash_command("help", user_id="UANNA", user_name="anna", response_url=fake.response_url(name),
                                    trigger_id=f"trigger-{name}", enterprise_id=None)
            sent = time.time()
            start = time.perf_counter()
            try:
                status, _, _ = await sr.post_signed(session, url, body, secret=SECRET, content_type=sr.FORM)
            except (aiohttp.ClientError, TimeoutError):
                acks.append(Ack(sent, None, None))
                return
            acks.append(Ack(sent, time.perf_counter() - start if status == 200 else None, status))

        tasks = set()
        while not stop_event.is_set():
            n += 1
            task = asyncio.create_task(one(f"ack{n}"))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop_event.wait(), interval)
        await asyncio.gather(*tasks)


def latency_figures(acks: list[Ack]) -> tuple[float, float, int, int]:
    """(p50 ms, p95 ms, answered, failed)."""
    good = sorted(a.latency for a in acks if a.latency is not None)
    failed = sum(a.latency is None for a in acks)
    if not good:
        return float("nan"), float("nan"), 0, failed
    p95 = good[min(len(good) - 1, round(0.95 * (len(good) - 1)))]
    return statistics.median(good) * 1000, p95 * 1000, len(good), failed


# ---------------------------------------------------------------- the run


async def run(args: argparse.Namespace) -> int:
    channels = [f"C{n:05d}" for n in range(args.channels)]
    print(f"fan-out: {len(channels)} channels; fake Slack: {args.per_minute:g}/min workspace-wide, burst "
          f"{args.burst}, 1/s per channel, {args.inject:.0%} injected 429 (Retry-After {args.retry_after} s)")
    url = await prepare_database(channels)
    workdir = Path(tempfile.mkdtemp(prefix="vraagbot-fanout-"))
    log = workdir / "serve.log"
    fake = LimitedSlack(per_minute=args.per_minute, burst=args.burst, inject=args.inject,
                        retry_after=args.retry_after)
    fake.add_user("UANNA", "anna", "Anna")
    async with fake:
        port = free_port()
        process = start_bot(url, fake, port, log, args)
        profiler = None
        try:
            await until_healthy(port, process, log)
            if args.profile:
                profiler = start_profiler(process.pid, args.profile)
            acks: list[Ack] = []
            stop_event = asyncio.Event()
            trickling = asyncio.create_task(trickle(port, fake, args.ack_interval, acks, stop_event))
            await asyncio.sleep(args.quiet_seconds)
            due = await make_due()
            print(f"due at {datetime.fromtimestamp(due, UTC):%H:%M:%S} UTC; waiting for the posts ...", flush=True)
            expected = (len(channels) / (1 - args.inject) - args.burst) / (args.per_minute / 60)
            deadline = time.monotonic() + 3 * expected + 60
            while len(fake.stats.accepted) < len(channels) and time.monotonic() < deadline:
                if process.poll() is not None:
                    fail("vraagbot serve stopped", log)
                await asyncio.sleep(0.1)
            stop_event.set()
            await trickling
            await asyncio.sleep(3.0)  # anything sent twice would arrive now
        finally:
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                with suppress(subprocess.TimeoutExpired):
                    profiler.wait(60)
            await asyncio.to_thread(stop, process)
    statuses = await outbox_statuses()
    return report(args, channels, fake, due, acks, statuses, log)


def report(args: argparse.Namespace, channels: list[str], fake: LimitedSlack, due: float, acks: list[Ack],
           statuses: Counter[str], log: Path) -> int:
    stats = fake.stats
    times = stats.accepted_times()
    per_channel = Counter({c: len(t) for c, t in stats.accepted.items()})
    duplicates = sum(n - 1 for n in per_channel.values() if n > 1)
    lost = sum(1 for c in channels if per_channel[c] == 0)
    calls = len(times) + stats.injected  # calls that counted against the workspace allowance
    rate = args.per_minute / 60
    minimum = max(calls - args.burst, 0) / rate
    done = (times[-1] - due) if times else float("nan")
    first = (times[0] - due) if times else float("nan")
    end = times[-1] if times else due
    quiet = [a for a in acks if a.at < due]
    busy = [a for a in acks if due <= a.at <= end]
    q50, q95, q_n, q_failed = latency_figures(quiet)
    b50, b95, b_n, b_failed = latency_figures(busy)

    print()
    print(f"log of the bot: {log}")
    print(f"posts accepted: {len(times)} to {len(per_channel)} of {len(channels)} channels; "
          f"429s: {stats.injected} injected, {stats.workspace_limited} workspace limit, "
          f"{stats.channel_limited} channel limit")
    print(f"outbox rows: {dict(sorted(statuses.items()))}")
    print(f"duplicates: {duplicates}   lost: {lost}")
    print(f"ack latency quiet:    p50 {q50:.1f} ms  p95 {q95:.1f} ms  ({q_n} answered, {q_failed} failed)")
    print(f"ack latency fan-out:  p50 {b50:.1f} ms  p95 {b95:.1f} ms  ({b_n} answered, {b_failed} failed)")
    print(f"first post {first:.1f} s after due; last post {done:.1f} s after due")
    print(f"baseline (minimum the limits allow for {calls} calls): {minimum:.1f} s")
    print(f"RESULT fan-out: {done:.1f} s = {done / minimum:.2f}x the minimum (target <= {TARGET}x); "
          f"ack p50 {b50 / q50:.2f}x and p95 {b95 / q95:.2f}x the quiet period; "
          f"duplicates {duplicates}, lost {lost}")
    ok = done / minimum <= TARGET and duplicates == 0 and lost == 0
    return 0 if ok else 1


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    sys.exit(asyncio.run(run(arguments())))


if __name__ == "__main__":
    main()
