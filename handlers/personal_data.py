"""Every person can see, export and delete what the bot stores about them (docs/architecture.md)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date

from handlers.actions import Action, forget_buttons
from handlers.context import Actor, Deps
from handlers.errors import NotAllowed
from handlers.insights import CURT_KINDS
from handlers.messages import Button, DataExport, OutgoingMessage, Result
from handlers.models import MessageKind
from handlers.people import find_person
from handlers.ports import PersonRecord, SignalRecord, UnitOfWork

log = logging.getLogger(__name__)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def felt_curt_about(person: PersonRecord, signal: SignalRecord) -> bool:
    """A curt signal about the person that someone else gave: the bot's or an asker's. The person
    sees these only as counts per finished calendar month (docs/architecture.md): not as two kinds,
    not per question, not dated, so no asker who reported a reply can be picked out."""
    return signal.subject_id == person.id and signal.kind in CURT_KINDS and signal.reporter_id != person.id


def _zone(person: PersonRecord) -> ZoneInfo:
    try:
        return ZoneInfo(person.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def curt_months(person: PersonRecord, signals: Iterable[SignalRecord], now: datetime) -> dict[str, int]:
    """``YYYY-MM`` (the person's own time zone) -> on how many questions a reply of theirs felt curt,
    newest month first. A question counts once, in the month it first felt curt, so a report on a
    reply the bot had already found curt adds nothing. The running month is left out until it is
    over: a count that moves while you watch would date a report, and with it tell whose it was."""
    zone = _zone(person)
    running = now.astimezone(zone).strftime("%Y-%m")
    first: dict[int, datetime] = {}
    for s in signals:
        if felt_curt_about(person, s):
            first[s.question_id] = min(first.get(s.question_id, s.created_at), s.created_at)
    months = Counter(moment.astimezone(zone).strftime("%Y-%m") for moment in first.values())
    return {month: months[month] for month in sorted(months, reverse=True) if month < running}


def _month_name(month: str, locale: str) -> str:
    year, number = month.split("-")
    return format_date(date(int(year), int(number), 1), format="LLLL y", locale=locale)


async def collect(uow: UnitOfWork, person: PersonRecord, removed: str | None = None, *,
                  now: datetime | None = None, curt_about: str | None = None) -> dict[str, Any]:
    """Everything stored about a person, as plain JSON-ready data. ``removed`` stands in for texts that
    retention removed (default: None, as stored); ``curt_about`` explains the curt counts."""

    def kept(text: str | None, redacted_at: datetime | None) -> str | None:
        return removed if redacted_at is not None else text

    def question(role: str, q: Any) -> dict[str, Any]:
        shown = {
            "id": q.id, "role": role, "topic": q.topic, "text": kept(q.text, q.text_redacted_at),
            "first_assessment": kept(q.first_assessment, q.text_redacted_at),
            "text_removed_at": _iso(q.text_redacted_at),
            # The kind is the asker's: the expert sees it only when the asker chose to show it.
            "kind": q.kind if role == "asker" or q.kind_shared else None,
            "urgent": q.urgent, "tag": q.tag, "tag_source": q.tag_source, "status": q.status,
            "asked_at": _iso(q.asked_at), "delivered_at": _iso(q.delivered_at),
            "first_reply_at": _iso(q.first_reply_at), "outcome": q.outcome, "outcome_at": _iso(q.outcome_at),
            "interrupted_focus": q.interrupted_focus,
        }
        if role == "asker":
            shown["kind_shown_to_expert"] = q.kind_shared
        return shown

    questions = [
        question(role, q)
        for role, rows in (("asker", await uow.questions.asked_by(person.id)),
                           ("expert", await uow.questions.answered_by(person.id)))
        for q in rows
    ]
    replies = [
        # No per-reply curt verdict: with it the monthly count below would split into what the bot
        # found and what askers reported, and a report could be traced to its question.
        {"id": r.id, "question_id": r.question_id, "text": kept(r.text, r.text_redacted_at),
         "text_removed_at": _iso(r.text_redacted_at), "created_at": _iso(r.created_at),
         "reply_seconds": r.reply_seconds}
        for r in await uow.replies.written_by(person.id)
    ]
    stored_signals = await uow.signals.about(person.id)
    signals = [
        # What the person did themself (a confirmation, a report). Who reported a signal is the
        # reporter's data, not the subject's: leave it out.
        {"id": s.id, "question_id": s.question_id, "kind": s.kind, "about_you": s.subject_id == person.id,
         "reported_by_you": s.reporter_id == person.id, "created_at": _iso(s.created_at)}
        for s in stored_signals if not felt_curt_about(person, s)
    ]
    felt_curt = curt_months(person, stored_signals, now or datetime.now(UTC))
    messages = [
        {"id": m.id, "kind": m.kind, "status": m.status, "created_at": _iso(m.created_at),
         "sent_at": _iso(m.sent_at), "question_id": m.question_id,
         # Which version of a rotated text it was (1 = the first), kept for the team's impact report.
         "text_variant": None if m.text_variant is None else m.text_variant + 1}
        for m in await uow.outbox.for_person(person.id)
    ]
    return {
        "person": {"id": person.id, "platform_user_id": person.external_id, "handle": person.handle,
                   "display_name": person.display_name, "locale": person.locale, "time_zone": person.time_zone,
                   "recognition_opt_out": person.recognition_opt_out, "created_at": _iso(person.created_at),
                   # Teams: the Microsoft Entra object id, kept for presence and the people picker
                   **({"entra_object_id": aad} if (aad := getattr(person, "aad_object_id", None)) else {})},
        "topics_in_role": [t.topic for t in await uow.topics.list_for(person.id)],
        "questions": questions,
        "replies": replies,
        "signals": signals,
        "replies_of_yours_that_felt_curt": {
            "per_month": [{"month": month, "count": count} for month, count in felt_curt.items()],
            "about": curt_about,
        },
        "messages_to_you": messages,
        # The channel settings they were the last to change (the name goes when they are forgotten).
        "team_nudge_settings_last_changed_by_you": [
            {"channel": s.channel, "updated_at": _iso(s.updated_at)}
            for s in await uow.team_schedules.changed_by_person(person.id)],
        "personal_chat_reference_stored": await uow.conversations.get(
            person.workspace_id, "person", person.external_id) is not None,
    }


def _nothing_stored(deps: Deps, actor: Actor) -> Result:
    locale = deps.locale_of(actor)
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, deps.catalog.text(locale, "data.nothing_stored"))])


async def _stored_data(deps: Deps, actor: Actor) -> tuple[PersonRecord, dict[str, Any]] | None:
    async with deps.uow() as uow:
        person = await find_person(uow, actor)
        if person is None:
            return None
        removed = deps.catalog.text(person.locale, "data.text_removed", days=deps.policy.text_retention_days)
        return person, await collect(uow, person, removed, now=deps.clock.now(),
                                     curt_about=deps.catalog.text(person.locale, "data.curt_about"))


async def show_my_data(deps: Deps, actor: Actor) -> Result:
    stored = await _stored_data(deps, actor)
    if stored is None:
        return _nothing_stored(deps, actor)
    person, data = stored
    asked = sum(1 for q in data["questions"] if q["role"] == "asker")
    months = data["replies_of_yours_that_felt_curt"]["per_month"]
    curt = ", ".join(f"{_month_name(m['month'], person.locale)}: {m['count']}" for m in months)
    text = deps.catalog.text(
        person.locale, "data.summary", asked=asked, answered=len(data["questions"]) - asked,
        replies=len(data["replies"]), signals=len(data["signals"]), topics=len(data["topics_in_role"]),
        messages=len(data["messages_to_you"]), curt=curt or deps.catalog.text(person.locale, "data.curt_none"),
    )
    export = Button(deps.catalog.text(person.locale, "button.export"), Action.EXPORT_DATA, str(person.id))
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=person.id, buttons=(export,))])


async def export_my_data(deps: Deps, actor: Actor) -> Result:
    """Always the acting person's own data, whatever the button carried."""
    stored = await _stored_data(deps, actor)
    if stored is None:
        return _nothing_stored(deps, actor)
    person, data = stored
    text = deps.catalog.text(person.locale, "data.export_ready")
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=person.id,
                                           attachment=DataExport(data))])


