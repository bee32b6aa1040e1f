"""Outgoing messages as Bot Framework activities: an Adaptive Card, plain text, or a data export."""

from __future__ import annotations

import json

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot.teams.cards import message_card
from bot.teams.escape import code_block_json, message_text
from handlers.messages import DataExport, OutgoingMessage
from handlers.ports import Catalog

EXPORT_CHUNK = 20_000  # stay well below Teams' ~28 KB message size


def activities_for(message: OutgoingMessage, catalog: Catalog, locale: str) -> list[Activity]:
    if isinstance(message.attachment, DataExport):
        return _export(message, message.attachment, catalog, locale)
    if not message.buttons and message.question_id is None:
        return [MessageFactory.text(message_text(message.text))]
    activity = MessageFactory.attachment(CardFactory.adaptive_card(message_card(message, catalog, locale)))
    activity.summary = message.text[:200]
    return [activity]


def _export(message: OutgoingMessage, export: DataExport, catalog: Catalog, locale: str) -> list[Activity]:
    """Bots cannot attach a file in a personal chat without a consent round-trip: send the JSON as
    text, in parts."""
    text = code_block_json(json.dumps(export.content, ensure_ascii=False, indent=1))
    parts = [text[i:i + EXPORT_CHUNK] for i in range(0, len(text), EXPORT_CHUNK)]
    heading = lambda n: catalog.text(locale, "teams.export_part", part=n, parts=len(parts))  # noqa: E731
    return [MessageFactory.text(message_text(message.text))] + [
        MessageFactory.text(f"{message_text(heading(n))}\n\n```\n{part}\n```") for n, part in enumerate(parts, 1)
    ]
