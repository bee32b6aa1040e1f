"""The inbox table (storage.tables.InboxRequest) in plain SQL statements: the ack path runs one insert,
a claim two, finishing one, so acknowledgements stay cheap and the counts stay fixed (issue 12)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from storage.repositories._sql import affected
from storage.tables import InboxRequest

Executor = AsyncConnection | AsyncSession


@dataclass(frozen=True)
class ClaimedRequest:
    id: int
    platform: str
    kind: str
    person_key: str
    payload: str
    request_id: str | None
    received_at: datetime
    attempts: int  # including this one


@dataclass(frozen=True)
class Backlog:
    waiting: int
    oldest: datetime | None


@dataclass(frozen=True)
class NewRequest:
    """A request to store before its ack."""

    platform: str
    kind: str
    dedup_key: str
    person_key: str
    payload: str
    request_id: str | None
    received_at: datetime


_INSERTS: dict[str, Any] = {}  # per dialect: built once, it is the ack path's one statement


def _insert(executor: Executor) -> Any:
    dialect = executor.get_bind().dialect.name if isinstance(executor, AsyncSession) else executor.dialect.name
    if dialect not in _INSERTS:
        table = InboxRequest.__table__
        _INSERTS[dialect] = ((postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
                             .on_conflict_do_nothing(index_elements=["dedup_key"])
                             .returning(table.c.dedup_key))
    return _INSERTS[dialect]


async def put_many(executor: Executor, requests: Sequence[NewRequest]) -> list[bool]:
    """Store requests in one statement (acks that came in together share a transaction); for each, whether
    it was stored: False when one with its key was there already, or earlier in ``requests`` (a retry or a
    double submit)."""
    rows = [{"platform": r.platform, "kind": r.kind, "dedup_key": r.dedup_key, "person_key": r.person_key,
             "payload": r.payload, "request_id": r.request_id, "received_at": r.received_at, "attempts": 0}
            for r in requests]
    new = set((await executor.execute(_insert(executor), rows)).scalars())
    stored = []
    for request in requests:
        stored.append(request.dedup_key in new)
        new.discard(request.dedup_key)  # a second one with that key in this list is the duplicate
    return stored


async def put(executor: Executor, *, platform: str, kind: str, dedup_key: str, person_key: str, payload: str,
              request_id: str | None, now: datetime) -> bool:
    """Store one request; False when one with the same key is already there (a retry or a double submit)."""
    [stored] = await put_many(executor, [NewRequest(platform, kind, dedup_key, person_key, payload, request_id,
                                                    now)])
    return stored


async def claim(executor: Executor, *, now: datetime, lease: timedelta, limit: int) -> list[ClaimedRequest]:
    """Reserve up to ``limit`` waiting requests, oldest first, at most one per person: a person's request
    waits while an older one of theirs is waiting or running, so their requests run in order.

    SKIP LOCKED (PostgreSQL): rows another replica is claiming right now are left to it. Two statements
    on purpose, as in storage/repositories/_sql.py: under IN (subquery) PostgreSQL may run the locking
    LIMIT query again and take more than ``limit``."""
    earlier = aliased(InboxRequest)
    older_waiting = exists().where(earlier.person_key == InboxRequest.person_key, earlier.done_at.is_(None),
                                   earlier.id < InboxRequest.id)
    free = (InboxRequest.lease_until.is_(None)) | (InboxRequest.lease_until < now)
    chosen = (select(InboxRequest.id)
              .where(InboxRequest.done_at.is_(None), free, ~older_waiting)
              .order_by(InboxRequest.id).limit(limit)
              .with_for_update(skip_locked=True, of=InboxRequest))
    ids = list((await executor.execute(chosen)).scalars())
    if not ids:
        return []
    rows = await executor.execute(
        update(InboxRequest).where(InboxRequest.id.in_(ids), InboxRequest.done_at.is_(None))
        .values(lease_until=now + lease, attempts=InboxRequest.attempts + 1)
        .returning(InboxRequest.id, InboxRequest.platform, InboxRequest.kind, InboxRequest.person_key,
                   InboxRequest.payload, InboxRequest.request_id, InboxRequest.received_at,
                   InboxRequest.attempts)
        .execution_options(synchronize_session=False))
    claimed = [ClaimedRequest(*row) for row in rows]
    return sorted(claimed, key=lambda request: request.id)


async def finish(executor: Executor, request_id: int, *, now: datetime, failed: bool = False) -> bool:
    """Mark a request done: its payload and whose it was go, only the key stays (for late retries).
    False when it already was: another worker whose lease ran out finished it first, so the caller
    must roll its own writes back (exactly once)."""
    result = await executor.execute(
        update(InboxRequest).where(InboxRequest.id == request_id, InboxRequest.done_at.is_(None))
        .values(done_at=now, payload=None, person_key="", request_id=None, lease_until=None, failed=failed)
        .execution_options(synchronize_session=False))
    return affected(result) == 1


async def release(executor: Executor, request_ids: list[int]) -> None:
    """Give claimed requests back (shutdown): the next claim, here or on another replica, takes them
    at once instead of after the lease."""
    if request_ids:
        await executor.execute(
            update(InboxRequest).where(InboxRequest.id.in_(request_ids), InboxRequest.done_at.is_(None))
            .values(lease_until=None).execution_options(synchronize_session=False))


async def renew(executor: Executor, held: dict[int, int], *, now: datetime, lease: timedelta) -> set[int]:
    """Extend the leases of requests still running here (``held``: request id -> the attempt we claimed),
    so a slow one is not claimed again elsewhere. Only a lease that has not run out and is still that
    attempt's: once it ran out another worker may hold the request. Returns the ids renewed."""
    renewed: set[int] = set()
    for request_id, attempt in held.items():
        result = await executor.execute(
            update(InboxRequest).where(InboxRequest.id == request_id, InboxRequest.done_at.is_(None),
                                       InboxRequest.attempts == attempt, InboxRequest.lease_until >= now)
            .values(lease_until=now + lease).execution_options(synchronize_session=False))
        if affected(result) == 1:
            renewed.add(request_id)
    return renewed


