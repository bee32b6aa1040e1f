"""Benchmark: one team's 12-month impact report (`vraagbot report --impact`) on a 1,000,000-question database.

    python -m bench.impact            # 1,000,000 questions in 200 teams, plus one planted 300-person team
    python -m bench.impact --quick    # 100,000 questions in 20 teams, plus the planted team
    python -m bench.impact --drop     # drop the benchmark database and stop

The database ``vraagbot_impact_bench`` (``_quick``) is filled once and kept: the 200 teams of
bench/insights_fill.py (two years of questions, replies and signals), an outbox as the bot would have it
(every question's delivery, and the curt and confirmation nudges with their text variants), and one team
from the synthetic organisation of tests/impact_world.py with planted effects (300 people asking over 14
months, about 6,000 questions). Every run migrates it to the current head first.

Timed through the real code (bot.impact_cli.gather: storage/repositories/impact.py and handlers.impact):
the planted team's report and an ordinary team's, p50 and max over ``--runs``; the same report on a
database holding only the planted team is the baseline (what the report costs by itself). Then EXPLAIN
(ANALYZE, BUFFERS) of the report's query, checked for sequential scans, and the planted effects as found.
Target: under 2 s for the planted team, index scans only.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import pg
from bench.insights import FULL, QUICK, prepare, timed
from bot.impact_cli import Gathered, gather
from handlers.context import Policy
from handlers.impact import Group, reading_span, whole_months
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.uow import make_uow_factory
from tests.impact_world import Planted, generate, next_ids, write

DATABASE = "vraagbot_impact_bench"
BASELINE = "vraagbot_impact_bench_alone"
PLANTED_TEAM = "slack:IMPACT"
TARGET_S = 2.0
MONTHS = 12
BIG_TABLES = ("questions", "replies", "signals", "outbox")
POLICY = Policy(default_locale="nl", default_time_zone="Europe/Amsterdam", min_group_size=5)

# The outbox the bot would have written for the bulk teams: each question's delivery to the expert, and
# a nudge with its rotated variant for every curt and confirmation signal (before 0012 these had none).
OUTBOX_FILL = """
    INSERT INTO outbox (dedupe_key, person_id, channel, kind, period, payload, question_id, status, due_at,
                        attempts, created_at, sent_at, text_redacted_at, text_variant)
    SELECT 'p' || q.expert_id || ':question:q' || q.id, q.expert_id, NULL, 'question', 'q' || q.id, '{}'::json,
           q.id, 'sent', q.asked_at, 1, q.asked_at, q.asked_at, q.text_redacted_at, NULL
    FROM questions q
    UNION ALL
    SELECT 'p' || q.asker_id || ':' || n.kind || ':q' || q.id, q.asker_id, NULL, n.kind, 'q' || q.id, '{}'::json,
           q.id, 'sent', s.created_at, 1, s.created_at, s.created_at, q.text_redacted_at, q.id % 3
    FROM signals s
    JOIN questions q ON q.id = s.question_id
    CROSS JOIN LATERAL (SELECT CASE s.kind WHEN 'confirmation_only' THEN 'nudge_confirmation'
                                           ELSE 'nudge_curt' END AS kind) n
    WHERE s.kind IN ('curt_detected', 'confirmation_only')
"""


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.impact", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 questions in 20 teams")
    parser.add_argument("--refill", action="store_true", help="fill the database again even if it is there")
    parser.add_argument("--drop", action="store_true", help="drop the benchmark databases and stop")
    parser.add_argument("--runs", type=int, default=10, help="timed reports of each kind")
    return parser.parse_args()


async def add_planted_team(name: str, end: datetime, *, with_outbox: bool) -> None:
    """The outbox of the bulk teams and the planted team, once (marked by the planted team's workspace)."""
    connection = await pg.connect(name)
    try:
        if await connection.fetchval("SELECT 1 FROM workspaces WHERE external_id = 'IMPACT'"):
            return
        if with_outbox:
            start = time.perf_counter()
            await connection.execute(OUTBOX_FILL)
            print(f"  outbox of the bulk teams: {time.perf_counter() - start:.1f} s", flush=True)
    finally:
        await connection.close()
    engine = create_engine(pg.url_for(name))
    try:
        async with engine.begin() as conn:
            ids = await next_ids(conn)
            months = whole_months(end, MONTHS, POLICY.default_time_zone)
            organisation = generate(people=300, start=months[0].start - timedelta(days=45), end=end,
                                    planted=Planted(), workspace_id=ids["workspace"], first_person_id=ids["person"],
                                    first_question_id=ids["question"], first_row_id=ids["row"], external_id="IMPACT")
            await write(conn, organisation)
        print(f"  planted team: {organisation.questions:,} questions of {len(organisation.people)} people", flush=True)
    finally:
        await engine.dispose()
    connection = await pg.connect(name)
    try:
        for table in ("workspaces", "people", "questions", "signals", "outbox"):
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT coalesce(max(id), 1) FROM {table}))")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def baseline_database(end: datetime) -> str:
    """A database holding only the planted team (what the report costs without a million other rows)."""
    url = await pg.recreate(BASELINE)
    await asyncio.to_thread(upgrade_to_head, url)
    await add_planted_team(BASELINE, end, with_outbox=False)
    return url


