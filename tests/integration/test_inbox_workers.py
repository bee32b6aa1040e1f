"""The inbox's worker pool (bot/inbox/workers.py, issue 12) on a real database, SQLite and PostgreSQL,
with a runner of the test's own that stores something real (a processed_events row) through the
``transact`` it is given. Time that matters to the pool (leases, retry backoff) is a hand-moved clock;
the test waits for conditions, never for time to pass."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.inbox.workers import MAX_ATTEMPTS, InboxWorkers, Transact
from handlers.context import Deps
from handlers.ports import PersonRecord
from nudges.texts.catalog import load_catalog
from storage.repositories.inbox import ClaimedRequest
from storage.tables import InboxRequest, ProcessedEvent
from storage.uow import make_uow_factory
from tests.e2e.loopback import eventually

CATALOG = load_catalog()
LEASE_SECONDS = 60.0


class HandClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class NobodyInFocus:
    async def focus_until(self, person: PersonRecord, platform: str) -> datetime | None:
        return None


class Effect(Exception):
    """What a failing runner raises (inside its transaction, after writing)."""


class Runner:
    """Implements bot.inbox.workers.InboxRunner: each request's effect is one processed_events row
    named after its payload and attempt. The first ``failing[payload]`` attempts raise inside the
    transaction (after writing, so a kept write would show); a request whose payload is in ``gates``
    waits for that event before it does anything."""

    def __init__(self, clock: HandClock, *, failing: dict[str, int] | None = None) -> None:
        self.clock = clock
        self.failing = failing or {}
        self.runs: list[tuple[str, int]] = []  # (payload, attempt), in the order they started
        self.log: list[str] = []  # "start x" / "end x"
        self.given_up_for: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}
        self.refused: set[str] = set()

    async def run(self, request: ClaimedRequest, transact: Transact) -> None:
        self.runs.append((request.payload, request.attempts))
        self.log.append(f"start {request.payload}")
        if request.payload in self.gates:
            await self.gates[request.payload].wait()

        async def work(deps: Deps) -> None:
            async with deps.uow() as uow:
                await uow.events.first_time("test", f"{request.payload}#{request.attempts}", self.clock.now())
            if request.payload in self.refused:  # as a use case that turns an error into a reply
                try:
                    async with deps.uow() as uow:
                        await uow.events.first_time("test", f"{request.payload}-refused", self.clock.now())
                        raise Effect("refused")
                except Effect:
                    pass
            if request.attempts <= self.failing.get(request.payload, 0):
                raise Effect(f"attempt {request.attempts} of {request.payload}")

        await transact(work)
        self.log.append(f"end {request.payload}")

    async def given_up(self, request: ClaimedRequest) -> None:
        self.given_up_for.append(request.payload)

    def attempts_of(self, payload: str) -> list[int]:
        return [attempt for name, attempt in self.runs if name == payload]


class Pools:
    """Pools on one database, each with its runner; all stopped at the end."""

    def __init__(self, engine: AsyncEngine, clock: HandClock) -> None:
        self.engine = engine
        self.clock = clock
        self.uow = make_uow_factory(engine)
        self.deps = Deps(uow=self.uow, clock=clock, presence=NobodyInFocus(), catalog=CATALOG)
        self.started: list[InboxWorkers] = []

    def pool(self, runner: Runner, *, size: int = 4, start: bool = True) -> InboxWorkers:
        workers = InboxWorkers(self.engine, self.uow, self.deps, self.clock, size=size, lease_seconds=LEASE_SECONDS,
                               busy_seconds=5, poll_seconds=0.05)
        workers.register("slack", runner)
        if start:
            workers.start()
        self.started.append(workers)
        return workers

    async def put(self, workers: InboxWorkers, name: str, person: str = "T1:sanne") -> None:
        assert await workers.put(platform="slack", kind="command", dedup_key=f"key-{name}", person_key=person,
                                 payload=name)

    async def row(self, name: str) -> InboxRequest:
        async with self.engine.connect() as connection:
            return (await connection.execute(select(InboxRequest).where(InboxRequest.dedup_key == f"key-{name}"))).one()

    async def effects(self) -> list[str]:
        async with self.engine.connect() as connection:
            return sorted((await connection.execute(select(ProcessedEvent.event_id))).scalars())

    async def until_row(self, name: str, check: Callable[[InboxRequest], bool]) -> InboxRequest:
        """Wait until the request's row passes ``check`` (the database is polled, the clock stands still)."""
        async def look() -> InboxRequest | None:
            row = await self.row(name)
            return row if check(row) else None

        return await until_async(look)

    async def until_postponed(self, name: str, attempt: int) -> None:
        """Wait until that attempt failed and the request was put off (a backoff shorter than the lease
        the claim set), then let the clock pass that moment."""
        row = await self.until_row(name, lambda row: row.attempts == attempt and row.lease_until is not None
                                   and row.lease_until < self.clock.now() + timedelta(seconds=LEASE_SECONDS))
        assert row.lease_until > self.clock.now(), "a failed request is tried again after a pause, not at once"
        self.clock.current = row.lease_until + timedelta(seconds=1)

    async def stop_all(self) -> None:
        for workers in self.started:
            await workers.stop(5)


