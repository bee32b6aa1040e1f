"""Score labelled records with the detector and format the results as text tables."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from curtness_eval.metrics import metrics_at
from handlers.curtness import assess_reply

__all__ = ["evaluate", "misclassified_lines", "table_lines"]

_TRUNCATE = 90
_METRIC_KEYS = ("precision", "recall", "f1", "accuracy", "roc_auc", "average_precision")


def evaluate(records: Iterable[dict[str, Any]], threshold: float | None = None) -> dict[str, Any]:
    """Score records ({"text", "curt", optional "question", "reply_seconds", "interrupted_focus", "lang"/"group"}).

    Returns {"threshold", "overall", "groups": {group: metrics}, "misclassified": [...]}; a group is the
    record's "group" when it names an external set, else its "lang".
    """
    from handlers.curtness import CURT_THRESHOLD

    threshold = CURT_THRESHOLD if threshold is None else threshold
    labels: list[bool] = []
    scores: list[float] = []
    groups: dict[str, tuple[list[bool], list[float]]] = {}
    misclassified: list[dict[str, Any]] = []
    for record in records:
        verdict = assess_reply(record["text"], question=record.get("question"),
                               reply_seconds=record.get("reply_seconds"),
                               interrupted_focus=bool(record.get("interrupted_focus")), threshold=threshold)
        gold = bool(record["curt"])
        labels.append(gold)
        scores.append(verdict.score)
        group_name = record.get("group")
        group = str(group_name if group_name and "/" in str(group_name) else record.get("lang") or group_name
                    or "all")
        group_labels, group_scores = groups.setdefault(group, ([], []))
        group_labels.append(gold)
        group_scores.append(verdict.score)
        if verdict.curt != gold:
            misclassified.append({"text": record["text"], "group": group, "gold": gold, "score": verdict.score,
                                  "reasons": list(verdict.reasons)})
    return {
        "threshold": threshold,
        "overall": metrics_at(labels, scores, threshold),
        "groups": {name: metrics_at(ls, ss, threshold) for name, (ls, ss) in sorted(groups.items())},
        "misclassified": misclassified,
    }


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def table_lines(title: str, result: dict[str, Any]) -> list[str]:
    columns = ("n", "positives", "precision", "recall", "F1", "accuracy", "ROC AUC", "avg prec")
    header = f"{'group':<26} " + " ".join(f"{name:>9}" for name in columns)
    lines = [title, header, "-" * len(header)]
    # Group rows unless the only group is an unnamed "all"; a single external set still shows its name.
    rows = [*result["groups"].items(), ("overall", result["overall"])] if set(result["groups"]) != {"all"} else [
        ("overall", result["overall"])]
    for name, m in rows:
        values = [f"{m['n']:>9}", f"{m['positives']:>9}"] + [f"{_fmt(m[key]):>9}" for key in _METRIC_KEYS]
        lines.append(f"{name:<26} " + " ".join(values))
    return lines


def _truncate(text: str, limit: int = _TRUNCATE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def misclassified_lines(result: dict[str, Any], limit: int | None) -> list[str]:
    items = result["misclassified"]
    shown = items if limit is None else items[:limit]
    suffix = "" if len(shown) == len(items) else f" (showing {len(shown)})"
    lines = [f"misclassified: {len(items)}{suffix}"]
    for item in shown:
        kind = "FN" if item["gold"] else "FP"
        reasons = ", ".join(item["reasons"][:4]) or "-"
        lines.append(f"  {kind} {item['score']:.3f} [{item['group']}] {_truncate(item['text'])}  <{reasons}>")
    return lines
