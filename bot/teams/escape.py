"""Every text the bot shows in Teams is plain text (handlers write no markup, and part of it is what people
typed): Teams renders message text as markdown with some HTML, and card TextBlocks as markdown. These two
functions make sure a question like ``[click](https://evil.example)`` or ``<at>Anna</at>`` shows as written
instead of becoming a link, formatting, a mention or a tag (issue 11, finding 11)."""

from __future__ import annotations

import re

# What turns text into markdown links, emphasis, strike-through or code. Backslash escapes are CommonMark;
# "(" and "." and "#" stay readable because without "[" "]" and at line start they do nothing.
_MARKDOWN = re.compile(r"([\\`*_~\[\]])")
_LINE_START = re.compile(r"^(\s*)([#>+-])(?=\s)", re.M)  # headings, quotes, bullet lists


def _markdown(text: str) -> str:
    return _LINE_START.sub(r"\1\\\2", _MARKDOWN.sub(r"\\\1", text))


def message_text(text: str) -> str:
    """For an activity's ``text``: markdown escaped, and ``& < >`` as entities so no tag is formed."""
    return _markdown(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def card_text(text: str) -> str:
    """For an Adaptive Card TextBlock, which renders markdown but no HTML: ``<`` and ``>`` are escaped the
    markdown way, since a TextBlock would show an entity as written."""
    return _markdown(text).replace("<", "\\<").replace(">", "\\>")