async def postpone(executor: Executor, request_id: int, *, until: datetime) -> None:
    """Leave a request that failed for a reason other than the database to a later claim."""
    await executor.execute(
        update(InboxRequest).where(InboxRequest.id == request_id, InboxRequest.done_at.is_(None))
        .values(lease_until=until).execution_options(synchronize_session=False))


async def backlog(executor: Executor) -> Backlog:
    waiting, oldest = (await executor.execute(
        select(func.count(), func.min(InboxRequest.received_at)).where(InboxRequest.done_at.is_(None)))).one()
    return Backlog(int(waiting or 0), oldest)


async def waiting(executor: Executor, platform: str) -> list[tuple[int, str]]:
    """The platform's requests not worked yet, (id, payload), oldest first: an operator erasing one workspace
    picks out its own by the payload (bot/erase_cli.py). Done rows keep no payload and no person."""
    rows = await executor.execute(
        select(InboxRequest.id, InboxRequest.payload)
        .where(InboxRequest.platform == platform, InboxRequest.done_at.is_(None), InboxRequest.payload.is_not(None))
        .order_by(InboxRequest.id))
    return [(request_id, payload) for request_id, payload in rows]


async def delete_requests(executor: Executor, request_ids: list[int]) -> int:
    """Delete these requests whatever their state; a worker running one finds it gone when it finishes
    (``finish`` is False) and rolls its work back."""
    deleted = 0
    for start in range(0, len(request_ids), 500):  # well within any driver's limit on bound parameters
        deleted += affected(await executor.execute(
            delete(InboxRequest).where(InboxRequest.id.in_(request_ids[start:start + 500]))
            .execution_options(synchronize_session=False)))
    return deleted


async def prune_done(executor: Executor, *, before: datetime) -> int:
    """Forget done requests received before ``before`` (their keys only guard against late retries)."""
    result = await executor.execute(
        delete(InboxRequest).where(InboxRequest.done_at.is_not(None), InboxRequest.received_at < before)
        .execution_options(synchronize_session=False))
    return affected(result)
