"""Curt-reply (kortaf) detection for expert replies, Dutch and English.

A reply is *curt* when it reads as short-tempered, impatient or dismissive: the kind of answer that
leaves the asker feeling they were a burden (docs/curtness-labelling.md). Length is not the signal:
"Klopt!" is short and friendly, "Staat in de handleiding, succes." is short and dismissive.

The score comes from a linear model over word and character n-grams, lexicon rules and the context
(``curtness_features``), trained by ``curtness_training/train.py`` and shipped as
``curtness_model.json``. Scoring is a sum of weights through a logistic function, calibrated on
validation data, so the score reads as a probability. Reasons are the features that fired in this
reply, strongest first, those that carried the verdict before those that argued against it.

Scoring does not build the ~150 features ``extract`` lists per reply: it looks up the n-gram weights
of each word once (cached per word, with the model) and adds them in ``extract``'s order, so the sum,
the score and the reasons are the same, bit for bit (tests/unit/test_curtness_equivalence.py).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from importlib import resources
from itertools import pairwise, repeat
from operator import itemgetter, mul
from typing import Any

from handlers.curtness_features import (
    CACHED_WORD_CHARS,
    MAX_CHARS,
    char_grams,
    load_lexicon,
    prepare,
    rule_features,
)

__all__ = ["CURT_THRESHOLD",  # noqa: F822 (served by __getattr__ from the model file)
            "MAX_CHARS", "CurtnessVerdict", "assess_reply", "model_info"]

_MAX_REASONS = 8
_MIN_CONTRIBUTION = 0.05  # smaller pushes are noise, not reasons
_WORD_CACHE_SIZE = 4096  # words whose weights are kept: ~1 KB a usual word; ~15 MB if all had 16 letters


@dataclass(frozen=True)
class CurtnessVerdict:
    score: float  # 0..1, a calibrated probability that the reply reads as curt
    curt: bool  # score >= threshold
    reasons: tuple[str, ...]  # what fired in this text, the verdict's direction first, strongest first


# What scoring needs of one word, looked up once and cached with the model: its labels, the weights of
# its unigram and of its bigrams with the start and end markers (None: not in the model), every
# distinct character n-gram name (for the family's size, and to tell which names an earlier word of the
# reply already had), and the weighted n-grams in order, with and without their names.
_WordEntry = tuple[str, str, float | None, float | None, float | None, tuple[str, ...],
                   tuple[tuple[str, float], ...], tuple[float, ...]]


@dataclass(frozen=True)
class _Model:
    bias: float
    threshold: float
    weights: dict[str, float]
    about: dict[str, Any]
    word_weights: dict[str, float]  # the w: weights, keyed without the prefix (as word_grams gives them)
    word_entries: Callable[[Collection[str]], list[_WordEntry]]  # cached per word


def _word_entry(word_weights: dict[str, float], char_weights: dict[str, float], word: str) -> _WordEntry:
    names = char_grams(word)
    if len(set(names)) < len(names):  # "aaaa": a gram twice in one word counts once
        names = tuple(dict.fromkeys(names))
    weighted = tuple([(name, char_weights[name]) for name in names if name in char_weights])
    return ("words:" + word, "chars:" + word, word_weights.get(word), word_weights.get("<s> " + word),
            word_weights.get(word + " </s>"), names, weighted, tuple([weight for _, weight in weighted]))


def _word_entries(word_weights: dict[str, float],
                  char_weights: dict[str, float]) -> Callable[[Collection[str]], list[_WordEntry]]:
    build = partial(_word_entry, word_weights, char_weights)
    cached = lru_cache(maxsize=_WORD_CACHE_SIZE)(build)

    def entries(words: Collection[str]) -> list[_WordEntry]:
        # A long word bypasses the cache, so hostile input cannot fill memory through it.
        if max(map(len, words), default=0) <= CACHED_WORD_CHARS:  # the usual reply: mapped in C
            return list(map(cached, words))
        return [cached(word) if len(word) <= CACHED_WORD_CHARS else build(word) for word in words]

    entries.cache_clear = cached.cache_clear  # type: ignore[attr-defined]  # bench: replies of unseen words only
    return entries


@cache
def _model() -> _Model:
    raw = json.loads(resources.files("handlers").joinpath("curtness_model.json").read_text(encoding="utf-8"))
    weights = raw["weights"]
    word_weights = {name[2:]: weight for name, weight in weights.items() if name.startswith("w:")}
    char_weights = {name[2:]: weight for name, weight in weights.items() if name.startswith("c:")}
    load_lexicon()  # the first reply should not pay for it
    return _Model(bias=float(raw["bias"]), threshold=float(raw["threshold"]), weights=weights,
                  about=raw.get("about", {}),
                  word_weights=word_weights, word_entries=_word_entries(word_weights, char_weights))


def model_info() -> dict[str, Any]:
    """What the shipped model says about itself (training data, threshold choice, validation figures)."""
    model = _model()
    return {"threshold": model.threshold, "features": len(model.weights), **model.about}


def __getattr__(name: str) -> float:
    # The threshold lives in the model file (chosen on validation data); read it on first use.
    if name == "CURT_THRESHOLD":
        return _model().threshold
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _logistic(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def assess_reply(
    text: str,
    *,
    question: str | None = None,
    reply_seconds: float | None = None,
    interrupted_focus: bool = False,
    threshold: float | None = None,
) -> CurtnessVerdict:
    """Score how curt ``text`` (an expert's reply) reads, with reasons.

    ``question`` is the question being answered, ``reply_seconds`` how long after delivery the reply
    came, ``interrupted_focus`` whether the question reached the expert during focus time.
    """
    model = _model()
    threshold = model.threshold if threshold is None else threshold
    if not isinstance(text, str) or not text.strip():
        return CurtnessVerdict(score=0.0, curt=False, reasons=("empty",))
    sums = _sums(model, text, question if isinstance(question, str) else None, reply_seconds,
                 bool(interrupted_focus))
    if sums is None:
        return CurtnessVerdict(score=0.0, curt=False, reasons=("empty",))
    total, by_label = sums
    score = round(_logistic(total), 4)
    strong = [item for item in by_label.items() if not -_MIN_CONTRIBUTION < item[1] < _MIN_CONTRIBUTION]
    # Stable sorts (reverse= keeps ties in order too): equal pushes stay in the order the features come.
    towards = sorted((item for item in strong if item[1] > 0), key=itemgetter(1), reverse=True)
    against = sorted((item for item in strong if item[1] < 0), key=itemgetter(1))
    # The verdict's own direction first: a friendly verdict leads with what made it friendly.
    ordered = towards + against if score >= threshold else against + towards
    reasons = tuple(label for label, _ in ordered[:_MAX_REASONS])
    return CurtnessVerdict(score=score, curt=score >= threshold, reasons=reasons)


def _sums(model: _Model, text: str, question: str | None, reply_seconds: float | None,
          interrupted_focus: bool) -> tuple[float, dict[str, float]] | None:
    """The model's sum for a reply, and each reason label's part of it in the order the labels first
    carry weight: what summing weight x value over ``extract``'s features, in its order, gives.
    None when there is nothing to read."""
    lexicon = load_lexicon()
    prepared = prepare(text, lexicon)
    rules = rule_features(prepared, lexicon, question, reply_seconds, interrupted_focus)
    if prepared.blank and not rules:
        return None
    by_label: dict[str, float] = {}
    total = model.bias if prepared.blank else _add_ngrams(model, prepared.words, model.bias, by_label)
    weights = model.weights
    for name, value, label in rules:
        weight = weights.get(name)
        if weight is not None:
            contribution = weight * value
            total += contribution
            by_label[label] = by_label.get(label, 0.0) + contribution
    return total, by_label


def _add_word(word_entry: _WordEntry, weight: float | None, value: float, total: float,
              by_label: dict[str, float]) -> float:
    if weight is None:
        return total
    contribution = weight * value
    label = word_entry[0]
    by_label[label] = by_label.get(label, 0.0) + contribution
    return total + contribution


def _add_ngrams(model: _Model, words: tuple[str, ...], total: float, by_label: dict[str, float]) -> float:
    """``total`` plus the w: and c: contributions, added one by one in the order ``extract`` lists the
    features (float addition is not associative: another order could move a score across a rounding
    step); each label's sum goes into an empty ``by_label``, in the order the labels first carry weight."""
    if not words:  # an emoji-only reply: the empty reply's one bigram
        weight = model.word_weights.get("<s> </s>")
        if weight is not None:
            by_label["words:</s>"] = weight
            total += weight
        return total
    entries = model.word_entries(dict.fromkeys(words))
    inner = dict.fromkeys(map(" ".join, pairwise(words)))
    value = 1.0 / math.sqrt(len(entries) + len(inner) + 2)
    # Words: unigrams (each label is new here), the start bigram, the bigrams inside, the end bigram.
    for word_entry in entries:
        weight = word_entry[2]
        if weight is not None:
            contribution = weight * value
            total += contribution
            by_label[word_entry[0]] = contribution
    total = _add_word(entries[0], entries[0][3], value, total, by_label)  # "<s> first"
    word_weights = model.word_weights
    for gram in inner:
        weight = word_weights.get(gram)
        if weight is not None:
            contribution = weight * value
            total += contribution
            label = "words:" + gram
            by_label[label] = by_label.get(label, 0.0) + contribution
    (last,) = model.word_entries((words[-1],))
    total = _add_word(last, last[4], value, total, by_label)  # "last </s>"
    # Characters: an n-gram counts once per reply, for the first word that has it.
    seen: set[str] = set()
    fresh: list[float] = []
    ends: list[tuple[str, int]] = []
    for _, chars_label, _, _, _, names, weighted, char_weights in entries:
        if seen.isdisjoint(names):
            fresh.extend(char_weights)
        else:
            fresh.extend([weight for name, weight in weighted if name not in seen])
        seen.update(names)
        ends.append((chars_label, len(fresh)))
    contributions = list(map(mul, fresh, repeat(1.0 / math.sqrt(len(seen)))))
    start = 0
    for chars_label, end in ends:
        if end > start:
            # sum() adds left to right, as the loops above do (Python 3.11; 3.12's sum compensates).
            by_label[chars_label] = sum(contributions[start:end], 0.0)
            start = end
    return sum(contributions, total)
