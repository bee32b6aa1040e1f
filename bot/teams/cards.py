"""Adaptive Cards for platform-neutral messages, the ask form and the expert's answer field, and what
their submits mean (``submitted_command``).

Buttons are Action.Submit: in Teams they come back as a message activity whose ``value`` is the
button's data (docs/architecture.md), which parses into the same typed commands as Slack's buttons.
"""

from __future__ import annotations

import secrets
from typing import Any

from bot.teams.escape import card_text
from handlers.actions import parse_action, parse_answer
from handlers.asking import AskRequest
from handlers.commands import Ask, Command
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind, QuestionKind
from handlers.ports import Catalog

CARD = "application/vnd.microsoft.card.adaptive"
ACTION_KEY = "vraagbot_action"
ASK_FORM = "ask_form"
# The ask form's own id, in its submit: Teams leaves Send clickable after a submit, and a second click (or a
# click on the same form tomorrow) must not ask the question again (bot/teams/turns.py: form_key).
FORM_ID = "form"
ANSWER = "answer"
PICKED = "expert_picked"  # the ask form's people picker: an Entra object id, as Teams submits it
EXPERT_ID = "expert_id"  # the picked person's Teams user id, set by the edge once it found them (bot.teams.picker)


def _text(text: str, **extra: Any) -> dict[str, Any]:
    """A TextBlock showing ``text`` as written (it may hold what someone typed)."""
    return {"type": "TextBlock", "text": card_text(text), "wrap": True, **extra}


def _card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "version": "1.4", "body": body}
    if actions:
        card["actions"] = actions
    return card


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD, "content": card}


def _submit(title: str, data: dict[str, Any], style: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.Submit", "title": title[:80], "data": data}
    if style in ("primary", "danger"):
        action["style"] = "positive" if style == "primary" else "destructive"
    return action


def message_card(message: OutgoingMessage, catalog: Catalog, locale: str) -> dict[str, Any]:
    """The message's text, its buttons, and for a question the expert's answer field."""
    lines = message.text.splitlines() or [""]
    body = [_text(lines[0], weight="Bolder" if message.kind == MessageKind.QUESTION else "Default")]
    body += [_text(line) for line in lines[1:] if line.strip()]
    actions = [_submit(b.label, {ACTION_KEY: b.action, "value": b.value}, b.style) for b in message.buttons]
    if message.kind == MessageKind.QUESTION and message.question_id is not None:
        body.append({"type": "Input.Text", "id": "answer", "isMultiline": True, "maxLength": 4000,
                     "placeholder": catalog.text(locale, "teams.answer_placeholder")})
        actions.append(_submit(catalog.text(locale, "teams.send_answer"),
                               {ACTION_KEY: ANSWER, "value": str(message.question_id)}, "primary"))
    return _card(body, actions)


def done_card(message: OutgoingMessage, done: list[str], catalog: Catalog, locale: str) -> dict[str, Any]:
    """A message's card once some of its buttons were pressed (issue 13, bot/teams/card_updates.py):
    ``message`` with the buttons still open, and each choice made as a line of its own, above the answer
    field where the card has one."""
    card = message_card(message, catalog, locale)
    body = card["body"] = [e for e in card["body"] if e.get("type") != "TextBlock" or e.get("text")]
    at = next((i for i, element in enumerate(body) if str(element.get("type", "")).startswith("Input.")), len(body))
    body[at:at] = [_text(line, weight="Bolder", color="Good") for line in done]
    return card


def ask_form(catalog: Catalog, locale: str, form_id: str | None = None) -> dict[str, Any]:
    t = lambda key: catalog.text(locale, key)  # noqa: E731 - keeps the card readable
    form_id = form_id or secrets.token_urlsafe(12)
    return _card(
        [
            _text(t("modal.title"), weight="Bolder", size="Medium"),
            # Teams' people picker: the client searches the organisation's directory with the asker's own rights and
            # submits the chosen person's Microsoft Entra object id (bot.teams.picker finds them in Teams).
            {"type": "Input.ChoiceSet", "id": PICKED, "label": t("modal.expert"),
             "placeholder": t("teams.expert_picker"), "isMultiSelect": False, "choices": [],
             "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}},
            {"type": "Input.Text", "id": "expert", "label": t("teams.expert_fallback"), "placeholder": "@naam"},
            {"type": "Input.Text", "id": "topic", "label": t("modal.topic"), "placeholder": t("modal.topic_hint"),
             "maxLength": 60},
            {"type": "Input.Text", "id": "question", "label": t("modal.question"), "isMultiline": True,
             "isRequired": True, "maxLength": 4000},
            {"type": "Input.Text", "id": "assessment", "label": t("modal.assessment"), "isMultiline": True,
             "placeholder": t("modal.assessment_hint"), "maxLength": 1000},
            {"type": "Input.ChoiceSet", "id": "kind", "label": t("modal.kind"), "style": "expanded", "choices": [
                {"title": t("modal.kind_doubt"), "value": "doubt"},
                {"title": t("modal.kind_complex"), "value": "complex"}]},
            _text(t("modal.kind_hint"), size="Small"),
            # The kind is the asker's own unless they switch this on (privacy rules, docs/architecture.md).
            {"type": "Input.Toggle", "id": "share_kind", "title": t("modal.share_kind_option"), "value": "false",
             "valueOn": "true", "valueOff": "false"},
            _text(t("modal.share_kind_hint"), size="Small"),
            {"type": "Input.Toggle", "id": "urgent", "title": t("modal.urgent_option"), "valueOn": "true",
             "valueOff": "false"},
        ],
        [_submit(t("modal.submit"), {ACTION_KEY: ASK_FORM, FORM_ID: form_id}, "primary")],
    )


def picked_object_id(data: dict[str, Any]) -> str | None:
    """The Entra object id the ask form's people picker submitted (the first, should a client send several)."""
    value = data.get(PICKED)
    first = value.split(",")[0].strip() if isinstance(value, str) else ""
    return first[:64] or None


def submitted_command(data: dict[str, Any]) -> Command:
    """The command a card's submit stands for: the ask form, an answer, or one of the message buttons.
    Raises InvalidInput for a button or an answer that no card of ours carries."""
    kind = data.get(ACTION_KEY)
    if kind == ASK_FORM:
        return Ask(_ask_request(data))
    value = str(data.get("value", ""))
    if kind == ANSWER:
        return parse_answer(value, str(data.get("answer") or ""))
    return parse_action(str(kind), value)


def _ask_request(data: dict[str, Any]) -> AskRequest:
    """The ask form's fields (see ask_form) as a request; the use case checks what they say."""
    expert = str(data.get("expert") or "").lstrip().lstrip("@").split()
    kind = data.get("kind")
    picked = data.get(EXPERT_ID)
    return AskRequest(
        text=str(data.get("question") or "").strip(),
        expert_handle=expert[0].lower() if expert and not picked else None,
        expert_external_id=picked if isinstance(picked, str) and picked else None,
        topic=str(data.get("topic") or "").strip() or None,
        first_assessment=str(data.get("assessment") or "").strip() or None,
        kind=QuestionKind(kind) if kind in ("doubt", "complex") else None,
        urgent=str(data.get("urgent")).lower() == "true",
        share_kind=str(data.get("share_kind")).lower() == "true",
    )
