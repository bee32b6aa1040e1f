"""Statements and transactions per Slack request, as PostgreSQL itself saw them: the evidence behind
the CPU per request of bench.ack_path (where the round trips go, not how long they take).

    python -m bench.statements [--log /var/log/postgresql/postgresql-15-main.log] [--requests 3]

A fresh database gets `log_statement = all` (for that database only; the setting goes with it when it
is dropped), `vraagbot serve` runs on it against the fake Slack, and one kind at a time (ask, press,
thread reply) ``--requests`` requests are sent, one a second, each followed by a quiet second or two.
The server log lines of this database are then counted per kind, minus an equally long window in which
nothing was sent (the idle polls and ticks). Needs read access to the PostgreSQL server log (root or
the postgres group) and a server that logs to that file.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import re
import time
from collections import Counter
from pathlib import Path

import asyncpg

from bench.load import offer
from bench.servers import FakeApi, start_serve
from bench.world import KINDS, database_name, postgres_database, reader, requests_for, seed

SETTLE_SECONDS = 2.5  # after each request: its work, the outbox and its hooks are done well within this
STATEMENT = re.compile(r"\[(\d+)\] \S+ LOG:  (?:statement|execute [^:]*): (.*)$")


def default_log() -> str:
    found = sorted(glob.glob("/var/log/postgresql/postgresql-*-main.log"))
    return found[-1] if found else ""


def category(sql: str) -> str:
    """A short name for what a statement does: verb and table."""
    words = sql.replace("(", " ").split()
    verb = words[0].upper() if words else "?"
    table = "other"
    for marker in ("FROM", "INTO", "UPDATE"):
        if marker in (w.upper() for w in words):
            index = [w.upper() for w in words].index(marker)
            if index + 1 < len(words):
                table = words[index + 1].strip('",')
                break
    if verb in ("BEGIN;", "COMMIT;", "ROLLBACK;", "BEGIN", "COMMIT", "ROLLBACK"):
        return verb.rstrip(";")
    if table == "other" and verb == "SELECT" and len(words) > 1 and "." in words[1]:
        table = words[1].split(".")[0]  # the log line ends before FROM: the first column names the table
    return f"{verb} {table}"


def count(lines: list[str]) -> Counter[str]:
    """Statements by category, plus transactions and the pre-ping pairs (BEGIN; ROLLBACK with nothing
    between, on one connection: SQLAlchemy's asyncpg ping on every pool checkout)."""
    counts: Counter[str] = Counter()
    last: dict[str, str] = {}
    for line in lines:
        match = STATEMENT.search(line)
        if not match:
            continue
        pid, sql = match.groups()
        kind = category(sql)
        if kind == "ROLLBACK" and last.get(pid) == "BEGIN":
            counts["BEGIN"] -= 1
            counts["pre-ping (BEGIN; ROLLBACK)"] += 1
        elif kind not in ("COMMIT", "ROLLBACK"):
            counts[kind] += 1
        last[pid] = kind
    counts["transactions"] = counts.pop("BEGIN", 0)
    return counts


def _size(log: Path) -> int:
    return os.path.getsize(log)


def read_from(log: Path, offset: int, database: str) -> list[str]:
    with log.open(errors="replace") as f:
        f.seek(offset)
        return [line for line in f if f"@{database} " in line]


async def main_async(args: argparse.Namespace) -> dict[str, Counter[str]]:
    log = Path(args.log)
    results: dict[str, Counter[str]] = {}
    with FakeApi(60) as fake:
        async with postgres_database() as url:
            database = database_name(url)
            admin = await asyncpg.connect(url)
            try:
                await admin.execute(f"ALTER DATABASE \"{database}\" SET log_statement = 'all'")
            finally:
                await admin.close()
            server = await start_serve(fake, url, "statements", env={"VRAAGBOT_SLACK_POSTS_PER_MINUTE": "1000000"})
            engine = reader(url)
            try:
                world = await seed(engine, 60, threads=20, answered=args.requests + 10)
                await offer(server.events_url, requests_for(world, fake, 6), 5)  # warm: first look-ups, pools
                await asyncio.sleep(3 * SETTLE_SECONDS)
                window = args.requests * (1 + SETTLE_SECONDS)
                offset = _size(log)
                await asyncio.sleep(window)
                idle = count(read_from(log, offset, database))
                for kind in KINDS:
                    offset = _size(log)
                    started = time.monotonic()
                    for _ in range(args.requests):
                        await offer(server.events_url, requests_for(world, fake, 1, (kind,)), 1)
                        await asyncio.sleep(SETTLE_SECONDS)
                    await asyncio.sleep(max(0.0, window - (time.monotonic() - started)))
                    seen = count(read_from(log, offset, database))
                    seen.subtract(idle)
                    results[kind] = Counter({k: v / args.requests for k, v in seen.items()})
            finally:
                await engine.dispose()
                server.stop()
    return results


def table(results: dict[str, Counter[str]]) -> str:
    names = sorted({k for c in results.values() for k, v in c.items() if abs(v) >= 0.05},
                   key=lambda k: (k != "transactions", not k.startswith("pre-ping"), k))
    kinds = list(results)
    lines = ["Per request, as PostgreSQL logged it (minus an idle window of the same length)",
             "| statement | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{results[k].get(name, 0):.1f}" for k in kinds) + " |")
    totals = {k: sum(v for n, v in c.items() if n not in ("transactions",) and not n.startswith("pre-ping"))
              for k, c in results.items()}
    lines.append("| **statements** | " + " | ".join(f"{totals[k]:.1f}" for k in kinds) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__.split("\n")[0])
    parser.add_argument("--log", default=default_log(), help="the PostgreSQL server log file")
    parser.add_argument("--requests", type=int, default=3, help="requests of each kind")
    args = parser.parse_args()
    if not args.log or not Path(args.log).exists():
        raise SystemExit("no PostgreSQL server log found: pass --log")
    print(table(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()
