"""After delivery: the expert's reply, the curt-reply signal, and the asker's outcome."""

from __future__ import annotations

from handlers.actions import outcome_buttons
from handlers.context import Actor, Deps
from handlers.curtness import assess_reply
from handlers.errors import InvalidInput
from handlers.messages import OutgoingMessage, Result
from handlers.models import MAX_REPLY_CHARS, MessageKind, Outcome, QuestionKind, QuestionStatus, SignalKind
from handlers.people import ensure_person, find_person, question_for_asker, question_for_expert
from handlers.ports import PersonRecord, QuestionRecord, UnitOfWork
from handlers.queueing import queue, rotation_seed
from handlers.text import clean_user_text

AUTONOMY_STREAK = 3  # confirmed doubt questions in a row on one topic before the encouragement


def _valid_reply(text: str) -> str:
    text = clean_user_text(text).strip()
    if not text:
        raise InvalidInput("error.empty_reply")
    if len(text) > MAX_REPLY_CHARS:
        raise InvalidInput("error.reply_too_long", max=MAX_REPLY_CHARS, length=len(text))
    return text


async def record_thread_message(deps: Deps, actor: Actor, thread_ref: str, text: str, event_id: str | None) -> Result:
    """A message in a question's thread, as a platform event. The expert's messages are replies;
    the asker's (or anyone else's) are their conversation and are not stored. A retried event
    (same ``event_id``) is recorded once: the id is stored in the same transaction as the reply."""
    async with deps.uow() as uow:
        if event_id and not await uow.events.first_time(actor.platform, event_id, deps.clock.now()):
            return Result(replies=[])
        person = await find_person(uow, actor)
        # Locked at once: the reply below changes the question (first reply, status).
        question = await uow.questions.by_thread_ref(person.workspace_id, thread_ref, for_update=True) \
            if person else None
        if question is None or person is None or question.expert_id != person.id:
            return Result(replies=[])
        result = await _record(uow, deps, person, question, _valid_reply(text))
    await deps.on_queued()
    return result


async def record_reply(deps: Deps, actor: Actor, question_id: int, text: str) -> Result:
    text = _valid_reply(text)
    async with deps.uow() as uow:
        expert = await ensure_person(uow, deps, actor)
        result = await _record(uow, deps, expert, await question_for_expert(uow, question_id, expert), text)
    await deps.on_queued()
    return result


async def _record(uow: UnitOfWork, deps: Deps, expert: PersonRecord, question: QuestionRecord, text: str) -> Result:
    """``question``: locked, and checked to be one ``expert`` was asked."""
    now = deps.clock.now()
    since = question.delivered_at or question.asked_at
    seconds = max(0.0, (now - since).total_seconds())
    verdict = assess_reply(text, question=question.text, reply_seconds=seconds,
                           interrupted_focus=question.interrupted_focus)
    asker, curt_seed = await _asker(uow, question, seed_of=MessageKind.NUDGE_CURT if verdict.curt else None)
    reply = await uow.replies.add(question_id=question.id, author_id=expert.id, text=text, created_at=now,
                                  reply_seconds=seconds, curt_score=verdict.score, curt=verdict.curt,
                                  curt_reasons=list(verdict.reasons))
    first_reply = question.first_reply_at is None
    if first_reply:
        question.first_reply_at = now
        if question.delivered_at is None:  # answered before the held delivery went out
            question.delivered_at = now
        if question.status != QuestionStatus.CLOSED:
            question.status = QuestionStatus.ANSWERED

    relay = deps.catalog.text(asker.locale, "answer.relay", expert=expert.display_name, id=question.id,
                              text=text)
    await queue(uow, deps.clock, OutgoingMessage(MessageKind.ANSWER_RELAY, relay, person_id=asker.id,
                                                 question_id=question.id, thread_ref=question.thread_ref),
                period=f"r{reply.id}")
    if verdict.curt:
        await uow.signals.add(question_id=question.id, subject_id=expert.id, reporter_id=None,
                              kind=SignalKind.CURT_DETECTED, created_at=now,
                              details={"score": round(verdict.score, 3), "reasons": list(verdict.reasons)})
        await _queue_curt_nudge(uow, deps, asker, expert, question, seed=curt_seed)
    if first_reply:
        prompt = deps.catalog.text(asker.locale, "outcome.prompt", expert=expert.display_name, id=question.id)
        await queue(uow, deps.clock, OutgoingMessage(MessageKind.OUTCOME_PROMPT, prompt, person_id=asker.id,
                                                     question_id=question.id,
                                                     buttons=outcome_buttons(deps.catalog, asker.locale,
                                                                             question.id)),
                    period=f"q{question.id}")
    # The expert never hears about the curt signal: it is the asker's private reframing.
    done = deps.catalog.text(expert.locale, "reply.recorded", asker=asker.display_name, id=question.id)
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, done, person_id=expert.id,
                                       question_id=question.id)], question_id=question.id)


