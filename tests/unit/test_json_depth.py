"""Bodies nested deeper than any real payload are told apart without parsing them (bot/json_depth.py)."""

from __future__ import annotations

import json

from bot.json_depth import MAX_DEPTH, nested_deeper_than


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_the_limit_itself_passes_one_more_level_does_not():
    assert not nested_deeper_than(nested(MAX_DEPTH))
    assert nested_deeper_than(nested(MAX_DEPTH + 1))
    assert nested_deeper_than("[" * 100_000)  # never closed: still found, without recursion


def test_brackets_inside_strings_do_not_count_escaped_quotes_included():
    text = json.dumps({"text": "{[" * 500 + '\\"' + "[{" * 500, "blocks": [[{"a": [1]}]]})
    assert not nested_deeper_than(text)


def test_a_wide_payload_with_many_brackets_is_not_deep():
    text = json.dumps({"blocks": [{"type": "section", "fields": [{"t": i}]} for i in range(500)]})
    assert text.count("{") > MAX_DEPTH and not nested_deeper_than(text)
