"""The curtness click commands, driven through click's CliRunner, and the plain-Python metrics."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.curtness_cli import curtness_command, curtness_eval_command
from curtness_eval.datasets import bundled_test_split, load_external
from curtness_eval.metrics import average_precision, roc_auc
from curtness_eval.report import evaluate


def _json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_curtness_scores_each_valid_line() -> None:
    lines = [
        {"text": "Jep, helemaal juist 🙂"},
        {"id": "r2", "text": "Zoals ik al zei: lees de handleiding.", "question": "Hoe werkt dit?"},
        {"id": 3, "text": "Ja.", "reply_seconds": 8, "interrupted_focus": True},
        {"text": "RTFM.", "question": None, "reply_seconds": None, "interrupted_focus": None},
    ]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"
    result = CliRunner().invoke(curtness_command, [], input=stdin)
    assert result.exit_code == 0, result.output
    out = _json_lines(result.stdout)
    assert len(out) == len(lines)
    for item in out:
        assert 0.0 <= item["score"] <= 1.0
        assert isinstance(item["curt"], bool)
        assert isinstance(item["reasons"], list)
    assert out[0]["curt"] is False
    assert "id" not in out[0]
    assert out[1]["id"] == "r2" and out[1]["curt"] is True
    assert any("zoals ik al zei" in reason for reason in out[1]["reasons"])
    assert out[2]["id"] == 3 and "context:fast_reply_interrupted_focus" in out[2]["reasons"]
    assert out[3]["curt"] is True


def test_curtness_reports_bad_lines_and_keeps_going() -> None:
    stdin = "\n".join(
        [
            json.dumps({"text": "Klopt!"}),
            "this is not json",
            json.dumps(["text", "a list"]),
            json.dumps({"text": 42}),
            json.dumps({"question": "no text here"}),
            json.dumps({"text": "ok", "reply_seconds": "fast"}),
            json.dumps({"text": "ok", "interrupted_focus": "yes"}),
            "",
            json.dumps({"text": "Google it."}),
        ]
    )
    result = CliRunner().invoke(curtness_command, [], input=stdin)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    out = _json_lines(result.stdout)
    errors = [item for item in out if "error" in item]
    scored = [item for item in out if "score" in item]
    assert [item["line"] for item in errors] == [2, 3, 4, 5, 6, 7]
    assert all(isinstance(item["error"], str) and item["error"] for item in errors)
    assert "JSON" in errors[0]["error"]
    assert "object" in errors[1]["error"]
    assert '"text"' in errors[2]["error"] and '"text"' in errors[3]["error"]
    assert "reply_seconds" in errors[4]["error"]
    assert "interrupted_focus" in errors[5]["error"]
    assert len(scored) == 2
    assert scored[0]["curt"] is False and scored[1]["curt"] is True


def test_curtness_empty_input_is_fine() -> None:
    result = CliRunner().invoke(curtness_command, [], input="")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_curtness_eval_shipped_test_split_prints_metrics() -> None:
    result = CliRunner().invoke(curtness_eval_command, [])
    assert result.exit_code == 0, result.output
    assert "precision" in result.output
    assert "recall" in result.output
    assert "ROC AUC" in result.output
    assert "nl" in result.output and "en" in result.output and "overall" in result.output
    assert "misclassified:" in result.output


def test_curtness_eval_uses_given_data_and_lists_errors(tmp_path: Path) -> None:
    data = tmp_path / "mini.jsonl"
    rows = [
        {"text": "Lees de handleiding.", "curt": True, "lang": "nl", "split": "test"},
        {"text": "Graag gedaan 🙂", "curt": False, "lang": "nl", "split": "test"},
        {"text": "Graag gedaan, goeie vraag 🙂", "curt": True, "lang": "en", "split": "test"},
        {"text": "Spot on, carry on", "curt": False, "lang": "en", "split": "tune"},
    ]
    data.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(curtness_eval_command, ["--data", str(data), "--split", "test"])
    assert result.exit_code == 0, result.output
    assert "misclassified: 1" in result.output
    assert "FN" in result.output and "Graag gedaan, goeie vraag 🙂" in result.output
    missing = CliRunner().invoke(curtness_eval_command, ["--data", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code != 0
    assert "Traceback" not in missing.output


def test_the_shipped_test_split_comes_from_the_package() -> None:
    rows = bundled_test_split()
    assert len(rows) >= 300 and {row["split"] for row in rows} == {"test"}
    wrong = CliRunner().invoke(curtness_eval_command, ["--split", "train"])
    assert wrong.exit_code != 0 and "--data" in wrong.output and "Traceback" not in wrong.output


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_curtness_eval_external_incivility_layout(tmp_path: Path) -> None:
    folder = tmp_path / "gh" / "3_features_dataset"
    folder.mkdir(parents=True)
    def row(text: str, tbdf: str, code: str) -> dict[str, str]:
        return {"quotation": text, "quotation_tbdf": tbdf, "quotation_code": code}

    # a quotation appears once per tone feature; it must be counted once
    _write_csv(folder / "uncivil.csv", [
        row("As I said before, read the docs.", "impatience", "uncivil"),
        row("As I said before, read the docs.", "mocking", "uncivil"),
        row("This is a mess.", "bitter_frustration", "uncivil"),
    ])
    _write_csv(folder / "civil.csv", [row("Thanks, happy to help!", "appreciation", "civil")])
    records = load_external(tmp_path)
    assert sorted((r["text"], r["curt"]) for r in records) == [
        ("As I said before, read the docs.", True),
        ("Thanks, happy to help!", False),
        ("This is a mess.", True),
    ]
    result = CliRunner().invoke(curtness_eval_command, ["--external", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "incivility/gh" in result.output


def test_curtness_eval_external_politeness_layout(tmp_path: Path) -> None:
    scores = range(-4, 4)
    rows = [{"Request": f"request {i}", "Normalized Score": str(score)} for i, score in enumerate(scores)]
    _write_csv(tmp_path / "wikipedia.annotated.csv", rows)
    records = load_external(tmp_path)
    # bottom quartile (scores -4, -3) impolite, top quartile (2, 3) polite, middle dropped
    assert sorted(r["text"] for r in records if r["curt"]) == ["request 0", "request 1"]
    assert sorted(r["text"] for r in records if not r["curt"]) == ["request 6", "request 7"]


def test_curtness_eval_rejects_unknown_external_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(curtness_eval_command, ["--external", str(tmp_path)])
    assert result.exit_code != 0
    assert "not a recognised external set" in result.output


def test_roc_auc_and_average_precision() -> None:
    labels = [True, False, True, False]
    scores = [0.9, 0.8, 0.7, 0.1]
    assert roc_auc(labels, scores) == pytest.approx(0.75)
    assert average_precision(labels, scores) == pytest.approx(0.5 * 1.0 + 0.5 * (2 / 3))
    assert roc_auc([True, False], [0.5, 0.5]) == pytest.approx(0.5)  # ties count half
    assert roc_auc([True, True], [0.1, 0.2]) is None
    assert average_precision([False, False], [0.1, 0.2]) is None


def test_evaluate_groups_and_counts() -> None:
    records = [
        {"text": "Zoek het zelf maar uit.", "curt": True, "lang": "nl"},
        {"text": "Klopt!", "curt": False, "lang": "nl"},
        {"text": "RTFM.", "curt": True, "lang": "en"},
        {"text": "Graag gedaan, goeie vraag 🙂 Thanks!", "curt": True, "lang": "en"},
    ]
    result = evaluate(records, 0.5)
    overall = result["overall"]
    assert overall["n"] == 4 and overall["positives"] == 3
    assert overall["tp"] == 2 and overall["fn"] == 1 and overall["fp"] == 0
    assert overall["precision"] == pytest.approx(1.0)
    assert overall["recall"] == pytest.approx(2 / 3)
    assert set(result["groups"]) == {"nl", "en"}
    assert [item["text"] for item in result["misclassified"]] == ["Graag gedaan, goeie vraag 🙂 Thanks!"]
