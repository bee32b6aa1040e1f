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
from dataclasses import replace
from typing import Any

from botbuilder.schema import Activity

from handlers.context import Deps
from handlers.errors import StorageUnavailable
from handlers.messages import Result
from storage.failures import is_connection_error
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


class OnceOnly:
    """Runs a turn's use case, with Deps whose units of work all join one transaction that also records
    the activity; returns its Result, or None when the activity had already taken effect."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def run(self, key: str | None, work: Callable[[Deps], Awaitable[Result]]) -> Result | None:
        """Raises StorageUnavailable when the database stays away (deps.retry gave up)."""
        return await self._deps.retry(lambda: self._in_transaction(key, work))

    async def _in_transaction(self, key: str | None, work: Callable[[Deps], Awaitable[Result]]) -> Result | None:
        queued = False

        async def mark_queued() -> None:  # the outbox is kicked after the commit, when it can see the rows
            nonlocal queued
            queued = True

        storage_error: list[BaseException] = []

        async def once(step: Callable[[], Awaitable[Any]]) -> Any:
            # Inside one transaction a step cannot be retried on its own: the whole turn is (by run).
            try:
                return await step()
            except Exception as error:
                if is_connection_error(error):
                    storage_error.append(error)
                    raise StorageUnavailable(str(error)) from error
                raise

        async with self._deps.uow() as outer:
            # First, so a resend waits here for the first delivery instead of repeating its work.
            if key is not None and not await outer.events.first_time(PLATFORM, key, self._deps.clock.now()):
                return None
            shared = SharedTransaction(outer)
            try:
                result = await work(replace(self._deps, uow=shared, retry=once, on_queued=mark_queued))
            except StorageUnavailable:
                if not storage_error:
                    raise
            if storage_error:  # the database went away inside: deps.retry runs the whole turn again
                raise storage_error[0]
            if shared.failed is not None:
                # A refusal: nothing it wrote is kept, nor the record, since nothing took effect; a resend
                # is answered afresh, with the same refusal.
                await outer.rollback()
        if queued:
            await self._deps.on_queued()
        return result