async def until_async(check: Callable[[], object], seconds: float = 30) -> object:
    """eventually() for a check that is a coroutine function."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


@asynccontextmanager
async def pools(engine: AsyncEngine) -> AsyncIterator[Pools]:
    made = Pools(engine, HandClock())
    try:
        yield made
    finally:
        await made.stop_all()


async def test_every_stored_request_is_run_exactly_once(engine: AsyncEngine) -> None:
    async with pools(engine) as p:
        runner = Runner(p.clock)
        workers = p.pool(runner, start=False)
        names = [f"r{n:02d}" for n in range(30)]
        for n, name in enumerate(names):
            await p.put(workers, name, person=f"T1:U{n % 5}")
        assert not await workers.put(platform="slack", kind="command", dedup_key="key-r00", person_key="T1:U0",
                                     payload="r00 again")  # a retry of one of them
        workers.start()
        assert await workers.drain(60)
        assert sorted(runner.runs) == [(name, 1) for name in names]
        assert await p.effects() == sorted(f"{name}#1" for name in names)
        for name in names:
            row = await p.row(name)
            assert row.done_at is not None and not row.failed and row.payload is None


async def test_a_request_that_fails_twice_is_tried_again_and_then_kept_once(engine: AsyncEngine) -> None:
    async with pools(engine) as p:
        runner = Runner(p.clock, failing={"ask": 2})
        workers = p.pool(runner)
        await p.put(workers, "ask")
        for attempt in (1, 2):
            await p.until_postponed("ask", attempt)
        await p.until_row("ask", lambda row: row.done_at is not None)
        assert runner.attempts_of("ask") == [1, 2, 3]
        assert await p.effects() == ["ask#3"]  # the failed attempts' writes were rolled back
        row = await p.row("ask")
        assert row.attempts == 3 and not row.failed
        assert runner.given_up_for == []


async def test_a_request_that_always_fails_is_given_up_after_max_attempts(engine: AsyncEngine) -> None:
    async with pools(engine) as p:
        runner = Runner(p.clock, failing={"broken": MAX_ATTEMPTS + 10})
        workers = p.pool(runner)
        await p.put(workers, "broken", "T1:sanne")
        await p.put(workers, "next", "T1:sanne")  # the same person's next request waits for the verdict
        for attempt in range(1, MAX_ATTEMPTS):
            await p.until_postponed("broken", attempt)
        row = await p.until_row("broken", lambda row: row.done_at is not None)
        assert row.failed and row.attempts == MAX_ATTEMPTS and row.payload is None
        assert runner.attempts_of("broken") == list(range(1, MAX_ATTEMPTS + 1))
        assert runner.given_up_for == ["broken"]
        await p.until_row("next", lambda row: row.done_at is not None)
        assert runner.runs[-1] == ("next", 1)  # only after the last attempt of the one before it
        assert await p.effects() == ["next#1"]  # none of the failed attempts' writes stayed
        p.clock.advance(3600)  # nothing of it comes back, however long one waits
        assert await workers.drain(30)
        assert runner.given_up_for == ["broken"]
        assert [name for name, _ in runner.runs].count("broken") == MAX_ATTEMPTS


async def test_a_refused_request_is_done_once_and_keeps_none_of_its_writes(engine: AsyncEngine) -> None:
    """A unit of work inside the use case raised and the use case answered with a refusal: the shared
    transaction keeps nothing of the request's writes, but the request is done (not tried again)."""
    async with pools(engine) as p:
        runner = Runner(p.clock)
        runner.refused = {"refused"}
        workers = p.pool(runner)
        await p.put(workers, "refused")
        await p.put(workers, "fine")
        assert await workers.drain(30)
        assert runner.runs == [("refused", 1), ("fine", 1)]
        assert "end refused" in runner.log  # transact returned normally
        assert await p.effects() == ["fine#1"]
        row = await p.row("refused")
        assert row.done_at is not None and not row.failed and row.attempts == 1


