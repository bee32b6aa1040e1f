"""What one Slack request costs the database, counted through the whole real path (issue 12): HTTP in,
the inbox insert before the ack, the worker's claim, and the use case run in one transaction with the
request marked done. Budget for an ask, a thread reply and a button press: at most 3 transactions and
15 statements, for people the bot already knows. Counted with SQLAlchemy's event hooks, per asyncio
task, so the outbox's sends (their own tasks) are not part of it; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.e2e import slack_requests as sr
from tests.e2e.slack_bot import USERS, SlackBot, running_slack_bot
from tests.integration.statements import _is_transaction_control

MAX_STATEMENTS = 15
MAX_TRANSACTIONS = 3
CLAIM_STATEMENTS = 2  # storage/repositories/inbox.py claim(): the locking SELECT, then the UPDATE ... RETURNING


@dataclass
class TaskCount:
    statements: list[str] = field(default_factory=list)
    transactions: int = 0
    first_at: float | None = None  # time.time() of its first statement


@contextmanager
def per_task(bot: SlackBot) -> Iterator[dict[str, TaskCount]]:
    counts: dict[str, TaskCount] = defaultdict(TaskCount)

    def task_name() -> str:
        task = asyncio.current_task()
        return task.get_name() if task else "?"

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not _is_transaction_control(statement):
            count = counts[task_name()]
            count.statements.append(" ".join(statement.split()))
            count.first_at = count.first_at or time.time()

    def on_begin(_conn: Any) -> None:
        counts[task_name()].transactions += 1

    engine = bot.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "begin", on_begin)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "begin", on_begin)


async def scalar(bot: SlackBot, sql: str) -> Any:
    async with bot.runtime.engine.connect() as connection:
        return (await connection.execute(text(sql))).scalar()


def work_of(counts: dict[str, TaskCount]) -> TaskCount:
    [work] = [c for name, c in counts.items() if name.startswith("inbox-") and name != "inbox-workers"]
    return work


def request_cost(counts: dict[str, TaskCount]) -> tuple[int, int, str]:
    """(statements, transactions, listing) of one request: its ack's insert, its claim, its work."""
    [ack] = [c for c in counts.values() if any(s.startswith("INSERT INTO inbox") for s in c.statements)]
    assert len(ack.statements) == 1 and ack.transactions == 1, ack  # nothing else before the ack
    claims = [s for c in counts.values() for s in c.statements if s.startswith("UPDATE inbox SET attempts=")]
    assert len(claims) == 1, {name: [s[:60] for s in c.statements] for name, c in counts.items()}
    work = work_of(counts)
    statements = 1 + CLAIM_STATEMENTS + len(work.statements)
    transactions = ack.transactions + 1 + work.transactions
    listing = "\n".join(f"  {n:2}. {s[:150]}" for n, s in enumerate(work.statements, 1))
    return statements, transactions, f"{statements} statements in {transactions} transactions; the work:\n{listing}"


async def settled(bot: SlackBot) -> None:
    assert await bot.runtime.inbox.drain(20)


async def measured(bot: SlackBot, send) -> tuple[int, int, str]:
    await settled(bot)
    with per_task(bot) as counts:
        status, _ = await send()
        assert status == 200
        await settled(bot)
    bot.last_counts = counts
    return request_cost(counts)


async def known_people_and_a_question(bot: SlackBot) -> tuple[int, str]:
    """Sanne asks Anna once: both are known afterwards, and the question has its thread."""
    await bot.command("sanne", "<@UANNA|anna> Mag ik dit contract verlengen?")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = await scalar(bot, "SELECT id FROM questions WHERE thread_ref IS NOT NULL")
        if row:
            thread = await scalar(bot, f"SELECT thread_ref FROM questions WHERE id = {int(row)}")
            return int(row), thread
        await asyncio.sleep(0.05)
    raise AssertionError("the first question never reached Anna")


@pytest.fixture
async def bot(database_url, tmp_path):  # SQLite and PostgreSQL (tests/db_fixtures.py)
    async with running_slack_bot(database_url, str(tmp_path / "not-read.db")) as running:
        yield running


async def test_an_ask_a_thread_reply_and_a_press_each_stay_within_the_budget(bot):
    question_id, thread = await known_people_and_a_question(bot)

    asked_focus = len(bot.fake.calls("dnd.info"))
    ask = await measured(bot, lambda: bot.command("sanne", "<@UANNA|anna> En mag ik het ook opzeggen?"))
    # Anna's focus time was asked before the work's transaction began: no network call holds it open.
    [focus] = bot.fake.calls("dnd.info")[asked_focus:]
    assert focus.at < work_of(bot.last_counts).first_at
    channel, thread_ts = thread.split(":", 1)
    reply_event = sr.thread_reply_event("Ja, dat mag, met een maand opzegtermijn.", user=USERS["anna"],
                                        channel=channel, thread_ts=thread_ts, ts=f"{time.time():.6f}")
    reply = await measured(bot, lambda: bot.event(reply_event))
    press = await measured(bot, lambda: bot.press("anna", "tag_werk", str(question_id)))

    for name, (statements, transactions, listing) in {"ask": ask, "thread reply": reply, "press": press}.items():
        print(f"{name}: {statements} statements, {transactions} transactions")  # the figures, with -s
        assert statements <= MAX_STATEMENTS and transactions <= MAX_TRANSACTIONS, f"{name}: {listing}"
    # The work really happened (a budget met by skipping it would mean nothing).
    assert await scalar(bot, "SELECT count(*) FROM questions") == 2
    assert await scalar(bot, "SELECT count(*) FROM replies") == 1
    assert await scalar(bot, f"SELECT tag_source FROM questions WHERE id = {question_id}") == "expert"
