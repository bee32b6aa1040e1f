"""Delivery hooks per message kind: the outbox tells whoever registered for a kind that a row went
out (or could not), in the transaction that records it, and imports no use case itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from handlers.errors import RecipientUnreachable
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.queueing import queue
from nudges.delivery.outbox import Delivery, DeliveryHooks, OutboxDispatcher


class Messenger:
    def __init__(self, *, unreachable: bool = False) -> None:
        self.unreachable = unreachable

    async def send(self, message: OutgoingMessage) -> str | None:
        if self.unreachable:
            raise RecipientUnreachable("channel_not_found")
        return "C1:1712.0001"


async def queue_weekly(world) -> None:
    message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "deze week", channel="slack:C1", private=False)
    async with world.uow() as uow:
        assert await queue(uow, world.clock, message, period="2026-W48")


def test_the_outbox_imports_no_use_case():
    code = "import sys, nudges.delivery.outbox; print(sorted(m for m in sys.modules if m.startswith('handlers.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "handlers.asking" not in loaded and "handlers.dispatch" not in loaded, loaded


async def test_a_hook_hears_of_its_kind_with_the_rows_facts(world):
    await queue_weekly(world)
    heard: list[Delivery] = []

    async def delivered(uow, delivery: Delivery) -> None:
        heard.append(delivery)

    dispatcher = OutboxDispatcher(world.uow, Messenger(), world.clock,
                                  hooks={MessageKind.WEEKLY_TEAM: DeliveryHooks(delivered=delivered)})
    assert await dispatcher.dispatch_due() == 1
    [delivery] = heard
    assert delivery.kind == MessageKind.WEEKLY_TEAM and delivery.channel == "slack:C1"
    assert delivery.platform_ref == "C1:1712.0001" and delivery.at == world.clock.now()
    assert delivery.person_id is None and delivery.question_id is None
    assert world.rows("SELECT status FROM outbox") == [("sent",)]


async def test_a_failing_hook_undoes_the_recorded_result_with_it(world):
    """The hook runs in the transaction that marks the row sent: both happen, or neither."""
    await queue_weekly(world)

    async def delivered(uow, delivery: Delivery) -> None:
        raise RuntimeError("hook bug")

    dispatcher = OutboxDispatcher(world.uow, Messenger(), world.clock,
                                  hooks={MessageKind.WEEKLY_TEAM: DeliveryHooks(delivered=delivered)})
    with pytest.raises(RuntimeError, match="hook bug"):
        await dispatcher.dispatch_due()
    assert world.rows("SELECT status, sent_at FROM outbox") == [("pending", None)]  # sent again after the lease


async def test_unreachable_goes_to_the_kinds_unreachable_hook_and_other_kinds_hear_nothing(world):
    await queue_weekly(world)
    heard: list[str] = []

    def note(name: str):
        async def hook(uow, delivery: Delivery) -> None:
            heard.append(f"{name} {delivery.kind} {delivery.platform_ref}")
        return hook

    hooks = {MessageKind.WEEKLY_TEAM: DeliveryHooks(delivered=note("delivered"),
                                                    unreachable=note("unreachable")),
             MessageKind.QUESTION: DeliveryHooks(delivered=note("question"), unreachable=note("question"))}
    dispatcher = OutboxDispatcher(world.uow, Messenger(unreachable=True), world.clock, hooks=hooks)
    assert await dispatcher.dispatch_due() == 1
    assert heard == ["unreachable weekly_team None"]
    assert world.rows("SELECT status FROM outbox") == [("failed",)]


async def test_without_hooks_a_question_is_sent_and_nothing_else_happens(world):
    await world.say("sanne", "@anna Mag dit?")
    dispatcher = OutboxDispatcher(world.uow, Messenger(), world.clock)
    assert await dispatcher.dispatch_due() >= 1
    assert world.rows("SELECT status FROM outbox WHERE kind='question'") == [("sent",)]
    assert world.rows("SELECT delivered_at, thread_ref FROM questions") == [(None, None)]


async def test_the_composition_roots_question_hooks_mark_it_delivered_in_its_thread(world):
    from bot.delivery_hooks import delivery_hooks
    from tests.unit.world import CATALOG

    await world.say("sanne", "@anna Mag dit?")
    dispatcher = OutboxDispatcher(world.uow, Messenger(), world.clock, hooks=delivery_hooks(world.clock, CATALOG))
    await dispatcher.dispatch_due()
    [(delivered_at, thread_ref)] = world.rows("SELECT delivered_at, thread_ref FROM questions")
    assert delivered_at is not None and thread_ref == "C1:1712.0001"
