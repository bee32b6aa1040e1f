"""The buttons the bot offers. Platforms carry ``action`` and ``value`` back unchanged."""

from __future__ import annotations

from enum import StrEnum

from handlers.messages import Button
from handlers.ports import Catalog

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


def parse_id(value: str) -> int | None:
    """The id a button (or a card) carries back, or None when it cannot be one of ours: only plain
    ASCII digits, 0 to MAX_ID. (int() would also take "-1", "+1", " 1", "1_0" and other scripts' digits.)"""
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ID)):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


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


def forget_buttons(catalog: Catalog, locale: str, person_id: int) -> tuple[Button, ...]:
    value = str(person_id)
    return (
        Button(catalog.text(locale, "button.forget_confirm"), Action.FORGET_CONFIRM, value, "danger"),
        Button(catalog.text(locale, "button.forget_cancel"), Action.FORGET_CANCEL, value),
    )
