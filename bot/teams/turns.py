"""A Teams activity takes effect once (issue 12, item 6). A turn runs inside the HTTP request; when it runs
past the Bot Connector's timeout, the connector sends the same activity (same id) again. So a turn's use
case runs in one transaction that also records the activity in processed_events: a resend finds it
recorded (on PostgreSQL it waits at that insert until the first delivery committed; on SQLite the write
lock queues them) and keeps nothing of its own run.

The transaction commits before anyone is answered, so a crash after the commit leaves an effect without
an answer (a resend then says it was already received), never two answers for one effect. Network calls
(roster look-ups, the answers themselves) stay outside it: it holds SQLite's write lock."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from botbuilder.schema import Activity

from bot.teams.cards import ACTION_KEY, ASK_FORM, FORM_ID
from handlers.context import Deps
from handlers.errors import StorageUnavailable
from handlers.messages import Result
from storage.uow import SharedTransaction

PLATFORM = "teams"


def activity_key(activity: Activity) -> str | None:
    """What identifies one delivery of an activity, or None when it has none (a request not made by
    Teams). Teams' message ids are millisecond numbers, unique within a conversation only, so
    the conversation is part of the key; hashed, because together they can exceed the column's length."""
    if not activity.id:
        return None
    conversation = activity.conversation.id if activity.conversation else ""
    return hashlib.sha256(f"{conversation}\n{activity.id}".encode()).hexdigest()


def form_key(activity: Activity) -> str | None:
    """For a submitted ask form: the form (its id, in this conversation, from this person), so a form sent twice
    (Send clicked again) asks once, as a resend of one delivery does. None for anything else."""
    data = activity.value if isinstance(activity.value, dict) else {}
    form = data.get(FORM_ID)
    if data.get(ACTION_KEY) != ASK_FORM or not isinstance(form, str) or not form:
        return None
    conversation = activity.conversation.id if activity.conversation else ""
    sender = activity.from_property.id if activity.from_property else ""
    return hashlib.sha256(f"form\n{conversation}\n{sender}\n{form[:64]}".encode()).hexdigest()


def once_key(activity: Activity) -> str | None:
    """What makes an activity take effect once: its form for an ask form, else its delivery."""
    return form_key(activity) or activity_key(activity)


class OnceOnly:
    """Runs a turn's use case, with Deps whose units of work all join one transaction that also records
    the activity; returns its Result, or None when the activity had already taken effect."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def run(self, key: str | None, work: Callable[[Deps], Awaitable[Result]]) -> Result | None:
        """Raises StorageUnavailable when the database stays away (deps.retry gave up)."""
        return await self._deps.retry(lambda: self._in_transaction(key, work))

    async def _in_transaction(self, key: str | None, work: Callable[[Deps], Awaitable[Result]]) -> Result | None:
        async with self._deps.uow() as outer:
            # First, so a resend waits here for the first delivery instead of repeating its work.
            if key is not None and not await outer.events.first_time(PLATFORM, key, self._deps.clock.now()):
                return None
            shared = SharedTransaction(outer)
            try:
                result = await work(shared.deps(self._deps))
            except StorageUnavailable:
                if shared.storage_error is None:
                    raise
            if shared.storage_error is not None:  # the database went away inside: deps.retry runs the turn again
                raise shared.storage_error
            if shared.failed is not None:
                # A refusal: nothing it wrote is kept, nor the record, since nothing took effect; a resend
                # is answered afresh, with the same refusal.
                await outer.rollback()
        if shared.queued:
            await self._deps.on_queued()
        return result
