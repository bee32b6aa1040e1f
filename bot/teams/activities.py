"""Outgoing messages as Bot Framework activities: an Adaptive Card, plain text, or a data export (a file
consent card: bot/teams/files.py)."""

from __future__ import annotations

import base64
import logging

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity, Attachment

from bot.teams.cards import message_card
from bot.teams.escape import message_text
from bot.teams.files import consent_activities
from handlers.messages import DataExport, Image, OutgoingMessage
from handlers.ports import Catalog

# Teams shows an inline image sent as a base64 data URI up to 1024 x 1024 pixels and 1 MB (the base64
# image does not count toward the message size limit). The chart is 1000 x 500 and far smaller.
INLINE_IMAGE_BYTES = 1024 * 1024

log = logging.getLogger(__name__)


def activities_for(message: OutgoingMessage, catalog: Catalog, locale: str) -> list[Activity]:
    if isinstance(message.attachment, DataExport):
        return consent_activities(message, message.attachment, catalog, locale)
    if isinstance(message.attachment, Image):
        return [_with_image(message, message.attachment)]
    if not message.buttons and message.question_id is None:
        return [MessageFactory.text(message_text(message.text))]
    activity = MessageFactory.attachment(CardFactory.adaptive_card(message_card(message, catalog, locale)))
    activity.summary = message.text[:200]
    return [activity]


def _with_image(message: OutgoingMessage, image: Image) -> Activity:
    """The text with the picture inline: an image attachment whose contentUrl holds the PNG itself (a
    bot has nowhere to host it, and channel messages cannot carry uploaded files without Graph)."""
    if len(image.png) > INLINE_IMAGE_BYTES:
        log.warning("teams: picture %s is %s bytes, over the inline limit; sending the text alone",
                    image.filename, len(image.png))
        return MessageFactory.text(message_text(message.text))
    picture = Attachment(content_type="image/png", name=image.filename,
                         content_url="data:image/png;base64," + base64.b64encode(image.png).decode("ascii"))
    return MessageFactory.attachment(picture, text=message_text(message.text))
