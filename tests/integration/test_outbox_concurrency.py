"""Two replicas ticking at once never claim the same outbox row (PostgreSQL's SKIP LOCKED)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from storage.uow import SqlUnitOfWork
from tests.integration.helpers import NOW, message, minutes

pytestmark = [
    pytest.mark.postgres,
    # Only PostgreSQL: SQLite has no row locks (BEGIN IMMEDIATE serialises whole transactions).
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

UowFactory = Callable[[], SqlUnitOfWork]


async def queue(uow_factory: UowFactory, n: int) -> set[int]:
    async with uow_factory() as uow:
        ids = set()
        for i in range(n):
            row = await uow.outbox.add(
                dedupe_key=f"k{i}",
                message=message(channel="C1"),
                period="p",
                due_at=NOW - minutes(i),
                now=NOW,
            )
            assert row is not None
            ids.add(row.id)
        return ids


async def test_a_second_claim_skips_rows_locked_by_the_first(uow_factory: UowFactory) -> None:
    all_ids = await queue(uow_factory, 10)
    first_claimed = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> list[int]:
        async with uow_factory() as uow:
            rows = await uow.outbox.claim_due(NOW, limit=4)
            first_claimed.set()
            await release_first.wait()  # hold the row locks while the second one claims
            for row in rows:
                await uow.outbox.mark_sent(row.id, NOW)
            return [row.id for row in rows]

    async def second() -> list[int]:
        await first_claimed.wait()
        async with uow_factory() as uow:
            # Must not wait for the first transaction: a timeout here means SKIP LOCKED is missing.
            rows = await asyncio.wait_for(uow.outbox.claim_due(NOW, limit=100), timeout=5)
            for row in rows:
                await uow.outbox.mark_sent(row.id, NOW)
            release_first.set()
            return [row.id for row in rows]

    a, b = await asyncio.gather(first(), second())
    assert len(a) == 4 and len(b) == 6
    assert not set(a) & set(b)
    assert set(a) | set(b) == all_ids

    async with uow_factory() as uow:
        assert await uow.outbox.claim_due(NOW, limit=100) == []


async def test_many_ticking_workers_send_every_row_exactly_once(uow_factory: UowFactory) -> None:
    all_ids = await queue(uow_factory, 40)
    claimed: list[int] = []

    async def worker() -> None:
        while True:
            async with uow_factory() as uow:
                rows = await uow.outbox.claim_due(NOW, limit=3)
                if not rows:
                    return
                await asyncio.sleep(0.01)  # "sending", with the locks held
                for row in rows:
                    await uow.outbox.mark_sent(row.id, NOW)
                    claimed.append(row.id)

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(4))), timeout=30)
    assert sorted(claimed) == sorted(all_ids)  # no row twice, none left out
