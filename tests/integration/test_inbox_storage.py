"""The inbox table's statements (storage/repositories/inbox.py, issue 12) on SQLite and PostgreSQL:
de-duplication, what a row keeps and for how long, the claim's order and leases, and finishing a
request in the same transaction as the work's own writes (exactly once)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.repositories import inbox
from storage.tables import InboxRequest, ProcessedEvent
from storage.uow import make_uow_factory

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


async def put(engine: AsyncEngine, key: str, person: str = "T1:U1", *, payload: str | None = None,
              at: datetime = NOW) -> bool:
    async with engine.begin() as connection:
        return await inbox.put(connection, platform="slack", kind="command", dedup_key=key, person_key=person,
                               payload=payload or f'{{"key": "{key}"}}', request_id=f"req-{key}", now=at)


async def put_all(engine: AsyncEngine, *rows: tuple[str, str]) -> dict[str, int]:
    """(key, person) rows in this order; their ids by key."""
    for key, person in rows:
        assert await put(engine, key, person)
    return {key: row.id for key, row in (await rows_by_key(engine)).items()}


async def claim(engine: AsyncEngine, *, at: datetime = NOW, limit: int = 10) -> list[inbox.ClaimedRequest]:
    async with engine.begin() as connection:
        return await inbox.claim(connection, now=at, lease=LEASE, limit=limit)


async def claimed_keys(engine: AsyncEngine, *, at: datetime = NOW, limit: int = 10) -> list[str]:
    return [json.loads(request.payload)["key"] for request in await claim(engine, at=at, limit=limit)]


async def finish(engine: AsyncEngine, request_id: int, *, failed: bool = False) -> bool:
    async with engine.begin() as connection:
        return await inbox.finish(connection, request_id, now=NOW, failed=failed)


async def rows_by_key(engine: AsyncEngine) -> dict[str, InboxRequest]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(InboxRequest).order_by(InboxRequest.id))).all()
    return {row.dedup_key: row for row in rows}


# --------------------------------------------------------------------------- put


async def test_a_duplicate_key_is_refused_and_stores_nothing(engine: AsyncEngine) -> None:
    assert await put(engine, "trigger-1", payload='{"first": true}')
    assert not await put(engine, "trigger-1", payload='{"second": true}')
    rows = await rows_by_key(engine)
    assert list(rows) == ["trigger-1"]
    assert rows["trigger-1"].payload == '{"first": true}'  # the first delivery's body, untouched


async def test_the_payload_waits_until_finish_and_then_only_the_key_stays(engine: AsyncEngine) -> None:
    await put(engine, "Ev1", "T1:U1", payload='{"text": "Mag dit?"}')
    row = (await rows_by_key(engine))["Ev1"]
    assert (row.platform, row.kind, row.person_key, row.payload, row.request_id, row.attempts) == (
        "slack", "command", "T1:U1", '{"text": "Mag dit?"}', "req-Ev1", 0)
    assert row.received_at == NOW and row.done_at is None and row.lease_until is None and not row.failed

    [claimed] = await claim(engine)
    assert claimed.payload == '{"text": "Mag dit?"}' and claimed.person_key == "T1:U1"
    assert (await rows_by_key(engine))["Ev1"].payload == '{"text": "Mag dit?"}'  # still there while it runs

    assert await finish(engine, claimed.id)
    row = (await rows_by_key(engine))["Ev1"]
    assert (row.payload, row.person_key, row.request_id, row.lease_until) == (None, "", None, None)
    assert row.done_at == NOW and not row.failed and row.dedup_key == "Ev1"
    assert not await put(engine, "Ev1", payload='{"text": "Mag dit?"}')  # a late retry still takes no effect


async def test_a_request_given_up_is_done_and_marked_failed(engine: AsyncEngine) -> None:
    await put(engine, "k1")
    [claimed] = await claim(engine)
    assert await finish(engine, claimed.id, failed=True)
    row = (await rows_by_key(engine))["k1"]
    assert row.failed and row.done_at == NOW and row.payload is None
    assert await claim(engine, at=NOW + LEASE * 2) == []


# --------------------------------------------------------------------------- claim


async def test_claim_takes_the_oldest_first_up_to_the_limit(engine: AsyncEngine) -> None:
    await put_all(engine, ("a", "T1:U1"), ("b", "T1:U2"), ("c", "T1:U3"))
    assert await claimed_keys(engine, limit=2) == ["a", "b"]
    assert await claimed_keys(engine, limit=2) == ["c"]
    assert await claimed_keys(engine) == []


async def test_claim_takes_one_per_person_in_order_and_other_persons_meanwhile(engine: AsyncEngine) -> None:
    ids = await put_all(engine, ("sanne1", "T1:sanne"), ("sanne2", "T1:sanne"), ("anna1", "T1:anna"),
                        ("sanne3", "T1:sanne"), ("anna2", "T1:anna"), ("bram1", "T1:bram"))
    assert await claimed_keys(engine) == ["sanne1", "anna1", "bram1"]
    assert await claimed_keys(engine) == []  # each person's next one waits for the leased one before it
    assert await finish(engine, ids["anna1"])
    assert await claimed_keys(engine) == ["anna2"]
    assert await finish(engine, ids["sanne1"])
    assert await claimed_keys(engine) == ["sanne2"]
    assert await finish(engine, ids["sanne2"])
    assert await claimed_keys(engine) == ["sanne3"]


async def test_a_waiting_older_request_holds_back_the_persons_later_ones(engine: AsyncEngine) -> None:
    """Waiting, not only leased: a postponed (failed, to be retried) request keeps its place."""
    ids = await put_all(engine, ("sanne1", "T1:sanne"), ("sanne2", "T1:sanne"), ("anna1", "T1:anna"))
    assert await claimed_keys(engine, limit=1) == ["sanne1"]
    async with engine.begin() as connection:
        await inbox.postpone(connection, ids["sanne1"], until=NOW + seconds(30))
    assert await claimed_keys(engine) == ["anna1"]  # sanne2 waits behind sanne1
    assert await claimed_keys(engine, at=NOW + seconds(31)) == ["sanne1"]


async def test_a_leased_request_is_claimed_again_only_after_its_lease_ran_out(engine: AsyncEngine) -> None:
    await put(engine, "k1")
    [first] = await claim(engine)
    assert first.attempts == 1
    row = (await rows_by_key(engine))["k1"]
    assert row.lease_until == NOW + LEASE and row.attempts == 1
    assert await claim(engine, at=NOW + LEASE - seconds(1)) == []
    assert await claim(engine, at=NOW + LEASE) == []  # "ran out" means after, not at
    [again] = await claim(engine, at=NOW + LEASE + seconds(1))
    assert (again.id, again.attempts) == (first.id, 2)
    assert (await rows_by_key(engine))["k1"].lease_until == NOW + LEASE + seconds(1) + LEASE


async def test_a_released_request_is_claimed_again_at_once(engine: AsyncEngine) -> None:
    ids = await put_all(engine, ("k1", "T1:U1"), ("k2", "T1:U1"))
    [first] = await claim(engine)
    async with engine.begin() as connection:
        await inbox.release(connection, [first.id])
    assert (await rows_by_key(engine))["k1"].lease_until is None
    [again] = await claim(engine)
    assert (again.id, again.attempts) == (ids["k1"], 2)  # the same one first: the person's order holds


async def test_release_and_postpone_leave_a_done_request_done(engine: AsyncEngine) -> None:
    ids = await put_all(engine, ("k1", "T1:U1"))
    await claim(engine)
    assert await finish(engine, ids["k1"])
    async with engine.begin() as connection:
        await inbox.release(connection, [ids["k1"]])
        await inbox.release(connection, [])
        await inbox.postpone(connection, ids["k1"], until=NOW + seconds(5))
    row = (await rows_by_key(engine))["k1"]
    assert row.done_at == NOW and row.lease_until is None
    assert await claim(engine, at=NOW + LEASE * 2) == []


async def test_a_postponed_request_waits_until_then(engine: AsyncEngine) -> None:
    ids = await put_all(engine, ("k1", "T1:U1"))
    await claim(engine)
    async with engine.begin() as connection:
        await inbox.postpone(connection, ids["k1"], until=NOW + seconds(8))
    assert await claim(engine, at=NOW + seconds(7)) == []
    [again] = await claim(engine, at=NOW + seconds(9))
    assert again.attempts == 2


# --------------------------------------------------------------------------- backlog and pruning


async def test_the_backlog_counts_what_is_not_done_and_its_oldest(engine: AsyncEngine) -> None:
    assert await backlog(engine) == inbox.Backlog(0, None)
    await put(engine, "old", at=NOW - seconds(40))
    await put(engine, "new", "T1:U2", at=NOW)
    await put(engine, "leased", "T1:U3", at=NOW - seconds(10))
    assert await backlog(engine) == inbox.Backlog(3, NOW - seconds(40))
    ids = {key: row.id for key, row in (await rows_by_key(engine)).items()}
    await claim(engine)
    assert await backlog(engine) == inbox.Backlog(3, NOW - seconds(40))  # leased is still waiting to be done
    assert await finish(engine, ids["old"])
    assert await backlog(engine) == inbox.Backlog(2, NOW - seconds(10))


async def backlog(engine: AsyncEngine) -> inbox.Backlog:
    async with engine.connect() as connection:
        return await inbox.backlog(connection)


async def test_prune_forgets_only_done_requests_received_before(engine: AsyncEngine) -> None:
    day = timedelta(days=1)
    await put(engine, "done-old", "T1:U1", at=NOW - 4 * day)
    await put(engine, "done-new", "T1:U2", at=NOW - day)
    await put(engine, "waiting-old", "T1:U3", at=NOW - 5 * day)
    ids = {key: row.id for key, row in (await rows_by_key(engine)).items()}
    await claim(engine)
    assert await finish(engine, ids["done-old"]) and await finish(engine, ids["done-new"])
    async with engine.begin() as connection:
        assert await inbox.prune_done(connection, before=NOW - 3 * day) == 1
    assert sorted(await rows_by_key(engine)) == ["done-new", "waiting-old"]
    assert await put(engine, "done-old")  # its key is forgotten: the same key is a new request now
    assert not await put(engine, "done-new")


# --------------------------------------------------------------------------- finishing, exactly once


async def test_finishing_twice_the_second_is_refused(engine: AsyncEngine) -> None:
    ids = await put_all(engine, ("k1", "T1:U1"))
    await claim(engine)
    assert await finish(engine, ids["k1"])
    assert not await finish(engine, ids["k1"])
    assert not await finish(engine, ids["k1"], failed=True)
    assert not (await rows_by_key(engine))["k1"].failed


async def test_finish_commits_or_rolls_back_with_the_works_own_writes(engine: AsyncEngine) -> None:
    uow_factory = make_uow_factory(engine)
    ids = await put_all(engine, ("Ev1", "T1:U1"))
    await claim(engine)

    async with uow_factory() as uow:  # the work fails after marking: neither its write nor the mark stays
        assert await uow.events.first_time("slack", "Ev1", NOW)
        assert await inbox.finish(uow.session, ids["Ev1"], now=NOW)
        await uow.rollback()
    assert (await rows_by_key(engine))["Ev1"].done_at is None
    assert await processed_events(engine) == []

    async with uow_factory() as uow:
        assert await uow.events.first_time("slack", "Ev1", NOW)
        assert await inbox.finish(uow.session, ids["Ev1"], now=NOW)
    assert (await rows_by_key(engine))["Ev1"].done_at == NOW
    assert await processed_events(engine) == ["Ev1"]

    async with uow_factory() as uow:  # a second run (its lease ran out) finds it done and keeps nothing
        await uow.events.first_time("slack", "Ev1-rerun", NOW)
        if not await inbox.finish(uow.session, ids["Ev1"], now=NOW):
            await uow.rollback()
    assert await processed_events(engine) == ["Ev1"]


async def processed_events(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(select(ProcessedEvent.event_id).order_by(ProcessedEvent.event_id)))
                    .scalars())


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_transactions_racing_to_finish_one_request_only_one_keeps_its_writes(engine: AsyncEngine) -> None:
    """Two workers on one request (the first's lease ran out): the second's finish waits for the first
    transaction's row lock, then sees the request done and rolls its own writes back."""
    uow_factory = make_uow_factory(engine)
    ids = await put_all(engine, ("Ev1", "T1:U1"))
    await claim(engine)
    outcomes: dict[str, bool] = {}
    first_marked = asyncio.Event()
    second_waiting = asyncio.Event()

    async def worker(name: str) -> None:
        async with uow_factory() as uow:
            await uow.events.first_time("slack", f"effect-{name}", NOW)
            if name == "second":
                await first_marked.wait()
                backend_pid = (await uow.session.execute(select(func.pg_backend_pid()))).scalar_one()
                waiting = asyncio.create_task(inbox.finish(uow.session, ids["Ev1"], now=NOW))
                await wait_until_blocked(engine, backend_pid, waiting)
                second_waiting.set()
                outcomes[name] = await waiting
            else:
                outcomes[name] = await inbox.finish(uow.session, ids["Ev1"], now=NOW)
                first_marked.set()
                await second_waiting.wait()  # commit only once the other one waits for our row lock
            if not outcomes[name]:
                await uow.rollback()

    await asyncio.wait_for(asyncio.gather(worker("first"), worker("second")), timeout=60)
    assert outcomes == {"first": True, "second": False}
    assert await processed_events(engine) == ["effect-first"]
    assert (await rows_by_key(engine))["Ev1"].done_at == NOW


async def wait_until_blocked(engine: AsyncEngine, backend_pid: int, statement: asyncio.Task[bool]) -> None:
    """Until that PostgreSQL backend waits for a lock (or its statement ended, which fails the test)."""
    while not statement.done():
        async with engine.connect() as connection:
            wait = (await connection.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                             {"pid": backend_pid})).scalar()
        if wait == "Lock":
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the second finish did not wait for the first's lock: it returned {statement.result()}")


