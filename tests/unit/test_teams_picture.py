"""The monthly picture on Teams: the text with the chart as an inline image attachment (a base64
data URI), since a bot has nowhere to host the PNG."""

from __future__ import annotations

import base64

from bot.teams.activities import INLINE_IMAGE_BYTES, activities_for
from handlers.messages import Image, OutgoingMessage
from handlers.models import MessageKind
from nudges.texts.catalog import load_catalog

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def picture(png: bytes = PNG) -> OutgoingMessage:
    return OutgoingMessage(MessageKind.MONTHLY_TEAM, "Het beeld van november.", channel="teams:19:abc", private=False,
                           attachment=Image(png=png, filename="vraagbot-2026-11.png", alt_text="Team"))


def test_the_chart_goes_inline_with_the_text():
    [activity] = activities_for(picture(), load_catalog(), "nl")
    assert activity.text == "Het beeld van november."
    [attachment] = activity.attachments
    assert attachment.content_type == "image/png" and attachment.name == "vraagbot-2026-11.png"
    prefix, encoded = attachment.content_url.split(",", 1)
    assert prefix == "data:image/png;base64" and base64.b64decode(encoded) == PNG


def test_a_picture_over_the_inline_limit_sends_the_text_alone():
    [activity] = activities_for(picture(b"x" * (INLINE_IMAGE_BYTES + 1)), load_catalog(), "nl")
    assert activity.text == "Het beeld van november." and not activity.attachments
