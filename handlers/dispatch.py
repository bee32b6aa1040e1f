"""The single entry point adapters call: typed commands, or the platform input that parses into
them (text, a pressed button, an answer card, a modal field), in; a Result out.

Every kind of input parses into the one vocabulary of handlers.commands and runs through ``_run``.
Parsing happens inside the guard, so a parser's refusal is answered like a use case's. Refusals
(HandlerError) become a clear, translated reply; nothing was written because every use case raises
before or inside its unit of work, which then rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ParamSpec

from handlers import answering, asking, people, personal_data, tagging, team_nudges, topics
from handlers.actions import parse_action, parse_answer
from handlers.button_commands import SendHeldNow, WithdrawQuestion
from handlers.commands import (
    AnswerQuestion,
    Ask,
    CancelForget,
    Command,
    ConfirmForget,
    DeclareTopics,
    ExportData,
    ForgetMe,
    Help,
    ListTopics,
    MarkOutcome,
    MyData,
    RemoveTopics,
    ReportCurt,
    TagQuestion,
    parse,
)
from handlers.context import Actor, Deps
from handlers.errors import HandlerError, StorageUnavailable
from handlers.messages import OutgoingMessage, Result
from handlers.models import MessageKind
from handlers.overview import Overview, my_overview
from handlers.team_commands import Recognition, SetTeamNudge, ShowTeamNudge, SwitchTeamNudge

log = logging.getLogger(__name__)

Input = ParamSpec("Input")


async def handle_command(deps: Deps, actor: Actor, command: Command) -> Result:
    """Input an adapter already typed (the ask forms)."""
    return await _guarded(deps, actor, lambda: _run(deps, actor, command))


async def handle_input(deps: Deps, actor: Actor, parser: Callable[Input, Command],
                       *args: Input.args, **kwargs: Input.kwargs) -> Result:
    """Run what ``parser(*args)`` makes of platform input (e.g. ``commands.topics_command`` for a modal's
    field); when the parser refuses, the person is told why, as for every refusal."""
    return await _guarded(deps, actor, lambda: _run(deps, actor, parser(*args, **kwargs)))


async def handle_text(deps: Deps, actor: Actor, text: str) -> Result:
    return await handle_input(deps, actor, parse, text)


async def handle_parsed(deps: Deps, actor: Actor, parsed: Command | HandlerError) -> Result:
    """Run what an adapter parsed itself (``commands.parse_or_refusal``), or answer its refusal."""
    return await handle_input(deps, actor, _command_or_refusal, parsed)


async def handle_action(deps: Deps, actor: Actor, action: str, value: str) -> Result:
    """A pressed button: its ``action`` and ``value`` as the platform carried them back."""
    return await handle_input(deps, actor, parse_action, action, value)


async def handle_reply(deps: Deps, actor: Actor, question_id: int | str, text: str) -> Result:
    """``question_id``: a number, or the raw value of an answer card (checked like a button's)."""
    return await handle_input(deps, actor, parse_answer, question_id, text)


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
    return _reply(deps, actor, "help")


async def _run(deps: Deps, actor: Actor, command: Command) -> Result:
    match command:
        case Help():
            return help_result(deps, actor)
        case Ask(request=request):
            return await asking.ask(deps, actor, request)
        case TagQuestion(question_id=question_id, tag=tag, remember=remember):
            return await tagging.tag_question(deps, actor, question_id, tag, remember=remember)
        case AnswerQuestion(question_id=question_id, text=text):
            return await answering.record_reply(deps, actor, question_id, text)
        case MarkOutcome(question_id=question_id, outcome=outcome):
            return await answering.mark_outcome(deps, actor, question_id, outcome)
        case ReportCurt(question_id=question_id):
            return await answering.report_curt(deps, actor, question_id)
        case SendHeldNow(question_id=question_id):
            return await asking.send_held_now(deps, actor, question_id)
        case WithdrawQuestion(question_id=question_id):
            return await asking.withdraw_question(deps, actor, question_id)
        case ListTopics():
            return await topics.list_topics(deps, actor)
        case DeclareTopics(topics=names):
            return await topics.declare_topics(deps, actor, names)
        case RemoveTopics(topics=names):
            return await topics.remove_topics(deps, actor, names)
        case MyData():
            return await personal_data.show_my_data(deps, actor)
        case ExportData():
            return await personal_data.export_my_data(deps, actor)
        case ForgetMe():
            return await personal_data.ask_to_forget(deps, actor)
        case ConfirmForget(person_id=person_id):
            return await personal_data.forget_me(deps, actor, person_id)
        case CancelForget():
            return _reply(deps, actor, "forget.cancelled")
        case ShowTeamNudge():
            return await team_nudges.show(deps, actor)
        case SetTeamNudge():
            return await team_nudges.set_schedule(deps, actor, command)
        case SwitchTeamNudge(enabled=enabled):
            return await team_nudges.switch(deps, actor, enabled)
        case Recognition(opt_out=opt_out):
            return await team_nudges.recognition(deps, actor, opt_out)
    raise AssertionError(f"unhandled command {command!r}")


def _command_or_refusal(parsed: Command | HandlerError) -> Command:
    if isinstance(parsed, HandlerError):
        raise parsed
    return parsed


def _reply(deps: Deps, actor: Actor, key: str) -> Result:
    text = deps.catalog.text(deps.locale_of(actor), key)
    return Result(replies=[OutgoingMessage(MessageKind.REPLY, text)])


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
