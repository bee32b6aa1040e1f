"""Asking an expert: validation, routing, the werk/gunst rule, focus-aware delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handlers.actions import held_buttons, tag_buttons
from handlers.context import Actor, Deps
from handlers.errors import InvalidInput, NotFound
from handlers.focus import next_look, recheck_of
from handlers.messages import OutgoingMessage, Result
from handlers.models import (
    MAX_ASSESSMENT_CHARS,
    MAX_QUESTION_CHARS,
    MAX_TOPIC_CHARS,
    MessageKind,
    QuestionKind,
    QuestionStatus,
    Tag,
    TagSource,
    normalise_topic,
)
from handlers.people import ensure_person, find_colleague, question_for_asker
from handlers.ports import Catalog, Clock, OutboxRecord, PersonRecord, QuestionRecord, UnitOfWork
from handlers.queueing import queue, rotation_seed
from handlers.text import clean_user_text
from handlers.timefmt import local_when


@dataclass(frozen=True)
class AskRequest:
    text: str
    expert_handle: str | None = None
    expert_external_id: str | None = None
    topic: str | None = None
    first_assessment: str | None = None
    kind: QuestionKind | None = None
    urgent: bool = False
    share_kind: bool = False  # the expert sees the kind only if the asker chose so (docs/architecture.md, privacy)


def validate(request: AskRequest) -> AskRequest:
    """Refuse bad input before anything is written."""
    text = clean_user_text(request.text).strip()
    if not text:
        raise InvalidInput("error.empty_question")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidInput("error.question_too_long", max=MAX_QUESTION_CHARS, length=len(text))
    assessment = clean_user_text(request.first_assessment or "").strip() or None
    if assessment and len(assessment) > MAX_ASSESSMENT_CHARS:
        raise InvalidInput("error.assessment_too_long", max=MAX_ASSESSMENT_CHARS)
    topic = normalise_topic(request.topic) if request.topic else None
    if request.topic is not None and not topic:
        raise InvalidInput("error.empty_topic")
    if topic and len(topic) > MAX_TOPIC_CHARS:
        raise InvalidInput("error.topic_too_long", max=MAX_TOPIC_CHARS)
    if not (request.expert_handle or request.expert_external_id or topic):
        raise InvalidInput("error.no_expert")
    return AskRequest(
        text=text,
        expert_handle=request.expert_handle,
        expert_external_id=request.expert_external_id,
        topic=topic,
        first_assessment=assessment,
        kind=request.kind,
        urgent=request.urgent,
        share_kind=request.share_kind and request.kind is not None,  # a form may tick it without a kind
    )


async def _choose_expert(uow: UnitOfWork, asker: PersonRecord, request: AskRequest) -> PersonRecord:
    if request.expert_handle or request.expert_external_id:
        expert = await find_colleague(
            uow, asker.workspace_id, handle=request.expert_handle, external_id=request.expert_external_id
        )
    else:
        assert request.topic is not None  # validate() guarantees an expert or a topic
        expert = await route_by_topic(uow, asker, request.topic)
    if expert.id == asker.id:
        raise InvalidInput("error.ask_yourself")
    return expert


async def route_by_topic(uow: UnitOfWork, asker: PersonRecord, topic: str) -> PersonRecord:
    """An expert who declared the topic in-role; with several, the one with fewest open questions."""
    experts = [p for p in await uow.topics.experts_for(asker.workspace_id, topic)
               if p.id != asker.id and not p.unreachable]
    if not experts:
        raise NotFound("error.no_expert_for_topic", topic=topic)
    counts = await uow.questions.open_counts([p.id for p in experts])
    return min(experts, key=lambda p: (counts.get(p.id, 0), p.id))


async def ask(deps: Deps, actor: Actor, request: AskRequest) -> Result:
    request = validate(request)
    async with deps.uow() as uow:
        asker = await ensure_person(uow, deps, actor)
        expert = await _choose_expert(uow, asker, request)
    # Asking the platform about focus time is a network call: keep it outside any transaction.
    focus_end = await deps.presence.focus_until(expert, actor.platform)
    async with deps.uow() as uow:
        asker, expert, seed = await _still_there(uow, deps, actor, asker, expert, with_seed=bool(request.topic))
        in_role = bool(request.topic) and request.topic in {normalise_topic(t.topic)  # older ones have spaces
                                                            for t in await uow.topics.list_for(expert.id)}
        now = deps.clock.now()
        held_until = focus_end if focus_end and not request.urgent else None
        # No end time known (Teams): held until a first look, then looked at again (handlers.focus).
        recheck = recheck_of(deps.presence, actor.platform) if held_until else None
        if held_until and recheck:
            held_until = next_look(now, now, held_until, recheck)

        # Every thread carries a tag: asking an expert is work unless the expert says otherwise.
        question = await uow.questions.add(
            workspace_id=asker.workspace_id,
            asker_id=asker.id,
            expert_id=expert.id,
            topic=request.topic,
            text=request.text,
            first_assessment=request.first_assessment,
            kind=request.kind,
            kind_shared=request.share_kind,
            urgent=request.urgent,
            status=QuestionStatus.HELD if held_until else QuestionStatus.DELIVERED,
            asked_at=now,
            deliver_after=held_until,
            interrupted_focus=bool(focus_end) and request.urgent,
            tag=Tag.WERK,
            tag_source=TagSource.TOPIC_RULE if in_role else TagSource.DEFAULT,
            tagged_at=now,
            org_workspace=actor.org_workspace,  # the team it counts for (a workspace of a Grid org)
        )

        await queue(uow, deps.clock, question_for_expert(deps.catalog, question, asker, expert, in_role),
                    period=f"q{question.id}", due_at=held_until)
        if held_until:
            notice_key = "ask.delivered_after_busy" if recheck else "ask.delivered_after_focus"
            notice = deps.catalog.text(asker.locale, notice_key, expert=expert.display_name)
            await queue(uow, deps.clock, OutgoingMessage(MessageKind.QUESTION_NOTICE, notice, person_id=asker.id,
                                                         question_id=question.id),
                        period=f"q{question.id}", due_at=held_until)
        if in_role:
            text = deps.catalog.variant(asker.locale, "nudge.in_role", seed,
                                        expert=expert.display_name, topic=request.topic)
            await queue(uow, deps.clock, OutgoingMessage(MessageKind.NUDGE_IN_ROLE, text, person_id=asker.id,
                                                         question_id=question.id),
                        period=f"q{question.id}",
                        variant=deps.catalog.variant_number(asker.locale, "nudge.in_role", seed))
        latest = now + recheck.bound if held_until and recheck else None
        reply = _confirmation(deps.catalog, asker, expert, question, held_until, now, latest=latest)
    await deps.on_queued()
    return Result(replies=[reply], question_id=question.id)


async def _still_there(uow: UnitOfWork, deps: Deps, actor: Actor, asker: PersonRecord, expert: PersonRecord, *,
                       with_seed: bool) -> tuple[PersonRecord, PersonRecord, int]:
    """Asker and expert as they are now, read together: either may have been forgotten while the
    platform was asked about focus time. (The first unit of work registered the asker already;
    should they be gone now, they are registered again, as before.) ``with_seed``: also the asker's
    rotation seed for the in-role nudge (a question with a topic may get one), in the same query."""
    ids = [asker.id, expert.id]
    if with_seed:
        found = await uow.people.with_rotation(ids, MessageKind.NUDGE_IN_ROLE)
    else:
        found = [(person, 0) for person in await uow.people.get_many(ids)]
    fresh = {person.id: (person, seed) for person, seed in found}
    if expert.id not in fresh:
        raise NotFound("error.unknown_person", name=expert.handle)
    if asker.id not in fresh:
        again = await ensure_person(uow, deps, actor)
        fresh[asker.id] = (again, await rotation_seed(uow, again.id, MessageKind.NUDGE_IN_ROLE) if with_seed else 0)
    (asker, seed), (expert, _) = fresh[asker.id], fresh[expert.id]
    return asker, expert, seed


def question_for_expert(catalog: Catalog, question: QuestionRecord, asker: PersonRecord, expert: PersonRecord,
                        in_role: bool) -> OutgoingMessage:
    loc = expert.locale
    lines = [catalog.text(loc, _header_key(question), asker=asker.display_name, id=question.id)]
    if question.topic:
        lines.append(catalog.text(loc, "question.topic", topic=question.topic))
    lines.append(catalog.text(loc, "question.text", text=question.text))
    if question.first_assessment:
        lines.append(catalog.text(loc, "question.assessment", assessment=question.first_assessment))
    if question.kind and question.kind_shared:
        lines.append(catalog.text(loc, f"question.kind_{question.kind}"))
    lines.append(catalog.text(loc, "question.in_role" if in_role else "question.tag_prompt", topic=question.topic,
                              asker=asker.display_name))
    buttons = () if in_role else tag_buttons(catalog, loc, question.id, question.topic)
    return OutgoingMessage(MessageKind.QUESTION, "\n".join(lines), person_id=expert.id, buttons=buttons,
                           question_id=question.id, participants=(asker.id, expert.id))


def _header_key(question: QuestionRecord) -> str:
    """Focus time is mentioned only when the question did reach the expert during it; and then as
    what the urgent mark does, not as something the asker did to them."""
    if not question.urgent:
        return "question.header"
    return "question.urgent_in_focus" if question.interrupted_focus else "question.urgent"


def _confirmation(catalog: Catalog, asker: PersonRecord, expert: PersonRecord, question: QuestionRecord,
                  held_until: datetime | None, now: datetime, *, latest: datetime | None = None) -> OutgoingMessage:
    """``latest``: the focus time has no known end, so the question goes out when the expert is free, at the
    latest then."""
    buttons = ()
    if held_until and latest:
        when = local_when(latest, now=now, time_zone=asker.time_zone, locale=asker.locale)
        text = catalog.text(asker.locale, "ask.held_open", expert=expert.display_name, latest=when, id=question.id)
        buttons = held_buttons(catalog, asker.locale, question.id)
    elif held_until:
        when = local_when(held_until, now=now, time_zone=asker.time_zone, locale=asker.locale)
        text = catalog.text(asker.locale, "ask.held", expert=expert.display_name, when=when, id=question.id)
        buttons = held_buttons(catalog, asker.locale, question.id)
    elif question.interrupted_focus:
        text = catalog.text(asker.locale, "ask.sent_urgent", expert=expert.display_name, id=question.id)
    else:
        text = catalog.text(asker.locale, "ask.sent", expert=expert.display_name, id=question.id)
    if question.kind:  # say who sees the kind the asker chose, so nothing about them is a surprise
        seen = "ask.kind_shared" if question.kind_shared else "ask.kind_private"
        text = f"{text} {catalog.text(asker.locale, seen, expert=expert.display_name)}"
    return OutgoingMessage(MessageKind.REPLY, text, person_id=asker.id, question_id=question.id, buttons=buttons)


# The held question's own rows: the question for the expert, and the asker's "delivered now" notice.
HELD_KINDS = (MessageKind.QUESTION, MessageKind.QUESTION_NOTICE)


async def send_held_now(deps: Deps, actor: Actor, question_id: int) -> Result:
    """The asker's "send now (urgent)" on a held question: the held row itself goes out now, as an
    urgent question (one row, one key: it cannot arrive a second time when the focus time ends)."""
    async with deps.uow() as uow:
        asker = await ensure_person(uow, deps, actor)
        question, rows = await _held_question(uow, question_id, asker)
        now = deps.clock.now()
        question.urgent = True
        # Held until the focus time ends, so before that moment this interrupts it.
        question.interrupted_focus = question.deliver_after is not None and now < question.deliver_after
        expert = await uow.people.get(question.expert_id) if question.expert_id else None
        if expert is None or not any(r.kind == MessageKind.QUESTION for r in rows):
            raise InvalidInput("error.already_sent", id=question.id)  # nothing left that could go out now
        in_role = question.tag_source == TagSource.TOPIC_RULE
        for row in rows:
            if row.kind == MessageKind.QUESTION:
                message = question_for_expert(deps.catalog, question, asker, expert, in_role)
                await uow.outbox.bring_forward(row.id, now, message)
            else:  # "the focus time is over, your question is delivered now" would be wrong now
                await uow.outbox.mark_skipped(row.id, "sent at once by the asker")
        key = "ask.sent_now" if question.interrupted_focus else "ask.sent"
        text = deps.catalog.text(asker.locale, key, expert=expert.display_name, id=question.id)
    await deps.on_queued()
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=asker.id, question_id=question.id)],
                  question_id=question.id)


async def withdraw_question(deps: Deps, actor: Actor, question_id: int) -> Result:
    """The asker's "withdraw" on a held question: neither it nor its notice goes out."""
    async with deps.uow() as uow:
        asker = await ensure_person(uow, deps, actor)
        question, rows = await _held_question(uow, question_id, asker)
        for row in rows:
            await uow.outbox.mark_skipped(row.id, "withdrawn by the asker")
        question.status = QuestionStatus.WITHDRAWN
        expert = await uow.people.get(question.expert_id) if question.expert_id else None
        text = deps.catalog.text(asker.locale, "ask.withdrawn", expert=_expert_name(deps.catalog, asker, expert),
                                 id=question.id)
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=asker.id, question_id=question.id)],
                  question_id=question.id)