# --------------------------------------------------------------------------- concurrent claims


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_claim_skips_the_rows_another_claim_holds_locked(engine: AsyncEngine) -> None:
    await put_all(engine, *((f"k{n}", f"T1:U{n}") for n in range(10)))
    first_claimed = asyncio.Event()
    second_done = asyncio.Event()

    async def first() -> list[int]:
        async with engine.begin() as connection:
            claimed = await inbox.claim(connection, now=NOW, lease=LEASE, limit=4)
            first_claimed.set()
            await second_done.wait()  # hold the row locks while the second claims
            return [request.id for request in claimed]

    async def second() -> list[int]:
        await first_claimed.wait()
        try:
            async with engine.begin() as connection:
                # A hang guard, not a timing assertion: without SKIP LOCKED this waits for ever.
                claimed = await asyncio.wait_for(inbox.claim(connection, now=NOW, lease=LEASE, limit=100), 30)
                return [request.id for request in claimed]
        finally:
            second_done.set()

    a, b = await asyncio.gather(first(), second())
    assert len(a) == 4 and len(b) == 6 and not set(a) & set(b)


async def test_many_concurrent_claims_never_share_a_row_and_keep_each_persons_order(engine: AsyncEngine) -> None:
    """Eight workers on their own connections claim and finish 120 requests of 6 people: each request
    is claimed exactly once, and each person's requests one at a time, oldest first. On PostgreSQL
    every claim's transaction stays open a moment, so the others must skip its locked rows; SQLite
    runs one writer at a time (BEGIN IMMEDIATE), which this checks as well."""
    hold = engine.dialect.name == "postgresql"
    people = [f"T1:U{n}" for n in range(6)]
    rows = [(f"k{n:03d}", people[n % len(people)]) for n in range(120)]
    ids = await put_all(engine, *rows)
    person_of = {ids[key]: person for key, person in rows}
    claims: list[int] = []
    running: dict[str, int] = {}  # person -> the request of theirs being worked now

    async def worker() -> None:
        idle_rounds = 0
        while idle_rounds < 3:  # a few empty claims in a row: everything else is someone else's
            async with engine.begin() as connection:
                claimed = await inbox.claim(connection, now=NOW, lease=LEASE, limit=2)
                if hold:
                    await asyncio.sleep(0.005)
            if not claimed:
                idle_rounds += 1
                await asyncio.sleep(0.01)
                continue
            idle_rounds = 0
            for request in claimed:
                assert person_of[request.id] not in running, "two requests of one person at once"
                running[person_of[request.id]] = request.id
                claims.append(request.id)
            await asyncio.sleep(0)
            for request in claimed:
                del running[person_of[request.id]]  # before the finish commits: the next may come after it
                assert await finish(engine, request.id)

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(8))), timeout=120)
    assert sorted(claims) == sorted(ids.values())  # none twice, none left out
    for person in people:
        theirs = [request_id for request_id in claims if person_of[request_id] == person]
        assert theirs == sorted(theirs), f"{person}'s requests ran out of order"
    assert await backlog(engine) == inbox.Backlog(0, None)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_claims_open_at_the_same_moment_take_disjoint_rows(engine: AsyncEngine) -> None:
    """Ten connections claim at once, each holding its transaction (and row locks) open until all ten
    have claimed; round after round until nothing is left. 300 requests of 300 people, so only the
    locks keep the claims apart."""
    ids = set((await put_all(engine, *((f"k{n:03d}", f"T1:U{n:03d}") for n in range(300)))).values())
    claimers = 10
    taken: list[int] = []
    rounds = 0
    while True:
        all_claimed = asyncio.Barrier(claimers)

        async def claimer(all_claimed: asyncio.Barrier) -> list[int]:
            async with engine.begin() as connection:
                claimed = await inbox.claim(connection, now=NOW, lease=LEASE, limit=7)
                await all_claimed.wait()  # everyone's locks are held at this moment
                return [request.id for request in claimed]

        # A hang guard, not a timing assertion: a claim that waited for another's locks never returns.
        batches = await asyncio.wait_for(asyncio.gather(*(claimer(all_claimed) for _ in range(claimers))), timeout=60)
        rounds += 1
        found = [request_id for batch in batches for request_id in batch]
        if not found:
            break
        assert len(found) == len(set(found)), "two claims open at once took the same row"
        taken += found
    assert len(taken) == len(set(taken)) and set(taken) == ids
    assert rounds == 300 // (claimers * 7) + 2  # full rounds, the rest, and the empty one


async def test_acks_that_came_in_together_are_stored_in_one_statement_each_once(engine: AsyncEngine) -> None:
    """put_many (the ack path's group commit): one INSERT for all; a key already stored, or twice in the
    list (a double submit in the same moment), is stored once and reported as not stored."""
    assert await put(engine, "already")
    requests = [inbox.NewRequest("slack", "command", key, f"T1:{key}", f'{{"n": {n}}}', f"req-{n}", NOW)
                for n, key in enumerate(["a", "already", "b", "a", "c"])]
    async with engine.begin() as connection:
        assert await inbox.put_many(connection, requests) == [True, False, True, False, True]
    stored = await rows_by_key(engine)
    assert sorted(stored) == ["a", "already", "b", "c"]
    assert json.loads(stored["a"].payload) == {"n": 0}  # the first of the two, not the double
