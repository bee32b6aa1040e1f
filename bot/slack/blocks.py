"""Block Kit rendering of platform-neutral messages, the ask modal and the App Home."""

from __future__ import annotations

from typing import Any

from handlers.messages import OutgoingMessage
from handlers.overview import Overview
from handlers.ports import Catalog

ASK_MODAL = "vraag_modal"
TOPICS_MODAL = "topics_modal"
OPEN_TOPICS_MODAL = "open_topics_modal"
SECTION_LIMIT = 3000  # Slack's limit for one section's text
FALLBACK_LIMIT = 4000  # Slack advises at most this many characters of top-level text
ENTITIES = ("&amp;", "&lt;", "&gt;")  # what escape() writes
LONGEST_ENTITY = max(map(len, ENTITIES))


def escape(text: str) -> str:
    """Slack treats &, < and > as control characters wherever it renders mrkdwn (blocks, the top-level
    text, replies): unescaped, user text could write <!channel>, <@U123> or <https://evil|a link>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pieces(escaped: str, limit: int) -> list[str]:
    """Escaped text in pieces of at most ``limit`` characters, never cutting through an entity
    (half an "&lt;" would show as text, or leave a bare "&")."""
    pieces = []
    while len(escaped) > limit:
        cut = limit
        start = escaped.rfind("&", max(1, limit - LONGEST_ENTITY + 1), limit)  # the last entity that may overrun
        if start != -1 and any(escaped.startswith(e, start) and start + len(e) > limit for e in ENTITIES):
            cut = start
        pieces.append(escaped[:cut])
        escaped = escaped[cut:]
    return [*pieces, escaped]


def _sections(text: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}
            for piece in _pieces(escape(text), SECTION_LIMIT)]


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": label[:75]},
                              "action_id": action_id, "value": value[:2000]}
    if style:
        button["style"] = style
    return button


def message_blocks(message: OutgoingMessage) -> list[dict[str, Any]]:
    blocks = _sections(message.text)
    if message.buttons:
        blocks.append({
            "type": "actions",
            "block_id": f"vraagbot-{message.kind}-{message.question_id or 0}",
            "elements": [_button(b.label, b.action, b.value, b.style) for b in message.buttons],
        })
    return blocks


def fallback_text(message: OutgoingMessage) -> str:
    """The top-level ``text`` of a message or reply: what notifications and screen readers show, and
    what Slack shows when there are no blocks. Slack renders it as mrkdwn too, so it is escaped."""
    return _pieces(escape(message.text), FALLBACK_LIMIT)[0]


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150]}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool, hint: str | None = None,
           ) -> dict[str, Any]:
    block = {"type": "input", "block_id": block_id, "label": _plain(label), "element": element,
             "optional": optional}
    if hint:
        block["hint"] = _plain(hint)
    return block


def ask_modal(catalog: Catalog, locale: str) -> dict[str, Any]:
    t = lambda key: catalog.text(locale, key)  # noqa: E731 - short local alias keeps the view readable
    text_input = lambda multiline, max_length: {  # noqa: E731
        "type": "plain_text_input", "action_id": "value", "multiline": multiline, "max_length": max_length}
    return {
        "type": "modal",
        "callback_id": ASK_MODAL,
        "title": _plain(t("modal.title")[:24]),
        "submit": _plain(t("modal.submit")[:24]),
        "close": _plain(t("modal.cancel")[:24]),
        "private_metadata": locale,
        "blocks": [
            _input("expert", t("modal.expert"), {"type": "users_select", "action_id": "value"},
                   optional=True, hint=t("modal.expert_hint")),
            _input("topic", t("modal.topic"), text_input(False, 60), optional=True, hint=t("modal.topic_hint")),
            _input("question", t("modal.question"), text_input(True, 4000), optional=False),
            _input("assessment", t("modal.assessment"), text_input(True, 1000), optional=True,
                   hint=t("modal.assessment_hint")),
            _input("kind", t("modal.kind"), {"type": "radio_buttons", "action_id": "value", "options": [
                {"text": _plain(t("modal.kind_doubt")), "value": "doubt"},
                {"text": _plain(t("modal.kind_complex")), "value": "complex"},
            ]}, optional=True, hint=t("modal.kind_hint")),
            # The kind is the asker's own unless they tick this (docs/architecture.md): not shown by default.
            _input("share_kind", t("modal.share_kind"), {"type": "checkboxes", "action_id": "value", "options": [
                {"text": _plain(t("modal.share_kind_option")), "value": "share"},
            ]}, optional=True, hint=t("modal.share_kind_hint")),
            _input("urgent", t("modal.urgent"), {"type": "checkboxes", "action_id": "value", "options": [
                {"text": _plain(t("modal.urgent_option")), "value": "urgent"},
            ]}, optional=True),
        ],
    }


def topics_modal(catalog: Catalog, locale: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": TOPICS_MODAL,
        "title": _plain(catalog.text(locale, "modal.topics_title")[:24]),
        "submit": _plain(catalog.text(locale, "modal.topics_submit")[:24]),
        "close": _plain(catalog.text(locale, "modal.cancel")[:24]),
        "blocks": [_input("topics", catalog.text(locale, "modal.topics_label"),
                          {"type": "plain_text_input", "action_id": "value", "max_length": 500}, optional=False)],
    }


def home_view(catalog: Catalog, overview: Overview) -> dict[str, Any]:
    loc = overview.locale
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(catalog.text(loc, "home.title"))},
        *_sections(catalog.text(loc, "home.figures", asked=overview.asked, asked_confirmed=overview.asked_confirmed,
                                answered=overview.answered, answered_confirmations=overview.answered_confirmations,
                                open=overview.open_for_them)),
    ]
    if overview.curt_signals_about_them:
        blocks += _sections(catalog.text(loc, "home.curt_self", curt=overview.curt_signals_about_them))
    blocks.append({"type": "divider"})
    blocks += _sections(catalog.text(loc, "home.topics" if overview.topics else "home.no_topics"))
    for topic in overview.topics:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(f"#{topic}")},
                       "accessory": _button(catalog.text(loc, "button.remove_topic"), "remove_topic", topic)})
    blocks.append({"type": "actions", "block_id": "home-actions", "elements": [
        _button(catalog.text(loc, "button.add_topics"), OPEN_TOPICS_MODAL, "open", "primary"),
        _button(catalog.text(loc, "button.export"), "export_data", "0"),
    ]})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                    "text": escape(catalog.text(loc, "home.privacy"))}]})
    return {"type": "home", "blocks": blocks}
