"""What follows the delivery of each kind of message, registered with the outbox by the composition
root: the outbox only sends and records, and the use cases say what a delivery means to them."""

from __future__ import annotations

from handlers.asking import mark_delivered, mark_undeliverable
from handlers.models import MessageKind
from handlers.ports import Catalog, Clock, UnitOfWork
from nudges.delivery.outbox import Delivery, DeliveryHooks


def delivery_hooks(clock: Clock, catalog: Catalog) -> dict[MessageKind, DeliveryHooks]:
    async def question_delivered(uow: UnitOfWork, delivery: Delivery) -> None:
        # The platform's reference is the question's thread: replies there are answers to it.
        if delivery.question_id is not None:
            await mark_delivered(uow, delivery.question_id, delivery.platform_ref, delivery.at)

    async def question_unreachable(uow: UnitOfWork, delivery: Delivery) -> None:
        # The expert blocked the bot: routing skips them, and the asker is told.
        if delivery.question_id is not None:
            await mark_undeliverable(uow, clock, catalog, delivery.question_id)

    return {MessageKind.QUESTION: DeliveryHooks(delivered=question_delivered, unreachable=question_unreachable)}
