"""The inbox's workers (issue 12): a bounded pool in every replica claims stored requests, runs each one's
use case in one transaction that also marks the request done, and only then answers the person.

So: an acknowledged request survives kill -9 (it is a row); it takes effect once (the mark and the
writes commit together, and a second worker whose lease ran out finds it done and rolls back); a
database that goes away only delays it (the same worker tries again, and after a crash the lease runs
out and any replica takes it); and acknowledgements never wait for work, since at most ``size``
requests run at a time and the rest wait in the table."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.context import Deps
from handlers.ports import Clock
from storage.engine import reading
from storage.failures import is_connection_error
from storage.repositories import inbox
from storage.repositories.inbox import Backlog, ClaimedRequest
from storage.uow import SharedTransaction, SqlUnitOfWork

log = logging.getLogger(__name__)
T = TypeVar("T")

# A request that fails this often for a reason other than the database (a payload we cannot read, a bug)
# is given up and the person told: such a failure repeats, and it holds up that person's later requests.
MAX_ATTEMPTS = 3
DONE_KEPT = timedelta(days=3)  # done keys guard against late platform retries (Slack's come within hours)
PRUNE_EVERY_SECONDS = 3600.0
STORE_BATCH = 100  # requests stored in one statement at most (a burst's acks, group commit)


class AlreadyDone(Exception):
    """Another worker finished this request first (our lease ran out): nothing of ours was kept."""


class StorageAway(Exception):
    """The database went away during the work; nothing was kept and the request waits for a retry."""


class Transact(Protocol):
    """Runs ``work`` with Deps whose units of work all join one transaction, which also marks the
    request done; returns what ``work`` returned, once that transaction committed."""

    async def __call__(self, work: Callable[[Deps], Awaitable[T]]) -> T: ...


class InboxRunner(Protocol):
    """A platform's side of the work: reads the stored payload, calls ``transact`` at most once for
    everything it stores, then answers the person (after the commit, so a rerun never answers twice
    for one effect). A request it ignores (a message in a thread that is not ours) needs no transact."""

    async def run(self, request: ClaimedRequest, transact: Transact) -> None: ...

    async def given_up(self, request: ClaimedRequest) -> None:
        """Tell the person their request could not be carried out (it failed MAX_ATTEMPTS times)."""


@dataclass
class BusyNotices:
    """Whom we told that it is busy, during the current busy spell: each person once."""

    threshold_seconds: float
    told: set[str]

    def should_tell(self, backlog_age: float, person_key: str) -> bool:
        if backlog_age < self.threshold_seconds:
            self.told.clear()
            return False
        if person_key in self.told:
            return False
        self.told.add(person_key)
        return True


class InboxWorkers:
    def __init__(self, engine: AsyncEngine, uow: Callable[[], SqlUnitOfWork], deps: Deps, clock: Clock, *,
                 size: int, lease_seconds: float, busy_seconds: float, poll_seconds: float = 0.5) -> None:
        self._engine, self._uow, self._deps, self._clock = engine, uow, deps, clock
        self._size = size
        self._lease = timedelta(seconds=lease_seconds)
        self._poll = poll_seconds
        self._runners: dict[str, InboxRunner] = {}
        self._running: dict[int, asyncio.Task[None]] = {}
        # Leases this pool holds: request id -> (the attempt claimed, when the lease was last set).
        self._leases: dict[int, tuple[int, datetime]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._last_prune = float("-inf")
        self._backlog_read = float("-inf")
        # SQLite has one writer: our own writers queue here for it, acknowledgements first, instead of
        # polling SQLite's busy timeout against each other (bench/NOTES-slack.md: acks waited there).
        self._one_writer = OneWriter() if engine.dialect.name == "sqlite" else None
        self._to_store: list[tuple[inbox.NewRequest, asyncio.Future[bool]]] = []  # acks waiting for a store
        self._storing: asyncio.Task[None] | None = None
        self.backlog = Backlog(0, None)
        self.busy = BusyNotices(busy_seconds, set())
        self._lag = LoopLag()

    def register(self, platform: str, runner: InboxRunner) -> None:
        self._runners[platform] = runner

    # ------------------------------------------------------------------ the ack path

    async def put(self, *, platform: str, kind: str, dedup_key: str, person_key: str, payload: str) -> bool:
        """Store a request before its ack; False for a duplicate key. Requests that arrive while a store is
        under way are stored together in the next one (group commit): one transaction and one statement for
        a burst instead of one each, so acks keep up with it."""
        request_id = structlog.contextvars.get_contextvars().get("request_id")  # bot/request_context.py
        request = inbox.NewRequest(platform, kind, dedup_key, person_key, payload, request_id, self._clock.now())
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._to_store.append((request, stored))
        if self._storing is None:
            self._storing = asyncio.create_task(self._store_waiting(), name="storing-acks")
        return await stored

    async def _store_waiting(self) -> None:
        try:
            while self._to_store:
                batch, self._to_store = self._to_store[:STORE_BATCH], self._to_store[STORE_BATCH:]
                try:
                    outcomes: list[bool | BaseException] = list(await self._store_batch([r for r, _ in batch]))
                except Exception as error:
                    if len(batch) == 1 or is_connection_error(error):
                        outcomes = [error] * len(batch)
                    else:  # one bad request must not fail the others' acks: each on its own
                        outcomes = [await self._store_alone(request) for request, _ in batch]
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():  # its ack was given up (the caller went away)
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
                self._wake.set()
        finally:
            self._storing = None

    async def _store_batch(self, requests: list[inbox.NewRequest]) -> list[bool]:
        async with self._writer(ack=True), self._engine.begin() as connection:
            return await inbox.put_many(connection, requests)

    async def _store_alone(self, request: inbox.NewRequest) -> bool | BaseException:
        try:
            [stored] = await self._store_batch([request])
            return stored
        except Exception as error:
            return error

    def backlog_age(self) -> float:
        """Seconds the oldest waiting request has waited, as of the last look (every poll)."""
        if self.backlog.oldest is None:
            return 0.0
        return max(0.0, (self._clock.now() - self.backlog.oldest).total_seconds())

    async def drain(self, seconds: float) -> bool:
        """Wait until nothing is waiting or running (tests, and tools that need a quiet database);
        False when that did not happen within ``seconds``."""
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            if not self._running:
                async with reading(self._engine) as connection:
                    if (await inbox.backlog(connection)).waiting == 0 and not self._running:
                        return True
            self._wake.set()
            await asyncio.sleep(0.02)
        return False

    # ------------------------------------------------------------------ the pool

    def start(self) -> None:
        if self._loop_task is None and self._runners:
            self._stopping = False
            self._lag.start()
            self._loop_task = asyncio.create_task(self._loop(), name="inbox-workers")

    async def stop(self, grace_seconds: float) -> None:
        """Stop claiming, let running requests finish for ``grace_seconds``, then cancel the rest and
        give them back, so a restart (or another replica) takes them at once."""
        self._stopping = True
        self._wake.set()
        await self._lag.stop()
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)
            self._loop_task = None
        running = dict(self._running)
        if running:
            _, still = await asyncio.wait(running.values(), timeout=grace_seconds)
            for task in still:
                task.cancel()
            await asyncio.gather(*still, return_exceptions=True)
            unfinished = [rid for rid, task in running.items() if task in still]
            if unfinished:
                log.warning("inbox: %d request(s) still running at shutdown were given back", len(unfinished))
                try:
                    async with self._engine.begin() as connection:
                        await inbox.release(connection, unfinished)
                except Exception as error:  # they come back when their lease runs out
                    log.warning("inbox: could not give back %s: %r", unfinished, error)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before claiming: a request stored meanwhile wakes the next round
            try:
                await self._look_at_backlog()
                await self._renew_leases()
                await self._fill()
                await self._prune_now_and_then()
            except Exception as error:  # the database away, most likely: keep trying
                if is_connection_error(error):
                    log.warning("inbox: cannot claim requests, database unreachable: %r", error)
                else:
                    log.exception("inbox: claiming requests failed")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            except TimeoutError:
                pass

    async def _look_at_backlog(self) -> None:
        """Depth and oldest age, at most once per poll interval (not once per request)."""
        now = asyncio.get_running_loop().time()
        if now - self._backlog_read < self._poll:
            return
        self._backlog_read = now
        async with reading(self._engine) as connection:
            self.backlog = await inbox.backlog(connection)

    async def _fill(self) -> None:
        """Claim as many requests as there are free workers; while the event loop runs late (a burst of
        acknowledgements, or work using the whole core), keep to one request at a time, so the
        acknowledgements come first and the rest waits in the table (issue 12: acks never wait behind work)."""
        free = self._size - len(self._running)
        if self._lag.late():
            free = min(free, 1 - len(self._running))
        if free <= 0:
            return
        async with self._writer(), self._engine.begin() as connection:
            claimed = await inbox.claim(connection, now=self._clock.now(), lease=self._lease, limit=free)
        for request in claimed:
            self._leases[request.id] = (request.attempts, self._clock.now())
            if request.id in self._running:  # our lease ran out and we took it back: the run goes on
                continue
            task = asyncio.create_task(self._work(request), name=f"inbox-{request.id}")
            self._running[request.id] = task
            task.add_done_callback(lambda _t, rid=request.id: self._done(rid))

    async def _renew_leases(self) -> None:
        """A request running for a third of its lease gets a new one: a slow request (a platform call that
        takes long, the database slow) is not run a second time by another replica, nor out of its
        person's order. A lease that ran out anyway (this replica hung) is not taken back here."""
        now = self._clock.now()
        due = {rid: attempt for rid, (attempt, since) in self._leases.items()
               if rid in self._running and now - since >= self._lease / 3}
        if not due:
            return
        async with self._writer(), self._engine.begin() as connection:
            renewed = await inbox.renew(connection, due, now=now, lease=self._lease)
        for rid in due:
            if rid in renewed:
                self._leases[rid] = (due[rid], now)
            else:
                self._leases.pop(rid, None)
                log.warning("inbox: request %s ran past its lease; another worker may run it too", rid)

    def _done(self, request_id: int) -> None:
        self._running.pop(request_id, None)
        self._leases.pop(request_id, None)
        self._wake.set()  # a worker is free, and that person's next request may now run

    async def _prune_now_and_then(self) -> None:
        loop_time = asyncio.get_running_loop().time()
        if loop_time - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = loop_time
        async with self._writer(), self._engine.begin() as connection:
            pruned = await inbox.prune_done(connection, before=self._clock.now() - DONE_KEPT)
        if pruned:
            log.info("inbox: %d done request(s) older than %s forgotten", pruned, DONE_KEPT)

    # ------------------------------------------------------------------ one request

    async def _work(self, request: ClaimedRequest) -> None:
        # The work's log lines carry the id of the request that brought it, as if it ran there.
        with structlog.contextvars.bound_contextvars(request_id=request.request_id or f"inbox-{request.id}"):
            await self._work_bound(request)

    async def _work_bound(self, request: ClaimedRequest) -> None:
        runner = self._runners.get(request.platform)
        if runner is None:
            log.error("inbox: request %s is for %s, which is not configured here; left waiting", request.id,
                      request.platform)
            return
        # The database may come back within the lease: this worker tries again itself (a restart, a
        # fail-over); after that the lease runs out and any replica takes the request.
        deadline = asyncio.get_running_loop().time() + self._lease.total_seconds() / 2
        wait = 0.2
        while True:
            try:
                await self._run_once(runner, request)
                return
            except AlreadyDone:
                log.info("inbox: request %s was finished by another worker; nothing of this run kept", request.id)
                return
            except StorageAway as error:
                if asyncio.get_running_loop().time() + wait > deadline or self._stopping:
                    log.warning("inbox: request %s waits for the database (%r); it runs again after its lease",
                                request.id, error.__cause__)
                    return
                await asyncio.sleep(wait * (0.5 + random.random()))
                wait = min(wait * 2, 5.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                await self._failed(runner, request)
                return

    async def _run_once(self, runner: InboxRunner, request: ClaimedRequest) -> None:
        committed = False

        async def transact(work: Callable[[Deps], Awaitable[T]]) -> T:
            nonlocal committed
            if committed:
                raise RuntimeError("a request's work is stored in one transaction")
            result = await self._in_transaction(request, work)
            committed = True
            return result

        try:
            await runner.run(request, transact)
        except Exception:
            if not committed:
                raise
            # The work is kept and the request done; only the answer to the person did not go out.
            log.warning("inbox: request %s done, but answering the person failed", request.id, exc_info=True)
            return
        if not committed:  # nothing to store (a message we do not follow): done all the same
            await self._in_transaction(request, _nothing)

    async def _in_transaction(self, request: ClaimedRequest, work: Callable[[Deps], Awaitable[T]]) -> T:
        try:
            async with self._writer(), self._uow() as outer:
                shared = SharedTransaction(outer)
                result = await work(shared.deps(self._deps))
                if shared.storage_error is not None:
                    raise StorageAway() from shared.storage_error
                if shared.failed is not None:
                    # A refusal (or a bug the use case turned into a reply): whatever it wrote goes, the
                    # request is done, and its reply is what the person gets.
                    await outer.rollback()
                if not await inbox.finish(outer.session, request.id, now=self._clock.now()):
                    await outer.rollback()
                    raise AlreadyDone()
        except (StorageAway, AlreadyDone):
            raise
        except Exception as error:
            if is_connection_error(error):
                raise StorageAway() from error
            raise
        if shared.queued:
            await self._deps.on_queued()
        return result

    async def _failed(self, runner: InboxRunner, request: ClaimedRequest) -> None:
        if request.attempts < MAX_ATTEMPTS:
            backoff = timedelta(seconds=request.attempts)
            log.exception("inbox: request %s (%s %s) failed on attempt %d; tried again in %s", request.id,
                          request.platform, request.kind, request.attempts, backoff)
            try:
                async with self._writer(), self._engine.begin() as connection:
                    await inbox.postpone(connection, request.id, until=self._clock.now() + backoff)
            except Exception as error:
                log.warning("inbox: could not postpone request %s (%r); it runs again after its lease",
                            request.id, error)
            return
        log.exception("inbox: request %s (%s %s) failed %d times; given up", request.id, request.platform,
                      request.kind, request.attempts)
        try:
            async with self._writer(), self._engine.begin() as connection:
                await inbox.finish(connection, request.id, now=self._clock.now(), failed=True)
            await runner.given_up(request)
        except Exception as error:
            log.warning("inbox: could not give up request %s cleanly: %r", request.id, error)

    def _writer(self, *, ack: bool = False) -> AbstractAsyncContextManager[None]:
        if self._one_writer is None:
            return nullcontext()
        return self._one_writer.ack() if ack else self._one_writer.work()


class LoopLag:
    """How late the event loop runs a short timer: above LATE_SECONDS it has more to do than it can
    (acknowledgements waiting for their turn), and the inbox takes on less."""

    TICK_SECONDS = 0.01
    LATE_SECONDS = 0.02

    def __init__(self) -> None:
        self.seconds = 0.0
        self._task: asyncio.Task[None] | None = None

    def late(self) -> bool:
        return self.seconds > self.LATE_SECONDS

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._measure(), name="inbox-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _measure(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.TICK_SECONDS)
            # Smoothed a little: one slow step is no reason to hold back.
            self.seconds = 0.7 * self.seconds + 0.3 * max(0.0, loop.time() - started - self.TICK_SECONDS)


class OneWriter:
    """SQLite's single writer, shared by this process's writers: an acknowledgement's insert goes before
    any worker that has not yet started its transaction, so a backlog never slows the acks."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._acks_waiting = 0
        self._no_acks = asyncio.Event()
        self._no_acks.set()

    @asynccontextmanager
    async def ack(self) -> AsyncIterator[None]:
        self._acks_waiting += 1
        self._no_acks.clear()
        try:
            async with self._lock:
                yield
        finally:
            self._acks_waiting -= 1
            if self._acks_waiting == 0:
                self._no_acks.set()

    @asynccontextmanager
    async def work(self) -> AsyncIterator[None]:
        while True:
            await self._no_acks.wait()
            await self._lock.acquire()
            if self._acks_waiting == 0:
                break
            self._lock.release()  # an ack came in while we waited for the lock: it goes first
            await asyncio.sleep(0)
        try:
            yield
        finally:
            self._lock.release()


async def _nothing(deps: Deps) -> None:
    return None
