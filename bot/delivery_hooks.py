"""What follows the delivery of each kind of message, registered with the outbox by the composition
root: the outbox only sends and records, and the use cases say what a delivery means to them."""

from __future__ import annotations

from datetime import datetime

from handlers.asking import mark_delivered, mark_undeliverable
from handlers.focus import held_longer, notice_waits, question_waits
from handlers.models import MessageKind
from handlers.ports import Catalog, Clock, Presence, UnitOfWork, UnitOfWorkFactory
from nudges.delivery.outbox import Delivery, DeliveryHooks


def delivery_hooks(clock: Clock, catalog: Catalog, presence: Presence | None = None,
                   uow: UnitOfWorkFactory | None = None) -> dict[MessageKind, DeliveryHooks]:
    """With ``presence`` and ``uow``: a held question whose platform gives no end to focus time is looked
    at again right before it goes out (handlers.focus), and its notice waits for it."""
    async def question_delivered(uow: UnitOfWork, delivery: Delivery) -> None:
        # The platform's reference is the question's thread: replies there are answers to it.
        if delivery.question_id is not None:
            await mark_delivered(uow, delivery.question_id, delivery.platform_ref, delivery.at)

    async def question_unreachable(uow: UnitOfWork, delivery: Delivery) -> None:
        # The expert blocked the bot: routing skips them, and the asker is told.
        if delivery.question_id is not None:
            await mark_undeliverable(uow, clock, catalog, delivery.question_id)

    if presence is None or uow is None:
        return {MessageKind.QUESTION: DeliveryHooks(delivered=question_delivered, unreachable=question_unreachable)}
    looks, factory = presence, uow  # bound for the closures below

    async def question_wait(delivery: Delivery) -> datetime | None:
        return await question_waits(factory, clock, looks, delivery.question_id) if delivery.question_id else None

    async def question_postponed(work: UnitOfWork, delivery: Delivery) -> None:
        if delivery.question_id is not None:
            await held_longer(work, delivery.question_id, delivery.at)

    async def notice_wait(delivery: Delivery) -> datetime | None:
        return await notice_waits(factory, clock, delivery.question_id) if delivery.question_id else None

    return {MessageKind.QUESTION: DeliveryHooks(delivered=question_delivered, unreachable=question_unreachable,
                                                wait=question_wait, postponed=question_postponed),
            MessageKind.QUESTION_NOTICE: DeliveryHooks(wait=notice_wait)}
