"""Command-line access to the curt-reply detector: score JSON lines, and evaluate on labelled data.

Two click commands, registered by the main CLI group:

* ``curtness``: JSON lines in on stdin, one JSON verdict per line out on stdout;
* ``curtness-eval``: precision/recall/F1/accuracy/ROC AUC/average precision on the bundled labelled
  set (and optionally on an external CSV set under ``/work/shared/eval``).

The metrics are computed here in plain Python so the project needs no scikit-learn.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from handlers.curtness import CURT_THRESHOLD, assess_reply

DEFAULT_DATA = Path(__file__).parents[1] / "tests/data/curtness_labelled.jsonl"
_TRUNCATE = 90

__all__ = [
    "DEFAULT_DATA",
    "average_precision",
    "curtness_command",
    "curtness_eval_command",
    "evaluate",
    "load_external",
    "load_labelled",
    "roc_auc",
    "score_line",
]


# ----------------------------------------------------------------------------- scoring lines


class LineError(ValueError):
    """A stdin line that cannot be scored; the message is shown to the user."""


def _optional(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) and kind is not bool:
        raise LineError(f'"{key}" must be {what}, got a boolean')
    if not isinstance(value, kind):
        raise LineError(f'"{key}" must be {what}, got {type(value).__name__}')
    return value


def score_line(line: str) -> dict[str, Any]:
    """Score one JSON line; raises LineError with a clear message when the line is unusable."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise LineError(f"expected a JSON object, got {type(obj).__name__}")
    if "text" not in obj:
        raise LineError('missing required field "text"')
    text = obj["text"]
    if not isinstance(text, str):
        raise LineError(f'"text" must be a string, got {type(text).__name__}')
    question = _optional(obj, "question", str, "a string or null")
    seconds = _optional(obj, "reply_seconds", (int, float), "a number or null")
    if seconds is not None and not math.isfinite(seconds):
        raise LineError('"reply_seconds" must be a finite number')
    focus = _optional(obj, "interrupted_focus", bool, "true, false or null")
    verdict = assess_reply(text, question=question, reply_seconds=seconds, interrupted_focus=bool(focus))
    result: dict[str, Any] = {}
    if "id" in obj:
        result["id"] = obj["id"]
    result.update(score=verdict.score, curt=verdict.curt, reasons=list(verdict.reasons))
    return result


