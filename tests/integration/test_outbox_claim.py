"""claim_for_sending: the claim, its lease, the attempt marker and the recipients in one transaction."""

from __future__ import annotations

import asyncio

import pytest

from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.ports import Recipient
from tests.integration.helpers import NOW, message, minutes, person, workspace


async def test_the_claim_leases_marks_and_addresses_the_oldest_rows(uow_factory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        sanne, anna = await person(uow, ws, "sanne"), await person(uow, ws, "anna")
        gone = anna.id + 100  # a participant who no longer exists
        ask = OutgoingMessage(MessageKind.QUESTION, "Mag dit?", person_id=anna.id, participants=(sanne.id, anna.id))
        lost = OutgoingMessage(MessageKind.QUESTION, "En dit?", person_id=anna.id, participants=(gone, anna.id))
        first = await uow.outbox.add(dedupe_key="a", message=ask, period="p", due_at=NOW - minutes(2), now=NOW)
        second = await uow.outbox.add(dedupe_key="b", message=lost, period="p", due_at=NOW - minutes(1), now=NOW)
        await uow.outbox.add(dedupe_key="c", message=message(channel="slack:C1"), period="p", due_at=NOW, now=NOW)
        await uow.outbox.add(dedupe_key="later", message=message(channel="slack:C1"), period="p",
                             due_at=NOW + minutes(10), now=NOW)

    async with uow_factory() as uow:
        claims = await uow.outbox.claim_for_sending(NOW, 2, lease_until=NOW + minutes(2))
    assert [c.record.id for c in claims] == [first.id, second.id]  # oldest first, at most the limit
    assert [c.in_doubt_since for c in claims] == [None, None]
    assert claims[0].recipients == {sanne.id: Recipient("slack", "U-sanne"), anna.id: Recipient("slack", "U-anna")}
    assert claims[1].recipients == {anna.id: Recipient("slack", "U-anna")}  # the one who is gone is missing
    assert OutgoingMessage.from_payload(claims[0].record.payload) == ask and claims[0].record.due_at == NOW + minutes(2)

    async with uow_factory() as uow:
        (third,) = await uow.outbox.claim_for_sending(NOW, 10, lease_until=NOW + minutes(2))  # leased: not again
        assert third.record.channel == "slack:C1" and third.recipients == {}
        stored = await uow.outbox._row(first.id)
        assert (stored.due_at, stored.attempt_started_at) == (NOW + minutes(2), NOW)

    # The lease ran out with no outcome recorded (the sender died): the next claim says since when it is in doubt.
    async with uow_factory() as uow:
        again = await uow.outbox.claim_for_sending(NOW + minutes(3), 10, lease_until=NOW + minutes(5))
    assert [(c.record.id, c.in_doubt_since) for c in again] == [(row_id, NOW) for row_id in
                                                                (first.id, second.id, third.record.id)]
    async with uow_factory() as uow:
        assert (await uow.outbox._row(first.id)).attempt_started_at == NOW  # the first moment is kept


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_second_claim_skips_the_rows_the_first_holds(uow_factory) -> None:
    async with uow_factory() as uow:
        for i in range(5):
            await uow.outbox.add(dedupe_key=f"k{i}", message=message(channel="slack:C1"), period="p",
                                 due_at=NOW - minutes(i), now=NOW)
    held, release = asyncio.Event(), asyncio.Event()

    async def first() -> set[int]:
        async with uow_factory() as uow:
            claims = await uow.outbox.claim_for_sending(NOW, 2, lease_until=NOW + minutes(2))
            held.set()
            await release.wait()  # the row locks stay until this transaction ends
            return {c.record.id for c in claims}

    async def second() -> set[int]:
        await held.wait()
        async with uow_factory() as uow:  # a timeout here: the claim waits for the locks (no SKIP LOCKED)
            claims = await asyncio.wait_for(uow.outbox.claim_for_sending(NOW, 10, lease_until=NOW + minutes(2)), 5)
        release.set()
        return {c.record.id for c in claims}

    a, b = await asyncio.gather(first(), second())
    assert len(a) == 2 and len(b) == 3 and not a & b
