"""Transaction boundaries of SqlUnitOfWork, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from storage.tables import ExpertTopic, OutboxMessage, Person, Question, Reply, Signal, Workspace
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import NOW, message, person, question, workspace

UowFactory = Callable[[], SqlUnitOfWork]


class Boom(Exception):
    pass


async def count(uow_factory: UowFactory, model: type) -> int:
    async with uow_factory() as uow:
        return await uow.session.scalar(select(func.count()).select_from(model)) or 0


async def test_commit_on_clean_exit(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna = await person(uow, ws, "anna")
    async with uow_factory() as uow:
        assert await uow.people.get(anna.id) is not None


async def test_exception_rolls_back_every_write(uow_factory: UowFactory) -> None:
    with pytest.raises(Boom):
        async with uow_factory() as uow:
            ws = await workspace(uow)
            anna, bram = await person(uow, ws, "anna"), await person(uow, ws, "bram")
            q = await question(uow, ws, anna, bram)
            await uow.topics.add(bram.id, "contracten", NOW)
            await uow.outbox.add(
                dedupe_key="k", message=message(person_id=anna.id), period="p", due_at=NOW, now=NOW
            )
            await uow.events.first_time("slack", "Ev1", NOW)
            assert q.id is not None  # the rows really reached the database before the error
            raise Boom

    # Records loaded in the failed unit are still readable (not expired) for error reporting.
    assert (anna.handle, q.text) == ("anna", "Mag dit zo?")
    for model in (Workspace, Person, Question, ExpertTopic, OutboxMessage):
        assert await count(uow_factory, model) == 0, model.__name__
    async with uow_factory() as uow:
        assert await uow.events.first_time("slack", "Ev1", NOW) is True


async def test_unique_violation_rolls_back_the_whole_unit(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)

    with pytest.raises(IntegrityError):
        async with uow_factory() as uow:
            anna = await person(uow, ws, "anna")
            await uow.topics.add(anna.id, "contracten", NOW)
            await uow.people.add(
                workspace_id=ws.id,
                external_id="U-other",
                handle="ANNA",  # the same handle once lower-cased
                display_name="Another Anna",
                locale="en",
                time_zone="UTC",
                now=NOW,
            )

    assert await count(uow_factory, Person) == 0
    assert await count(uow_factory, ExpertTopic) == 0


async def test_explicit_commit_and_rollback(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        await person(uow, ws, "anna")
        await uow.commit()
        await person(uow, ws, "bram")
        await uow.rollback()  # expires ws and kept: fetch again
        ws = await workspace(uow)
        later = await person(uow, ws, "carla")  # a new transaction, committed on exit

    async with uow_factory() as uow:
        assert await uow.people.by_handle(ws.id, "anna") is not None
        assert await uow.people.by_handle(ws.id, "bram") is None
        assert await uow.people.get(later.id) is not None


async def test_a_unit_of_work_can_be_entered_again_but_not_nested(uow_factory: UowFactory) -> None:
    uow = uow_factory()
    with pytest.raises(RuntimeError):
        uow.session  # noqa: B018 - not open yet
    async with uow:
        ws = await workspace(uow)
        with pytest.raises(RuntimeError):
            async with uow:
                pass
    async with uow:
        assert await uow.workspaces.get(ws.id) is not None


async def test_erasing_a_person_leaves_nothing_that_points_at_them(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram, carla = [await person(uow, ws, h) for h in ("anna", "bram", "carla")]
        await uow.topics.add(anna.id, "contracten", NOW)
        asked = await question(uow, ws, anna, bram)  # anna asked bram
        answered = await question(uow, ws, carla, anna)  # carla asked anna
        await uow.replies.add(
            question_id=answered.id,
            author_id=anna.id,
            text="Ja.",
            created_at=NOW,
            reply_seconds=5.0,
            curt_score=0.9,
            curt=True,
            curt_reasons=["short"],
        )
        await uow.replies.add(
            question_id=asked.id,
            author_id=bram.id,
            text="Zo doe je dat.",
            created_at=NOW,
            reply_seconds=5.0,
            curt_score=0.0,
            curt=False,
            curt_reasons=[],
        )
        await uow.signals.add(
            question_id=answered.id,
            subject_id=anna.id,
            reporter_id=carla.id,
            kind="curt_reported",
            created_at=NOW,
        )
        await uow.signals.add(
            question_id=asked.id,
            subject_id=bram.id,
            reporter_id=anna.id,
            kind="curt_reported",
            created_at=NOW,
        )
        await uow.signals.add(
            question_id=answered.id,
            subject_id=carla.id,
            reporter_id=anna.id,
            kind="curt_reported",
            created_at=NOW,
        )
        await uow.outbox.add(
            dedupe_key="a", message=message(person_id=anna.id), period="p", due_at=NOW, now=NOW
        )
        await uow.outbox.add(
            dedupe_key="b",
            message=message(person_id=bram.id, question_id=asked.id),
            period="p",
            due_at=NOW,
            now=NOW,
        )
        await uow.outbox.add(
            dedupe_key="c",
            message=message(person_id=carla.id, question_id=answered.id),
            period="p",
            due_at=NOW,
            now=NOW,
        )

    # What an erasure use case does, in one unit of work.
    async with uow_factory() as uow:
        await uow.questions.delete_asked_by(anna.id)
        await uow.questions.detach_expert(anna.id)
        await uow.replies.delete_written_by(anna.id)
        await uow.signals.delete_about(anna.id)
        await uow.topics.delete_for(anna.id)
        await uow.outbox.delete_for_person(anna.id)
        await uow.people.delete(anna.id)

    a = anna.id
    references = [
        (Person, Person.id == a),
        (ExpertTopic, ExpertTopic.person_id == a),
        (Question, or_(Question.asker_id == a, Question.expert_id == a)),
        (Reply, Reply.author_id == a),
        (Signal, or_(Signal.subject_id == a, Signal.reporter_id == a)),
        (OutboxMessage, OutboxMessage.person_id == a),
    ]
    async with uow_factory() as uow:
        for model, condition in references:
            found = await uow.session.scalar(select(func.count()).select_from(model).where(condition))
            assert found == 0, model.__name__
        # The others keep their data: carla's question (expert detached), bram's reply is gone
        # with anna's question, carla's signal stays without its reporter.
        kept = await uow.questions.get(answered.id)
        assert kept is not None and kept.asker_id == carla.id and kept.expert_id is None
        assert await uow.questions.get(asked.id) is None
        assert await uow.replies.written_by(bram.id) == []
        (left,) = await uow.signals.about(carla.id)
        assert left.reporter_id is None
        assert [r.dedupe_key for r in await uow.outbox.for_person(carla.id)] == ["c"]
        assert await uow.outbox.for_person(bram.id) == []  # it was about anna's question


async def test_deleting_a_person_with_questions_is_refused(uow_factory: UowFactory) -> None:
    """Questions.asker_id has no ON DELETE on purpose: erasure must delete them explicitly."""
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram = await person(uow, ws, "anna"), await person(uow, ws, "bram")
        await question(uow, ws, anna, bram)

    with pytest.raises(IntegrityError):
        async with uow_factory() as uow:
            await uow.people.delete(anna.id)
