"""Curt-reply (kortaf) detection for expert replies, Dutch and English.

A reply is *curt* when it reads as short-tempered, impatient or dismissive: the kind of answer that
leaves the asker feeling they were a burden (docs/curtness-labelling.md). Length is not the signal:
"Klopt!" is short and friendly, "Staat in de handleiding, succes." is short and dismissive.

The score comes from a linear model over word and character n-grams, lexicon rules and the context
(``curtness_features``), trained by ``curtness_training/train.py`` and shipped as
``curtness_model.json``. Scoring is a sum of weights through a logistic function, calibrated on
validation data, so the score reads as a probability. Reasons are the features that fired in this
reply, strongest first, those that carried the verdict before those that argued against it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from handlers.curtness_features import MAX_CHARS, extract

__all__ = ["CURT_THRESHOLD",  # noqa: F822 (served by __getattr__ from the model file)
            "MAX_CHARS", "CurtnessVerdict", "assess_reply", "model_info"]

_MAX_REASONS = 8
_MIN_CONTRIBUTION = 0.05  # smaller pushes are noise, not reasons


@dataclass(frozen=True)
class CurtnessVerdict:
    score: float  # 0..1, a calibrated probability that the reply reads as curt
    curt: bool  # score >= threshold
    reasons: tuple[str, ...]  # what fired in this text, the verdict's direction first, strongest first


@dataclass(frozen=True)
class _Model:
    bias: float
    threshold: float
    weights: dict[str, float]
    about: dict[str, Any]


@cache
def _model() -> _Model:
    raw = json.loads(resources.files("handlers").joinpath("curtness_model.json").read_text(encoding="utf-8"))
    return _Model(bias=float(raw["bias"]), threshold=float(raw["threshold"]), weights=raw["weights"],
                  about=raw.get("about", {}))


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
    features = extract(text, question if isinstance(question, str) else None, reply_seconds,
                       bool(interrupted_focus))
    if not features:
        return CurtnessVerdict(score=0.0, curt=False, reasons=("empty",))
    weights = model.weights
    total = model.bias
    by_label: dict[str, float] = {}
    for name, value, label in features:  # unpacked: ~150 features per reply, attribute access adds up
        weight = weights.get(name)
        if weight is not None:
            contribution = weight * value
            total += contribution
            by_label[label] = by_label.get(label, 0.0) + contribution
    score = round(_logistic(total), 4)
    towards = sorted((item for item in by_label.items() if item[1] >= _MIN_CONTRIBUTION), key=lambda i: -i[1])
    against = sorted((item for item in by_label.items() if item[1] <= -_MIN_CONTRIBUTION), key=lambda i: i[1])
    # The verdict's own direction first: a friendly verdict leads with what made it friendly.
    ordered = towards + against if score >= threshold else against + towards
    reasons = tuple(label for label, _ in ordered[:_MAX_REASONS])
    return CurtnessVerdict(score=score, curt=score >= threshold, reasons=reasons)
