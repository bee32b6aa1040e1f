"""Text retention on the real SQLite harness: old texts go everywhere they are stored, nothing else does."""

from __future__ import annotations

import json
from datetime import timedelta

from handlers.actions import Action
from handlers.overview import my_overview
from handlers.retention import TextKind, apply_retention, preview_retention, retention_cutoff
from nudges.delivery.scheduler import DeliveryScheduler
from tests.unit.world import rate_limited

DAYS = 90
OLD_QUESTION = "Mag ik contract 4711 van leverancier Jansen zo verlengen?"
OLD_REPLY = "Ja, dat mag, zolang de opzegtermijn van drie maanden blijft staan. Goed dat je het checkt."
NEW_QUESTION = "Klopt de termijn in offerte 815?"
NEW_REPLY = "Ja, die termijn klopt, dertig dagen is gebruikelijk voor deze leverancier."


async def old_and_new_threads(world) -> tuple[int, int, int]:
    """A closed old thread (100 days back), an old question never delivered (its outbox row stays
    pending), and a thread from 10 days ago. Returns (old, stuck, new) question ids."""
    start = world.clock.now()
    old = (await world.say("sanne", f"@anna #contracten {OLD_QUESTION} | inschatting: ja | twijfel")).question_id
    await world.drain()
    await world.reply("anna", old, OLD_REPLY)
    await world.press("sanne", Action.FELT_CURT, old)
    await world.press("sanne", Action.OUTCOME_CONFIRMED, old)
    await world.drain()
    # Bram's question to Lotte cannot go out (rate limited for a long time): it stays pending.
    world.messenger.fail_next.append(rate_limited(200 * 86400))
    stuck = (await world.say("bram", "@lotte Is this clause still valid?")).question_id
    await world.drain()
    world.clock.current = start + timedelta(days=90)
    new = (await world.say("sanne", f"@anna {NEW_QUESTION}")).question_id
    await world.drain()
    await world.reply("anna", new, NEW_REPLY)
    await world.press("sanne", Action.OUTCOME_NEW_INFO, new)
    await world.drain()
    world.clock.current = start + timedelta(days=100)
    return old, stuck, new


def kept_figures(world) -> dict[str, list[tuple]]:
    """Everything retention must leave alone."""
    return {
        "questions": world.rows("SELECT id, asker_id, expert_id, topic, kind, urgent, tag, tag_source, status, "
                                "asked_at, delivered_at, first_reply_at, outcome, outcome_at "
                                "FROM questions ORDER BY id"),
        "replies": world.rows("SELECT id, question_id, author_id, created_at, reply_seconds, curt_score, curt, "
                              "curt_reasons FROM replies ORDER BY id"),
        "signals": world.rows("SELECT * FROM signals ORDER BY id"),
        "outbox": world.rows("SELECT id, dedupe_key, person_id, kind, status, attempts, created_at, sent_at "
                             "FROM outbox ORDER BY id"),
    }


def payload_texts(world) -> dict[int, tuple[str, str | None, str | None]]:
    return {row_id: (status, json.loads(payload)["text"], redacted)
            for row_id, status, payload, redacted in world.rows(
                "SELECT id, status, payload, text_redacted_at FROM outbox ORDER BY id")}


async def test_old_texts_go_everywhere_and_everything_else_stays(world):
    old, stuck, new = await old_and_new_threads(world)
    before_counts, before_kept = world.counts(), kept_figures(world)
    overview_before = await my_overview(world.deps, world.actor("anna"))
    old_payloads = [t for _, t, _ in payload_texts(world).values() if t and (OLD_QUESTION in t or OLD_REPLY in t)]
    assert len(old_payloads) == 2  # the question as delivered to Anna, the answer as relayed to Sanne

    report = await apply_retention(world.uow, world.clock, DAYS)

    assert report.cutoff == retention_cutoff(world.clock.now(), DAYS)
    assert report.redacted[TextKind.QUESTIONS] == 2  # the old thread and the stuck one
    assert report.redacted[TextKind.REPLIES] == 1
    assert report.unsent_kept == 1
    questions = {qid: (text, assessment, redacted is not None) for qid, text, assessment, redacted in world.rows(
        "SELECT id, text, first_assessment, text_redacted_at FROM questions")}
    assert questions[old] == (None, None, True)
    assert questions[stuck] == (None, None, True)
    assert questions[new] == (NEW_QUESTION, None, False)
    assert world.rows("SELECT text, text_redacted_at IS NOT NULL FROM replies ORDER BY id") == [
        (None, 1), (NEW_REPLY, 0)]

    rows = payload_texts(world)
    for status, text, _ in rows.values():
        assert not text or (OLD_QUESTION not in text and OLD_REPLY not in text), (status, text)
    pending = [(text, redacted) for status, text, redacted in rows.values() if status == "pending"]
    assert len(pending) == 1 and "Is this clause still valid?" in pending[0][0] and pending[0][1] is None
    assert any(NEW_QUESTION in (text or "") for _, text, _ in rows.values())
    assert any(NEW_REPLY in (text or "") for _, text, _ in rows.values())
    redacted_rows = [text for _, text, redacted in rows.values() if redacted is not None]
    assert len(redacted_rows) == report.redacted[TextKind.MESSAGES] and all(t is None for t in redacted_rows)

    assert world.counts() == before_counts
    assert kept_figures(world) == before_kept
    assert await my_overview(world.deps, world.actor("anna")) == overview_before

    again = await apply_retention(world.uow, world.clock, DAYS)
    assert again.total_redacted == 0 and all(found.count == 0 for found in again.found.values())