async def test_a_persons_next_request_waits_for_the_one_before(engine: AsyncEngine) -> None:
    async with pools(engine) as p:
        runner = Runner(p.clock)
        runner.gates = {"sanne-1": asyncio.Event(), "anna-1": asyncio.Event()}
        workers = p.pool(runner, start=False)
        await p.put(workers, "sanne-1", "T1:sanne")
        await p.put(workers, "sanne-2", "T1:sanne")
        await p.put(workers, "anna-1", "T1:anna")
        workers.start()
        await eventually(lambda: {"start sanne-1", "start anna-1"} <= set(runner.log))
        runner.gates["anna-1"].set()  # anna's done; the pool claims again, still not sanne-2
        await p.until_row("anna-1", lambda row: row.done_at is not None)
        await p.put(workers, "bram-1", "T1:bram")  # a claim after anna's finished: it takes bram, not sanne-2
        await p.until_row("bram-1", lambda row: row.done_at is not None)
        assert "start sanne-2" not in runner.log
        runner.gates["sanne-1"].set()
        await p.until_row("sanne-2", lambda row: row.done_at is not None)
        assert runner.log.index("start sanne-2") > runner.log.index("end sanne-1")
        assert await p.effects() == ["anna-1#1", "bram-1#1", "sanne-1#1", "sanne-2#1"]


async def test_stopping_gives_a_running_request_back_and_a_new_pool_takes_it_at_once(engine: AsyncEngine) -> None:
    async with pools(engine) as p:
        stuck = Runner(p.clock)
        stuck.gates = {"ask": asyncio.Event()}  # never set: the work is still running at shutdown
        first = p.pool(stuck)
        await p.put(first, "ask")
        await eventually(lambda: "start ask" in stuck.log)
        await first.stop(grace_seconds=0.1)
        row = await p.row("ask")
        assert row.lease_until is None and row.done_at is None and row.attempts == 1
        assert await p.effects() == []

        runner = Runner(p.clock)
        second = p.pool(runner)  # the clock has not moved: without the give-back the lease would hold it 60 s
        await p.until_row("ask", lambda row: row.done_at is not None)
        assert runner.runs == [("ask", 2)]
        assert await p.effects() == ["ask#2"]
        assert await second.drain(30)


async def test_a_run_whose_lease_ran_out_keeps_nothing_when_another_finished_first(engine: AsyncEngine) -> None:
    """A worker that is too slow (or its replica hung): after the lease another pool runs the request;
    when the slow one finally stores its work, the request is done already and its writes go."""
    async with pools(engine) as p:
        slow = Runner(p.clock)
        slow.gates = {"ask": asyncio.Event()}
        first = p.pool(slow, size=1)  # busy with it: the retry after the lease must come from the other pool
        await p.put(first, "ask")
        await eventually(lambda: "start ask" in slow.log)
        p.clock.advance(LEASE_SECONDS + 1)
        fast = Runner(p.clock)
        p.pool(fast)
        await p.until_row("ask", lambda row: row.done_at is not None)
        assert fast.runs == [("ask", 2)]
        slow.gates["ask"].set()
        assert await first.drain(30)
        assert "end ask" not in slow.log  # its transact refused: AlreadyDone
        assert await p.effects() == ["ask#2"]