@click.command("curtness")
def curtness_command() -> None:
    """Score expert replies for curtness.

    Reads JSON lines from stdin: {"text": ..., "question": ..., "reply_seconds": ...,
    "interrupted_focus": ...} (only "text" is required; an "id" is echoed back) and writes one line
    per input: {"score": ..., "curt": ..., "reasons": [...]}. Bad lines give {"error": ..., "line": N};
    the exit status is then 1.
    """
    bad = 0
    for number, raw in enumerate(sys.stdin, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            result = score_line(line)
        except LineError as exc:
            bad += 1
            result = {"error": str(exc), "line": number}
        click.echo(json.dumps(result, ensure_ascii=False))
    if bad:
        click.echo(f"{bad} line(s) could not be scored", err=True)
        sys.exit(1)


# ----------------------------------------------------------------------------- metrics


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
    """Average precision: sum over distinct score thresholds of (recall step) x precision.

    None when there are no positives.
    """
    n_pos = sum(1 for label in labels if label)
    if n_pos == 0:
        return None
    pairs = sorted(zip(scores, labels, strict=True), key=lambda pair: -pair[0])
    tp = fp = 0
    previous_recall = 0.0
    total = 0.0
    i = 0
    while i < len(pairs):
        threshold = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == threshold:
            if pairs[i][1]:
                tp += 1
            else:
                fp += 1
            i += 1
        recall = tp / n_pos
        total += (recall - previous_recall) * (tp / (tp + fp))
        previous_recall = recall
    return total


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _metrics(labels: list[bool], scores: list[float], threshold: float) -> dict[str, Any]:
    predictions = [score >= threshold for score in scores]
    tp = sum(1 for p, y in zip(predictions, labels, strict=True) if p and y)
    fp = sum(1 for p, y in zip(predictions, labels, strict=True) if p and not y)
    fn = sum(1 for p, y in zip(predictions, labels, strict=True) if not p and y)
    tn = len(labels) - tp - fp - fn
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return {
        "n": len(labels),
        "positives": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "accuracy": _ratio(tp + tn, len(labels)),
        "roc_auc": roc_auc(labels, scores),
        "average_precision": average_precision(labels, scores),
    }


def evaluate(records: Iterable[dict[str, Any]], threshold: float = CURT_THRESHOLD) -> dict[str, Any]:
    """Score labelled records ({"text", "curt", optional "question", "reply_seconds", "lang"/"group"}).

    Returns {"threshold", "overall": metrics, "groups": {group: metrics}, "misclassified": [...]},
    where a group is the record's "group" or else its "lang".
    """
    labels: list[bool] = []
    scores: list[float] = []
    groups: dict[str, tuple[list[bool], list[float]]] = {}
    misclassified: list[dict[str, Any]] = []
    for record in records:
        verdict = assess_reply(
            record["text"],
            question=record.get("question"),
            reply_seconds=record.get("reply_seconds"),
            interrupted_focus=bool(record.get("interrupted_focus")),
            threshold=threshold,
        )
        gold = bool(record["curt"])
        labels.append(gold)
        scores.append(verdict.score)
        group = str(record.get("group") or record.get("lang") or "all")
        group_labels, group_scores = groups.setdefault(group, ([], []))
        group_labels.append(gold)
        group_scores.append(verdict.score)
        if verdict.curt != gold:
            misclassified.append({
                "text": record["text"],
                "group": group,
                "gold": gold,
                "score": verdict.score,
                "reasons": list(verdict.reasons),
            })
    return {
        "threshold": threshold,
        "overall": _metrics(labels, scores, threshold),
        "groups": {name: _metrics(ls, ss, threshold) for name, (ls, ss) in sorted(groups.items())},
        "misclassified": misclassified,
    }


# ----------------------------------------------------------------------------- data loading


def load_labelled(path: Path, split: str = "all") -> list[dict[str, Any]]:
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise click.ClickException(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not (isinstance(record, dict) and isinstance(record.get("text"), str) and "curt" in record):
                raise click.ClickException(f'{path}:{number}: needs a string "text" and a "curt" label')
            if split == "all" or record.get("split") == split:
                records.append(record)
    return records


def _read_csv(path: Path) -> Iterator[dict[str, str]]:
    csv.field_size_limit(10_000_000)
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _quartiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)

    def at(q: float) -> float:  # linear interpolation, as numpy's default
        position = (len(ordered) - 1) * q
        low = math.floor(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return at(0.25), at(0.75)


def _load_stanford(directory: Path) -> list[dict[str, Any]]:
    records = []
    for name in ("wikipedia", "stack-exchange"):
        path = directory / f"{name}.annotated.csv"
        if not path.exists():
            continue
        rows = [(row["Request"], float(row["Normalized Score"])) for row in _read_csv(path)]
        q1, q3 = _quartiles([score for _, score in rows])
        for text, score in rows:
            if score <= q1:
                records.append({"text": text, "curt": True, "group": f"politeness/{name}"})
            elif score >= q3:
                records.append({"text": text, "curt": False, "group": f"politeness/{name}"})
    return records


def _load_incivility(directory: Path, group: str) -> list[dict[str, Any]]:
    labels: dict[str, bool] = {}
    for name in ("civil", "uncivil"):
        path = directory / f"{name}.csv"
        if not path.exists():
            continue
        for row in _read_csv(path):
            text = (row.get("quotation") or "").strip()
            if not text:
                continue
            code = (row.get("quotation_code") or name).strip().lower()
            labels[text] = labels.get(text, False) or code == "uncivil"
    return [{"text": text, "curt": uncivil, "group": group} for text, uncivil in labels.items()]


def _load_tydip(directory: Path) -> list[dict[str, Any]]:
    records = []
    for lang in ("af", "en"):
        path = directory / f"{lang}_test_binary.csv"
        if path.exists():
            for row in _read_csv(path):
                impolite = float(row["score"]) < 0
                records.append({"text": row["sentence"], "curt": impolite, "group": f"tydip/{lang}"})
    return records


def _load_strudel(directory: Path) -> list[dict[str, Any]]:
    path = directory / "train_comments.csv"
    return [
        {"text": row.get("text", ""), "curt": row.get("toxicity", "").strip().lower() == "y",
         "group": "strudel/comments"}
        for row in _read_csv(path)
        if row.get("text")
    ]


def load_external(directory: Path) -> list[dict[str, Any]]:
    """Recognise an external set by its files: stanford_politeness, oss_incivility (root, gh or lkml,
    or one 3_features_dataset folder), tydip_afrikaans, strudel_raman2020."""
    stanford_files = ("wikipedia.annotated.csv", "stack-exchange.annotated.csv")
    if any((directory / name).exists() for name in stanford_files):
        return _load_stanford(directory)
    if (directory / "civil.csv").exists() and (directory / "uncivil.csv").exists():
        name = "/".join(part for part in directory.parts[-2:] if part != "3_features_dataset")
        return _load_incivility(directory, f"incivility/{name}")
    records: list[dict[str, Any]] = []
    for platform in ("gh", "lkml"):
        for candidate in (directory / platform / "3_features_dataset", directory / "3_features_dataset"):
            if candidate.exists() and (directory.name == platform or candidate.parent.name == platform):
                records.extend(_load_incivility(candidate, f"incivility/{platform}"))
                break
    if records:
        return records
    if (directory / "af_test_binary.csv").exists():
        return _load_tydip(directory)
    if (directory / "train_comments.csv").exists():
        return _load_strudel(directory)
    raise click.ClickException(
        f"{directory}: not a recognised external set (stanford_politeness, oss_incivility_ferreira2024 "
        "or its gh/lkml folder, tydip_afrikaans, strudel_raman2020)"
    )


# ----------------------------------------------------------------------------- reporting


_METRIC_KEYS = ("precision", "recall", "f1", "accuracy", "roc_auc", "average_precision")


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.3f}"


def _table(title: str, result: dict[str, Any]) -> list[str]:
    columns = ("n", "positives", "precision", "recall", "F1", "accuracy", "ROC AUC", "avg prec")
    header = f"{'group':<26} " + " ".join(f"{name:>9}" for name in columns)
    lines = [title, header, "-" * len(header)]
    rows = [*result["groups"].items(), ("overall", result["overall"])] if len(result["groups"]) > 1 else [
        ("overall", result["overall"])
    ]
    for name, m in rows:
        values = [f"{m['n']:>9}", f"{m['positives']:>9}"] + [f"{_fmt(m[key]):>9}" for key in _METRIC_KEYS]
        lines.append(f"{name:<26} " + " ".join(values))
    return lines


def _truncate(text: str, limit: int = _TRUNCATE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _misclassified_lines(result: dict[str, Any], limit: int | None) -> list[str]:
    items = result["misclassified"]
    shown = items if limit is None else items[:limit]
    suffix = "" if len(shown) == len(items) else f" (showing {len(shown)})"
    lines = [f"misclassified: {len(items)}{suffix}"]
    for item in shown:
        kind = "FN" if item["gold"] else "FP"
        reasons = ", ".join(item["reasons"][:4]) or "-"
        lines.append(f"  {kind} {item['score']:.3f} [{item['group']}] {_truncate(item['text'])}  <{reasons}>")
    return lines


@click.command("curtness-eval")
@click.option("--data", "data_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Labelled JSON lines (default: the bundled tests/data/curtness_labelled.jsonl).")
@click.option("--split", type=click.Choice(["tune", "test", "all"]), default="test", show_default=True)
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=CURT_THRESHOLD, show_default=True)
@click.option("--external", "external_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also evaluate on an external labelled CSV set (a folder under /work/shared/eval).")
@click.option("--show-external-errors", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many misclassified external items to list.")
def curtness_eval_command(
    data_path: Path | None, split: str, threshold: float, external_dir: Path | None, show_external_errors: int
) -> None:
    """Evaluate the curt-reply detector: precision, recall, F1, accuracy, ROC AUC, average precision."""
    path = data_path or DEFAULT_DATA
    if not path.exists():
        raise click.ClickException(f"labelled data not found: {path}")
    records = load_labelled(path, split)
    if not records:
        raise click.ClickException(f"no records in split {split!r} of {path}")
    result = evaluate(records, threshold)
    for line in _table(f"{path.name} split={split} threshold={threshold:.2f}", result):
        click.echo(line)
    for line in _misclassified_lines(result, None):
        click.echo(line)
    if external_dir is not None:
        if not external_dir.is_dir():
            raise click.ClickException(f"external data folder not found: {external_dir}")
        external = load_external(external_dir)
        if not external:
            raise click.ClickException(f"no labelled rows found under {external_dir}")
        ext_result = evaluate(external, threshold)
        click.echo("")
        for line in _table(f"external: {external_dir} (positive = impolite/uncivil/toxic)", ext_result):
            click.echo(line)
        for line in _misclassified_lines(ext_result, show_external_errors):
            click.echo(line)
