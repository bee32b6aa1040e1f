"""Every repository method, on SQLite and PostgreSQL (through the ``uow_factory`` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from sqlalchemy import select

from handlers.messages import OutgoingMessage
from handlers.models import MessageKind, OutboxStatus, QuestionKind, QuestionStatus, SignalKind
from storage.tables import OutboxMessage
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import NOW, message, minutes, person, question, workspace

UowFactory = Callable[[], SqlUnitOfWork]


# --------------------------------------------------------------------------- workspaces


async def test_workspace_get_or_create_is_idempotent(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        first = await uow.workspaces.get_or_create("slack", "T1", "Acme")
        again = await uow.workspaces.get_or_create("slack", "T1", "Acme renamed")
        teams = await uow.workspaces.get_or_create("teams", "T1", "Acme")
    assert again.id == first.id
    assert teams.id != first.id

    async with uow_factory() as uow:
        later = await uow.workspaces.get_or_create("slack", "T1", "Acme")
        fetched = await uow.workspaces.get(first.id)
        missing = await uow.workspaces.get(first.id + 1000)
    assert later.id == first.id
    assert fetched is not None
    assert (fetched.platform, fetched.external_id, fetched.name) == ("slack", "T1", "Acme")
    assert missing is None


async def test_workspace_by_external_id(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        slack = await uow.workspaces.get_or_create("slack", "T1", "Acme")
        assert (await uow.workspaces.by_external_id("slack", "T1")).id == slack.id
        assert await uow.workspaces.by_external_id("teams", "T1") is None
        assert await uow.workspaces.by_external_id("slack", "T2") is None


# --------------------------------------------------------------------------- people


async def test_person_add_and_lookups(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        other_ws = await workspace(uow, "T2")
        added = await uow.people.add(
            workspace_id=ws.id,
            external_id="U1",
            handle="Anna.Jansen",
            display_name="Anna Jansen",
            locale="nl",
            time_zone="Europe/Amsterdam",
            now=NOW,
        )
    assert added.id is not None
    assert added.handle == "anna.jansen"

    async with uow_factory() as uow:
        by_id = await uow.people.get(added.id)
        by_handle = await uow.people.by_handle(ws.id, "anna.jansen")
        by_handle_mixed_case = await uow.people.by_handle(ws.id, "ANNA.Jansen")
        by_external = await uow.people.by_external_id(ws.id, "U1")
        elsewhere_handle = await uow.people.by_handle(other_ws.id, "anna.jansen")
        elsewhere_external = await uow.people.by_external_id(other_ws.id, "U1")
        unknown = await uow.people.by_handle(ws.id, "bram")

    assert by_id is not None
    assert by_id.id == by_handle.id == by_handle_mixed_case.id == by_external.id == added.id
    assert (by_id.display_name, by_id.locale, by_id.time_zone) == ("Anna Jansen", "nl", "Europe/Amsterdam")
    assert by_id.recognition_opt_out is False
    assert by_id.unreachable is False
    assert by_id.created_at == NOW
    assert by_id.created_at.tzinfo is not None and by_id.created_at.utcoffset() == UTC.utcoffset(None)
    assert elsewhere_handle is None and elsewhere_external is None and unknown is None


async def test_person_delete(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna = await person(uow, ws, "anna")
        bram = await person(uow, ws, "bram")
    async with uow_factory() as uow:
        await uow.people.delete(anna.id)
    async with uow_factory() as uow:
        assert await uow.people.get(anna.id) is None
        assert await uow.people.get(bram.id) is not None


# --------------------------------------------------------------------------- topics


async def test_topics_add_list_remove(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna = await person(uow, ws, "anna")
        assert await uow.topics.add(anna.id, "contracten", NOW) is True
        assert await uow.topics.add(anna.id, "contracten", NOW) is False  # no error, no second row
        assert await uow.topics.add(anna.id, "arbeidsrecht", NOW) is True

    # The duplicate did not spoil the transaction: both topics were committed.
    async with uow_factory() as uow:
        topics = await uow.topics.list_for(anna.id)
        assert [t.topic for t in topics] == ["arbeidsrecht", "contracten"]
        assert all(t.person_id == anna.id and t.created_at == NOW for t in topics)
        assert await uow.topics.add(anna.id, "contracten", NOW) is False

        assert await uow.topics.remove(anna.id, "contracten") is True
        assert await uow.topics.remove(anna.id, "contracten") is False
        assert await uow.topics.remove(anna.id, "nooit gehoord") is False

    async with uow_factory() as uow:
        assert [t.topic for t in await uow.topics.list_for(anna.id)] == ["arbeidsrecht"]


async def test_experts_for_topic_by_workspace_in_id_order(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        other_ws = await workspace(uow, "T2")
        anna = await person(uow, ws, "anna")
        bram = await person(uow, ws, "bram")
        carla = await person(uow, ws, "carla")
        outsider = await person(uow, other_ws, "dirk")
        for who in (bram, anna, outsider):
            await uow.topics.add(who.id, "contracten", NOW)
        await uow.topics.add(carla.id, "planning", NOW)

    async with uow_factory() as uow:
        experts = await uow.topics.experts_for(ws.id, "contracten")
        assert [p.id for p in experts] == [anna.id, bram.id]
        assert [p.handle for p in await uow.topics.experts_for(other_ws.id, "contracten")] == ["dirk"]
        assert await uow.topics.experts_for(ws.id, "onbekend") == []


async def test_topics_delete_for_person(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna = await person(uow, ws, "anna")
        bram = await person(uow, ws, "bram")
        for topic in ("a", "b", "c"):
            await uow.topics.add(anna.id, topic, NOW)
        await uow.topics.add(bram.id, "a", NOW)
    async with uow_factory() as uow:
        assert await uow.topics.delete_for(anna.id) == 3
        assert await uow.topics.delete_for(anna.id) == 0
    async with uow_factory() as uow:
        assert await uow.topics.list_for(anna.id) == []
        assert [t.topic for t in await uow.topics.list_for(bram.id)] == ["a"]


# --------------------------------------------------------------------------- questions


async def test_question_add_get_and_defaults(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        asker = await person(uow, ws, "anna")
        expert = await person(uow, ws, "bram")
        q = await uow.questions.add(
            workspace_id=ws.id,
            asker_id=asker.id,
            expert_id=expert.id,
            topic="contracten",
            text="Mag een proeftijd in een verlengd contract?",
            first_assessment="Nee",
            kind=QuestionKind.DOUBT,
            urgent=True,
            status=QuestionStatus.HELD,
            asked_at=NOW,
            deliver_after=NOW + minutes(45),
            interrupted_focus=False,
        )
        assert q.id is not None  # flushed

    async with uow_factory() as uow:
        got = await uow.questions.get(q.id)
        locked = await uow.questions.get_for_update(q.id)
        assert await uow.questions.get(q.id + 1000) is None
        assert await uow.questions.get_for_update(q.id + 1000) is None

    assert got is not None and locked is not None and locked.id == got.id
    assert (got.workspace_id, got.asker_id, got.expert_id) == (ws.id, asker.id, expert.id)
    assert got.text == "Mag een proeftijd in een verlengd contract?"
    assert (got.first_assessment, got.kind, got.status) == ("Nee", "doubt", "held")
    assert got.urgent is True and got.interrupted_focus is False
    assert got.asked_at == NOW and got.deliver_after == NOW + minutes(45)
    assert got.deliver_after.tzinfo is not None
    for unset in ("tag", "tag_source", "tagged_at", "delivered_at", "first_reply_at", "outcome"):
        assert getattr(got, unset) is None, unset
    assert got.outcome_at is None and got.thread_ref is None and got.text_redacted_at is None


async def test_question_updates_persist_and_get_for_update_sees_them(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        q = await question(uow, ws, await person(uow, ws, "anna"), await person(uow, ws, "bram"))

    async with uow_factory() as uow:
        row = await uow.questions.get_for_update(q.id)
        assert row is not None
        row.status = QuestionStatus.ANSWERED
        row.first_reply_at = NOW + minutes(3)
        row.tag, row.tag_source, row.tagged_at = "werk", "expert", NOW + minutes(4)

    async with uow_factory() as uow:
        again = await uow.questions.get_for_update(q.id)
    assert again is not None
    assert (again.status, again.tag, again.tag_source) == ("answered", "werk", "expert")
    assert again.first_reply_at == NOW + minutes(3) and again.tagged_at == NOW + minutes(4)


async def test_by_thread_ref(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        other_ws = await workspace(uow, "T2")
        anna, bram = await person(uow, ws, "anna"), await person(uow, ws, "bram")
        q1 = await question(uow, ws, anna, bram)
        q2 = await question(uow, ws, anna, bram)
        q1.thread_ref = "C1:1700000000.0001"
        q2.thread_ref = "C1:1700000000.0002"

    async with uow_factory() as uow:
        found = await uow.questions.by_thread_ref(ws.id, "C1:1700000000.0002")
        assert found is not None and found.id == q2.id
        assert await uow.questions.by_thread_ref(ws.id, "C1:nope") is None
        assert await uow.questions.by_thread_ref(other_ws.id, "C1:1700000000.0001") is None


async def test_open_counts_counts_held_and_delivered_only(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        asker = await person(uow, ws, "anna")
        busy = await person(uow, ws, "bram")
        idle = await person(uow, ws, "carla")
        for status in ("held", "delivered", "delivered", "answered", "closed"):
            await question(uow, ws, asker, busy, status=status)
        await question(uow, ws, asker, idle, status="closed")

    async with uow_factory() as uow:
        counts = await uow.questions.open_counts([busy.id, idle.id, 99999])
        assert counts == {busy.id: 3, idle.id: 0, 99999: 0}
        assert await uow.questions.open_counts([]) == {}


async def test_asked_by_and_answered_by_in_time_order(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram, carla = [await person(uow, ws, h) for h in ("anna", "bram", "carla")]
        late = await question(uow, ws, anna, bram, asked_at=NOW + minutes(10))
        early = await question(uow, ws, anna, carla, asked_at=NOW)
        reverse = await question(uow, ws, bram, anna, asked_at=NOW + minutes(5))

    async with uow_factory() as uow:
        assert [q.id for q in await uow.questions.asked_by(anna.id)] == [early.id, late.id]
        assert [q.id for q in await uow.questions.answered_by(bram.id)] == [late.id]
        assert [q.id for q in await uow.questions.answered_by(anna.id)] == [reverse.id]
        assert await uow.questions.asked_by(carla.id) == []


async def test_recent_doubt_outcomes(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram, carla = [await person(uow, ws, h) for h in ("anna", "bram", "carla")]

        async def closed(asker, *, kind="doubt", topic="contracten", status="closed", outcome_min=0):
            q = await question(uow, ws, asker, bram, kind=kind, topic=topic, status=status)
            q.outcome, q.outcome_at = "confirmed", NOW + minutes(outcome_min)
            return q

        oldest = await closed(anna, outcome_min=1)
        newest = await closed(anna, outcome_min=30)
        middle = await closed(anna, outcome_min=20)
        await closed(anna, kind="complex", outcome_min=40)  # not doubt
        await closed(anna, status="answered", outcome_min=50)  # not closed
        await closed(anna, topic="planning", outcome_min=60)  # other topic
        await closed(carla, outcome_min=70)  # other asker

    async with uow_factory() as uow:
        two = await uow.questions.recent_doubt_outcomes(anna.id, "contracten", 2)
        all_ = await uow.questions.recent_doubt_outcomes(anna.id, "contracten", 10)
        none = await uow.questions.recent_doubt_outcomes(anna.id, "onbekend", 10)
    assert [q.id for q in two] == [newest.id, middle.id]
    assert [q.id for q in all_] == [newest.id, middle.id, oldest.id]
    assert none == []


async def test_delete_asked_by_takes_replies_signals_and_outbox_along(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram = await person(uow, ws, "anna"), await person(uow, ws, "bram")
        mine = [await question(uow, ws, anna, bram) for _ in range(2)]
        theirs = await question(uow, ws, bram, anna)
        for q in [*mine, theirs]:
            await uow.replies.add(
                question_id=q.id,
                author_id=q.expert_id,
                text="Ja.",
                created_at=NOW,
                reply_seconds=60.0,
                curt_score=0.1,
                curt=False,
                curt_reasons=[],
            )
            await uow.signals.add(
                question_id=q.id,
                subject_id=q.expert_id,
                reporter_id=None,
                kind="curt_detected",
                created_at=NOW,
            )
            await uow.outbox.add(
                dedupe_key=f"notice:{q.id}",
                message=message(person_id=q.asker_id, question_id=q.id),
                period="2025-W10",
                due_at=NOW,
                now=NOW,
            )

    async with uow_factory() as uow:
        assert await uow.questions.delete_asked_by(anna.id) == 2
        assert await uow.questions.delete_asked_by(anna.id) == 0

    async with uow_factory() as uow:
        assert await uow.questions.asked_by(anna.id) == []
        for q in mine:
            assert await uow.questions.get(q.id) is None
            assert await uow.replies.for_question(q.id) == []
            assert await uow.signals.for_question(q.id) == []
            assert await uow.outbox.pending_for_question(q.id) == []
        assert await uow.questions.get(theirs.id) is not None
        assert len(await uow.replies.for_question(theirs.id)) == 1
        assert len(await uow.signals.for_question(theirs.id)) == 1
        assert len(await uow.outbox.pending_for_question(theirs.id)) == 1


async def test_detach_expert(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram, carla = [await person(uow, ws, h) for h in ("anna", "bram", "carla")]
        to_bram = [await question(uow, ws, anna, bram), await question(uow, ws, carla, bram)]
        to_carla = await question(uow, ws, anna, carla)

    async with uow_factory() as uow:
        assert await uow.questions.detach_expert(bram.id) == 2

    async with uow_factory() as uow:
        assert await uow.questions.answered_by(bram.id) == []
        for q in to_bram:
            kept = await uow.questions.get(q.id)
            assert kept is not None and kept.expert_id is None and kept.asker_id == q.asker_id
        still = await uow.questions.get(to_carla.id)
        assert still is not None and still.expert_id == carla.id


# --------------------------------------------------------------------------- replies


async def test_replies(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram = await person(uow, ws, "anna"), await person(uow, ws, "bram")
        q = await question(uow, ws, anna, bram)
        other = await question(uow, ws, bram, anna)
        second = await uow.replies.add(
            question_id=q.id,
            author_id=bram.id,
            text="Nee.",
            created_at=NOW + minutes(2),
            reply_seconds=120.0,
            curt_score=0.8,
            curt=True,
            curt_reasons=["short", "no_greeting"],
        )
        first = await uow.replies.add(
            question_id=q.id,
            author_id=anna.id,
            text="Dank!",
            created_at=NOW + minutes(1),
            reply_seconds=60.0,
            curt_score=0.0,
            curt=False,
            curt_reasons=[],
        )
        elsewhere = await uow.replies.add(
            question_id=other.id,
            author_id=bram.id,
            text="Graag gedaan, kijk ook even naar artikel 7:668a.",
            created_at=NOW,
            reply_seconds=30.5,
            curt_score=0.0,
            curt=False,
            curt_reasons=[],
        )
        assert second.id is not None

    async with uow_factory() as uow:
        replies = await uow.replies.for_question(q.id)
        assert [r.id for r in replies] == [first.id, second.id]
        curt = replies[1]
        assert (curt.text, curt.curt, curt.curt_score, curt.reply_seconds) == ("Nee.", True, 0.8, 120.0)
        assert curt.curt_reasons == ["short", "no_greeting"]
        assert curt.created_at == NOW + minutes(2)
        assert [r.id for r in await uow.replies.written_by(bram.id)] == [elsewhere.id, second.id]

    async with uow_factory() as uow:
        assert await uow.replies.delete_written_by(bram.id) == 2
    async with uow_factory() as uow:
        assert await uow.replies.written_by(bram.id) == []
        assert [r.id for r in await uow.replies.for_question(q.id)] == [first.id]


# --------------------------------------------------------------------------- signals


async def test_signals_about_and_delete_about(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram, carla = [await person(uow, ws, h) for h in ("anna", "bram", "carla")]
        q = await question(uow, ws, anna, bram)
        detected = await uow.signals.add(
            question_id=q.id,
            subject_id=bram.id,
            reporter_id=None,
            kind=SignalKind.CURT_DETECTED,
            created_at=NOW,
            details={"score": 0.9, "reasons": ["short"]},
        )
        reported = await uow.signals.add(
            question_id=q.id,
            subject_id=bram.id,
            reporter_id=anna.id,
            kind=SignalKind.CURT_REPORTED,
            created_at=NOW + minutes(1),
        )
        by_bram = await uow.signals.add(
            question_id=q.id,
            subject_id=carla.id,
            reporter_id=bram.id,
            kind=SignalKind.CURT_REPORTED,
            created_at=NOW + minutes(2),
        )
        confirmation = await uow.signals.add(
            question_id=q.id,
            subject_id=anna.id,
            reporter_id=None,
            kind=SignalKind.CONFIRMATION_ONLY,
            created_at=NOW + minutes(3),
        )

    async with uow_factory() as uow:
        assert [s.id for s in await uow.signals.for_question(q.id)] == [
            detected.id,
            reported.id,
            by_bram.id,
            confirmation.id,
        ]
        assert [s.id for s in await uow.signals.about(bram.id)] == [detected.id, reported.id, by_bram.id]
        assert [s.id for s in await uow.signals.about(anna.id)] == [reported.id, confirmation.id]
        stored = (await uow.signals.for_question(q.id))[0]
        assert stored.details == {"score": 0.9, "reasons": ["short"]}
        assert stored.kind == "curt_detected" and stored.created_at == NOW
        assert (await uow.signals.for_question(q.id))[1].details == {}
        stored.details["checked"] = True  # in-place edits are tracked

    async with uow_factory() as uow:
        assert (await uow.signals.for_question(q.id))[0].details["checked"] is True
        assert await uow.signals.delete_about(bram.id) == 2

    async with uow_factory() as uow:
        assert await uow.signals.about(bram.id) == []
        left = await uow.signals.for_question(q.id)
        assert [s.id for s in left] == [by_bram.id, confirmation.id]
        assert left[0].reporter_id is None and left[0].subject_id == carla.id


# --------------------------------------------------------------------------- outbox


async def test_outbox_add_stores_the_message(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram = await person(uow, ws, "anna"), await person(uow, ws, "bram")
        q = await question(uow, ws, anna, bram)
        sent = OutgoingMessage(
            kind=MessageKind.QUESTION,
            text="Anna vraagt: mag dit zo?",
            person_id=bram.id,
            question_id=q.id,
        )
        row = await uow.outbox.add(
            dedupe_key=f"question:{q.id}", message=sent, period="once", due_at=NOW + minutes(5), now=NOW
        )
        assert row is not None and row.id is not None

    async with uow_factory() as uow:
        (stored,) = await uow.outbox.for_person(bram.id)
    assert stored.id == row.id
    assert (stored.dedupe_key, stored.kind, stored.period) == (f"question:{q.id}", "question", "once")
    assert (stored.person_id, stored.channel, stored.question_id) == (bram.id, None, q.id)
    assert (stored.status, stored.attempts, stored.last_error, stored.sent_at) == ("pending", 0, None, None)
    assert stored.due_at == NOW + minutes(5) and stored.created_at == NOW
    assert OutgoingMessage.from_payload(stored.payload) == sent


async def test_outbox_duplicate_key_is_none_and_keeps_the_transaction(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna = await person(uow, ws, "anna")
        first = await uow.outbox.add(
            dedupe_key="weekly:anna:2025-W10",
            message=message(person_id=anna.id),
            period="2025-W10",
            due_at=NOW,
            now=NOW,
        )
        duplicate = await uow.outbox.add(
            dedupe_key="weekly:anna:2025-W10",
            message=message(channel="C9"),
            period="2025-W10",
            due_at=NOW + minutes(1),
            now=NOW,
        )
        await uow.topics.add(anna.id, "contracten", NOW)  # a write after the conflict
    assert first is not None and duplicate is None

    async with uow_factory() as uow:
        rows = await uow.outbox.for_person(anna.id)
        assert [r.id for r in rows] == [first.id]
        assert rows[0].channel is None and rows[0].due_at == NOW
        assert [t.topic for t in await uow.topics.list_for(anna.id)] == ["contracten"]
        # Across transactions too.
        again = await uow.outbox.add(
            dedupe_key="weekly:anna:2025-W10",
            message=message(person_id=anna.id),
            period="2025-W10",
            due_at=NOW,
            now=NOW,
        )
        assert again is None


async def test_claim_due_order_filter_and_limit(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ids = {}
        for key, due in [("c", 0), ("a", -10), ("future", 1), ("b", -10), ("d", -5)]:
            row = await uow.outbox.add(
                dedupe_key=key, message=message(channel="C1"), period="p", due_at=NOW + minutes(due), now=NOW
            )
            assert row is not None
            ids[key] = row.id
        done = await uow.outbox.add(
            dedupe_key="done", message=message(channel="C1"), period="p", due_at=NOW - minutes(60), now=NOW
        )
        assert done is not None
        await uow.outbox.mark_sent(done.id, NOW)

    async with uow_factory() as uow:
        claimed = await uow.outbox.claim_due(NOW, limit=10)
        # Oldest due first; equal due_at by id; not the future one, not the sent one; due == now counts.
        assert [r.id for r in claimed] == [ids["a"], ids["b"], ids["d"], ids["c"]]
        assert [r.id for r in await uow.outbox.claim_due(NOW, limit=2)] == [ids["a"], ids["b"]]
        assert await uow.outbox.claim_due(NOW - minutes(30), limit=10) == []


async def test_claim_due_with_a_lease(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        row = await uow.outbox.add(
            dedupe_key="k", message=message(channel="C1"), period="p", due_at=NOW, now=NOW
        )
        assert row is not None

    async with uow_factory() as uow:
        (claimed,) = await uow.outbox.claim_due(NOW, limit=10, lease_until=NOW + minutes(5))
        assert claimed.id == row.id and claimed.due_at == NOW + minutes(5)
    # Committed: until the lease ends nobody claims it, then it is due again (a crash mid-send).
    async with uow_factory() as uow:
        assert await uow.outbox.claim_due(NOW + minutes(4), limit=10) == []
        assert [r.id for r in await uow.outbox.claim_due(NOW + minutes(5), limit=10)] == [row.id]
        await uow.outbox.mark_sent(row.id, NOW + minutes(5))
    async with uow_factory() as uow:
        assert await uow.outbox.claim_due(NOW + minutes(60), limit=10) == []


async def test_a_late_failure_does_not_reopen_a_row_another_replica_sent(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        row = await uow.outbox.add(dedupe_key="late", message=message(channel="C1"), period="p", due_at=NOW, now=NOW)
        assert row is not None
    async with uow_factory() as uow:  # replica A claims; its send outlives the lease
        await uow.outbox.claim_due(NOW, limit=1, lease_until=NOW + minutes(2))
    async with uow_factory() as uow:  # replica B takes it over after the lease and delivers it
        await uow.outbox.claim_due(NOW + minutes(3), limit=1, lease_until=NOW + minutes(5))
        await uow.outbox.mark_sent(row.id, NOW + minutes(3))
    async with uow_factory() as uow:  # then A's send times out: it must not make the row pending again
        await uow.outbox.mark_failed(row.id, "timeout", NOW + minutes(4), NOW + minutes(6))
    async with uow_factory() as uow:
        stored = await uow.session.get(OutboxMessage, row.id)
        assert (stored.status, stored.attempts, stored.last_error) == (OutboxStatus.SENT, 1, None)
        assert await uow.outbox.claim_due(NOW + minutes(60), limit=10) == []


async def test_mark_sent_failed_skipped(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        rows = {}
        for key in ("sent", "retry", "final", "skipped"):
            row = await uow.outbox.add(
                dedupe_key=key, message=message(channel="C1"), period="p", due_at=NOW, now=NOW
            )
            assert row is not None
            rows[key] = row.id

    async with uow_factory() as uow:
        assert len(await uow.outbox.claim_due(NOW, limit=10)) == 4
        await uow.outbox.mark_sent(rows["sent"], NOW + minutes(1))
        await uow.outbox.mark_failed(rows["retry"], "rate limited", NOW + minutes(1), NOW + minutes(10))
        await uow.outbox.mark_failed(rows["final"], "channel_not_found", NOW + minutes(1), None)
        await uow.outbox.mark_skipped(rows["skipped"], "due too long ago")

    async with uow_factory() as uow:
        by_key = {r.dedupe_key: r for r in await uow.outbox.claim_due(NOW + minutes(60), limit=10)}
        assert list(by_key) == ["retry"]  # the only one still pending
        retry = by_key["retry"]
        assert (retry.status, retry.attempts, retry.last_error) == ("pending", 1, "rate limited")
        assert retry.due_at == NOW + minutes(10)
        assert await uow.outbox.claim_due(NOW + minutes(9), limit=10) == []

        await uow.outbox.mark_failed(retry.id, "rate limited again", NOW + minutes(10), NOW + minutes(20))
        assert retry.attempts == 2

    async with uow_factory() as uow:
        # Rows that are no longer pending are only reachable by a plain query.
        stored = {r.dedupe_key: r for r in await uow.session.scalars(select(OutboxMessage))}
    assert (stored["sent"].status, stored["sent"].sent_at, stored["sent"].attempts) == (
        OutboxStatus.SENT,
        NOW + minutes(1),
        1,
    )
    assert (stored["final"].status, stored["final"].attempts) == (OutboxStatus.FAILED, 1)
    assert stored["final"].last_error == "channel_not_found"
    assert (stored["skipped"].status, stored["skipped"].last_error) == (
        OutboxStatus.SKIPPED,
        "due too long ago",
    )
    assert stored["skipped"].attempts == 0
    assert stored["retry"].attempts == 2 and stored["retry"].due_at == NOW + minutes(20)


async def test_outbox_per_question_and_person(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram = await person(uow, ws, "anna"), await person(uow, ws, "bram")
        q = await question(uow, ws, anna, bram)

        async def add(key, *, person_id=None, channel=None, question_id=None, due=0):
            row = await uow.outbox.add(
                dedupe_key=key,
                message=message(person_id=person_id, channel=channel, question_id=question_id),
                period="p",
                due_at=NOW + minutes(due),
                now=NOW,
            )
            assert row is not None
            return row

        later = await add("q-later", person_id=bram.id, question_id=q.id, due=30)
        sooner = await add("q-sooner", person_id=anna.id, question_id=q.id, due=5)
        sent = await add("q-sent", person_id=anna.id, question_id=q.id)
        await uow.outbox.mark_sent(sent.id, NOW)
        for_anna = await add("anna-weekly", person_id=anna.id)
        await add("team", channel="C1")

    async with uow_factory() as uow:
        assert [r.id for r in await uow.outbox.pending_for_question(q.id)] == [sooner.id, later.id]
        assert [r.id for r in await uow.outbox.for_person(anna.id)] == [sooner.id, sent.id, for_anna.id]
        # Every status counts (sent too): it is how often the person was sent this kind.
        assert await uow.outbox.count_for(anna.id, MessageKind.NUDGE_IN_ROLE) == 3
        assert await uow.outbox.count_for(anna.id, MessageKind.NUDGE_CURT) == 0
        assert await uow.outbox.count_for(bram.id, MessageKind.NUDGE_IN_ROLE) == 1
        assert await uow.outbox.delete_for_person(anna.id) == 3
        assert await uow.outbox.delete_for_person(anna.id) == 0

    async with uow_factory() as uow:
        assert await uow.outbox.count_for(anna.id, MessageKind.NUDGE_IN_ROLE) == 0
        assert await uow.outbox.for_person(anna.id) == []
        assert [r.id for r in await uow.outbox.for_person(bram.id)] == [later.id]
        assert len(await uow.outbox.claim_due(NOW + minutes(60), limit=10)) == 2  # bram's + the team's


# --------------------------------------------------------------------------- processed events


async def test_first_time(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.events.first_time("slack", "Ev1", NOW) is True
        assert await uow.events.first_time("slack", "Ev1", NOW) is False
        assert await uow.events.first_time("teams", "Ev1", NOW) is True
        await workspace(uow)  # the transaction is still fine after the duplicate

    async with uow_factory() as uow:
        assert await uow.events.first_time("slack", "Ev1", NOW + minutes(1)) is False
        assert await uow.events.first_time("slack", "Ev2", NOW + minutes(1)) is True
        assert await uow.workspaces.get_or_create("slack", "T1", "x") is not None

    async with uow_factory() as uow:
        assert await uow.events.prune(NOW + minutes(1)) == 2  # the two received at NOW
    async with uow_factory() as uow:
        assert await uow.events.first_time("slack", "Ev1", NOW + minutes(2)) is True
        assert await uow.events.first_time("slack", "Ev2", NOW + minutes(2)) is False
