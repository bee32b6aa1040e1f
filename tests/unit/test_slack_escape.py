"""Finding 11 (issue 11): Slack gets user text escaped, also where long text is cut into pieces."""

from __future__ import annotations

import re

import pytest

from bot.slack.blocks import FALLBACK_LIMIT, SECTION_LIMIT, escape, fallback_text, message_blocks
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind

BROKEN = re.compile(r"&(?!amp;|lt;|gt;)|(?<![&a-z])(?:amp|lt|gt);|[<>]")  # a cut-through entity, or raw < >


@pytest.mark.parametrize("shift", range(6))
def test_long_text_is_cut_between_entities_never_through_one(shift):
    text = "x" * (SECTION_LIMIT - 3 + shift) + "<!channel> & <@UOTHER>" * 300
    message = OutgoingMessage(MessageKind.REPLY, text)
    pieces = [b["text"]["text"] for b in message_blocks(message)]
    assert "".join(pieces) == escape(text)
    assert all(len(p) <= SECTION_LIMIT and not BROKEN.search(p) for p in pieces)
    fallback = fallback_text(message)
    assert len(fallback) <= FALLBACK_LIMIT and escape(text).startswith(fallback) and not BROKEN.search(fallback)


def test_fallback_text_is_escaped():
    message = OutgoingMessage(MessageKind.REPLY, "Vraag: <!channel> <https://evil.example|click> & <@UOTHER>")
    assert fallback_text(message) == "Vraag: &lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; &lt;@UOTHER&gt;"
