"""Benchmark 4: team insights on a database of two years of questions.

    python -m bench.insights             # 1,000,000 questions, 200 teams, 5,000 people
    python -m bench.insights --quick     # 100,000 questions, 20 teams, 500 people
    python -m bench.insights --refill    # throw the kept data away and fill again
    python -m bench.insights --drop      # drop the benchmark databases and stop

The data lives in PostgreSQL database ``vraagbot_insights_bench`` (``_quick`` for --quick) on the local
server, is filled once with INSERT ... SELECT (bench/insights_fill.py) and kept between runs; every
run migrates it to the current head first, so new indexes count.

Measured through the real code (nudges/weekly.py on the storage repositories):
- one team's weekly figures (``gather_team_week``), p50 and p99 over many runs, teams in turn;
- all teams' weekly messages composed (``gather_team_week`` + ``compose_team``), one after another;
- one tick of the weekly planner (every replica runs one a minute), once all is queued.
Baseline, in the same run: the same code on a database with the same teams and people but no
questions (what the code costs by itself), and a bare ``SELECT count(*)`` over one team's week.
Then EXPLAIN (ANALYZE) of every query one team's figures make, checked for index use.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from bench import pg
from bench.insights_fill import fill
from handlers.context import Policy
from handlers.weeks import reported_week, team_time_zone
from nudges.planner import WeeklyPlanner
from nudges.texts.catalog import load_catalog
from nudges.weekly import WEEK, compose_team, gather_team_week
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.uow import make_uow_factory

DATABASE = "vraagbot_insights_bench"
EMPTY = "vraagbot_insights_bench_empty"
TARGET_P50_MS = 50.0
TARGET_ALL_S = 10.0
FULL = {"teams": 200, "people": 5000, "questions": 1_000_000}
QUICK = {"teams": 20, "people": 500, "questions": 100_000}
BIG_TABLES = ("questions", "replies", "signals")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.insights", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 questions, 20 teams, 500 people")
    parser.add_argument("--refill", action="store_true", help="fill the database again even if it is there")
    parser.add_argument("--drop", action="store_true", help="drop the benchmark databases and stop")
    parser.add_argument("--runs", type=int, default=300, help="timed runs of one team's weekly figures")
    parser.add_argument("--profile", metavar="FILE", help="profile composing all teams with pyinstrument (.html)")
    return parser.parse_args()


# ---------------------------------------------------------------- databases


async def prepare(name: str, size: dict[str, int], *, refill: bool, only_people: bool = False) -> tuple[str, datetime]:
    """The database, filled if it was not (or ``refill``) and migrated to head; returns its URL and
    the end of its data (the moment the figures are about)."""
    marker = None
    if await pg.exists(name) and not refill:
        connection = await pg.connect(name)
        try:
            if await connection.fetchval("SELECT to_regclass('bench_fill')"):
                marker = await connection.fetchrow("SELECT teams, people, questions, end_at FROM bench_fill")
        finally:
            await connection.close()
    expected = (size["teams"], size["people"], 0 if only_people else size["questions"])
    url = pg.url_for(name)
    if marker is not None and tuple(marker[:3]) == expected:
        print(f"{name}: kept from an earlier run ({expected[2]:,} questions); migrating to head", flush=True)
        await asyncio.to_thread(upgrade_to_head, url)
        return url, marker["end_at"]
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    print(f"{name}: filling {expected[2]:,} questions, {expected[0]} teams, {expected[1]:,} people ...", flush=True)
    await pg.recreate(name)
    await asyncio.to_thread(upgrade_to_head, url)
    connection = await pg.connect(name)
    try:
        seconds = await fill(connection, teams=size["teams"], people=size["people"], questions=size["questions"],
                             end=end, only_people=only_people)
        await connection.execute("CREATE TABLE bench_fill (teams int, people int, questions int, end_at timestamptz)")
        await connection.execute("INSERT INTO bench_fill VALUES ($1, $2, $3, $4)", *expected, end)
        counts = {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in BIG_TABLES}
    finally:
        await connection.close()
    print("  " + ", ".join(f"{step} {s:.1f} s" for step, s in seconds.items()))
    print("  rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()), flush=True)
    return url, end


# ---------------------------------------------------------------- timing


async def timed(runs: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    """Seconds per call; ``call(i)`` for i in range(runs), after a few untimed warm-up calls."""
    for i in range(min(5, runs)):
        await call(i)
    seconds = []
    for i in range(runs):
        start = time.perf_counter()
        await call(i)
        seconds.append(time.perf_counter() - start)
    return seconds


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


class Subject:
    """The real code on one database: the unit of work, the catalog and the policy the bot uses."""

    def __init__(self, url: str, teams: int, end: datetime) -> None:
        self.engine = create_engine(url)
        self.uow = make_uow_factory(self.engine)
        self.teams = teams
        self.end = end  # a send moment: the week is the seven days before it
        self.catalog = load_catalog()
        self.policy = Policy(default_locale="nl", default_time_zone="Europe/Amsterdam", min_group_size=5,
                             team_nudge_admins_only=False, text_retention_days=90)
        self.week = reported_week(end, team_time_zone(self.policy))  # the whole week a message at ``end`` is about

    async def figures(self, team: int) -> object:
        async with self.uow() as uow:
            return await gather_team_week(uow, team, self.week)

    async def compose_all(self) -> list[str]:
        texts = []
        for team in range(1, self.teams + 1):
            async with self.uow() as uow:
                week = await gather_team_week(uow, team, self.week)
            texts.append(compose_team(self.catalog, "nl", team, week, self.policy.min_group_size))
        return texts

    async def planning_tick(self) -> int:
        """One WeeklyPlanner tick at the end of the data, as every replica runs it every minute. The
        first one queues (or skips) what is due then; the timed ones after it find all queued."""
        planner = WeeklyPlanner(self.uow, FixedClock(self.end), self.catalog, self.policy, grace=timedelta(hours=6))
        return await planner.plan_due()

    async def bare_count(self, team: int) -> int:
        async with self.engine.connect() as connection:
            result = await connection.exec_driver_sql(
                "SELECT count(*) FROM questions WHERE workspace_id = $1 AND asked_at >= $2 AND asked_at < $3",
                (team, self.end - WEEK, self.end))
            return int(result.scalar_one())

    async def explain_figures(self, team: int) -> list[tuple[str, str]]:
        """(statement, EXPLAIN ANALYZE plan) for each distinct query one team's figures make."""
        captured: list[tuple[str, object]] = []

        def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                captured.append((statement, parameters))

        event.listen(self.engine.sync_engine, "before_cursor_execute", capture)
        try:
            await self.figures(team)
        finally:
            event.remove(self.engine.sync_engine, "before_cursor_execute", capture)
        plans, seen = [], set()
        async with self.engine.connect() as connection:
            for statement, parameters in captured:
                if statement in seen:
                    continue
                seen.add(statement)
                result = await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plans.append((statement, "\n".join(row[0] for row in result)))
        return plans

    async def close(self) -> None:
        await self.engine.dispose()