async def test_a_dry_run_reports_per_kind_and_writes_nothing(world):
    await old_and_new_threads(world)
    snapshot = {t: world.rows(f"SELECT * FROM {t} ORDER BY 1") for t in ("questions", "replies", "outbox")}

    preview = await preview_retention(world.uow, world.clock, DAYS)

    assert {kind: found.count for kind, found in preview.found.items()} == {
        TextKind.QUESTIONS: 2, TextKind.REPLIES: 1, TextKind.MESSAGES: preview.found[TextKind.MESSAGES].count}
    assert preview.found[TextKind.MESSAGES].count >= 4  # question, relay, outcome prompt, nudges
    assert preview.total_redacted == 0 and preview.unsent_kept == 1
    assert preview.found[TextKind.QUESTIONS].oldest <= preview.found[TextKind.QUESTIONS].newest < preview.cutoff
    assert {t: world.rows(f"SELECT * FROM {t} ORDER BY 1") for t in ("questions", "replies", "outbox")} == snapshot
    applied = await apply_retention(world.uow, world.clock, DAYS)
    assert applied.redacted == {kind: found.count for kind, found in preview.found.items()}


async def test_small_batches_get_everything_and_a_later_send_is_redacted_the_next_day(world):
    await old_and_new_threads(world)
    due = (await preview_retention(world.uow, world.clock, DAYS)).found
    report = await apply_retention(world.uow, world.clock, DAYS, batch=1)
    assert report.redacted == {kind: found.count for kind, found in due.items()}

    # The stuck message goes out at last; it is older than the cutoff, so the next run takes its text.
    world.clock.advance(days=101)
    sent = await world.drain()
    assert any("Is this clause still valid?" in m.text for m in sent)
    following = await apply_retention(world.uow, world.clock, DAYS)
    assert following.unsent_kept == 0 and following.redacted[TextKind.MESSAGES] >= 1
    assert all(json.loads(p)["text"] is None for (p,) in world.rows(
        "SELECT payload FROM outbox WHERE status != 'pending' AND created_at < ?",
        following.cutoff.strftime("%Y-%m-%d %H:%M:%S")))


async def test_the_export_shows_a_placeholder_for_removed_texts(world):
    old, _, new = await old_and_new_threads(world)
    await apply_retention(world.uow, world.clock, DAYS)

    sanne = (await world.press("sanne", Action.EXPORT_DATA, world.people["sanne"].id)).replies[0].attachment.content
    questions = {q["id"]: q for q in sanne["questions"]}
    assert questions[old]["text"] == "(tekst verwijderd na 90 dagen)"
    assert questions[old]["first_assessment"] == "(tekst verwijderd na 90 dagen)"
    assert questions[old]["text_removed_at"] is not None
    assert (questions[old]["tag"], questions[old]["outcome"]) == ("werk", "confirmed")
    assert questions[new]["text"] == NEW_QUESTION and questions[new]["text_removed_at"] is None

    bram = (await world.press("bram", Action.EXPORT_DATA, world.people["bram"].id)).replies[0].attachment.content
    assert bram["questions"][0]["text"] == "(text removed after 90 days)"  # Bram reads English

    anna = (await world.press("anna", Action.EXPORT_DATA, world.people["anna"].id)).replies[0].attachment.content
    assert [r["text"] for r in anna["replies"]] == ["(tekst verwijderd na 90 dagen)", NEW_REPLY]
    # The report on the old thread outlives its text, as one of Anna's monthly counts (issue 11, finding 6).
    assert sum(m["count"] for m in anna["replies_of_yours_that_felt_curt"]["per_month"]) >= 1
    summary = await world.say("anna", "mijn-gegevens")
    assert "antwoorden die je schreef: 2" in summary.replies[0].text


async def test_the_daily_job_runs_retention_and_survives_a_failure(world, caplog):
    await old_and_new_threads(world)
    calls = []

    async def retention():
        calls.append(await apply_retention(world.uow, world.clock, DAYS))

    scheduler = DeliveryScheduler(world.dispatcher, 3600, retention=retention)
    await scheduler.retain()
    assert calls and calls[0].redacted[TextKind.QUESTIONS] == 2

    async def broken():
        raise RuntimeError("database went away")

    failing = DeliveryScheduler(world.dispatcher, 3600, retention=broken)
    await failing.retain()  # logged, not raised: tomorrow's run tries again
    assert "text retention failed" in caplog.text


async def test_a_question_whose_text_was_removed_can_still_be_answered(world):
    _, stuck, _ = await old_and_new_threads(world)
    await apply_retention(world.uow, world.clock, DAYS)
    world.clock.advance(days=101)
    await world.drain()  # the stuck question reaches Lotte at last, with its text
    result = await world.reply("lotte", stuck, "Yes, it is still valid until the end of next year.")
    assert result.ok
    sent = await world.drain()
    assert any("still valid" in m.text for m in world.to("bram", sent))


def test_a_retention_longer_than_the_calendar_removes_nothing(world):
    assert retention_cutoff(world.clock.now(), 10**6).year == 1


async def test_a_failing_weekly_planning_does_not_keep_the_monthly_pictures_from_being_planned(world, caplog):
    class Broken:
        async def plan_due(self) -> int:
            raise RuntimeError("database went away")

    class Monthly:
        planned = 0

        async def plan_due(self) -> int:
            Monthly.planned += 1
            return 0

    scheduler = DeliveryScheduler(world.dispatcher, 3600, planner=Broken(), monthly=Monthly())  # type: ignore[arg-type]
    await scheduler.plan()
    assert "weekly planning failed" in caplog.text
    assert Monthly.planned == 1