async def report_curt(deps: Deps, actor: Actor, question_id: int) -> Result:
    async with deps.uow() as uow:
        asker = await ensure_person(uow, deps, actor)
        question = await question_for_asker(uow, question_id, asker)
        if question.first_reply_at is None:
            raise InvalidInput("error.not_answered_yet", id=question_id)
        signals = await uow.signals.for_question(question.id)
        if any(s.kind == SignalKind.CURT_REPORTED for s in signals):
            raise InvalidInput("error.curt_already_reported", id=question_id)
        await uow.signals.add(question_id=question.id, subject_id=question.expert_id, reporter_id=asker.id,
                              kind=SignalKind.CURT_REPORTED, created_at=deps.clock.now())
        expert = await uow.people.get(question.expert_id) if question.expert_id else None
        await _queue_curt_nudge(uow, deps, asker, expert, question)
        text = deps.catalog.text(asker.locale, "curt.noted", id=question.id)
    await deps.on_queued()
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=asker.id,
                                           question_id=question_id)], question_id=question_id)


async def mark_outcome(deps: Deps, actor: Actor, question_id: int, outcome: Outcome) -> Result:
    async with deps.uow() as uow:
        asker = await ensure_person(uow, deps, actor)
        question = await question_for_asker(uow, question_id, asker)
        if question.first_reply_at is None:
            raise InvalidInput("error.not_answered_yet", id=question_id)
        if question.outcome is not None:
            raise InvalidInput("error.outcome_already", id=question_id)
        now = deps.clock.now()
        question.outcome, question.outcome_at, question.status = outcome, now, QuestionStatus.CLOSED
        if outcome == Outcome.CONFIRMED:
            await uow.signals.add(question_id=question.id, subject_id=asker.id, reporter_id=asker.id,
                                  kind=SignalKind.CONFIRMATION_ONLY, created_at=now)
            if not await _encourage_autonomy(uow, deps, asker, question):
                seed = await rotation_seed(uow, asker.id, MessageKind.NUDGE_CONFIRMATION)
                text = deps.catalog.variant(asker.locale, "nudge.confirmation", seed)
                await queue(uow, deps.clock, OutgoingMessage(MessageKind.NUDGE_CONFIRMATION, text,
                                                             person_id=asker.id, question_id=question.id),
                            period=f"q{question.id}",
                            variant=deps.catalog.variant_number(asker.locale, "nudge.confirmation", seed))
        reply = deps.catalog.text(asker.locale, f"outcome.{outcome}_thanks", id=question.id)
    await deps.on_queued()
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, reply, person_id=asker.id,
                                           question_id=question_id)], question_id=question_id)


async def _encourage_autonomy(uow: UnitOfWork, deps: Deps, asker: PersonRecord, question: QuestionRecord) -> bool:
    """When this confirmation makes exactly AUTONOMY_STREAK confirmed doubt-about-own-competence
    questions in a row on one topic, encourage the asker (once per streak) to trust their own
    judgement there. Never for complex or unforeseen situations: there we want people to keep asking."""
    if question.kind != QuestionKind.DOUBT or not question.topic:
        return False
    recent = await uow.questions.recent_doubt_outcomes(asker.id, question.topic, AUTONOMY_STREAK + 1)
    streak = next((i for i, q in enumerate(recent) if q.outcome != Outcome.CONFIRMED), len(recent))
    if streak != AUTONOMY_STREAK:
        return False
    seed = await rotation_seed(uow, asker.id, MessageKind.NUDGE_AUTONOMY)
    text = deps.catalog.variant(asker.locale, "nudge.autonomy", seed, topic=question.topic, count=AUTONOMY_STREAK)
    await queue(uow, deps.clock, OutgoingMessage(MessageKind.NUDGE_AUTONOMY, text, person_id=asker.id,
                                                 question_id=question.id), period=f"q{question.id}",
                variant=deps.catalog.variant_number(asker.locale, "nudge.autonomy", seed))
    return True


async def _asker(uow: UnitOfWork, question: QuestionRecord, *, seed_of: str | None = None) -> tuple[PersonRecord, int]:
    """The question's asker; with ``seed_of``, also their rotation seed for that kind of message, in
    the same query (0 without)."""
    if seed_of:
        found = await uow.people.with_rotation([question.asker_id], seed_of)
        asker, seed = found[0] if found else (None, 0)
    else:
        asker, seed = await uow.people.get(question.asker_id), 0
    if asker is None:  # questions are deleted with their asker, so this is a broken row
        raise InvalidInput("error.unknown_question", id=question.id)
    return asker, seed


async def _queue_curt_nudge(uow: UnitOfWork, deps: Deps, asker: PersonRecord, expert: PersonRecord | None,
                            question: QuestionRecord, *, seed: int | None = None) -> None:
    """One private reframing per question, whether the reply was detected curt or reported.
    ``seed``: the asker's rotation seed for it, when the caller read it already."""
    name = expert.display_name if expert else deps.catalog.text(asker.locale, "word.the_expert")
    if seed is None:
        seed = await rotation_seed(uow, asker.id, MessageKind.NUDGE_CURT)
    text = deps.catalog.variant(asker.locale, "nudge.curt", seed, expert=name)
    await queue(uow, deps.clock, OutgoingMessage(MessageKind.NUDGE_CURT, text, person_id=asker.id,
                                                 question_id=question.id), period=f"q{question.id}",
                variant=deps.catalog.variant_number(asker.locale, "nudge.curt", seed))
