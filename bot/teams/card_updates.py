"""After a one-shot button on a card took effect, the card is updated in place (issue 13): the choice shown,
the pressed group of buttons gone (handlers.pressed says which).

An Action.Submit arrives as a message activity whose ``replyToId`` is the card's activity id; the card is
replaced with ``update_activity`` (PUT .../activities/{id} at the Bot Connector) in the same turn, after the
press's transaction committed. Teams sends nothing of the card back but its data, so the new card is drawn
from what is stored, never from what the submit carried (anyone can post any data): the question card again
for werk or gunst, with its answer field; the outcome prompt with what was marked and the buttons still open;
a card with the choice alone for the rest. Drawn from the stored state, an update made twice shows the same.

Only cards in a person's own chat with the bot are updated: every card with one-shot buttons is sent there,
and a forged submit elsewhere must not make the bot rewrite a channel's message. A failed update is one log
line; the recorded choice stays. (An Action.Execute, the ``adaptiveCard/action`` invoke, needs none of this:
its answer already takes the clicked card's place, with the choice in words and no buttons.)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext

from bot.teams.cards import ACTION_KEY, ASK_FORM, done_card
from handlers.actions import Action, outcome_buttons
from handlers.asking import question_for_expert
from handlers.context import Actor, Deps
from handlers.messages import OutgoingMessage, Result
from handlers.models import MessageKind, Outcome, SignalKind
from handlers.pressed import Pressed, line_for, pressed

log = logging.getLogger(__name__)

UPDATE_SECONDS = 10.0  # a courtesy: the turn must still answer in time
TAGS = {Action.TAG_WERK, Action.TAG_WERK_REMEMBER, Action.TAG_GUNST}
OUTCOME_PROMPT = {Action.OUTCOME_CONFIRMED, Action.OUTCOME_NEW_INFO, Action.FELT_CURT}
OUTCOME_ACTIONS = {Outcome.CONFIRMED: Action.OUTCOME_CONFIRMED, Outcome.NEW_INFO: Action.OUTCOME_NEW_INFO}


def in_own_chat(turn_context: TurnContext) -> bool:
    conversation = turn_context.activity.conversation
    return conversation is not None and conversation.conversation_type in (None, "personal")


async def card_after_press(deps: Deps, actor: Actor, data: dict[str, Any], result: Result) -> dict[str, Any] | None:
    """The card to put in place of the pressed one, or None (a button that stays, a press that was refused, or
    the card could not be drawn: that is one log line, and the choice is recorded all the same)."""
    try:
        async with asyncio.timeout(UPDATE_SECONDS):
            return await _card_after_press(deps, actor, data, result)
    except Exception as error:  # whatever went wrong, the choice itself is kept
        log.warning("teams: no card drawn for the pressed one (%s); the choice is recorded", type(error).__name__)
        return None


async def _card_after_press(deps: Deps, actor: Actor, data: dict[str, Any], result: Result) -> dict[str, Any] | None:
    if not result.ok or not isinstance(data.get(ACTION_KEY), str):
        return None
    locale = deps.locale_of(actor)
    if data[ACTION_KEY] == ASK_FORM:  # sent: the form goes, so it is not filled in and sent again
        return done_card(OutgoingMessage(MessageKind.REPLY, ""), [deps.catalog.text(locale, "teams.form_sent")],
                         deps.catalog, locale)
    name = actor.display_name or actor.handle or ""
    done = pressed(deps.catalog, locale, data[ACTION_KEY], str(data.get("value", "")), by=name)
    if done is None:
        return None
    if done.question_id is not None and done.action in TAGS | OUTCOME_PROMPT:
        redrawn = await _redrawn(deps, done, name)
        if redrawn is not None:
            return redrawn
    return done_card(OutgoingMessage(MessageKind.REPLY, ""), [done.line], deps.catalog, locale)


async def update_pressed_card(turn_context: TurnContext, deps: Deps, actor: Actor, data: Any, result: Result) -> None:
    """For a submitted card in the person's own chat. Never raises: the press is recorded already."""
    reply_to = turn_context.activity.reply_to_id
    if not isinstance(data, dict) or not reply_to or not in_own_chat(turn_context):
        return
    card = await card_after_press(deps, actor, data, result)
    if card is None:
        return
    try:
        async with asyncio.timeout(UPDATE_SECONDS):
            activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
            activity.id = reply_to
            await turn_context.update_activity(activity)
    except Exception as error:  # whatever went wrong, the choice itself is kept
        status = getattr(getattr(error, "response", None), "status_code", None)
        log.warning("teams: the pressed card was not updated (%s%s); the choice is recorded",
                    type(error).__name__, f", HTTP {status}" if status else "")


async def _redrawn(deps: Deps, done: Pressed, name: str) -> dict[str, Any] | None:
    """The question card (werk or gunst) or the outcome prompt, drawn again from what is stored now."""
    async with deps.uow() as uow:
        question = await uow.questions.get(done.question_id)
        if question is None or question.expert_id is None:
            return None
        asker, expert = await uow.people.get(question.asker_id), await uow.people.get(question.expert_id)
        if asker is None or expert is None:
            return None
        if done.action in TAGS:
            if question.text is None:  # removed by retention: the choice and the answer field stay
                message = OutgoingMessage(MessageKind.QUESTION, "", question_id=question.id)
            else:  # the card as sent, without the tag buttons and the line that asked for them
                sent = question_for_expert(deps.catalog, question, asker, expert, in_role=False)
                message = OutgoingMessage(MessageKind.QUESTION, sent.text.rsplit("\n", 1)[0], question_id=question.id)
            return done_card(message, [done.line], deps.catalog, expert.locale)
        reported = any(s.kind == SignalKind.CURT_REPORTED and s.reporter_id == asker.id
                       for s in await uow.signals.for_question(question.id))
    locale = asker.locale
    lines, gone = [], set()
    if question.outcome in OUTCOME_ACTIONS:
        action = OUTCOME_ACTIONS[Outcome(question.outcome)]
        lines.append(line_for(deps.catalog, locale, action, by=name, question_id=question.id))
        gone |= {Action.OUTCOME_CONFIRMED.value, Action.OUTCOME_NEW_INFO.value}
    if reported:
        lines.append(line_for(deps.catalog, locale, Action.FELT_CURT, by=name, question_id=question.id))
        gone.add(Action.FELT_CURT.value)
    open_buttons = tuple(b for b in outcome_buttons(deps.catalog, locale, question.id) if b.action not in gone)
    prompt = deps.catalog.text(locale, "outcome.prompt", expert=expert.display_name, id=question.id)
    message = OutgoingMessage(MessageKind.REPLY, prompt, buttons=open_buttons, question_id=question.id)
    return done_card(message, lines, deps.catalog, locale)
