"""Every message enters the outbox through handlers.queueing.queue (the planner too), and every
"<platform>:<id>" channel is read through handlers.addresses.ChannelAddress: checked on the
source, so a second way cannot creep back in."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ("bot", "handlers", "nudges")


def sources() -> dict[str, str]:
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
            for folder in CODE for path in (ROOT / folder).rglob("*.py")}


def test_only_queue_writes_outbox_rows():
    writers = sorted(name for name, text in sources().items() if "outbox.add(" in text)
    assert writers == ["handlers/queueing.py"]


def test_no_channel_string_is_taken_apart_by_hand():
    # The shapes the five hand-made parsers had: split/partition on ":" or a platform prefix cut off.
    by_hand = re.compile(r"""channel[\w.]*\s*(?:or\s*""\)\s*)?\.(?:split|partition)\(":"|removeprefix\("\w+:"\)""")
    found = sorted(name for name, text in sources().items() if by_hand.search(text))
    assert found == []
