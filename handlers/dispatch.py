"""The single entry point adapters call: a typed command or a pressed button in, a Result out.

Refusals (HandlerError) become a clear, translated reply; nothing was written because every use
case raises before or inside its unit of work, which then rolls back.
"""

from __future__ import annotations

import logging

from handlers import answering, asking, people, personal_data, tagging, team_nudges, topics
from handlers.actions import MAX_ID, Action, parse_id
from handlers.commands import Ask, Command, DeclareTopics, ForgetMe, Help, ListTopics, MyData, RemoveTopics, parse
from handlers.context import Actor, Deps
from handlers.errors import HandlerError, InvalidInput, StorageUnavailable
from handlers.messages import OutgoingMessage, Result
from handlers.models import MessageKind, Outcome, Tag
from handlers.overview import Overview, my_overview
from handlers.team_commands import Recognition, SetTeamNudge, ShowTeamNudge, SwitchTeamNudge

log = logging.getLogger(__name__)


async def handle_text(deps: Deps, actor: Actor, text: str) -> Result:
    return await _guarded(deps, actor, lambda: _run_text(deps, actor, text))


async def handle_command(deps: Deps, actor: Actor, command: Command) -> Result:
    return await _guarded(deps, actor, lambda: _run(deps, actor, command))


async def handle_action(deps: Deps, actor: Actor, action: str, value: str) -> Result:
    return await _guarded(deps, actor, lambda: _run_action(deps, actor, action, value))


async def handle_reply(deps: Deps, actor: Actor, question_id: int | str, text: str) -> Result:
    """``question_id``: a number, or the raw value of an answer card (checked here like a button's)."""
    return await _guarded(deps, actor, lambda: _run_reply(deps, actor, question_id, text))


async def handle_thread_message(deps: Deps, actor: Actor, thread_ref: str, text: str,
                                event_id: str | None = None) -> Result:
    return await _guarded(deps, actor,
                          lambda: answering.record_thread_message(deps, actor, thread_ref, text, event_id))


async def overview(deps: Deps, actor: Actor) -> Overview:
    """Raises StorageUnavailable when the database stays away."""
    return await deps.retry(lambda: my_overview(deps, actor))


async def register(deps: Deps, actor: Actor) -> None:
    """Raises StorageUnavailable when the database stays away."""
    await deps.retry(lambda: people.register(deps, actor))


def not_saved(deps: Deps, actor: Actor) -> Result:
    """What to tell someone whose request could not be stored because the database was away."""
    text = deps.catalog.text(deps.locale_of(actor), "error.not_saved")
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text)], ok=False)


def help_result(deps: Deps, actor: Actor) -> Result:
    locale = deps.locale_of(actor)
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, deps.catalog.text(locale, "help"))])


async def _run_text(deps: Deps, actor: Actor, text: str) -> Result:
    return await _run(deps, actor, parse(text))


async def _run(deps: Deps, actor: Actor, command: Command) -> Result:
    match command:
        case Help():
            return help_result(deps, actor)
        case Ask(request=request):
            return await asking.ask(deps, actor, request)
        case ListTopics():
            return await topics.list_topics(deps, actor)
        case DeclareTopics(topics=names):
            return await topics.declare_topics(deps, actor, names)
        case RemoveTopics(topics=names):
            return await topics.remove_topics(deps, actor, names)
        case MyData():
            return await personal_data.show_my_data(deps, actor)
        case ForgetMe():
            return await personal_data.ask_to_forget(deps, actor)
        case ShowTeamNudge():
            return await team_nudges.show(deps, actor)
        case SetTeamNudge():
            return await team_nudges.set_schedule(deps, actor, command)
        case SwitchTeamNudge(enabled=enabled):
            return await team_nudges.switch(deps, actor, enabled)
        case Recognition(opt_out=opt_out):
            return await team_nudges.recognition(deps, actor, opt_out)
    raise AssertionError(f"unhandled command {command!r}")


async def _run_reply(deps: Deps, actor: Actor, question_id: int | str, text: str) -> Result:
    number = parse_id(question_id) if isinstance(question_id, str) else question_id
    if number is None or not 0 <= number <= MAX_ID:
        log.warning("refused: answer for question %r, which is no id", str(question_id)[:40])
        raise InvalidInput("error.unknown_action")
    return await answering.record_reply(deps, actor, number, text)


async def _run_action(deps: Deps, actor: Actor, action: str, value: str) -> Result:
    kind = next((a for a in Action if a.value == action), None)
    if kind is None:
        log.warning("refused: unknown action %r with value %r", action[:40], value[:40])
        raise InvalidInput("error.unknown_action")
    number = parse_id(value) if kind not in (Action.FORGET_CANCEL, Action.REMOVE_TOPIC) else 0
    if number is None:  # a value no id of ours can have: refused here, not by the database
        log.warning("refused: %s with value %r, which is no id", kind.value, value[:40])
        raise InvalidInput("error.unknown_action")
    match kind:
        case Action.TAG_WERK:
            return await tagging.tag_question(deps, actor, number, Tag.WERK)
        case Action.TAG_WERK_REMEMBER:
            return await tagging.tag_question(deps, actor, number, Tag.WERK, remember=True)
        case Action.TAG_GUNST:
            return await tagging.tag_question(deps, actor, number, Tag.GUNST)
        case Action.OUTCOME_CONFIRMED:
            return await answering.mark_outcome(deps, actor, number, Outcome.CONFIRMED)
        case Action.OUTCOME_NEW_INFO:
            return await answering.mark_outcome(deps, actor, number, Outcome.NEW_INFO)
        case Action.FELT_CURT:
            return await answering.report_curt(deps, actor, number)
        case Action.EXPORT_DATA:
            return await personal_data.export_my_data(deps, actor)
        case Action.FORGET_CONFIRM:
            return await personal_data.forget_me(deps, actor, number)
        case Action.REMOVE_TOPIC:
            return await topics.remove_topics(deps, actor, topics.split_topics(value))
        case Action.FORGET_CANCEL:
            locale = deps.locale_of(actor)
            return Result(replies=[OutgoingMessage(MessageKind.REPLY, deps.catalog.text(locale, "forget.cancelled"))])
    raise AssertionError(f"unhandled action {kind!r}")


async def _guarded(deps: Deps, actor: Actor, run) -> Result:
    try:
        return await deps.retry(run)  # a database restart is waited out, within limits
    except StorageUnavailable:
        return not_saved(deps, actor)
    except HandlerError as refusal:
        log.info("refused %s for %s:%s: %s", type(refusal).__name__, actor.platform, actor.user_external_id,
                 refusal.key)
        try:
            locale = await _locale_of(deps, actor)
        except Exception:  # the refusal matters more than its language
            locale = deps.locale_of(actor)
        text = deps.catalog.text(locale, refusal.key, **refusal.params)
        return Result(replies=[OutgoingMessage(MessageKind.REPLY, text)], ok=False)
    except Exception:
        # A database that went away, a bug: the unit of work rolled back, so say so plainly.
        log.exception("failed for %s:%s", actor.platform, actor.user_external_id)
        locale = deps.locale_of(actor)
        return Result(replies=[OutgoingMessage(MessageKind.REPLY, deps.catalog.text(locale, "error.internal"))],
                      ok=False)


async def _locale_of(deps: Deps, actor: Actor) -> str:
    if actor.locale:
        return deps.locale_of(actor)
    async with deps.uow() as uow:
        person = await personal_data.find_person(uow, actor)
    return person.locale if person else deps.policy.default_locale