async def _held_question(uow: UnitOfWork, question_id: int, asker: PersonRecord
                         ) -> tuple[QuestionRecord, list[OutboxRecord]]:
    """The asker's question, still held, with its held rows, all locked until the transaction ends.
    The rows are locked before the question, in the order a delivery takes them (it records the sent
    row, then marks the question delivered), so the two never wait for each other."""
    rows = [r for r in await uow.outbox.pending_for_question(question_id, lock=True) if r.kind in HELD_KINDS]
    question = await question_for_asker(uow, question_id, asker)
    if question.status == QuestionStatus.WITHDRAWN:
        raise InvalidInput("error.already_withdrawn", id=question.id)
    # Not held any more: delivered, sent now already (urgent), or a send of it has begun (its
    # attempt marker is set from the moment it is claimed) and may have arrived.
    in_flight = any(r.attempt_started_at for r in rows if r.kind == MessageKind.QUESTION)
    if question.status != QuestionStatus.HELD or question.urgent or in_flight:
        raise InvalidInput("error.already_sent", id=question.id)
    return question, rows


def _expert_name(catalog: Catalog, asker: PersonRecord, expert: PersonRecord | None) -> str:
    return expert.display_name if expert is not None else catalog.text(asker.locale, "word.the_expert")


async def mark_undeliverable(uow: UnitOfWork, clock: Clock, catalog: Catalog, question_id: int) -> None:
    """The platform says the expert cannot be reached (blocked the bot): remember that, so routing
    skips them, and tell the asker instead of leaving the question hanging."""
    question = await uow.questions.get_for_update(question_id)
    if question is None:
        return
    expert = await uow.people.get(question.expert_id) if question.expert_id else None
    asker = await uow.people.get(question.asker_id)
    if expert is not None:
        expert.unreachable = True
    if asker is not None:
        name = expert.display_name if expert else catalog.text(asker.locale, "word.the_expert")
        text = catalog.text(asker.locale, "ask.unreachable", expert=name, id=question.id)
        await queue(uow, clock, OutgoingMessage(MessageKind.QUESTION_NOTICE, text, person_id=asker.id,
                                                question_id=question.id), period=f"q{question.id}-unreachable")


async def mark_delivered(uow: UnitOfWork, question_id: int, thread_ref: str | None, now: datetime) -> None:
    """Called by the outbox once the question message reached the expert."""
    question = await uow.questions.get_for_update(question_id)
    if question is None:
        return
    if question.delivered_at is None:
        question.delivered_at = now
    if question.status == QuestionStatus.HELD:
        question.status = QuestionStatus.DELIVERED
    if thread_ref and not question.thread_ref:
        question.thread_ref = thread_ref
