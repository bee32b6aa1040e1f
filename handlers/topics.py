"""Experts declare which topics are part of their role (in-role, werk)."""

from __future__ import annotations

import re

from handlers.context import Actor, Deps
from handlers.errors import InvalidInput
from handlers.messages import OutgoingMessage, Result
from handlers.models import MAX_TOPIC_CHARS, MessageKind, normalise_topic
from handlers.people import ensure_person
from handlers.ports import UnitOfWork

MAX_TOPICS_PER_COMMAND = 20


def split_topics(raw: str) -> list[str]:
    """``contracten, privacy`` / ``#contracten #privacy``: commas (or semicolons, or hashes) separate
    topics; spaces never do. Inside one topic they become hyphens (handlers.models.normalise_topic),
    so ``Juridisch Advies, Fiscaal Recht`` is #juridisch-advies and #fiscaal-recht: what can be asked for."""
    parts = re.split(r"[,;#]", raw)
    topics: list[str] = []
    for part in parts:
        topic = normalise_topic(part)
        if topic and topic not in topics:
            topics.append(topic)
    if not topics:
        raise InvalidInput("error.no_topics")
    if len(topics) > MAX_TOPICS_PER_COMMAND:
        raise InvalidInput("error.too_many_topics", max=MAX_TOPICS_PER_COMMAND)
    too_long = [t for t in topics if len(t) > MAX_TOPIC_CHARS]
    if too_long:
        raise InvalidInput("error.topic_too_long", max=MAX_TOPIC_CHARS)
    return topics


async def declare_topics(deps: Deps, actor: Actor, topics: list[str]) -> Result:
    async with deps.uow() as uow:
        person = await ensure_person(uow, deps, actor)
        now = deps.clock.now()
        # A topic stored before today's rule ("juridisch advies") is the same topic: not added twice.
        known = set(await _declared(uow, person.id))
        added = [t for t in topics if t not in known and await uow.topics.add(person.id, t, now)]
        current = list(await _declared(uow, person.id))
        key = "topics.added" if added else "topics.none_added"
        text = deps.catalog.text(person.locale, key, added=_join(added), current=_join(current))
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=person.id)])


async def remove_topics(deps: Deps, actor: Actor, topics: list[str]) -> Result:
    async with deps.uow() as uow:
        person = await ensure_person(uow, deps, actor)
        declared = await _declared(uow, person.id)
        removed = []
        for topic in topics:
            for stored in declared.get(topic, []):  # as stored, which may predate today's rule
                await uow.topics.remove(person.id, stored)
            if topic in declared:
                removed.append(topic)
        if not removed:
            raise InvalidInput("error.topics_not_declared", topics=_join(topics))
        current = list(await _declared(uow, person.id))
        if current:
            text = deps.catalog.text(person.locale, "topics.removed", removed=_join(removed), current=_join(current))
        else:
            text = deps.catalog.text(person.locale, "topics.removed_last", removed=_join(removed))
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=person.id)])


async def list_topics(deps: Deps, actor: Actor) -> Result:
    async with deps.uow() as uow:
        person = await ensure_person(uow, deps, actor)
        current = list(await _declared(uow, person.id))
        key = "topics.list" if current else "topics.list_empty"
        text = deps.catalog.text(person.locale, key, current=_join(current))
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text, person_id=person.id)])


async def _declared(uow: UnitOfWork, person_id: int) -> dict[str, list[str]]:
    """The person's topics by today's name (in order), each with the names it is stored under."""
    declared: dict[str, list[str]] = {}
    for record in await uow.topics.list_for(person_id):
        declared.setdefault(normalise_topic(record.topic), []).append(record.topic)
    return declared


def _join(topics: list[str]) -> str:
    return ", ".join(f"#{t}" for t in topics)
