"""Finding and registering the people who act, and the rules for who may act on a question."""

from __future__ import annotations

import logging

from handlers.context import Actor, Deps
from handlers.errors import InvalidInput, NotAllowed, NotFound
from handlers.models import normalise_locale
from handlers.ports import PersonRecord, QuestionRecord, UnitOfWork

log = logging.getLogger(__name__)


async def find_person(uow: UnitOfWork, actor: Actor) -> PersonRecord | None:
    """The stored person for an actor, without creating one (used where creating would be wrong,
    such as asking to be forgotten)."""
    return await uow.people.by_platform_ids(actor.platform, actor.workspace_external_id, actor.user_external_id)


async def ensure_person(uow: UnitOfWork, deps: Deps, actor: Actor) -> PersonRecord:
    """The stored person for an actor; the first command someone gives registers them. The actor's
    name is the person's own (what the platform says about the one acting, or its directory), so
    it also refreshes the stored name and handle; an actor without a name changes neither. A known
    person costs one query, and a write only when something about them changed."""
    person = await find_person(uow, actor)
    if person is not None:
        if person.unreachable:
            person.unreachable = False  # they are talking to the bot, so it can reach them again
        if actor.locale and normalise_locale(actor.locale, person.locale) != person.locale:
            person.locale = normalise_locale(actor.locale, person.locale)
        await _refresh_name(uow, person, actor)
        return person
    workspace = await uow.workspaces.get_or_create(
        actor.platform, actor.workspace_external_id, actor.workspace_name or actor.workspace_external_id
    )
    return await uow.people.add(
        workspace_id=workspace.id,
        external_id=actor.user_external_id,
        handle=await _free_handle(uow, workspace.id, actor),
        display_name=actor.display_name or actor.handle or actor.user_external_id,
        locale=deps.locale_of(actor),
        time_zone=actor.time_zone or deps.policy.default_time_zone,
        now=deps.clock.now(),
    )


def _handle_forms(handle: str, external_id: str) -> tuple[str, str]:
    """The handle a name gives, and the form it takes when someone else already has it."""
    return handle, f"{handle}-{external_id.lower()}"


async def _free_handle(uow: UnitOfWork, workspace_id: int, actor: Actor) -> str:
    plain, taken_form = _handle_forms((actor.handle or actor.user_external_id).lower(), actor.user_external_id)
    holder = await uow.people.by_handle(workspace_id, plain)
    return plain if holder is None or holder.external_id == actor.user_external_id else taken_form


async def _refresh_name(uow: UnitOfWork, person: PersonRecord, actor: Actor) -> None:
    if actor.display_name and actor.display_name != person.display_name:
        person.display_name = actor.display_name
    if actor.handle and person.handle not in _handle_forms(actor.handle.lower(), person.external_id):
        person.handle = await _free_handle(uow, person.workspace_id, actor)


async def register_unnamed(deps: Deps, actor: Actor, display_name: str) -> None:
    """Make sure a person someone else named is known, without a name from that someone: a handle
    nobody types (their platform id) and ``display_name`` as a stand-in until their own message or
    the platform's directory gives their name. A known person is left as they are."""
    async with deps.uow() as uow:
        if await find_person(uow, actor) is None:
            await ensure_person(uow, deps, Actor(actor.platform, actor.workspace_external_id,
                                                 actor.user_external_id, display_name=display_name))


async def find_colleague(
    uow: UnitOfWork, workspace_id: int, *, handle: str | None = None, external_id: str | None = None
) -> PersonRecord:
    """A person in the same workspace, named by platform id or by handle (``@anna``). A handle that
    fits more than one person (two Annas) is refused rather than guessed."""
    person = None
    if external_id:
        person = await uow.people.by_external_id(workspace_id, external_id)
    if person is None and handle:
        wanted = handle.lstrip("@").lower()
        named = [p for p in await uow.people.named(workspace_id, wanted)
                 if p.handle in _handle_forms(wanted, p.external_id)]
        if len(named) > 1:
            log.info("refused: handle %r fits %s people", wanted[:40], len(named))
            raise InvalidInput("error.ambiguous_person", name=wanted)
        person = named[0] if named else None
    if person is None:
        raise NotFound("error.unknown_person", name=handle or external_id or "?")
    return person


async def question_for_expert(uow: UnitOfWork, question_id: int, person: PersonRecord) -> QuestionRecord:
    return await _question_for(uow, question_id, person, role="expert")


async def question_for_asker(uow: UnitOfWork, question_id: int, person: PersonRecord) -> QuestionRecord:
    return await _question_for(uow, question_id, person, role="asker")


async def _question_for(uow: UnitOfWork, question_id: int, person: PersonRecord, role: str) -> QuestionRecord:
    question = await uow.questions.get_for_update(question_id)
    if question is None or question.workspace_id != person.workspace_id:
        raise NotFound("error.unknown_question", id=question_id)
    owner = question.expert_id if role == "expert" else question.asker_id
    if owner != person.id:
        # Ids only: the log must not carry question text.
        log.warning("refused: person %s is not the %s of question %s", person.id, role, question_id)
        raise NotAllowed(f"error.not_{role}", id=question_id)
    return question


async def register(deps: Deps, actor: Actor) -> None:
    """Make sure a person the platform told us about (e.g. picked as expert) is known."""
    async with deps.uow() as uow:
        await ensure_person(uow, deps, actor)


async def remember_conversation(deps: Deps, actor: Actor, *, kind: str, external_id: str, name: str,
                                reference: dict) -> None:
    """Store where the platform lets the bot write to this person ("person") or channel ("channel")
    later on its own initiative; the reference is the platform's, opaque here."""
    async with deps.uow() as uow:
        if kind == "person":
            person = await ensure_person(uow, deps, actor)
            workspace_id = person.workspace_id
        else:
            workspace = await uow.workspaces.get_or_create(
                actor.platform, actor.workspace_external_id, actor.workspace_name or actor.workspace_external_id)
            workspace_id = workspace.id
        await uow.conversations.save(workspace_id=workspace_id, kind=kind, external_id=external_id, name=name,
                                     reference=reference, now=deps.clock.now())
