"""Retention's repository methods, on SQLite and PostgreSQL (through the ``uow_factory`` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from handlers.models import OutboxStatus, SignalKind
from handlers.ports import TextBacklog
from handlers.retention import TextKind, apply_retention
from storage.tables import OutboxMessage, Question, Reply
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import NOW, message, person, question, workspace

UowFactory = Callable[[], SqlUnitOfWork]
CUTOFF = NOW - timedelta(days=90)
LATER = NOW + timedelta(hours=1)


def days_ago(n: float):
    return NOW - timedelta(days=n)


class Clock:
    def now(self):
        return NOW


async def seed(uow_factory: UowFactory) -> dict[str, int]:
    """Questions 200, 120 and 91 days old and one 30 days old, each with a reply and a signal."""
    ids: dict[str, int] = {}
    async with uow_factory() as uow:
        ws = await workspace(uow)
        sanne, anna = await person(uow, ws, "sanne"), await person(uow, ws, "anna")
        for age in (200, 120, 91, 30):
            q = await question(uow, ws, sanne, anna, asked_at=days_ago(age), text=f"vraag {age}")
            q.first_assessment = f"inschatting {age}"
            q.tag, q.outcome = "werk", "confirmed"
            reply = await uow.replies.add(question_id=q.id, author_id=anna.id, text=f"antwoord {age}",
                                          created_at=days_ago(age) + timedelta(hours=1), reply_seconds=3600.0,
                                          curt_score=0.7, curt=True, curt_reasons=["short"])
            await uow.signals.add(question_id=q.id, subject_id=anna.id, reporter_id=None,
                                  kind=SignalKind.CURT_DETECTED, created_at=reply.created_at)
            ids[f"q{age}"], ids[f"r{age}"] = q.id, reply.id
        ids["sanne"], ids["anna"] = sanne.id, anna.id
    return ids


async def test_question_and_reply_texts_older_than_the_cutoff_go_in_batches(uow_factory: UowFactory) -> None:
    ids = await seed(uow_factory)
    async with uow_factory() as uow:
        backlog = await uow.questions.text_backlog(CUTOFF)
        replies_backlog = await uow.replies.text_backlog(CUTOFF)
    assert backlog == TextBacklog(3, days_ago(200), days_ago(91))
    assert replies_backlog == TextBacklog(3, days_ago(200) + timedelta(hours=1), days_ago(91) + timedelta(hours=1))

    async with uow_factory() as uow:
        first = await uow.questions.redact_texts(CUTOFF, NOW, 2)  # oldest first
    assert first == 2
    async with uow_factory() as uow:
        q200, q91 = await uow.questions.get(ids["q200"]), await uow.questions.get(ids["q91"])
    assert (q200.text, q200.first_assessment, q200.text_redacted_at) == (None, None, NOW)
    assert q91.text == "vraag 91" and q91.text_redacted_at is None

    async with uow_factory() as uow:
        assert await uow.questions.redact_texts(CUTOFF, LATER, 2) == 1
        assert await uow.questions.redact_texts(CUTOFF, LATER, 2) == 0  # idempotent
        assert await uow.replies.redact_texts(CUTOFF, NOW, 10) == 3
        assert await uow.replies.redact_texts(CUTOFF, NOW, 10) == 0
        assert await uow.questions.text_backlog(CUTOFF) == TextBacklog(0, None, None)

    async with uow_factory() as uow:
        questions = list(await uow.session.scalars(select(Question).order_by(Question.id)))
        replies = list(await uow.session.scalars(select(Reply).order_by(Reply.id)))
        signals = await uow.signals.about(ids["anna"])
    assert [(q.text, q.first_assessment) for q in questions] == [(None, None)] * 3 + [("vraag 30", "inschatting 30")]
    assert questions[0].text_redacted_at == NOW and questions[2].text_redacted_at == LATER  # not overwritten
    assert all((q.tag, q.outcome, q.status) == ("werk", "confirmed", "delivered") for q in questions)
    assert [r.text for r in replies] == [None, None, None, "antwoord 30"]
    assert all((r.curt, r.curt_score, r.curt_reasons, r.reply_seconds) == (True, 0.7, ["short"], 3600.0)
               for r in replies)
    assert len(signals) == 4


async def test_outbox_texts_go_only_from_messages_that_are_no_longer_pending(uow_factory: UowFactory) -> None:
    ids = await seed(uow_factory)
    rows: dict[str, int] = {}
    async with uow_factory() as uow:
        for name, age, status in (("sent", 100, OutboxStatus.SENT), ("failed", 100, OutboxStatus.FAILED),
                                  ("skipped", 95, OutboxStatus.SKIPPED), ("pending", 100, OutboxStatus.PENDING),
                                  ("recent", 10, OutboxStatus.SENT)):
            row = await uow.outbox.add(dedupe_key=name, period=name, due_at=days_ago(age), now=days_ago(age),
                                       message=message(person_id=ids["sanne"], question_id=ids["q120"]))
            row.status = status.value
            if name == "sent":
                row.payload = {**row.payload, "attachment": {"questions": ["vraag 120"]}}
            rows[name] = row.id

    async with uow_factory() as uow:
        assert (await uow.outbox.text_backlog(CUTOFF)).count == 3
        assert await uow.outbox.unsent_before(CUTOFF) == 1
        assert await uow.outbox.redact_texts(CUTOFF, NOW, 2) == 2
    async with uow_factory() as uow:
        assert await uow.outbox.redact_texts(CUTOFF, NOW, 2) == 1
        assert await uow.outbox.redact_texts(CUTOFF, NOW, 2) == 0

    async with uow_factory() as uow:
        by_name = {name: await uow.session.get(OutboxMessage, row_id) for name, row_id in rows.items()}
    for name in ("sent", "failed", "skipped"):
        row = by_name[name]
        assert row.payload["text"] is None and row.payload["attachment"] is None and row.text_redacted_at == NOW
        assert (row.payload["kind"], row.payload["person_id"], row.payload["question_id"]) == (
            "nudge_in_role", ids["sanne"], ids["q120"])
    for name in ("pending", "recent"):
        assert by_name[name].payload["text"] == "Vragen over contracten horen bij het werk."
        assert by_name[name].text_redacted_at is None
    assert [by_name[n].status for n in rows] == ["sent", "failed", "skipped", "pending", "sent"]


async def test_two_replicas_running_retention_at_once_redact_each_text_once(uow_factory: UowFactory) -> None:
    await seed(uow_factory)
    async with uow_factory() as uow:
        ws = await workspace(uow)
        sanne, anna = await uow.people.by_handle(ws.id, "sanne"), await uow.people.by_handle(ws.id, "anna")
        for n in range(40):
            await question(uow, ws, sanne, anna, asked_at=days_ago(100 + n), text=f"oud {n}")

    first, second = await asyncio.gather(apply_retention(uow_factory, Clock(), 90, batch=7),
                                         apply_retention(uow_factory, Clock(), 90, batch=7))

    assert first.redacted[TextKind.QUESTIONS] + second.redacted[TextKind.QUESTIONS] == 43
    assert first.redacted[TextKind.REPLIES] + second.redacted[TextKind.REPLIES] == 3
    async with uow_factory() as uow:
        assert (await uow.questions.text_backlog(CUTOFF)).count == 0
        assert (await uow.replies.text_backlog(CUTOFF)).count == 0
        left = await uow.questions.text_backlog(NOW + timedelta(days=1))
    assert left.count == 1 and left.oldest == days_ago(30)
