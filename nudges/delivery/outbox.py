"""Delivery of queued messages: claim a due outbox row, send it, record the result.

A row is claimed in one short transaction (on PostgreSQL with SKIP LOCKED, plus a lease and an
attempt marker), sent outside any transaction, and its result recorded in another; so any number
of replicas can run this, a slow platform holds no lock, and each row goes out once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from handlers.errors import RecipientUnreachable, TransientSendError
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.ports import Claimed, Clock, Messenger, OutboxRecord, UnitOfWork, UnitOfWorkFactory
from nudges.charts import drawn

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=2)  # longer than any send with its own retries takes
LOOKUP_SECONDS = 60.0  # how long to keep asking whether an in-doubt attempt arrived before sending anyway
LOOKUP_BACKOFF = 1.0  # seconds before the first repeat of a failed look-up; doubles, capped at 15 s


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Honour the platform's Retry-After; otherwise 5 s, 10 s, 20 s ... capped at 10 minutes."""
    seconds = retry_after if retry_after is not None else min(600.0, 5.0 * 2**attempts)
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Delivery:
    """What a delivery hook learns about one row's send."""

    row_id: int
    kind: MessageKind
    person_id: int | None
    channel: str | None
    question_id: int | None
    platform_ref: str | None  # the platform's reference to the sent message (a thread), if it gave one
    at: datetime  # when the result was recorded


Hook = Callable[[UnitOfWork, Delivery], Awaitable[None]]
Wait = Callable[[Delivery], Awaitable[datetime | None]]


@dataclass(frozen=True)
class DeliveryHooks:
    """What follows the send of one kind of message, in the transaction that records its result (so
    both happen or neither). Registered per kind in the composition root: the outbox knows no use case."""

    delivered: Hook | None = None
    unreachable: Hook | None = None  # the platform says the recipient cannot be reached; not retried
    # Asked right before a send, outside any transaction (it may ask the platform): a later moment to send
    # at instead (a held question whose expert is still busy), or None to send now. When it names one, the
    # row moves there, no attempt counted, and ``postponed`` runs in that transaction (``at``: the moment).
    wait: Wait | None = None
    postponed: Hook | None = None


class Turn:
    def __init__(self, previous: asyncio.Future[None] | None, mine: asyncio.Future[None],
                 release: Callable[[], None]) -> None:
        self._previous = previous
        self._mine = mine
        self._release = release

    async def wait(self) -> None:
        if self._previous is not None:
            await asyncio.shield(self._previous)  # a cancelled waiter must not cancel the turn before it

    def done(self) -> None:
        if not self._mine.done():
            self._mine.set_result(None)
        self._release()


class Turns:
    """One send at a time per recipient, in claim order: with concurrent workers an outcome
    question must still arrive after the answer it asks about."""

    def __init__(self) -> None:
        self._last: dict[str, asyncio.Future[None]] = {}

    def join(self, recipient: str) -> Turn:
        previous = self._last.get(recipient)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last[recipient] = mine

        def release() -> None:
            if self._last.get(recipient) is mine:
                del self._last[recipient]

        return Turn(previous, mine, release)


