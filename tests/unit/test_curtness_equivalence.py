"""The fast curt-reply scorer against the plain one: summing weight x value over ``extract``'s features.

``extract`` is what the model is trained on; ``assess_reply`` scores the same features without building
them (per-word cached weight look-ups, one pass). These tests pin the two together, bit for bit: the raw
sum before the logistic, every reason label's part of it (values and order, which decide the reasons
shown), and the verdicts. On the shipped splits, on replies made to be awkward (shared character n-grams,
repeated and long words, emoji, markup), and on a sample of the external labelled sets when they are
there: the folder curtness_training/train.py reads ($VRAAGBOT_CURTNESS_EXTERNAL, or ./external-eval).
"""

from __future__ import annotations

import json
import math
import os
import random
from pathlib import Path
from typing import Any

import pytest

from curtness_eval.datasets import DataError, bundled_test_split, load_external
from handlers import curtness
from handlers.curtness import assess_reply
from handlers.curtness_features import extract

ROOT = Path(__file__).parents[2]
TRAINING = ROOT / "curtness_training" / "data"
EXTERNAL = Path(os.environ.get("VRAAGBOT_CURTNESS_EXTERNAL") or ROOT / "external-eval")  # as train.py


def _plain_sums(text: str, question: str | None, reply_seconds: float | None,
                interrupted_focus: bool) -> tuple[float, dict[str, float]] | None:
    """The straightforward scorer: every feature, its weight looked up by name, added in order."""
    model = curtness._model()
    features = extract(text, question, reply_seconds, interrupted_focus)
    if not features:
        return None
    total = model.bias
    by_label: dict[str, float] = {}
    for name, value, label in features:
        weight = model.weights.get(name)
        if weight is not None:
            total += weight * value
            by_label[label] = by_label.get(label, 0.0) + weight * value
    return total, by_label


def _plain_verdict(sums: tuple[float, dict[str, float]] | None) -> tuple[float, bool, tuple[str, ...]]:
    threshold = curtness._model().threshold
    if sums is None:
        return 0.0, False, ("empty",)
    total, by_label = sums
    score = round(1.0 / (1.0 + math.exp(-total)) if total >= 0 else math.exp(total) / (1.0 + math.exp(total)), 4)
    towards = sorted((i for i in by_label.items() if i[1] >= 0.05), key=lambda i: -i[1])
    against = sorted((i for i in by_label.items() if i[1] <= -0.05), key=lambda i: i[1])
    ordered = towards + against if score >= threshold else against + towards
    return score, score >= threshold, tuple(label for label, _ in ordered[:8])


def _differences(records: list[dict[str, Any]]) -> list[str]:
    model = curtness._model()
    found = []
    for record in records:
        args = (record["text"], record.get("question"), record.get("reply_seconds"),
                bool(record.get("interrupted_focus")))
        fast = curtness._sums(model, *args) if args[0].strip() else None
        plain = _plain_sums(*args) if args[0].strip() else None
        # Same floats in the same order: a different order of additions shows up here first.
        if (fast and (fast[0], list(fast[1].items()))) != (plain and (plain[0], list(plain[1].items()))):
            found.append(f"sums differ for {args[0][:60]!r}: {fast and fast[0]!r} vs {plain and plain[0]!r}")
            continue
        verdict = assess_reply(args[0], question=args[1], reply_seconds=args[2], interrupted_focus=args[3])
        if (verdict.score, verdict.curt, verdict.reasons) != _plain_verdict(plain):
            found.append(f"verdict differs for {args[0][:60]!r}: {verdict} vs {_plain_verdict(plain)}")
    return found


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_shipped_splits_score_alike() -> None:
    records = bundled_test_split() + _jsonl(TRAINING / "train.jsonl") + _jsonl(TRAINING / "validation.jsonl")
    assert len(records) > 1500
    assert _differences(records) == []


def _awkward_replies(count: int) -> list[dict[str, Any]]:
    """Seeded replies from the test split's own words plus the cases the fast path treats apart:
    words sharing n-grams ("aaaa", "de deze"), repeats, words over the cache's 16 characters, emoji
    and shortcodes alone or with words, Slack markup, capitals, bursts, empty-looking text."""
    rng = random.Random(15)
    vocabulary = sorted({word for row in bundled_test_split() for word in row["text"].split()})
    odd = ["aaaa", "aaa", "a", "de", "deze", "dede", "the", "then", "there", "x" * 17, "ontwikkelingsmogelijkheden",
           "zzzzzzzzzzzzzzzzzzzzzzzz", "🙂", "🙄", "👍", ":slightly_smiling_face:", ":face_with_rolling_eyes:",
           "<@U123>", "<https://wiki.example.org|de wiki>", "https://example.org/x", "NIET", "READ", "!!!", "?!",
           "*echt*", "_nu_", "é", "Ça", "—", "…", ":-)", ":/", "\n", "  ", "RTFM", "zoals", "ik", "al", "zei"]
    questions = [None, "", "?", "Klopt dit?", "Kun je even meekijken naar mijn pull request?",
                 "Quick question: are the new rates live yet?", "Sorry dat ik stoor, mag ik vrijdag thuiswerken?"]
    replies = []
    for _ in range(count):
        size = rng.choice([1, 1, 2, 3, 5, 8, 13, 30])
        words = [rng.choice(odd if rng.random() < 0.3 else vocabulary) for _ in range(size)]
        if rng.random() < 0.2:
            words += words[: rng.randint(1, len(words))]  # repeated words and bigrams
        replies.append({"text": " ".join(words), "question": rng.choice(questions),
                        "reply_seconds": rng.choice([None, 0, 12, 119.9, 120, 3600, -1]),
                        "interrupted_focus": rng.random() < 0.3})
    return replies


def test_awkward_replies_score_alike() -> None:
    assert _differences(_awkward_replies(3000)) == []


@pytest.mark.parametrize(
    "text",
    ["", "   ", "🙂", "🙂🙂🙂👍", "🙄", "<@U123>", "!!!???", "?", "x" * 40_000, "é" * 5001, "NEE NEE NEE NEE",
     "Zoals ik al zei, lees de handleiding. " * 1200, "\x00\x01\u200b", ":slightly_smiling_face: :+1:"],
)
def test_edge_replies_score_alike(text: str) -> None:
    assert _differences([{"text": text, "question": "Klopt dit?"}, {"text": text}]) == []


def _external_records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for folder in ("stanford_politeness", "oss_incivility_ferreira2024", "tydip_afrikaans", "strudel_raman2020",
                   "toxicr_code_review"):
        try:
            records.extend(load_external(EXTERNAL / folder))
        except (DataError, OSError):  # not there, or the .xlsx reader (train extra) is not installed
            continue
    return records


@pytest.mark.skipif(not EXTERNAL.is_dir(), reason=f"no external labelled sets at {EXTERNAL}")
def test_the_external_sets_score_alike() -> None:
    # Every 6th record (~3,700 of ~22,000, some several thousand characters long): the whole sets take
    # ~15 s here; bench/NOTES-curtness.md has the full before/after comparison.
    records = _external_records()
    assert len(records) > 5000
    assert _differences(records[::6]) == []