def seq_scans(plan: str) -> list[str]:
    return [t for t in BIG_TABLES if f"Seq Scan on {t}" in plan]


def one_line(statement: str) -> str:
    return " ".join(statement.split())[:150]


# ---------------------------------------------------------------- the run


async def run(args: argparse.Namespace) -> int:
    size = QUICK if args.quick else FULL
    name, empty_name = (DATABASE + "_quick", EMPTY + "_quick") if args.quick else (DATABASE, EMPTY)
    if args.drop:
        for database in (name, empty_name):
            await pg.drop(database)
            print(f"dropped {database}")
        return 0
    url, end = await prepare(name, size, refill=args.refill)
    empty_url, _ = await prepare(empty_name, size, refill=args.refill, only_people=True)
    full, empty = Subject(url, size["teams"], end), Subject(empty_url, size["teams"], end)
    teams = size["teams"]
    try:
        print(f"\nweek: {end - WEEK:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC; {args.runs} runs each", flush=True)
        one = await timed(args.runs, lambda i: full.figures(1 + i % teams))
        one_empty = await timed(args.runs, lambda i: empty.figures(1 + i % teams))
        bare = await timed(args.runs, lambda i: full.bare_count(1 + i % teams))
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            profiler.start()
        start = time.perf_counter()
        texts = await full.compose_all()
        all_seconds = time.perf_counter() - start
        if args.profile:
            profiler.stop()
            save(args.profile, profiler.output_html())
            print(f"profile of composing all teams: {args.profile}")
        start = time.perf_counter()
        await empty.compose_all()
        all_empty = time.perf_counter() - start
        logging.getLogger("nudges.planner").setLevel(logging.ERROR)  # the first tick skips last week's rows
        ticks = await timed(3, lambda i: full.planning_tick())
        ticks_empty = await timed(3, lambda i: empty.planning_tick())
        plans = await full.explain_figures(1)
    finally:
        await full.close()
        await empty.close()

    print("\nEXPLAIN ANALYZE of the queries behind one team's weekly figures:")
    scans = []
    for statement, plan in plans:
        print(f"\n-- {one_line(statement)}")
        print(plan)
        scans += seq_scans(plan)
    hidden_text = full.catalog.text("nl", "weekly.figures_hidden", min=full.policy.min_group_size)
    hidden = sum(hidden_text in t for t in texts)
    p50, p99 = statistics.median(one) * 1000, percentile(one, 0.99) * 1000
    e50, b50 = statistics.median(one_empty) * 1000, statistics.median(bare) * 1000
    x50, xe50 = statistics.median(ticks), statistics.median(ticks_empty)
    print()
    print(f"one team's weekly figures:      p50 {p50:.1f} ms  p99 {p99:.1f} ms   "
          f"(empty database p50 {e50:.1f} ms; bare count(*) of the week p50 {b50:.2f} ms)")
    print(f"all {teams} teams' messages:     {all_seconds:.2f} s   (empty database {all_empty:.2f} s; "
          f"{len(texts)} composed, {hidden} with figures hidden by the privacy threshold)")
    print(f"one planning tick (weekly nudges and experts' summaries, nothing new due): {x50:.2f} s   "
          f"(empty database {xe50:.2f} s)")
    print(f"sequential scans on {', '.join(BIG_TABLES)}: {', '.join(scans) or 'none'}")
    print(f"RESULT insights: one team p50 {p50:.1f} ms (target < {TARGET_P50_MS:g} ms) = {p50 / e50:.2f}x the empty "
          f"database; all {teams} teams {all_seconds:.2f} s (target < {TARGET_ALL_S:g} s) = "
          f"{all_seconds / all_empty:.2f}x the empty database; plans use indexes: {'yes' if not scans else 'no'}")
    ok = p50 < TARGET_P50_MS and all_seconds < TARGET_ALL_S and not scans
    return 0 if ok else 1


def save(path: str, text: str) -> None:
    with open(path, "w") as output:
        output.write(text)


def main() -> None:
    sys.exit(asyncio.run(run(arguments())))


if __name__ == "__main__":
    main()
