"""Delivery through the outbox: once, retried when it may pass, given up when it cannot."""

from __future__ import annotations

from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.queueing import queue
from tests.unit.world import rate_limited, unreachable


async def test_same_key_is_queued_once(world):
    message = OutgoingMessage(MessageKind.NUDGE_CURT, "tekst", person_id=world.people["sanne"].id)
    async with world.uow() as uow:
        assert await queue(uow, world.clock, message, period="q1")
        assert not await queue(uow, world.clock, message, period="q1")
        assert await queue(uow, world.clock, message, period="q2")
    assert len(await world.drain()) == 2
    assert await world.drain() == []  # sent rows are never sent again


async def test_rate_limited_send_waits_for_retry_after_then_goes_out(world):
    await world.say("sanne", "@anna Mag dit?")
    world.messenger.fail_next.append(rate_limited(30))
    assert await world.drain() == []
    assert world.rows("SELECT status, attempts FROM outbox WHERE kind='question'") == [("pending", 1)]
    world.clock.advance(seconds=29)
    assert await world.drain() == []
    world.clock.advance(seconds=2)
    assert [m.kind for m in await world.drain()] == [MessageKind.QUESTION]
    assert world.rows("SELECT status FROM outbox WHERE kind='question'") == [("sent",)]


async def test_unreachable_recipient_is_not_retried(world):
    await world.say("sanne", "@anna Mag dit?")
    world.messenger.fail_next.append(unreachable())
    await world.drain()
    world.clock.advance(hours=1)
    assert await world.drain() == []
    assert world.rows("SELECT status FROM outbox WHERE kind='question'") == [("failed",)]
    assert world.rows("SELECT delivered_at FROM questions") == [(None,)]
    # The asker hears it, and routing by topic skips the unreachable expert until they return.
    notices = [m for m in world.messenger.sent if m.person_id == world.people["sanne"].id]
    assert any("niet bereikbaar" in m.text for m in notices)
    assert world.rows("SELECT unreachable FROM people WHERE handle='anna'") == [(1,)]
    await world.say("sanne", "#contracten Wie weet dit?")
    assert world.rows("SELECT p.handle FROM questions q JOIN people p ON p.id = q.expert_id "
                      "ORDER BY q.id DESC LIMIT 1") == [("lotte",)]
    await world.say("anna", "rol")  # anna talks to the bot again
    assert world.rows("SELECT unreachable FROM people WHERE handle='anna'") == [(0,)]


async def test_unexpected_send_error_keeps_the_row_for_later(world):
    await world.say("sanne", "@anna Mag dit?")
    world.messenger.fail_next.append(RuntimeError("bug in an adapter"))
    await world.drain()
    assert world.rows("SELECT status, attempts FROM outbox") == [("pending", 1)]
    world.clock.advance(minutes=1)
    assert len(await world.drain()) == 1