async def report(engine: AsyncEngine, team: str, end: datetime) -> Gathered:
    async with make_uow_factory(engine)() as uow:
        found = await gather(uow, team, MONTHS, end, POLICY)
    assert found is not None, team
    return found


async def explain(engine: AsyncEngine, team: str, end: datetime) -> list[tuple[str, str]]:
    captured: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "FROM questions" in statement:
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        await report(engine, team, end)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    plans = []
    async with engine.connect() as connection:
        for statement, parameters in captured:
            result = await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plans.append((statement, "\n".join(row[0] for row in result)))
    return plans


def seq_scans(plan: str) -> list[str]:
    return [t for t in BIG_TABLES if f"Seq Scan on {t}" in plan]


def percent(cell) -> str:
    if not cell.shown:
        return f"hidden ({cell.hidden})"
    return f"{cell.rate * 100:.1f}% [{cell.interval.low * 100:.1f}-{cell.interval.high * 100:.1f}] of {cell.trials}"


async def run(args: argparse.Namespace) -> int:
    size = QUICK if args.quick else FULL
    name = DATABASE + "_quick" if args.quick else DATABASE
    if args.drop:
        for database in (name, BASELINE):
            await pg.drop(database)
            print(f"dropped {database}")
        return 0
    url, end = await prepare(name, size, refill=args.refill)
    await add_planted_team(name, end, with_outbox=True)
    baseline_url = await baseline_database(end)
    full, alone = create_engine(url), create_engine(baseline_url)
    try:
        connection = await pg.connect(name)
        try:
            counts = {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in BIG_TABLES}
        finally:
            await connection.close()
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()), flush=True)
        planted = await timed(args.runs, lambda i: report(full, PLANTED_TEAM, end))
        ordinary = await timed(args.runs, lambda i: report(full, f"slack:T{1 + i % size['teams']:05d}", end))
        by_itself = await timed(args.runs, lambda i: report(alone, PLANTED_TEAM, end))
        found = await report(full, PLANTED_TEAM, end)
        plans = await explain(full, PLANTED_TEAM, end)
    finally:
        await full.dispose()
        await alone.dispose()

    span = reading_span(found.report.months)
    print(f"\nreport: {found.report.months[0].label} .. {found.report.months[-1].label}, questions read from "
          f"{span[0]:%Y-%m-%d} to {span[1]:%Y-%m-%d}; {args.runs} runs each")
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the report's query (planted team):")
    scans = []
    for statement, plan in plans:
        print(f"\n-- {' '.join(statement.split())[:200]}")
        print(plan)
        scans += seq_scans(plan)
    print("\nplanted effects as found (true: after new information 80%, after a confirmation 60%, "
          "curt with text 1 40%, text 2 60%, text 3 40%):")
    for group in Group:
        for variant in [None, *found.report.variants[group]]:
            print(f"  {group:<9} {variant or 'all':<8} {percent(found.report.total(group, variant))}")
    for c in found.report.comparisons:
        print(f"  {c.subject[0]}/{c.subject[1] or 'all'} vs {c.against[0]}/{c.against[1] or 'all'}: {c.verdict}")
    p50, worst = statistics.median(planted), max(planted)
    o50, a50 = statistics.median(ordinary), statistics.median(by_itself)
    print()
    print(f"planted team (300 people), 12 months: p50 {p50 * 1000:.0f} ms, max {worst * 1000:.0f} ms   "
          f"(the same team alone in a database: p50 {a50 * 1000:.0f} ms)")
    print(f"an ordinary team (25 people):         p50 {o50 * 1000:.0f} ms")
    print(f"sequential scans on {', '.join(BIG_TABLES)}: {', '.join(scans) or 'none'}")
    print(f"RESULT impact: planted team p50 {p50:.2f} s (target < {TARGET_S:g} s) = {p50 / TARGET_S:.2f}x the target, "
          f"{p50 / a50:.2f}x the team alone; plans use indexes only: {'yes' if not scans else 'no'}")
    return 0 if worst < TARGET_S and not scans else 1


def main() -> None:
    sys.exit(asyncio.run(run(arguments())))


if __name__ == "__main__":
    main()
