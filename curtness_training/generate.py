"""Build the labelled curt-reply set from the phrasebooks, seeded, and split it by template group.

    python -m curtness_training.generate            # writes the three split files
    python -m curtness_training.generate --check    # verifies the files match what the phrasebooks give

Every reply template (and every hand-written single) is one *group*; replies whose folded text is the
same are merged into one group, so the same sentence never lands in two splits. Groups are shuffled
per (language, category) and dealt out: 20% test, 15% validation, the rest train. A test reply is
therefore never a slot-filled sibling of a training reply; it shares only the neutral answer facts
(which occur in curt and friendly replies alike). The test split was written once, before any
training, and is never used for fitting, calibration or threshold choice.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType

from curtness_training import phrasebook_en, phrasebook_nl

SEED = 20240615
ROOT = Path(__file__).resolve().parents[1]
TRAIN_PATH = ROOT / "curtness_training" / "data" / "train.jsonl"
VALIDATION_PATH = ROOT / "curtness_training" / "data" / "validation.jsonl"
TEST_PATH = ROOT / "curtness_eval" / "data" / "curtness_test.jsonl"
SHARES = {"test": 0.20, "validation": 0.15}
_SLOT_RE = re.compile(r"\{(\w+)\}")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[:2].isupper() else text


def _chat_style(text: str) -> str:
    """How people type in chat: lower-case start, no final full stop."""
    text = _lower_first(text)
    return text[:-1] if text.endswith(".") and not text.endswith("..") else text


def _question(rng: random.Random, book: ModuleType, question: str) -> str:
    opener = rng.choice(book.QUESTION_OPENERS)
    return opener + (_lower_first(question) if opener.endswith((", ", ": ")) else question)


def _context(rng: random.Random) -> tuple[float | None, bool]:
    # Timing and focus are drawn independently of the label: the guide labels what the text says.
    seconds = None if rng.random() < 0.2 else round(math.exp(rng.uniform(math.log(5), math.log(10_800))))
    return seconds, rng.random() < 0.25


def _fill(template: str, slots: dict[str, str]) -> str:
    return _SLOT_RE.sub(lambda m: slots[m.group(1)], template).strip()


def _rows_for_language(lang: str, book: ModuleType, rng: random.Random) -> list[dict]:
    rows: list[dict] = []
    by_kind: dict[str, list] = {"yes_no": [], "open": []}
    for item in book.ITEMS:
        by_kind[item[2]].append(item)
    for category, (curt, kinds, templates) in book.TEMPLATES.items():
        for index, template in enumerate(templates):
            has_slots = bool(_SLOT_RE.search(template))
            copies = 6 if has_slots else 3
            for copy in range(copies):
                kind = rng.choice(kinds)
                name = rng.choice(book.NAMES)
                time = rng.choice(book.TIMES)
                if kind == "request":
                    setting, question, dept = rng.choice(book.REQUESTS)
                    slots = {"fact": "", "fact_lc": "", "short": "", "short_lc": "", "doc": "", "doc_cap": "",
                             "dept": dept}
                    if "{fact" in template or "{doc" in template or "{short" in template:
                        continue
                else:
                    setting, question, kind, fact, short, doc, dept = rng.choice(
                        [item for item in book.ITEMS if item[2] == kind]
                        if "{short" not in template else by_kind["yes_no"])
                    slots = {"fact": fact, "fact_lc": _lower_first(fact), "short": short or "",
                             "short_lc": _lower_first(short or ""), "doc": doc, "doc_cap": doc[:1].upper() + doc[1:],
                             "dept": dept}
                slots.update(name=name, time=time)
                text = _fill(template, slots)
                if copy % 3 == 2:
                    text = _chat_style(text)
                seconds, focus = _context(rng)
                rows.append({
                    "lang": lang, "text": text, "question": _question(rng, book, question),
                    "reply_seconds": seconds, "interrupted_focus": focus, "curt": curt, "category": category,
                    "setting": setting, "group": f"{lang}:{category}:{index}", "source": "template",
                })
    for index, (question, text, curt, category) in enumerate(book.SINGLES):
        if question is None:
            kinds = book.TEMPLATES[category][1]
            kind = rng.choice([k for k in kinds if k != "request"] or ["yes_no"])
            setting, question = next((item[0], item[1]) for item in rng.sample(book.ITEMS, len(book.ITEMS))
                                     if item[2] == kind)
        else:
            setting = "mixed"
        seconds, focus = _context(rng)
        rows.append({
            "lang": lang, "text": text, "question": _question(rng, book, question), "reply_seconds": seconds,
            "interrupted_focus": focus, "curt": curt, "category": category, "setting": setting,
            "group": f"{lang}:single:{index}", "source": "single",
        })
    return rows


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _merge_groups(rows: list[dict]) -> None:
    """Rows with the same normalised text end up in one group (union-find over groups)."""
    parent: dict[str, str] = {}

    def find(group: str) -> str:
        while parent.setdefault(group, group) != group:
            parent[group] = parent[parent[group]]
            group = parent[group]
        return group

    first: dict[tuple[str, str], str] = {}
    for row in rows:
        key = (row["lang"], _norm(row["text"]))
        if key in first:
            parent[find(row["group"])] = find(first[key])
        else:
            first[key] = row["group"]
    for row in rows:
        row["group"] = find(row["group"])


def _dedupe(rows: list[dict]) -> list[dict]:
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for row in rows:
        key = (row["lang"], row["text"], row["question"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def build() -> list[dict]:
    rng = random.Random(SEED)
    rows = _rows_for_language("nl", phrasebook_nl, rng) + _rows_for_language("en", phrasebook_en, rng)
    rows = _dedupe(rows)
    _merge_groups(rows)
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        key = (row["lang"], row["category"])
        if row["group"] not in groups[key]:
            groups[key].append(row["group"])
    split_of: dict[str, str] = {}
    for key in sorted(groups):
        names = sorted(groups[key])
        random.Random(f"{SEED}:{key}").shuffle(names)
        n_test = max(1, round(len(names) * SHARES["test"]))
        n_val = max(1, round(len(names) * SHARES["validation"])) if len(names) > 2 else 0
        for position, name in enumerate(names):
            split_of.setdefault(name, "test" if position < n_test else
                                "validation" if position < n_test + n_val else "train")
    for number, row in enumerate(rows):
        row["split"] = split_of[row["group"]]
        row["id"] = f"{row['lang']}-{number:04d}"
    return rows


def _serialise(rows: list[dict], split: str) -> str:
    keys = ("id", "lang", "text", "question", "reply_seconds", "interrupted_focus", "curt", "category", "setting",
            "group", "source", "split")
    return "".join(json.dumps({key: row[key] for key in keys}, ensure_ascii=False) + "\n"
                   for row in rows if row["split"] == split)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only verify the files are up to date")
    args = parser.parse_args(argv)
    rows = build()
    outputs = {TRAIN_PATH: _serialise(rows, "train"), VALIDATION_PATH: _serialise(rows, "validation"),
               TEST_PATH: _serialise(rows, "test")}
    stale = [path for path, text in outputs.items() if not path.exists() or path.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for split in ("train", "validation", "test"):
        part = [row for row in rows if row["split"] == split]
        by_lang = {lang: sum(row["lang"] == lang for row in part) for lang in ("nl", "en")}
        curt = sum(row["curt"] for row in part)
        groups = len({row["group"] for row in part})
        print(f"{split:<10} {len(part):>5} rows  nl={by_lang['nl']} en={by_lang['en']}  curt={curt}  groups={groups}")
    print(f"test sha256 {hashlib.sha256(outputs[TEST_PATH].encode()).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