async def test_a_slow_request_keeps_its_lease_and_runs_once_and_in_order(engine: AsyncEngine) -> None:
    """A request that runs longer than its lease (a slow platform call) while its pool is alive: the pool
    renews the lease, so another pool neither runs it again nor runs that person's next request first."""
    async with pools(engine) as p:
        slow = Runner(p.clock)
        slow.gates = {"ask": asyncio.Event()}
        first = p.pool(slow, size=1)
        await p.put(first, "ask")
        await p.put(first, "ask-2")  # the same person's next one
        await eventually(lambda: "start ask" in slow.log)
        for _ in range(4):  # twice the lease in all, a third of it at a time
            p.clock.advance(LEASE_SECONDS / 3)
            await p.until_row("ask", lambda row: row.lease_until > p.clock.now() + timedelta(seconds=LEASE_SECONDS / 2))
        other = Runner(p.clock)
        second = p.pool(other)
        await asyncio.sleep(0.3)  # several claim rounds of the second pool (poll 0.05 s)
        assert other.runs == []
        slow.gates["ask"].set()
        await p.until_row("ask-2", lambda row: row.done_at is not None)
        assert await p.effects() == ["ask#1", "ask-2#1"]
        assert [name for name, _ in slow.runs + other.runs].count("ask") == 1
        assert await first.drain(30) and await second.drain(30)


async def test_drain_says_so_when_work_is_left(engine: AsyncEngine) -> None:
    async with pools(engine) as p:
        workers = p.pool(Runner(p.clock), start=False)
        await p.put(workers, "ask")
        assert not await workers.drain(0.2)
        workers.start()
        assert await workers.drain(30)


async def test_acks_that_come_in_together_share_one_transaction_each_stored_once(engine: AsyncEngine) -> None:
    """Group commit: while one store is under way the next requests wait for it and then go in together, so a
    burst costs a few transactions instead of one per ack; each is stored once and told so."""
    begins: list[object] = []
    count_begin = begins.append  # one bound method, so the same one is removed
    event.listen(engine.sync_engine, "begin", count_begin)
    try:
        async with pools(engine) as p:
            workers = p.pool(Runner(p.clock), start=False)

            async def put(name: str) -> bool:
                return await workers.put(platform="slack", kind="command", dedup_key=f"key-{name}",
                                         person_key="T1:sanne", payload=name)

            names = [f"b{n:02d}" for n in range(40)]
            stored = await asyncio.gather(*(put(name) for name in [*names, "b00", "b01"]))  # two of them twice
            assert stored == [True] * 40 + [False, False]
            assert len(begins) <= 3  # the first alone, the rest after it: not 42
            async with engine.connect() as connection:
                assert sorted((await connection.execute(select(InboxRequest.dedup_key))).scalars()) == [
                    f"key-{name}" for name in names]
    finally:
        event.remove(engine.sync_engine, "begin", count_begin)


async def test_a_request_that_cannot_be_stored_does_not_fail_the_others_stored_with_it(engine: AsyncEngine) -> None:
    async with pools(engine) as p:
        workers = p.pool(Runner(p.clock), start=False)
        too_long = "x" * 300  # the key column holds 255 characters: PostgreSQL refuses it, SQLite does not check
        outcomes = await asyncio.gather(
            *(workers.put(platform="slack", kind="command", dedup_key=key, person_key="T1:sanne", payload=key)
              for key in ["ok-1", too_long, "ok-2"]), return_exceptions=True)
        assert outcomes[0] is True and outcomes[2] is True
        if engine.dialect.name == "postgresql":
            assert isinstance(outcomes[1], Exception)
