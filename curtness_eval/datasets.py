"""Loaders: our labelled JSON lines, and the external labelled sets (CSV/XLSX) as {"text", "curt", "group"}.

External sets are the public ones described in the shared eval folder; they are read where they lie
and never copied into the project. Their labels are proxies for curtness (see docs/curtness-model.md).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["DataError", "bundled_test_split", "external_sets", "load_external", "load_labelled"]

BUNDLED_TEST = "curtness_test.jsonl"


class DataError(ValueError):
    """A data file or folder that cannot be used; the message names it and says why."""


def load_labelled(path: Path, split: str = "all") -> list[dict[str, Any]]:
    """JSON lines with at least a string "text" and a "curt" label; ``split`` filters on the "split" field."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not (isinstance(record, dict) and isinstance(record.get("text"), str) and "curt" in record):
                raise DataError(f'{path}:{number}: needs a string "text" and a "curt" label')
            if split == "all" or record.get("split") == split:
                records.append(record)
    return records


def bundled_test_split() -> list[dict[str, Any]]:
    """The fixed test split shipped with the package (never used for training or tuning)."""
    text = resources.files("curtness_eval").joinpath("data", BUNDLED_TEST).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


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
        seen: set[str] = set()
        for text, score in rows:
            if text in seen:
                continue
            seen.add(text)
            if score <= q1 or score >= q3:
                records.append({"text": text, "curt": score <= q1, "group": f"politeness/{name}", "lang": "en"})
    return records


def _load_incivility(directory: Path, group: str) -> list[dict[str, Any]]:
    labels: dict[str, bool] = {}
    for name in ("civil", "uncivil"):
        path = directory / f"{name}.csv"
        if not path.exists():
            continue
        for row in _read_csv(path):
            text = (row.get("quotation") or "").strip()
            if text:
                code = (row.get("quotation_code") or name).strip().lower()
                labels[text] = labels.get(text, False) or code == "uncivil"
    return [{"text": text, "curt": uncivil, "group": group, "lang": "en"} for text, uncivil in labels.items()]


def _load_tydip(directory: Path) -> list[dict[str, Any]]:
    records = []
    for lang in ("af", "en"):
        path = directory / f"{lang}_test_binary.csv"
        if path.exists():
            records.extend({"text": row["sentence"], "curt": float(row["score"]) < 0, "group": f"tydip/{lang}",
                            "lang": lang} for row in _read_csv(path))
    return records


def _load_strudel(directory: Path) -> list[dict[str, Any]]:
    return [{"text": row["text"], "curt": row.get("toxicity", "").strip().lower() == "y",
             "group": "strudel/comments", "lang": "en"}
            for row in _read_csv(directory / "train_comments.csv") if (row.get("text") or "").strip()]


def _load_toxicr(directory: Path) -> list[dict[str, Any]]:
    try:
        import openpyxl  # only needed for this one set; part of the train extra
    except ImportError:
        raise DataError(f"{directory}: reading the .xlsx needs openpyxl (pip install '.[train]')") from None
    book = openpyxl.load_workbook(directory / "code-review-dataset-full.xlsx", read_only=True)
    rows = book.active.iter_rows(values_only=True)
    header = [str(cell).strip() for cell in next(rows)]
    text_at, label_at = header.index("message"), header.index("is_toxic")
    records, seen = [], set()
    for row in rows:
        text = row[text_at]
        if isinstance(text, str) and text.strip() and text not in seen:
            seen.add(text)
            records.append({"text": text, "curt": str(row[label_at]).strip() in {"1", "1.0", "True"},
                            "group": "toxicr/code-review", "lang": "en"})
    return records


def load_external(directory: Path) -> list[dict[str, Any]]:
    """Recognise an external set by its files: stanford_politeness, oss_incivility (root, gh or lkml,
    or one 3_features_dataset folder), tydip_afrikaans, strudel_raman2020, toxicr_code_review."""
    if any((directory / f"{name}.annotated.csv").exists() for name in ("wikipedia", "stack-exchange")):
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
    if (directory / "code-review-dataset-full.xlsx").exists():
        return _load_toxicr(directory)
    raise DataError(
        f"{directory}: not a recognised external set (stanford_politeness, oss_incivility_ferreira2024 "
        "or its gh/lkml folder, tydip_afrikaans, strudel_raman2020, toxicr_code_review)"
    )


def external_sets(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Every external set under ``root`` (the shared eval folder), split into its named groups."""
    sets: dict[str, list[dict[str, Any]]] = {}
    for folder in ("stanford_politeness", "oss_incivility_ferreira2024", "tydip_afrikaans", "strudel_raman2020",
                   "toxicr_code_review"):
        if (root / folder).is_dir():
            for record in load_external(root / folder):
                sets.setdefault(record["group"], []).append(record)
    return sets
