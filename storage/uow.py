"""The unit of work: one session, one transaction, all repositories on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handlers.context import Deps
from handlers.errors import StorageUnavailable
from storage.engine import session_factory
from storage.failures import is_connection_error
from storage.repositories import (
    SqlOutboxRepository,
    SqlPersonRepository,
    SqlProcessedEventRepository,
    SqlQuestionRepository,
    SqlReplyRepository,
    SqlSignalRepository,
    SqlTopicRepository,
    SqlWorkspaceRepository,
)
from storage.repositories.conversations import SqlConversationRepository
from storage.repositories.impact import SqlImpactRepository
from storage.repositories.schedules import SqlTeamScheduleRepository
from storage.repositories.team_weeks import SqlTeamWeekRepository


class SqlUnitOfWork:
    """Implements handlers.ports.UnitOfWork.

    ``async with uow:`` opens a session (its transaction begins with the first statement),
    commits on a clean exit and rolls back when the block raises; the exception propagates.
    ``commit()`` / ``rollback()`` inside the block end the current transaction early; later
    statements start a new one. Records stay readable after the block (expire_on_commit is off,
    and an error closes the session without expiring them). The repositories exist only inside
    the block. The object can be entered again after it exited (a new session each time), but
    not twice at once.

    On SQLite every unit of work takes the write lock at its first statement (see
    storage.engine), so do not open a second one while one is open in the same task: the inner
    one would wait out busy_timeout (5 s) and fail with "database is locked". Keep slow network
    calls out of the block for the same reason: other writers wait meanwhile.
    """

    workspaces: SqlWorkspaceRepository
    people: SqlPersonRepository
    topics: SqlTopicRepository
    questions: SqlQuestionRepository
    replies: SqlReplyRepository
    signals: SqlSignalRepository
    outbox: SqlOutboxRepository
    events: SqlProcessedEventRepository
    conversations: SqlConversationRepository
    team_schedules: SqlTeamScheduleRepository
    team_weeks: SqlTeamWeekRepository
    impact: SqlImpactRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The open session, for storage code that needs more than the repositories offer."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._session

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open")
        session = self._sessions()
        self._session = session
        self.workspaces = SqlWorkspaceRepository(session)
        self.people = SqlPersonRepository(session)
        self.topics = SqlTopicRepository(session)
        self.questions = SqlQuestionRepository(session)
        self.replies = SqlReplyRepository(session)
        self.signals = SqlSignalRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.events = SqlProcessedEventRepository(session)
        self.conversations = SqlConversationRepository(session)
        self.team_schedules = SqlTeamScheduleRepository(session)
        self.team_weeks = SqlTeamWeekRepository(session)
        self.impact = SqlImpactRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if exc_type is None:
                await session.commit()
        finally:
            self._session = None
            # Closing rolls back whatever is not committed (after an error, or a failed commit).
            # Unlike rollback() it does not expire the loaded records, so a caller can still
            # read them (e.g. for an error message) after the block.
            await session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        """Roll back now. Records loaded so far are expired: reading one afterwards would need a
        lazy load, which fails under asyncio, so fetch them again (or read them before)."""
        await self.session.rollback()


def make_uow_factory(engine: AsyncEngine) -> Callable[[], SqlUnitOfWork]:
    """A handlers.ports.UnitOfWorkFactory: each call gives a fresh unit of work on ``engine``."""
    sessions = session_factory(engine)
    return lambda: SqlUnitOfWork(sessions)


class SharedTransaction:
    """A UnitOfWorkFactory whose units of work all join one open unit of work, so a whole use case
    commits (or not) in one transaction, together with whatever the caller adds (the inbox worker
    marks its request done there: issue 12). Entering and leaving a joined unit commits nothing; a
    block that raises marks the transaction as failed, and the caller rolls it back."""

    def __init__(self, outer: SqlUnitOfWork) -> None:
        self.outer = outer
        self.failed: BaseException | None = None
        self.queued = False  # a use case queued outbox rows: kick the outbox after the commit, not before
        self.storage_error: BaseException | None = None  # the database went away inside the transaction

    def __call__(self) -> JoinedUnitOfWork:
        return JoinedUnitOfWork(self)

    def deps(self, deps: Deps) -> Deps:
        """``deps`` for a use case run in this transaction: its units of work join it; a database error
        is not retried step by step (inside one transaction only the whole can be run again: the
        caller does that) but noted and turned into StorageUnavailable; the outbox kick waits for the
        commit, when the rows are visible."""

        async def once(step: Callable[[], Awaitable[Any]]) -> Any:
            try:
                return await step()
            except Exception as error:
                if is_connection_error(error):
                    self.storage_error = self.storage_error or error
                    raise StorageUnavailable(str(error)) from error
                raise

        async def mark_queued() -> None:
            self.queued = True

        return replace(deps, uow=self, retry=once, on_queued=mark_queued)


class JoinedUnitOfWork:
    """Implements handlers.ports.UnitOfWork on a SharedTransaction's session."""

    def __init__(self, shared: SharedTransaction) -> None:
        self._shared = shared

    def __getattr__(self, name: str):  # the repositories (and the session) of the open unit of work
        return getattr(self._shared.outer, name)

    async def __aenter__(self) -> JoinedUnitOfWork:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if exc is not None and self._shared.failed is None:
            self._shared.failed = exc

    async def commit(self) -> None:
        """The shared transaction commits once, at its end."""

    async def rollback(self) -> None:
        self._shared.failed = self._shared.failed or RuntimeError("rolled back")
