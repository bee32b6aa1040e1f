"""User text as we store it: without control characters that no person typed on purpose.

PostgreSQL refuses a NUL character in a text column ("invalid byte sequence for encoding UTF8"),
so a question holding one was acknowledged and then lost; SQLite took it. Both now store the same
cleaned text. Tabs and line breaks stay: people use them.
"""

from __future__ import annotations

import re

_INVISIBLE_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_user_text(text: str) -> str:
    return _INVISIBLE_CONTROLS.sub("", text)
