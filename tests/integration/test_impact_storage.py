"""The impact report's reads (storage/repositories/impact.py) on SQLite and PostgreSQL, and the proof that
the report finds effects: a synthetic organisation (tests/impact_world.py) with planted effects, whose
report must recover them within its intervals, and must say "no difference" when none were planted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update

from handlers.impact import Group, Verdict, impact_report, reading_span, whole_months
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind, OutboxStatus, Outcome, SignalKind
from storage.tables import OutboxMessage, Question
from storage.uow import SqlUnitOfWork
from tests.impact_world import NO_EFFECT, Planted, generate, write
from tests.integration.helpers import NOW, person, question, workspace

UowFactory = Callable[[], SqlUnitOfWork]
ZONE = "Europe/Amsterdam"


async def nudge(uow: SqlUnitOfWork, asker_id: int, question_id: int, kind: MessageKind, variant: int | None, *,
                sent: bool = True) -> None:
    row = await uow.outbox.add(dedupe_key=f"p{asker_id}:{kind}:q{question_id}", period=f"q{question_id}",
                               message=OutgoingMessage(kind, "tekst", person_id=asker_id, question_id=question_id),
                               due_at=NOW, now=NOW, text_variant=variant)
    assert row is not None
    if sent:
        await uow.outbox.mark_sent(row.id, NOW)


async def test_the_team_s_questions_with_what_followed_each(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws, other = await workspace(uow), await workspace(uow, "T2")
        sanne, anna = await person(uow, ws, "sanne"), await person(uow, ws, "anna")
        elsewhere = await person(uow, other, "bram")
        curt = await question(uow, ws, sanne, anna, asked_at=NOW)
        confirmed = await question(uow, ws, sanne, anna, asked_at=NOW + timedelta(hours=1), kind="doubt")
        pending = await question(uow, ws, anna, sanne, asked_at=NOW + timedelta(hours=2))
        old_nudge = await question(uow, ws, anna, sanne, asked_at=NOW + timedelta(hours=3))
        await question(uow, ws, sanne, anna, asked_at=NOW + timedelta(days=40))  # after the span
        await question(uow, other, elsewhere, elsewhere, asked_at=NOW)  # another team
        for kind, minutes in ((SignalKind.CURT_REPORTED, 50), (SignalKind.CURT_DETECTED, 10),
                              (SignalKind.CONFIRMATION_ONLY, 5)):
            await uow.signals.add(question_id=curt.id, subject_id=anna.id, reporter_id=None, kind=kind,
                                  created_at=NOW + timedelta(minutes=minutes))
        await nudge(uow, sanne.id, curt.id, MessageKind.NUDGE_CURT, 2)
        await nudge(uow, sanne.id, curt.id, MessageKind.NUDGE_IN_ROLE, 1, sent=False)  # in role, even unsent
        await nudge(uow, sanne.id, confirmed.id, MessageKind.NUDGE_CONFIRMATION, 0)
        await nudge(uow, sanne.id, confirmed.id, MessageKind.NUDGE_AUTONOMY, 1)
        await nudge(uow, anna.id, pending.id, MessageKind.NUDGE_CURT, 1, sent=False)  # not received (yet)
        await nudge(uow, anna.id, old_nudge.id, MessageKind.NUDGE_CURT, None)  # sent before 0012
        await uow.session.execute(update(Question).where(Question.id == confirmed.id)
                                  .values(outcome=Outcome.CONFIRMED, outcome_at=NOW + timedelta(hours=2)))
    async with uow_factory() as uow:
        rows = await uow.impact.questions_asked(ws.id, NOW, NOW + timedelta(days=30))
        assert await uow.impact.languages(ws.id) == []
    assert [r.id for r in rows] == [curt.id, confirmed.id, pending.id, old_nudge.id]
    by_id = {r.id: r for r in rows}
    first = by_id[curt.id]
    assert first.curt_at == NOW + timedelta(minutes=10) and first.curt_at.tzinfo is not None
    assert (first.curt_variant, first.confirmation_variant, first.autonomy_sent) == (2, None, False)
    assert first.in_role
    second = by_id[confirmed.id]
    assert (second.curt_at, second.curt_variant, second.confirmation_variant) == (None, None, 0)
    assert second.autonomy_sent
    assert second.outcome == Outcome.CONFIRMED and second.outcome_at == NOW + timedelta(hours=2)
    assert second.kind == "doubt" and second.in_role is False and second.asker_id == sanne.id
    assert by_id[pending.id].curt_variant is None  # queued, not sent: nobody read it
    assert by_id[old_nudge.id].curt_variant == -1  # sent, variant unknown


async def test_languages_of_the_team_s_weekly_messages(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna = await person(uow, ws, "anna")
        for channel, language in (("slack:C1", "en"), ("slack:C2", "nl"), ("slack:C3", "en")):
            await uow.team_schedules.save(workspace_id=ws.id, channel=channel, weekday=0, hour=9, minute=0,
                                          time_zone=ZONE, language=language, changed_by=anna.id, now=NOW)
    async with uow_factory() as uow:
        assert await uow.impact.languages(ws.id) == ["en", "nl"]


async def test_retention_clears_old_variants_only(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        ws = await workspace(uow)
        sanne, anna = await person(uow, ws, "sanne"), await person(uow, ws, "anna")
        q = await question(uow, ws, sanne, anna)
        await uow.session.execute(insert(OutboxMessage), [
            {"dedupe_key": f"k{n}", "person_id": sanne.id, "kind": MessageKind.NUDGE_CURT, "period": "p",
             "payload": {}, "question_id": q.id, "status": OutboxStatus.SENT, "due_at": NOW,
             "created_at": NOW - timedelta(days=days), "text_variant": n}
            for n, days in enumerate((10, 800, 801))])
    async with uow_factory() as uow:
        assert await uow.outbox.forget_variants(NOW - timedelta(days=799)) == 2
        assert await uow.outbox.forget_variants(NOW - timedelta(days=799)) == 0
    async with uow_factory() as uow:
        assert [r.text_variant for r in await uow.outbox.for_person(sanne.id)] == [None, None, 0]


# --------------------------------------------------------------------------- planted effects


REPORT_AT = datetime(2026, 6, 20, 12, tzinfo=UTC)


async def planted_report(uow_factory: UowFactory, planted: Planted, seed: int):
    months = whole_months(REPORT_AT, 12, ZONE)
    organisation = generate(people=300, start=months[0].start - timedelta(days=45), end=REPORT_AT,
                            planted=planted, seed=seed)
    async with uow_factory() as uow:
        await write(await uow.session.connection(), organisation)
    async with uow_factory() as uow:
        rows = await uow.impact.questions_asked(organisation.workspace_id, *reading_span(months))
    return impact_report(rows, months, REPORT_AT, min_group_size=5)


async def test_the_report_recovers_the_planted_effects_within_its_intervals(uow_factory: UowFactory) -> None:
    planted = Planted()
    result = await planted_report(uow_factory, planted, seed=17)
    truth = {(Group.NEW_INFO, None): planted.after_new_info, (Group.CONFIRMED, None): planted.confirmed,
             **{(Group.CURT, str(v + 1)): planted.curt(v) for v in range(planted.curt_variants)},
             **{(Group.CONFIRMED, str(v + 1)): planted.confirmed for v in range(planted.confirmation_variants)}}
    for (group, variant), rate in truth.items():
        cell = result.total(group, variant)
        assert cell.shown and cell.trials >= 100, (group, variant, cell)
        assert cell.interval.low <= rate <= cell.interval.high, (group, variant, rate, cell.interval)
    verdicts = {(c.subject, c.against): c.verdict for c in result.comparisons}
    assert verdicts[((Group.CURT, None), (Group.NEW_INFO, None))] == Verdict.LOWER
    assert verdicts[((Group.CONFIRMED, None), (Group.NEW_INFO, None))] == Verdict.LOWER
    assert verdicts[((Group.CURT, "1"), (Group.CURT, "2"))] == Verdict.LOWER  # text 2 gives part back
    assert verdicts[((Group.CURT, "2"), (Group.CURT, "3"))] == Verdict.HIGHER
    assert verdicts[((Group.CURT, "1"), (Group.CURT, "3"))] == Verdict.NO_DIFFERENCE  # none planted between them
    # Text 2 restores part of the drop, not all of it: still below the new-information group.
    assert result.total(Group.CURT, "2").interval.high < result.total(Group.NEW_INFO).interval.low


@pytest.mark.parametrize("seed", [3, 29])
async def test_no_difference_when_none_was_planted(uow_factory: UowFactory, seed: int) -> None:
    result = await planted_report(uow_factory, NO_EFFECT, seed=seed)
    assert result.total(Group.CURT).shown and result.total(Group.CURT).trials >= 300
    assert {c.verdict for c in result.comparisons} == {Verdict.NO_DIFFERENCE}
