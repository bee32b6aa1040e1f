"""Queue messages for other people through the outbox, inside the caller's unit of work.

Writing the message in the same transaction as the change that caused it means a crash can
neither lose the message nor send it for a change that was rolled back.
"""

from __future__ import annotations

from datetime import datetime

from handlers.messages import OutgoingMessage
from handlers.ports import Clock, UnitOfWork


def dedupe_key(message: OutgoingMessage, period: str) -> str:
    recipient = f"p{message.person_id}" if message.person_id is not None else f"c{message.channel}"
    return f"{recipient}:{message.kind}:{period}"


async def queue(
    uow: UnitOfWork,
    clock: Clock,
    message: OutgoingMessage,
    *,
    period: str,
    due_at: datetime | None = None,
    key: str | None = None,
    skipped: str | None = None,
    variant: int | None = None,
) -> bool:
    """Queue one message; False when its key is taken already. The key is the recipient's kind for
    this period unless the caller has its own (``key``: a team nudge's names its workspace too).
    ``skipped``: the reason the message is recorded but never sent, which keeps its key taken (the
    planner's grace window: sent neither late nor reconsidered on every tick). ``variant``: which
    variant of a rotated reframing text the message says, kept for the impact report (issue 17)."""
    now = clock.now()
    row = await uow.outbox.add(
        dedupe_key=key or dedupe_key(message, period), message=message, period=period, due_at=due_at or now,
        now=now, text_variant=variant,
    )
    if row is not None and skipped is not None:
        await uow.outbox.mark_skipped(row.id, skipped)
    return row is not None


async def rotation_seed(uow: UnitOfWork, person_id: int, kind: str) -> int:
    """Variant number for the next text of this kind, so one person sees them in turn."""
    return await uow.outbox.count_for(person_id, kind)
