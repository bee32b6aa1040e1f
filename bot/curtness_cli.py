"""Command-line access to the curt-reply detector: score JSON lines, and evaluate on labelled data.

Two click commands, registered by the main CLI group:

* ``curtness``: JSON lines in on stdin, one JSON verdict per line out on stdout;
* ``curtness-eval``: precision/recall/F1/accuracy/ROC AUC/average precision on the fixed test split
  shipped in ``curtness_eval`` (or a given JSON lines file), optionally on an external labelled set.

The evaluation harness (metrics, loaders, tables) is the ``curtness_eval`` tooling package; this
module only parses options and prints.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click

from handlers.curtness import assess_reply

__all__ = ["LineError", "curtness_command", "curtness_eval_command", "score_line"]


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


# ----------------------------------------------------------------------------- evaluation


@click.command("curtness-eval")
@click.option("--data", "data_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Labelled JSON lines with \"text\" and \"curt\" (default: the shipped test split).")
@click.option("--split", type=click.Choice(["train", "validation", "test", "tune", "all"]), default="all",
              show_default=True, help="Only rows whose \"split\" field has this value.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None,
              help="Decision threshold (default: the one shipped with the model).")
@click.option("--external", "external_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also evaluate on an external labelled set (a folder such as stanford_politeness).")
@click.option("--show-errors", "show_errors", type=click.IntRange(min=0), default=20, show_default=True,
              help="How many misclassified items to list per table.")
def curtness_eval_command(
    data_path: Path | None, split: str, threshold: float | None, external_dir: Path | None, show_errors: int
) -> None:
    """Evaluate the curt-reply detector: precision, recall, F1, accuracy, ROC AUC, average precision."""
    from curtness_eval.datasets import DataError, bundled_test_split, load_external, load_labelled
    from curtness_eval.report import evaluate, misclassified_lines, table_lines
    from handlers.curtness import CURT_THRESHOLD

    threshold = CURT_THRESHOLD if threshold is None else threshold
    try:
        if data_path is None:
            try:
                records, name = bundled_test_split(), "shipped test split"
            except FileNotFoundError:  # a package built without its data (pyproject.toml: package-data)
                raise DataError("the shipped test split (curtness_eval/data) is not installed with this package: "
                                "reinstall vraagbot (pip install .), or pass --data FILE") from None
            if split not in ("all", "test"):
                raise DataError(f"the shipped file holds only the test split; pass --data FILE for {split!r}")
        elif not data_path.exists():
            raise DataError(f"labelled data not found: {data_path}")
        else:
            records, name = load_labelled(data_path, split), data_path.name
        if not records:
            raise DataError(f"no records in split {split!r} of {name}")
        result = evaluate(records, threshold)
        for line in table_lines(f"{name} split={split} threshold={threshold:.2f}", result):
            click.echo(line)
        for line in misclassified_lines(result, show_errors):
            click.echo(line)
        if external_dir is not None:
            if not external_dir.is_dir():
                raise DataError(f"external data folder not found: {external_dir}")
            external = load_external(external_dir)
            if not external:
                raise DataError(f"no labelled rows found under {external_dir}")
            ext_result = evaluate(external, threshold)
            click.echo("")
            for line in table_lines(f"external: {external_dir} (positive = impolite/uncivil/toxic)", ext_result):
                click.echo(line)
            for line in misclassified_lines(ext_result, show_errors):
                click.echo(line)
    except DataError as exc:
        raise click.ClickException(str(exc)) from None
