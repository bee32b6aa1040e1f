"""Classification metrics in plain Python (the product carries no scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["average_precision", "metrics_at", "roc_auc"]


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties); None if one class only."""
    n_pos = sum(1 for label in labels if label)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        average_rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = average_rank
        i = j + 1
    rank_sum = sum(rank for rank, label in zip(ranks, labels, strict=True) if label)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def average_precision(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Sum over distinct score thresholds of (recall step) x precision; None when there are no positives."""
    n_pos = sum(1 for label in labels if label)
    if n_pos == 0:
        return None
    pairs = sorted(zip(scores, labels, strict=True), key=lambda pair: -pair[0])
    tp = fp = 0
    previous_recall = total = 0.0
    i = 0
    while i < len(pairs):
        threshold = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == threshold:
            tp, fp = (tp + 1, fp) if pairs[i][1] else (tp, fp + 1)
            i += 1
        recall = tp / n_pos
        total += (recall - previous_recall) * (tp / (tp + fp))
        previous_recall = recall
    return total


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def metrics_at(labels: Sequence[bool], scores: Sequence[float], threshold: float) -> dict[str, Any]:
    predictions = [score >= threshold for score in scores]
    tp = sum(1 for p, y in zip(predictions, labels, strict=True) if p and y)
    fp = sum(1 for p, y in zip(predictions, labels, strict=True) if p and not y)
    fn = sum(1 for p, y in zip(predictions, labels, strict=True) if not p and y)
    tn = len(labels) - tp - fp - fn
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "n": len(labels), "positives": tp + fn, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": precision, "recall": recall, "f1": _ratio(2 * precision * recall, precision + recall),
        "accuracy": _ratio(tp + tn, len(labels)), "roc_auc": roc_auc(labels, scores),
        "average_precision": average_precision(labels, scores),
    }