async def ask_to_forget(deps: Deps, actor: Actor) -> Result:
    """Deleting is final, so it takes a second, explicit click."""
    async with deps.uow() as uow:
        person = await find_person(uow, actor)
        if person is None:
            return _nothing_stored(deps, actor)
    text = deps.catalog.text(person.locale, "forget.confirm_prompt")
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=person.id,
                                           buttons=forget_buttons(deps.catalog, person.locale, person.id))])


async def forget_me(deps: Deps, actor: Actor, confirmed_person_id: int) -> Result:
    async with deps.uow() as uow:
        person = await find_person(uow, actor)
        if person is None:
            return _nothing_stored(deps, actor)
        if person.id != confirmed_person_id:
            log.warning("refused: person %s pressed forget-me for person %s", person.id, confirmed_person_id)
            raise NotAllowed("error.not_yourself")
        locale = person.locale
        await erase(uow, person.id, deps.clock.now())
    log.info("erased person %s on their own request", confirmed_person_id)
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, deps.catalog.text(locale, "forget.done"))])


async def erase(uow: UnitOfWork, person_id: int, now: datetime | None = None) -> None:
    """Questions they asked and replies they wrote, signals about them, their topics, their messages.
    Questions others asked them stay with the asker, without the expert (and without the thread in
    the expert's chat). Messages to others about them (the relay of their answer, their werk/gunst
    tag, a weekly recognition naming them) lose that: see OutboxRepository.forget_mentions. What
    stays is other people's own writing, which may name them: that is the writer's, and goes with
    text retention."""
    person = await uow.people.get(person_id)
    if person is not None:
        # Before anything is deleted: which questions were theirs to answer, and what names them.
        answered = [q.id for q in await uow.questions.answered_by(person_id)]
        await uow.outbox.forget_mentions(person_id=person_id, question_ids=answered,
                                         names=(person.display_name, person.handle, person.external_id),
                                         now=now or datetime.now(UTC))
    await uow.questions.delete_asked_by(person_id)
    await uow.replies.delete_written_by(person_id)
    await uow.signals.delete_about(person_id)
    await uow.questions.detach_expert(person_id)
    await uow.topics.delete_for(person_id)
    await uow.outbox.delete_for_person(person_id)
    if person is not None:  # the platform's handle on their personal chat is theirs too
        await uow.conversations.delete_person(person.workspace_id, person.external_id)
    await uow.people.delete(person_id)
