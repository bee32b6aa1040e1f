"""The delivery outbox and the record of platform events already handled."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import OutgoingMessage
from handlers.models import OutboxStatus
from handlers.ports import Claimed, MentionsForgotten, TextBacklog
from storage.repositories._sql import affected, count_rows, insert_ignoring_duplicates, text_backlog
from storage.repositories.people import people_of_workspace, recipients_of
from storage.repositories.questions import questions_of_workspace
from storage.tables import OutboxMessage, ProcessedEvent


@dataclass(slots=True)
class _ClaimedRow:
    """An outbox row as claimed (handlers.ports.OutboxRecord), read without the ORM."""

    id: int
    dedupe_key: str
    person_id: int | None
    channel: str | None
    kind: str
    period: str
    payload: dict[str, Any]
    question_id: int | None
    status: str
    due_at: datetime
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    text_redacted_at: datetime | None
    attempt_started_at: datetime | None
    text_variant: int | None


def _people_addressed(rows: Sequence[_ClaimedRow]) -> set[int]:
    people = {row.person_id for row in rows if row.person_id is not None}
    for row in rows:
        people.update(row.payload.get("participants", ()))
    return people


class SqlOutboxRepository:
    """``attempts`` counts delivery attempts: mark_sent and mark_failed add one, mark_skipped not."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        *,
        dedupe_key: str,
        message: OutgoingMessage,
        period: str,
        due_at: datetime,
        now: datetime,
        text_variant: int | None = None,
    ) -> OutboxMessage | None:
        stmt = (
            insert_ignoring_duplicates(self._session, OutboxMessage)
            .values(
                dedupe_key=dedupe_key,
                person_id=message.person_id,
                channel=message.channel,
                kind=str(message.kind),
                period=period,
                payload=message.to_payload(),
                question_id=message.question_id,
                status=OutboxStatus.PENDING.value,
                due_at=due_at,
                attempts=0,
                created_at=now,
                text_variant=text_variant,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxMessage)
        )
        return await self._session.scalar(stmt)

    async def claim_due(
        self, now: datetime, limit: int, *, lease_until: datetime | None = None
    ) -> list[OutboxMessage]:
        """Pending rows due at or before ``now``, oldest first, row-locked until this transaction
        ends. SKIP LOCKED: another replica's tick takes the next rows instead of waiting.
        (SQLite ignores FOR UPDATE; there BEGIN IMMEDIATE already serialises writers.)

        ``lease_until`` (optional, beyond the port): also move the rows' ``due_at`` there, so the
        caller can commit at once and send outside any transaction; nobody else claims the rows
        before the lease ends, and a crash mid-send makes them due again then. Without a lease
        the caller must send inside this transaction, holding the locks meanwhile.
        """
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.due_at <= now)
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        rows = list(await self._session.scalars(stmt))
        if lease_until is not None and rows:
            for row in rows:
                row.due_at = lease_until
            await self._session.flush()
        return rows

    async def claim_for_sending(self, now: datetime, limit: int, *, lease_until: datetime) -> list[Claimed]:
        """See handlers.ports.OutboxRepository. In Core (no identity map, no flush), in the caller's
        transaction: on PostgreSQL one statement claims, leases and marks the rows, on SQLite two (its
        RETURNING cannot show the marker as it was); then one reads the recipients."""
        if self._session.get_bind().dialect.name == "postgresql":
            rows = await self._claim_in_one(now, limit, lease_until)
        else:
            rows = await self._claim_in_two(now, limit, lease_until)
        if not rows:
            return []
        recipients = await recipients_of(self._session, _people_addressed([record for record, _ in rows]))
        claimed = []
        for record, in_doubt_since in rows:
            addressed = {record.person_id, *record.payload.get("participants", ())} - {None}
            claimed.append(Claimed(record, in_doubt_since,
                                   {pid: recipients[pid] for pid in addressed if pid in recipients}))
        return claimed

    @staticmethod
    def _due(now: datetime, limit: int, *columns: Any) -> Any:
        outbox = OutboxMessage.__table__
        return (select(*columns)
                .where(outbox.c.status == OutboxStatus.PENDING.value, outbox.c.due_at <= now)
                .order_by(outbox.c.due_at, outbox.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True))

    async def _claim_in_one(self, now: datetime, limit: int, lease_until: datetime
                            ) -> list[tuple[_ClaimedRow, datetime | None]]:
        outbox = OutboxMessage.__table__
        due = self._due(now, limit, outbox.c.id, outbox.c.due_at.label("was_due"),
                        outbox.c.attempt_started_at.label("earlier")).subquery("claimed")
        result = await self._session.execute(
            update(outbox).where(outbox.c.id == due.c.id)
            .values(due_at=lease_until,
                    attempt_started_at=func.coalesce(due.c.earlier, literal(now, outbox.c.attempt_started_at.type)))
            .returning(*outbox.c, due.c.was_due, due.c.earlier))
        rows = sorted(result.all(), key=lambda row: (row.was_due, row.id))  # RETURNING keeps no order
        return [(_ClaimedRow(*row[:len(outbox.c)]), row.earlier) for row in rows]

    async def _claim_in_two(self, now: datetime, limit: int, lease_until: datetime
                            ) -> list[tuple[_ClaimedRow, datetime | None]]:
        outbox = OutboxMessage.__table__
        rows = (await self._session.execute(self._due(now, limit, outbox))).all()
        if not rows:
            return []
        await self._session.execute(
            update(outbox)
            .where(outbox.c.id.in_([row.id for row in rows]))
            .values(due_at=lease_until,
                    attempt_started_at=func.coalesce(outbox.c.attempt_started_at,
                                                     literal(now, outbox.c.attempt_started_at.type))))
        claimed = []
        for row in rows:
            record = _ClaimedRow(*row)
            in_doubt_since, record.due_at = record.attempt_started_at, lease_until
            record.attempt_started_at = in_doubt_since or now
            claimed.append((record, in_doubt_since))
        return claimed

    async def begin_attempt(self, row_id: int, now: datetime) -> datetime | None:
        """Note that a send of this row is starting. Returns when an earlier attempt whose outcome
        was never learned began (the sender died, or the platform timed out), else None; that earlier
        moment is kept, so every later check looks back far enough."""
        row = await self._row(row_id)
        earlier = row.attempt_started_at
        if earlier is None:
            row.attempt_started_at = now
            await self._session.flush()
        return earlier

    async def pending_for_question(self, question_id: int, *, lock: bool = False) -> list[OutboxMessage]:
        """``lock``: row-locked until this transaction ends, waiting for a delivery that holds them (no
        SKIP LOCKED: the caller must see what that delivery left, e.g. a row that is sent by now)."""
        stmt = (
            select(OutboxMessage)
            .where(
                OutboxMessage.question_id == question_id,
                OutboxMessage.status == OutboxStatus.PENDING.value,
            )
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
        )
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return list(await self._session.scalars(stmt))

    async def postpone(self, row_id: int, due_at: datetime) -> None:
        """A claimed row was not sent (nothing of it went out): it is due at ``due_at`` instead, and its
        attempt marker goes, so that later send is no repeat of one that may have arrived."""
        row = await self._row(row_id)
        if row.status != OutboxStatus.PENDING.value:
            return
        row.due_at = due_at
        row.attempt_started_at = None
        await self._session.flush()

    async def bring_forward(self, row_id: int, due_at: datetime, message: OutgoingMessage) -> None:
        """A pending row goes out at ``due_at`` instead, as ``message``. It keeps its key, so what was
        held goes out once, now, and not again at the time it was held for."""
        row = await self._row(row_id)
        row.due_at = due_at
        row.payload = message.to_payload()
        await self._session.flush()

    async def count_for(self, person_id: int, kind: str) -> int:
        """Rows of this kind ever queued for the person, whatever their status."""
        stmt = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.person_id == person_id, OutboxMessage.kind == kind)
        )
        return (await self._session.scalar(stmt)) or 0

    async def count_for_channel(self, channel: str, kind: str) -> int:
        stmt = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.kind == kind)
        )
        return (await self._session.scalar(stmt)) or 0

    async def existing(self, dedupe_keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        keys = list(dedupe_keys)
        for start in range(0, len(keys), 500):  # well within any driver's limit on bound parameters
            stmt = select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys[start:start + 500]))
            found.update(await self._session.scalars(stmt))
        return found

    async def exists(self, dedupe_key: str) -> bool:
        stmt = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        return (await self._session.scalar(stmt)) is not None

    async def for_person(self, person_id: int) -> list[OutboxMessage]:
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.person_id == person_id)
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
        return list(await self._session.scalars(stmt))

    async def forget_variants(self, before: datetime) -> int:
        """One update over the partial index of rows that still carry a variant (migration 0012)."""
        stmt = (update(OutboxMessage)
                .where(OutboxMessage.text_variant.is_not(None), OutboxMessage.created_at < before)
                .values(text_variant=None))
        return affected(await self._session.execute(stmt))

    async def delete_for_person(self, person_id: int) -> int:
        stmt = delete(OutboxMessage).where(OutboxMessage.person_id == person_id)
        return affected(await self._session.execute(stmt))

    @staticmethod
    def _in_workspace(workspace_id: int, channel_keys_ending: str) -> ColumnElement[bool]:
        return or_(OutboxMessage.person_id.in_(people_of_workspace(workspace_id)),
                   OutboxMessage.question_id.in_(questions_of_workspace(workspace_id)),
                   and_(OutboxMessage.person_id.is_(None),
                        OutboxMessage.dedupe_key.endswith(channel_keys_ending, autoescape=True)))

    async def count_in_workspace(self, workspace_id: int, *, channel_keys_ending: str) -> int:
        return await count_rows(self._session, OutboxMessage, self._in_workspace(workspace_id, channel_keys_ending))

    async def delete_in_workspace(self, workspace_id: int, *, channel_keys_ending: str) -> int:
        stmt = delete(OutboxMessage).where(self._in_workspace(workspace_id, channel_keys_ending))
        return affected(await self._session.execute(stmt))

    async def forget_mentions(self, *, person_id: int, question_ids: Sequence[int], names: Sequence[str],
                              now: datetime) -> MentionsForgotten:
        """See handlers.ports.OutboxRepository. Sent rows are scrubbed, not deleted: the dedupe key
        is what keeps the planner from sending that week's message again."""
        mentions = _mention_pattern(names)
        ids = list(question_ids)
        # A cheap filter in SQL (the payload's JSON text holds the name as json.dumps wrote it); the
        # whole-word test on the decoded payload in Python decides.
        hints = [cast(OutboxMessage.payload, Text).contains(_json_fragment(n), autoescape=True)
                 for n in names if n]
        hints += [OutboxMessage.last_error.contains(n, autoescape=True) for n in names if n]
        for start in range(0, len(ids), 500):
            hints.append(OutboxMessage.question_id.in_(ids[start:start + 500]))
        if not hints:
            return MentionsForgotten()
        stmt = (select(OutboxMessage)
                .where(or_(OutboxMessage.person_id.is_(None), OutboxMessage.person_id != person_id), or_(*hints))
                .order_by(OutboxMessage.id)
                .with_for_update()
                .execution_options(populate_existing=True))
        linked, deleted, blanked, scrubbed = set(ids), 0, 0, 0
        for row in list(await self._session.scalars(stmt)):
            about = row.question_id in linked
            named = mentions is not None and bool(mentions.search(json.dumps(row.payload, ensure_ascii=False)))
            error_named = mentions is not None and bool(row.last_error and mentions.search(row.last_error))
            if not (about or named or error_named):
                continue
            if error_named:
                row.last_error = "(removed: it named a person who asked to be forgotten)"
            if row.status == OutboxStatus.PENDING.value:
                if about or row.person_id is None:
                    # Their reply, their tag, a channel's weekly recognition of them: not to go out.
                    # A weekly message is planned afresh (its key is free again), without them.
                    await self._session.delete(row)
                    deleted += 1
                elif named and mentions is not None:
                    row.payload = _blanked(row.payload, mentions)
                    blanked += 1
            elif named or about:
                row.payload = redacted_payload(row.payload)
                row.text_redacted_at = row.text_redacted_at or now
                scrubbed += 1
        await self._session.flush()
        return MentionsForgotten(deleted=deleted, blanked=blanked, scrubbed=scrubbed)

    # ------------------------------------------------------------ retention

    @staticmethod
    def _text_due(before: datetime) -> tuple[Any, ...]:
        # Pending rows keep their text whatever their age: it still has to go out.
        return (OutboxMessage.text_redacted_at.is_(None), OutboxMessage.created_at < before,
                OutboxMessage.status != OutboxStatus.PENDING.value)

    async def text_backlog(self, before: datetime) -> TextBacklog:
        return await text_backlog(self._session, OutboxMessage.created_at, *self._text_due(before))

    async def unsent_before(self, before: datetime) -> int:
        stmt = select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.created_at < before)
        return (await self._session.scalar(stmt)) or 0

    async def redact_texts(self, before: datetime, now: datetime, limit: int) -> int:
        # The text sits inside the JSON payload, so rows are rewritten here rather than in SQL. The
        # row lock (PostgreSQL) holds the status still between this read and the write; the status
        # test is made again on the locked row, so a row that went back to pending is left alone.
        stmt = (
            select(OutboxMessage)
            .where(*self._text_due(before))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        rows = list(await self._session.scalars(stmt))
        for row in rows:
            row.payload = redacted_payload(row.payload)
            row.text_redacted_at = now
        await self._session.flush()
        return len(rows)

    # ------------------------------------------------------------ after a delivery attempt

    async def mark_sent(self, row_id: int, now: datetime) -> None:
        # One Core statement, no read first: every delivery ends here (the ORM's get and flush cost a
        # round trip and most of the CPU). The row is not loaded in this session, so nothing goes stale.
        outbox = OutboxMessage.__table__
        result = await self._session.execute(
            update(outbox).where(outbox.c.id == row_id)
            .values(status=OutboxStatus.SENT.value, sent_at=now, attempts=outbox.c.attempts + 1,
                    attempt_started_at=None))
        if not affected(result):
            raise LookupError(f"outbox row {row_id} does not exist")

    async def mark_failed(self, row_id: int, error: str, now: datetime, retry_at: datetime | None, *,
                          outcome_unknown: bool = True) -> None:
        """With ``retry_at`` the row stays pending and comes due again then; without, it is
        given up (status failed). ``now`` is accepted for symmetry; nothing stores it yet.

        ``outcome_unknown=False`` (beyond the port): the platform gave a definite answer (a 429, an
        error code), so nothing of this attempt arrived and the retry need not be looked up; the
        attempt marker is cleared in this same transaction."""
        row = await self._row(row_id)
        if row.status == OutboxStatus.SENT.value:
            # A send that outlived its lease: another replica has delivered the row since. Leave it
            # sent, or it would go out again (possibly after retention removed its text).
            return
        row.attempts += 1
        row.last_error = error
        if retry_at is None:
            row.status = OutboxStatus.FAILED.value
            row.attempt_started_at = None
        else:  # attempt_started_at stays only when the send may have arrived after all (a timeout)
            row.status = OutboxStatus.PENDING.value
            row.due_at = retry_at
            if not outcome_unknown:
                row.attempt_started_at = None
        await self._session.flush()

    async def mark_skipped(self, row_id: int, reason: str) -> None:
        row = await self._row(row_id)
        row.status = OutboxStatus.SKIPPED.value
        row.last_error = reason
        row.attempt_started_at = None
        await self._session.flush()

    async def _row(self, row_id: int) -> OutboxMessage:
        row = await self._session.get(OutboxMessage, row_id)
        if row is None:
            raise LookupError(f"outbox row {row_id} does not exist")
        return row


def redacted_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without what people wrote (relayed questions and answers, an export); kind,
    recipient, question and buttons stay."""
    return {**payload, "text": None, "attachment": None}


def _json_fragment(text: str) -> str:
    """``text`` as it appears inside a JSON document written by json.dumps (SQLAlchemy's default)."""
    return json.dumps(text)[1:-1]


def _mention_pattern(names: Sequence[str]) -> re.Pattern[str] | None:
    """Any of the names as a whole word (so a handle "an" does not match "plan")."""
    words = sorted({n for n in names if n and n.strip()}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)")


def _blanked(payload: dict[str, Any], mentions: re.Pattern[str]) -> dict[str, Any]:
    """An unsent message that names the person in passing (say, in a colleague's question): it
    still goes out, with the name replaced. Buttons and everything else stay."""
    text = payload.get("text")
    buttons = [{**b, "label": mentions.sub("…", b["label"])} if isinstance(b, dict) and "label" in b else b
               for b in payload.get("buttons") or ()]
    return {**payload, "text": mentions.sub("…", text) if isinstance(text, str) else text, "buttons": buttons}


class SqlProcessedEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def first_time(self, platform: str, event_id: str, now: datetime) -> bool:
        stmt = (
            insert_ignoring_duplicates(self._session, ProcessedEvent)
            .values(platform=platform, event_id=event_id, received_at=now)
            .on_conflict_do_nothing(index_elements=["platform", "event_id"])
            .returning(ProcessedEvent.event_id)
        )
        return (await self._session.scalar(stmt)) is not None

    async def prune(self, before: datetime) -> int:
        """Forget event ids received before ``before`` (platforms stop retrying within minutes)."""
        stmt = delete(ProcessedEvent).where(ProcessedEvent.received_at < before)
        return affected(await self._session.execute(stmt))
