"""Concurrent delivery: a recipient whose send hangs (a long Retry-After wait in the platform
client) does not hold up the other recipients, and every row still goes out once."""

from __future__ import annotations

import asyncio
from collections import Counter

from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.queueing import queue
from nudges.delivery.outbox import OutboxDispatcher


class StallingMessenger:
    """Holds every send to ``stalled`` until released; sends to anyone else go out at once."""

    def __init__(self, stalled: str) -> None:
        self.stalled = stalled
        self.sent: list[str] = []
        self.release = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> str | None:
        if message.channel == self.stalled:
            await self.release.wait()
        self.sent.append(message.channel or "")
        return None


async def queue_channels(world, channels: list[str]) -> None:
    async with world.uow() as uow:
        for channel in channels:
            message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "deze week", channel=channel, private=False)
            assert await queue(uow, world.clock, message, period="2026-W48")


async def test_a_stalled_send_does_not_hold_up_the_other_channels(world):
    channels = [f"slack:C{n}" for n in range(6)]
    await queue_channels(world, channels)
    messenger = StallingMessenger(stalled="slack:C0")
    dispatcher = OutboxDispatcher(world.uow, messenger, world.clock, concurrency=3)
    drain = asyncio.create_task(dispatcher.dispatch_due())
    for _ in range(200):  # the five other channels go out while C0 is still waiting
        if len(messenger.sent) == 5:
            break
        await asyncio.sleep(0.01)
    assert sorted(messenger.sent) == channels[1:]
    assert not drain.done()
    messenger.release.set()
    assert await drain == 6
    assert Counter(messenger.sent) == Counter(dict.fromkeys(channels, 1))
    assert world.rows("SELECT status, count(*) FROM outbox GROUP BY status") == [("sent", 6)]


async def test_one_at_a_time_the_stalled_send_holds_up_the_rest(world):
    channels = [f"slack:C{n}" for n in range(3)]
    await queue_channels(world, channels)
    messenger = StallingMessenger(stalled="slack:C0")
    dispatcher = OutboxDispatcher(world.uow, messenger, world.clock, concurrency=1)
    drain = asyncio.create_task(dispatcher.dispatch_due())
    await asyncio.sleep(0.3)
    assert messenger.sent == []
    messenger.release.set()
    assert await drain == 3
    assert messenger.sent == channels


class SlowFirstMessenger:
    """The first send takes a while; records what arrived, in order."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: OutgoingMessage) -> str | None:
        if not self.sent and message.text == "eerst":
            await asyncio.sleep(0.3)
        self.sent.append(message.text)
        return None


async def test_messages_to_one_person_keep_their_order_while_others_go_ahead(world):
    sanne, anna = world.people["sanne"].id, world.people["anna"].id
    async with world.uow() as uow:
        for text, person_id in (("eerst", sanne), ("daarna", sanne), ("voor anna", anna)):
            message = OutgoingMessage(MessageKind.NUDGE_CURT, text, person_id=person_id)
            assert await queue(uow, world.clock, message, period=text)
    messenger = SlowFirstMessenger()
    dispatcher = OutboxDispatcher(world.uow, messenger, world.clock, concurrency=3)
    assert await dispatcher.dispatch_due() == 3
    assert messenger.sent == ["voor anna", "eerst", "daarna"]