class OutboxDispatcher:
    def __init__(self, uow: UnitOfWorkFactory, messenger: Messenger, clock: Clock, *, batch: int = 1000,
                 hooks: Mapping[MessageKind, DeliveryHooks] | None = None, lease: timedelta = LEASE,
                 concurrency: int = 1, lookup_seconds: float = LOOKUP_SECONDS,
                 lookup_backoff: float = LOOKUP_BACKOFF) -> None:
        self._lease = lease
        # Look-ups are retried within the claim, so they must end well inside its lease.
        self._lookup_seconds = min(lookup_seconds, lease.total_seconds() / 2)
        self._lookup_backoff = lookup_backoff
        self._concurrency = concurrency  # sends at once: one slow or rate-limited recipient holds up no others
        self._hooks = {str(kind): kind_hooks for kind, kind_hooks in (hooks or {}).items()}  # rows store the kind
        self._uow = uow
        self._messenger = messenger
        self._clock = clock
        self._batch = batch
        self._lock = asyncio.Lock()  # one drain at a time per process; replicas coordinate via row locks
        self._stopping = False
        self._claiming = asyncio.Lock()
        self._turns = Turns()

    def stop(self) -> None:
        """Shutting down: finish the send in progress, claim nothing more (the rest stays queued)."""
        self._stopping = True

    async def dispatch_due(self) -> int:
        """Send everything due now, up to ``concurrency`` rows at a time, at most ``batch`` rows per
        drain; returns how many rows were handled. A claim takes as many rows as senders are free, so
        no claimed row waits for a sender while its lease runs, and a claim that finds fewer rows than
        it asked for ends the drain (no claim that finds nothing, most of the time). Every row is still
        claimed once (row locks and leases), whatever the concurrency."""
        handled = 0  # rows claimed in this drain
        busy = 0  # senders with a row of their own
        exhausted = False  # a claim found fewer rows than it asked for: nothing more is due now
        ready: deque[tuple[Claimed, Turn]] = deque()  # claimed for the senders that wait for a row

        async def next_row() -> tuple[Claimed, Turn] | None:
            nonlocal handled, exhausted
            async with self._claiming:  # one claim at a time, so each recipient's turns follow the claim order
                if not ready and not exhausted and not self._stopping:
                    wanted = min(self._concurrency - busy, self._batch - handled)
                    claims = await self._claim(wanted) if wanted > 0 else []
                    handled += len(claims)
                    exhausted = len(claims) < wanted or handled >= self._batch
                    ready.extend((claim, self._turns.join(claim.record.channel or f"person:{claim.record.person_id}"))
                                 for claim in claims)
                return ready.popleft() if ready else None

        async def worker() -> None:
            nonlocal busy
            while (taken := await next_row()) is not None:
                busy += 1
                try:
                    await self._send_in_turn(*taken)
                finally:
                    busy -= 1

        async with self._lock:
            # Let every worker finish its send before the drain ends, even when one of them failed.
            outcomes = await asyncio.gather(*(worker() for _ in range(self._concurrency)), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return handled

    async def _claim(self, limit: int) -> list[Claimed]:
        # Claim and commit first, send outside any transaction, then record the result: a slow
        # platform never holds a database lock, and a crash mid-send only delays the row.
        now = self._clock.now()
        async with self._uow() as uow:
            # Exactly once: the claim notes the attempt before sending. An earlier attempt with no
            # recorded outcome (its sender was killed, or the platform timed out) may have arrived after all.
            return await uow.outbox.claim_for_sending(now, limit, lease_until=now + self._lease)

    async def _send_in_turn(self, claim: Claimed, turn: Turn) -> None:
        try:
            await turn.wait()
            await self._deliver(claim.record, claim.in_doubt_since, self._messenger_for(claim))
        finally:
            turn.done()

    def _messenger_for(self, claim: Claimed) -> Messenger:
        """The messenger with this claim's recipients, when it takes them (handlers.ports.AddressedMessenger):
        then the send looks nobody up. Only for this send: a person's id may name someone else later."""
        addressed = getattr(self._messenger, "addressed", None)
        return addressed(claim.recipients) if addressed is not None else self._messenger

    async def _deliver(self, row: OutboxRecord, in_doubt_since: datetime | None, messenger: Messenger) -> None:
        if in_doubt_since is None and await self._postponed(row):  # in doubt: it may have arrived already
            return
        message = replace(OutgoingMessage.from_payload(row.payload), delivery_key=f"outbox-{row.id}")
        settled = in_doubt_since is None  # nothing in doubt, or the platform said the earlier attempt did not arrive
        try:
            message = await drawn(message)  # a stored Chart becomes a picture for this attempt only
            earlier = None
            if in_doubt_since is not None:
                earlier, settled = await self._delivered_earlier(row, message, in_doubt_since, messenger)
            platform_id = earlier if earlier is not None else await messenger.send(message)
        except RecipientUnreachable as error:
            log.warning("outbox %s (%s): recipient unreachable: %s", row.id, row.kind, error)
            failed_at = self._clock.now()
            async with self._uow() as uow:
                await uow.outbox.mark_failed(row.id, f"unreachable: {error}"[:500], failed_at, None)
                await self._run_hook(uow, "unreachable", row, None, failed_at)
        except Exception as error:  # rate limits, 5xx, timeouts, and bugs: never lose the row
            # A definite answer (a 429, an error code) means nothing of this attempt arrived: the retry
            # is not looked up. Unless an earlier attempt is still unresolved, or the messenger cannot say.
            unknown = not settled or getattr(error, "outcome_unknown", True)
            await self._retry_later(row, error, outcome_unknown=unknown)
        else:
            sent_at = self._clock.now()
            async with self._uow() as uow:
                await uow.outbox.mark_sent(row.id, sent_at)
                await self._run_hook(uow, "delivered", row, platform_id, sent_at)

    async def _postponed(self, row: OutboxRecord) -> bool:
        """Whether the row's ``wait`` hook moved it to a later moment instead of sending it now. A hook that
        fails sends now: a check that cannot be made never holds a message back."""
        hooks = self._hooks.get(row.kind)
        if hooks is None or hooks.wait is None:
            return False
        now = self._clock.now()
        try:
            until = await hooks.wait(Delivery(row.id, MessageKind(row.kind), row.person_id, row.channel,
                                              row.question_id, None, now))
        except Exception:
            log.exception("outbox %s (%s): the check before sending failed; sending now", row.id, row.kind)
            return False
        if until is None or until <= now:
            return False
        async with self._uow() as uow:
            await uow.outbox.postpone(row.id, until)
            await self._run_hook(uow, "postponed", row, None, until)
        log.info("outbox %s (%s) waits until %s", row.id, row.kind, until.isoformat(timespec="seconds"))
        return True

    async def _run_hook(self, uow: UnitOfWork, event: str, row: OutboxRecord, platform_ref: str | None,
                        at: datetime) -> None:
        hooks = self._hooks.get(row.kind)
        hook = getattr(hooks, event) if hooks is not None else None
        if hook is not None:
            await hook(uow, Delivery(row.id, MessageKind(row.kind), row.person_id, row.channel, row.question_id,
                                     platform_ref, at))

    async def _delivered_earlier(self, row: OutboxRecord, message: OutgoingMessage, since: datetime,
                                 messenger: Messenger) -> tuple[str | None, bool]:
        """Ask the platform whether the in-doubt attempt arrived: its id if so, and whether the
        platform told us (settled). Platforms that cannot tell (no DeliveryLookup) get the message
        again. A look-up that fails is repeated with backoff (honouring Retry-After) for at most
        ``lookup_seconds``; then the message is sent anyway: a possible duplicate, never a loss. A
        failed look-up is no failed delivery: it counts toward no attempt."""
        lookup = getattr(messenger, "find_delivered", None)
        if lookup is None:
            log.warning("outbox %s (%s): an earlier attempt may have arrived; sending again", row.id, row.kind)
            return None, False
        loop = asyncio.get_running_loop()
        deadline, pause = loop.time() + self._lookup_seconds, self._lookup_backoff
        while True:
            try:
                found = await lookup(message, since)
            except RecipientUnreachable:
                raise
            except Exception as error:
                hinted = getattr(error, "retry_after", None)
                wait = float(hinted) if hinted is not None else pause
                if loop.time() + wait > deadline:
                    log.warning("outbox %s (%s): could not find out whether an earlier attempt arrived (%s); "
                                "sending it anyway, it may arrive twice", row.id, row.kind, error)
                    return None, False
                log.info("outbox %s (%s): look-up failed (%s); asking again in %.1f s", row.id, row.kind, error, wait)
                await asyncio.sleep(wait)
                pause = min(pause * 2, 15.0)
                continue
            if found is not None:
                log.info("outbox %s (%s): an earlier attempt was delivered after all; not sending again", row.id,
                         row.kind)
            return found, True

    async def _retry_later(self, row: OutboxRecord, error: Exception, *, outcome_unknown: bool = True) -> None:
        if not isinstance(error, TransientSendError):
            log.exception("outbox %s (%s): unexpected send error", row.id, row.kind)
        now = self._clock.now()
        async with self._uow() as uow:
            if row.attempts + 1 >= MAX_ATTEMPTS:
                log.error("outbox %s (%s) failed after %s attempts: %s", row.id, row.kind, row.attempts + 1, error)
                await uow.outbox.mark_failed(row.id, str(error)[:500], now, None)
            else:
                retry_at = now + backoff(row.attempts, getattr(error, "retry_after", None))
                log.warning("outbox %s (%s) will be retried at %s: %s", row.id, row.kind, retry_at, error)
                await uow.outbox.mark_failed(row.id, str(error)[:500], now, retry_at, outcome_unknown=outcome_unknown)
