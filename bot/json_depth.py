"""How deeply a JSON text nests, told without parsing it.

json.loads recurses once per level: a body nested thousands deep runs the parser to the recursion
limit, and a garbage collection that happens down there runs other objects' finalizers with no stack
left (the fuzz tests saw PostgreSQL connection finalizers fail that way). So a body deeper than any
real Slack or Teams payload is refused before it is parsed. Real payloads nest about a dozen levels."""

from __future__ import annotations

import re

MAX_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)  # brackets inside strings do not nest
_BRACKET = re.compile(r"[\[\]{}]")


def nested_deeper_than(text: str, limit: int = MAX_DEPTH) -> bool:
    if text.count("{") + text.count("[") <= limit:  # the usual case, answered in C
        return False
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth = depth + 1 if bracket in "[{" else depth - 1
        if depth > limit:
            return True
    return False
