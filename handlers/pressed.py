"""What a message says once one of its one-shot buttons was pressed and the press took effect (issue 13):
the choice in words, and which buttons leave the message with it. Both platforms update the message that
carried the buttons with this, each in its own way (bot/slack/message_updates.py, bot/teams/card_updates.py).

A press belongs to a group of buttons that answer one question: werk or gunst, the outcome, the curt-reply
report, send now or withdraw, delete or keep. Only the pressed button's group leaves: on the outcome prompt,
marking the outcome leaves "felt curt" in place, and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.actions import Action, parse_id
from handlers.ports import Catalog

GROUPS: tuple[frozenset[Action], ...] = (
    frozenset({Action.TAG_WERK, Action.TAG_WERK_REMEMBER, Action.TAG_GUNST}),
    frozenset({Action.OUTCOME_CONFIRMED, Action.OUTCOME_NEW_INFO}),
    frozenset({Action.FELT_CURT}),
    frozenset({Action.SEND_HELD_NOW, Action.WITHDRAW_QUESTION}),
    frozenset({Action.FORGET_CONFIRM, Action.FORGET_CANCEL}),
)
# The line each press leaves on its message. Export and the topic buttons are not here: they can be
# pressed again, and the App Home that holds them is drawn anew after every press anyway.
LINES: dict[Action, str] = {
    Action.TAG_WERK: "pressed.werk",
    Action.TAG_WERK_REMEMBER: "pressed.werk_remember",
    Action.TAG_GUNST: "pressed.gunst",
    Action.OUTCOME_CONFIRMED: "pressed.confirmed",
    Action.OUTCOME_NEW_INFO: "pressed.new_info",
    Action.FELT_CURT: "pressed.felt_curt",
    Action.SEND_HELD_NOW: "pressed.send_now",
    Action.WITHDRAW_QUESTION: "pressed.withdrawn",
    Action.FORGET_CONFIRM: "pressed.forget_confirm",
    Action.FORGET_CANCEL: "pressed.forget_cancel",
}
QUESTION_BUTTONS = frozenset(LINES) - {Action.FORGET_CONFIRM, Action.FORGET_CANCEL}  # their value: a question id


@dataclass(frozen=True)
class Pressed:
    action: Action
    line: str  # the choice in words, in the reader's language
    gone: frozenset[str]  # the action ids whose buttons leave the message
    question_id: int | None  # the question the button was about, for the question buttons


def action_of(action_id: str) -> Action | None:
    return next((a for a in Action if a.value == action_id), None)


def is_one_shot(action_id: str) -> bool:
    return action_of(action_id) in LINES


def pressed(catalog: Catalog, locale: str, action_id: str, value: str, *, by: str) -> Pressed | None:
    """The update for a press that took effect (its Result was ok), or None for a button that stays.
    ``by``: the name of whoever pressed it, shown on the buttons other people may read too (werk or gunst
    sits in the thread the expert shares with the asker)."""
    action = action_of(action_id)
    if action not in LINES:
        return None
    question_id = parse_id(value) if action in QUESTION_BUTTONS else None
    group = next(g for g in GROUPS if action in g)
    return Pressed(action, catalog.text(locale, LINES[action], name=by, id=question_id),
                   frozenset(a.value for a in group), question_id)


def line_for(catalog: Catalog, locale: str, action: Action, *, by: str, question_id: int | None) -> str:
    """The line of one press, for a platform that draws the message again from what is stored."""
    return catalog.text(locale, LINES[action], name=by, id=question_id)
