"""The labelled curt-reply set: size, balance, one question per reply, and a test split that shares no
template group (and no reply text) with the training and validation splits."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from curtness_eval.datasets import bundled_test_split

ROOT = Path(__file__).parents[2]
TRAINING = ROOT / "curtness_training" / "data"


def _rows() -> dict[str, list[dict]]:
    rows = {split: [json.loads(line) for line in (TRAINING / f"{split}.jsonl").read_text("utf-8").splitlines()]
            for split in ("train", "validation")}
    rows["test"] = bundled_test_split()
    return rows


def test_size_languages_and_labels() -> None:
    rows = _rows()
    every = [row for split in rows.values() for row in split]
    assert len(every) >= 1500
    by_lang = Counter(row["lang"] for row in every)
    assert set(by_lang) == {"nl", "en"}
    assert abs(by_lang["nl"] - by_lang["en"]) <= 0.02 * len(every)
    assert 0.4 <= sum(row["curt"] for row in every) / len(every) <= 0.6
    for split, part in rows.items():
        assert all(row["split"] == split for row in part)
        for lang in ("nl", "en"):
            labels = Counter(row["curt"] for row in part if row["lang"] == lang)
            assert labels[True] >= 40 and labels[False] >= 40, (split, lang, labels)


def test_every_reply_has_its_question_and_fields() -> None:
    for part in _rows().values():
        for row in part:
            assert isinstance(row["text"], str) and row["text"].strip()
            assert isinstance(row["question"], str) and row["question"].strip()
            assert isinstance(row["curt"], bool)
            assert row["reply_seconds"] is None or row["reply_seconds"] >= 0
            assert isinstance(row["interrupted_focus"], bool)


def test_test_split_shares_no_group_and_no_text_with_the_rest() -> None:
    rows = _rows()
    test_groups = {row["group"] for row in rows["test"]}
    test_texts = {" ".join(row["text"].lower().split()) for row in rows["test"]}
    for split in ("train", "validation"):
        assert not test_groups & {row["group"] for row in rows[split]}
        assert not test_texts & {" ".join(row["text"].lower().split()) for row in rows[split]}
    assert not {row["group"] for row in rows["train"]} & {row["group"] for row in rows["validation"]}


def test_covers_the_settings_and_kinds_the_issue_lists() -> None:
    every = [row for split in _rows().values() for row in split]
    settings = {row["setting"] for row in every}
    assert {"zorg", "care", "juridisch", "legal", "it", "financien", "finance", "overheid", "public"} <= settings
    categories = {row["category"] for row in every}
    assert {"sarcasm", "pointing_bare", "passive_aggressive", "terse_friendly", "long_dismissive",
            "yes_no_short", "pointer_helpful"} <= categories


def test_generator_reproduces_the_frozen_files() -> None:
    from curtness_training.generate import main

    assert main(["--check"]) == 0
