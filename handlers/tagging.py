"""The expert says whether a question is part of their work (werk) or a favour (gunst)."""

from __future__ import annotations

from handlers.context import Actor, Deps
from handlers.messages import OutgoingMessage, Result
from handlers.models import MessageKind, Tag, TagSource
from handlers.people import ensure_person, question_for_expert
from handlers.queueing import queue


async def tag_question(deps: Deps, actor: Actor, question_id: int, tag: Tag, *, remember: bool = False) -> Result:
    async with deps.uow() as uow:
        expert = await ensure_person(uow, deps, actor)
        question = await question_for_expert(uow, question_id, expert)
        now = deps.clock.now()
        question.tag, question.tag_source, question.tagged_at = tag, TagSource.EXPERT, now
        remembered = False
        if remember and tag == Tag.WERK and question.topic:
            remembered = await uow.topics.add(expert.id, question.topic, now) or True
        if tag == Tag.WERK:
            # The asker and their rotation seed in one query (an empty list: the asker is gone).
            for asker, seed in await uow.people.with_rotation([question.asker_id], MessageKind.TAG_NOTICE):
                text = deps.catalog.variant(asker.locale, "nudge.tagged_werk", seed, expert=expert.display_name)
                await queue(uow, deps.clock, OutgoingMessage(MessageKind.TAG_NOTICE, text, person_id=asker.id,
                                                             question_id=question.id),
                            period=f"q{question.id}",
                            variant=deps.catalog.variant_number(asker.locale, "nudge.tagged_werk", seed))
        key = "tag.werk_remembered" if remembered else f"tag.{tag}"
        reply = OutgoingMessage(MessageKind.REPLY,
                                deps.catalog.text(expert.locale, key, id=question.id, topic=question.topic),
                                person_id=expert.id, question_id=question.id)
    await deps.on_queued()
    return Result(replies=[reply], question_id=question_id)
