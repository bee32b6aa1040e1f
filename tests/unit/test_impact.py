"""The impact figures (handlers.impact, docs/impact.md): Wilson intervals, fixed calendar months, who
counts as having asked again, the privacy cells at 4 and 5 people, hidden complements, totals that are
sums of shown cells; and that the bot records which reframing text each person got (export shows it,
forget-me deletes it, retention clears it when no report can look back that far)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from handlers import personal_data
from handlers.actions import Action
from handlers.impact import (
    FOLLOW_UP_DAYS,
    NONE_SENT,
    SIGNAL_DAYS,
    VARIANTS_KEPT,
    Group,
    Hidden,
    Interval,
    Proportion,
    Verdict,
    compare,
    impact_report,
    whole_months,
    wilson,
)
from handlers.models import MessageKind, Outcome, QuestionKind, Tag, TagSource
from handlers.ports import ImpactQuestion
from handlers.retention import apply_retention
from storage.tables import OutboxMessage

ZONE = "Europe/Amsterdam"
NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)  # April 2026 is settled by now, May is not
MONTHS = whole_months(NOW, 3, ZONE)  # 2026-03, 2026-04, 2026-05
APRIL = MONTHS[1]
_ids = itertools.count(1)


def question(asker: int, expert: int | None, asked_at: datetime, *, curt_after: timedelta | None = None,
             outcome: str | None = None, outcome_after: timedelta = timedelta(hours=2), curt_variant: int | None = None,
             confirmation_variant: int | None = None, kind: str | None = None, tag: str = Tag.WERK,
             in_role: bool = False, topic: str = "contracten") -> ImpactQuestion:
    return ImpactQuestion(
        id=next(_ids), asker_id=asker, expert_id=expert, topic=topic, kind=kind, tag=tag,
        tag_source=TagSource.TOPIC_RULE if in_role else TagSource.DEFAULT, asked_at=asked_at, outcome=outcome,
        outcome_at=asked_at + outcome_after if outcome else None,
        curt_at=asked_at + curt_after if curt_after is not None else None, curt_variant=curt_variant,
        confirmation_variant=confirmation_variant, autonomy_sent=False, in_role=in_role)


def curt_episodes(people: int, *, experts: int | None = None, returned: int = 0, variants: list[int] | None = None,
                  start: datetime | None = None) -> list[ImpactQuestion]:
    """``people`` askers with one curt reply each in April; the first ``returned`` ask again a week later."""
    start = start or APRIL.start + timedelta(days=3)
    experts = experts or people
    rows = []
    for n in range(people):
        asker = 100 + n
        rows.append(question(asker, 500 + n % experts, start + timedelta(hours=n), curt_after=timedelta(hours=1),
                             curt_variant=variants[n] if variants else None))
        if n < returned:
            rows.append(question(asker, 500, start + timedelta(days=7, hours=n)))
    return rows


def report(rows: list[ImpactQuestion], min_group_size: int = 5, months=MONTHS):
    return impact_report(rows, months, NOW, min_group_size)


def april(result, group: Group, variant: str | None = None) -> Proportion:
    [cell] = [r.cell for r in result.returns if r.month == APRIL.label and r.group == group and r.variant == variant]
    return cell


# --------------------------------------------------------------------------- statistics


def test_wilson_intervals_match_the_published_values():
    # 95% Wilson score intervals, as tabulated (e.g. Newcombe 1998, Table I): 0/10, 5/10, 10/10, 81/263.
    cases = {(0, 10): (0.0, 0.2775), (5, 10): (0.2366, 0.7634), (10, 10): (0.7225, 1.0), (81, 263): (0.2553, 0.3662)}
    for (hits, trials), (low, high) in cases.items():
        interval = wilson(hits, trials)
        assert interval.low == pytest.approx(low, abs=5e-4) and interval.high == pytest.approx(high, abs=5e-4)
    with pytest.raises(ValueError):
        wilson(3, 0)
    with pytest.raises(ValueError):
        wilson(4, 3)


def test_a_difference_only_when_the_intervals_leave_no_overlap():
    low, high = Proportion(100, 30), Proportion(100, 70)
    assert compare(low, high) == Verdict.LOWER and compare(high, low) == Verdict.HIGHER
    assert compare(Proportion(100, 45), Proportion(100, 55)) == Verdict.NO_DIFFERENCE
    assert compare(Proportion(100, 30, hidden=Hidden.TOO_FEW), high) == Verdict.TOO_FEW
    assert Interval(0.1, 0.3).overlaps(Interval(0.3, 0.5)) and not Interval(0.1, 0.29).overlaps(Interval(0.3, 0.5))


# --------------------------------------------------------------------------- windows


def test_months_are_whole_calendar_months_in_the_teams_time_zone():
    months = whole_months(datetime(2026, 3, 15, tzinfo=UTC), 3, ZONE)
    assert [m.label for m in months] == ["2025-12", "2026-01", "2026-02"]  # the running month is never one
    assert months[1].start == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)  # 1 January, midnight in Amsterdam
    assert months[0].end == months[1].start and months[1].end == months[2].start
    # Half past midnight on 1 March in Amsterdam is still 28 February in UTC: March is running already.
    assert whole_months(datetime(2026, 2, 28, 23, 30, tzinfo=UTC), 1, ZONE)[0].label == "2026-02"
    assert whole_months(datetime(2026, 4, 1, 12, tzinfo=UTC), 1, ZONE)[0].end == datetime(2026, 3, 31, 22, tzinfo=UTC)
    with pytest.raises(ValueError):
        whole_months(NOW, 0, ZONE)


def test_asked_again_means_within_four_weeks_after_the_reply_and_a_late_signal_counts_for_nothing():
    start = APRIL.start + timedelta(days=2)
    rows = []
    for n in range(5):  # asks again just inside the four weeks after the curt reply
        rows += [question(n, 50 + n, start, curt_after=timedelta(hours=1)),
                 question(n, 50, start + timedelta(hours=1, days=FOLLOW_UP_DAYS) - timedelta(minutes=1))]
    for n in range(5, 10):  # just outside, and one before the reply, which does not count
        rows += [question(n, 50, start - timedelta(hours=1)),
                 question(n, 50 + n, start, curt_after=timedelta(hours=1)),
                 question(n, 50, start + timedelta(hours=1, days=FOLLOW_UP_DAYS, minutes=1))]
    for n in range(10, 15):  # the curt report came after SIGNAL_DAYS: no episode
        rows.append(question(n, 50 + n, start, curt_after=timedelta(days=SIGNAL_DAYS, minutes=1)))
    cell = april(report(rows), Group.CURT)
    assert (cell.people, cell.trials, cell.hits) == (10, 10, 5)


def test_one_trial_per_person_and_month_however_often_they_ask():
    start = APRIL.start + timedelta(days=2)
    rows = [question(n, 60 + n, start + timedelta(days=d), outcome=Outcome.NEW_INFO)
            for n in range(5) for d in range(4)]
    cell = april(report(rows), Group.NEW_INFO)
    assert cell.trials == 5 and cell.hits == 5  # the first question of each; the next ones are the returns


def test_a_month_is_settled_only_when_its_four_weeks_after_have_ended():
    rows = curt_episodes(6, start=MONTHS[2].start + timedelta(days=1))  # in May
    result = report(rows)
    assert result.settled == ["2026-03", "2026-04"]
    [may] = [r.cell for r in result.returns if r.month == "2026-05" and r.group == Group.CURT and r.variant is None]
    assert may.hidden == Hidden.NOT_SETTLED and not may.shown


# --------------------------------------------------------------------------- privacy


def test_return_to_ask_is_shown_for_five_people_and_hidden_for_four():
    assert april(report(curt_episodes(5, returned=2)), Group.CURT).shown
    assert april(report(curt_episodes(5, returned=2)), Group.CURT).rate == pytest.approx(0.4)
    four = april(report(curt_episodes(4, returned=2)), Group.CURT)
    assert four.hidden == Hidden.TOO_FEW and four.rate is None and four.interval is None
    # Curt replies are about the experts too: five askers answered by only four experts stay hidden.
    assert april(report(curt_episodes(5, experts=4)), Group.CURT).hidden == Hidden.TOO_FEW
    # A configured minimum below five is raised to five; above five it counts.
    assert not april(report(curt_episodes(4), min_group_size=3), Group.CURT).shown
    assert not april(report(curt_episodes(5), min_group_size=6), Group.CURT).shown


def test_the_totals_and_comparisons_say_too_few_people_when_every_month_is_small():
    rows = curt_episodes(4) + [question(200 + n, 300 + n, APRIL.start + timedelta(days=5), outcome=Outcome.NEW_INFO)
                               for n in range(4)]
    result = report(rows)
    assert not result.total(Group.CURT).shown and not result.total(Group.NEW_INFO).shown
    assert {c.verdict for c in result.comparisons} == {Verdict.TOO_FEW}


def test_monthly_and_weekly_figures_need_five_people():
    def team(size: int) -> list[ImpactQuestion]:
        monday = datetime(2026, 4, 6, 9, tzinfo=UTC)  # 2026-W15, inside April
        return [question(n, 40 + n, monday + timedelta(hours=n), kind=QuestionKind.COMPLEX if n % 2 else
                         QuestionKind.DOUBT, tag=Tag.WERK if n < 3 else Tag.GUNST, in_role=n == 0) for n in range(size)]

    five, four = report(team(5)), report(team(4))
    [april5] = [m for m in five.monthly if m.month == APRIL.label]
    [april4] = [m for m in four.monthly if m.month == APRIL.label]
    assert april5.share_werk.value == pytest.approx(0.6) and april5.share_in_role.value == pytest.approx(0.2)
    assert april4.share_werk.hidden == Hidden.TOO_FEW and april4.share_werk.value is None
    # Complex (2 askers of 5) and doubt (3 of 5) questions have too few askers of their own either way.
    assert april5.complex_questions.hidden == Hidden.TOO_FEW and april5.doubt_per_person_topic.hidden == Hidden.TOO_FEW
    [week5] = [w for w in five.weekly if w.week == "2026-W15"]
    [week4] = [w for w in four.weekly if w.week == "2026-W15"]
    assert week5.active_askers.value == 5 and week5.questions_per_asker.value == 1
    assert week4.active_askers.value is None and week4.active_askers.hidden == Hidden.TOO_FEW


def test_no_text_variant_cell_can_be_worked_out_by_subtraction():
    # April's curt group: 15 people; text 1 went to 6, text 2 to 5, text 3 to 4 (too few to show). Shown
    # alone, text 3's four people would be the total minus the other two: so text 2 is hidden as well.
    variants = [0] * 6 + [1] * 5 + [2] * 4
    result = report(curt_episodes(15, returned=8, variants=variants))
    assert april(result, Group.CURT).shown
    assert april(result, Group.CURT, "1").shown and april(result, Group.CURT, "1").trials == 6
    assert april(result, Group.CURT, "2").hidden == Hidden.COMPLEMENT
    assert april(result, Group.CURT, "3").hidden == Hidden.TOO_FEW
    # With five for text 3 nothing needs hiding; a variant nobody got is simply empty.
    result = report(curt_episodes(16, variants=[0] * 6 + [1] * 5 + [2] * 5))
    assert all(april(result, Group.CURT, v).shown for v in ("1", "2", "3"))
    assert NONE_SENT not in result.variants[Group.CURT]  # only the variants people got are reported


def test_totals_are_sums_of_shown_months_so_longer_spans_add_only_what_is_shown():
    march = curt_episodes(4, start=MONTHS[0].start + timedelta(days=2))  # hidden: four people
    april_rows = curt_episodes(6, returned=3)
    both = report(march + april_rows)
    assert both.total(Group.CURT).trials == 6 and both.total(Group.CURT).hits == 3  # March's four left out
    assert both.total(Group.CURT).people is None  # a total says nothing about who: no head count
    only_april = report(march + april_rows, months=MONTHS[1:])
    assert only_april.total(Group.CURT) == both.total(Group.CURT)


# --------------------------------------------------------------------------- recording the variant


async def nudge_rows(world, kind: str) -> list[OutboxMessage]:
    async with world.uow() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                              .order_by(OutboxMessage.id)))


async def curt_question(world) -> int:
    qid = (await world.say("sanne", "@anna #contracten Mag dit zo?")).question_id
    await world.reply("anna", qid, "Ja.")
    await world.press("sanne", Action.FELT_CURT, qid)
    await world.press("sanne", Action.OUTCOME_CONFIRMED, qid)
    return qid


async def test_every_rotated_reframing_text_records_its_variant_and_export_and_forget_cover_it(world):
    for _ in range(4):
        await curt_question(world)
    await world.drain()
    curt = await nudge_rows(world, MessageKind.NUDGE_CURT)
    assert [row.text_variant for row in curt] == [0, 1, 2, 0]  # three curt texts, in turn
    for row, variant in zip(curt, [0, 1, 2, 0], strict=True):
        assert row.payload["text"] == world.deps.catalog.variant("nl", "nudge.curt", variant, expert="Anna")
    confirmation = await nudge_rows(world, MessageKind.NUDGE_CONFIRMATION)
    assert [row.text_variant for row in confirmation] == [0, 1, 2, 3]
    assert [row.text_variant for row in await nudge_rows(world, MessageKind.NUDGE_IN_ROLE)] == [0, 1, 2, 0]

    async with world.uow() as uow:
        sanne = await uow.people.get(world.people["sanne"].id)
        exported = await personal_data.collect(uow, sanne)
    shown = [m["text_variant"] for m in exported["messages_to_you"] if m["kind"] == MessageKind.NUDGE_CURT]
    assert shown == [1, 2, 3, 1]  # counted from 1 for people

    await world.press("sanne", Action.FORGET_CONFIRM, world.people["sanne"].id)
    assert world.rows("SELECT count(*) FROM outbox WHERE text_variant IS NOT NULL") == [(0,)]


async def test_retention_clears_variants_older_than_any_report_looks_back(world):
    await curt_question(world)
    world.clock.advance(days=VARIANTS_KEPT.days - 1)
    await curt_question(world)
    world.clock.advance(days=2)  # the first question's nudges are now older than VARIANTS_KEPT
    result = await apply_retention(world.uow, world.clock, 90)
    assert result.variants_cleared == 3  # its in-role, curt and confirmation nudges
    curt = await nudge_rows(world, MessageKind.NUDGE_CURT)
    assert [row.text_variant for row in curt] == [None, 1]
    assert all(row.status for row in curt)  # the rows stay (their keys stop a second send)
