"""SQLite's single writer is shared acknowledgements first (bot/inbox/workers.py OneWriter): an ack that
arrives while workers wait for the write goes before every worker that has not started yet."""

from __future__ import annotations

import asyncio

from bot.inbox.workers import OneWriter


async def test_an_ack_goes_before_the_workers_that_wait():
    writer = OneWriter()
    order: list[str] = []
    release_first = asyncio.Event()

    async def work(name: str, hold: asyncio.Event | None = None) -> None:
        async with writer.work():
            order.append(name)
            if hold is not None:
                await hold.wait()

    async def ack(name: str) -> None:
        async with writer.ack():
            order.append(name)

    first = asyncio.create_task(work("work-1", release_first))
    await asyncio.sleep(0)  # work-1 holds the write
    waiting = [asyncio.create_task(work(f"work-{n}")) for n in (2, 3)]
    await asyncio.sleep(0)
    acks = [asyncio.create_task(ack("ack-1")), asyncio.create_task(ack("ack-2"))]
    await asyncio.sleep(0)
    release_first.set()
    await asyncio.gather(first, *waiting, *acks)
    assert order[0] == "work-1"
    assert set(order[1:3]) == {"ack-1", "ack-2"}  # both acks before the waiting workers
    assert set(order[3:]) == {"work-2", "work-3"}
