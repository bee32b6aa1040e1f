"""The buttons the bot offers. Platforms carry ``action`` and ``value`` back unchanged, and
``parse_action`` turns them into the typed commands of handlers.button_commands."""

from __future__ import annotations

import logging
from enum import StrEnum

from handlers.button_commands import (
    AnswerQuestion,
    ButtonCommand,
    CancelForget,
    ConfirmForget,
    ExportData,
    MarkOutcome,
    RemoveTopics,
    ReportCurt,
    SendHeldNow,
    TagQuestion,
    WithdrawQuestion,
)
from handlers.errors import InvalidInput
from handlers.messages import Button
from handlers.models import Outcome, Tag
from handlers.ports import Catalog
from handlers.topics import split_topics

# Refused buttons have always been logged under the entry point that answers them; log filters (and
# tests/e2e/test_button_ids.py) look for them there.
log = logging.getLogger("handlers.dispatch")

# The largest id a button may carry: PostgreSQL's integer columns end here (SQLite's at 2**63 - 1), and a
# larger number would make the database refuse the query instead of us refusing the button.
MAX_ID = 2**31 - 1


class Action(StrEnum):
    TAG_WERK = "tag_werk"
    TAG_WERK_REMEMBER = "tag_werk_remember"
    TAG_GUNST = "tag_gunst"
    OUTCOME_CONFIRMED = "outcome_confirmed"
    OUTCOME_NEW_INFO = "outcome_new_info"
    FELT_CURT = "felt_curt"
    EXPORT_DATA = "export_data"
    FORGET_CONFIRM = "forget_confirm"
    FORGET_CANCEL = "forget_cancel"
    REMOVE_TOPIC = "remove_topic"  # value: the topic itself, not a number
    SEND_HELD_NOW = "send_held_now"
    WITHDRAW_QUESTION = "withdraw_question"


def parse_id(value: str) -> int | None:
    """The id a button (or a card) carries back, or None when it cannot be one of ours: only plain
    ASCII digits, 0 to MAX_ID. (int() would also take "-1", "+1", " 1", "1_0" and other scripts' digits.)"""
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ID)):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def parse_action(action_id: str, value: str) -> ButtonCommand:
    """The command a pressed button (or a card's Action.Submit) stands for. Raises InvalidInput
    ("error.unknown_action", the "this button no longer works" line) for an action we never offered
    or a value that no id of ours can have, so the database is never asked about it."""
    action = next((a for a in Action if a.value == action_id), None)
    if action is None:
        log.warning("refused: unknown action %r with value %r", action_id[:40], value[:40])
        raise InvalidInput("error.unknown_action")
    match action:
        case Action.FORGET_CANCEL:
            return CancelForget()
        case Action.REMOVE_TOPIC:
            return RemoveTopics(split_topics(value))
    number = parse_id(value)
    if number is None:
        log.warning("refused: %s with value %r, which is no id", action.value, value[:40])
        raise InvalidInput("error.unknown_action")
    match action:
        case Action.TAG_WERK:
            return TagQuestion(number, Tag.WERK)
        case Action.TAG_WERK_REMEMBER:
            return TagQuestion(number, Tag.WERK, remember=True)
        case Action.TAG_GUNST:
            return TagQuestion(number, Tag.GUNST)
        case Action.OUTCOME_CONFIRMED:
            return MarkOutcome(number, Outcome.CONFIRMED)
        case Action.OUTCOME_NEW_INFO:
            return MarkOutcome(number, Outcome.NEW_INFO)
        case Action.FELT_CURT:
            return ReportCurt(number)
        case Action.EXPORT_DATA:  # the value is the person's id: checked like any other, not needed after
            return ExportData()
        case Action.FORGET_CONFIRM:
            return ConfirmForget(number)
        case Action.SEND_HELD_NOW:
            return SendHeldNow(number)
        case Action.WITHDRAW_QUESTION:
            return WithdrawQuestion(number)
    raise AssertionError(f"unhandled action {action!r}")


def parse_answer(question_id: int | str, text: str) -> AnswerQuestion:
    """An answer to a question: ``question_id`` is a number (the shell) or the raw value an answer card
    carried back (Teams), checked like a button's."""
    number = parse_id(question_id) if isinstance(question_id, str) else question_id
    if number is None or not 0 <= number <= MAX_ID:
        log.warning("refused: answer for question %r, which is no id", str(question_id)[:40])
        raise InvalidInput("error.unknown_action")
    return AnswerQuestion(number, text)


def tag_buttons(catalog: Catalog, locale: str, question_id: int, topic: str | None) -> tuple[Button, ...]:
    value = str(question_id)
    buttons = [Button(catalog.text(locale, "button.werk"), Action.TAG_WERK, value, "primary")]
    if topic:
        buttons.append(
            Button(catalog.text(locale, "button.werk_remember", topic=topic), Action.TAG_WERK_REMEMBER, value)
        )
    buttons.append(Button(catalog.text(locale, "button.gunst"), Action.TAG_GUNST, value))
    return tuple(buttons)


def outcome_buttons(catalog: Catalog, locale: str, question_id: int) -> tuple[Button, ...]:
    value = str(question_id)
    return (
        Button(catalog.text(locale, "button.confirmed"), Action.OUTCOME_CONFIRMED, value, "primary"),
        Button(catalog.text(locale, "button.new_info"), Action.OUTCOME_NEW_INFO, value),
        Button(catalog.text(locale, "button.felt_curt"), Action.FELT_CURT, value),
    )


def held_buttons(catalog: Catalog, locale: str, question_id: int) -> tuple[Button, ...]:
    """For the asker of a question held until the expert's focus time ends."""
    value = str(question_id)
    return (
        Button(catalog.text(locale, "button.send_now"), Action.SEND_HELD_NOW, value, "primary"),
        Button(catalog.text(locale, "button.withdraw"), Action.WITHDRAW_QUESTION, value),
    )


def forget_buttons(catalog: Catalog, locale: str, person_id: int) -> tuple[Button, ...]:
    value = str(person_id)
    return (
        Button(catalog.text(locale, "button.forget_confirm"), Action.FORGET_CONFIRM, value, "danger"),
        Button(catalog.text(locale, "button.forget_cancel"), Action.FORGET_CANCEL, value),
    )
