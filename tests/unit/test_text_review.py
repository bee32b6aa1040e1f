"""Every text of the catalog, rendered with sample values into one file a person can read through.

tests/data/text_review.md is committed so a reviewer (ideally someone who writes Dutch for a
living) can read every sentence as a user sees it: with 0, 1 and 2 where a number goes in, and
with short and long names. The test renders it afresh and fails when the committed file differs,
so the review file cannot go stale after a wording edit. Regenerate it with:

    TEXT_REVIEW_WRITE=1 pytest -q -p no:cacheprovider tests/unit/test_text_review.py
"""

from __future__ import annotations

import os
import string
from pathlib import Path

from handlers.answering import AUTONOMY_STREAK
from nudges.texts.catalog import LANGUAGES, TextCatalog, load_catalog
from nudges.weekly import FOCUS_ADVICE_FROM, join_names

REVIEW_FILE = Path(__file__).resolve().parents[1] / "data" / "text_review.md"
REGENERATE = "TEXT_REVIEW_WRITE=1 pytest -q -p no:cacheprovider tests/unit/test_text_review.py"

COUNTS = (0, 1, 2)
COUNTS_SENT = {  # texts whose count the code limits: rendered only with counts a user can get
    "weekly.figures": (1, 2),  # no questions: weekly.no_questions instead
    "weekly.recognition": (1, 2, 3),  # nobody to thank: no line
    "weekly.expert": (1, 2),  # only people who answered get a summary
    "weekly.expert_confirmations": (1, 2),  # no confirmation: compose_expert leaves the line out
    "weekly.expert_focus": (FOCUS_ADVICE_FROM, FOCUS_ADVICE_FROM + 1),
    "nudge.autonomy": (AUTONOMY_STREAK,),
    "chart.title": (1, 12),  # a chart has at least one week
    "monthly.chart_hidden": (1, 2),  # no hidden week: monthly.chart instead
}
# Placeholders that take a number: rendered with each of COUNTS, so "0 keer ..." shows up here.
NUMBERS = {"count", "asked", "asked_confirmed", "answered", "answered_confirmations", "open", "curt",
           "signals", "replies", "messages"}
# The other numbers in a plural text: fixed, large enough to be at least the count ("2 van de 6").
OTHER_NUMBER = 6
SHORT_NAME, LONG_NAME = "Lotte", "Marie-Louise van den Heuvel-Oosterhuis"
NAMES = {0: [], 1: [SHORT_NAME], 2: ["Anna", LONG_NAME], 3: ["Anna", "Bram", LONG_NAME]}

SAMPLES = {  # language-independent sample values; per language below
    "id": "42", "topic": "juridisch-advies", "when": "14:30", "latest": "16:30", "min": "5", "max": "500",
    "length": "612", "days": "90", "part": "1", "parts": "2", "time": "09:00", "zone": "Europe/Amsterdam", "weeks": "2",
    "with_outcome": str(OTHER_NUMBER), "werk_pct": "83%", "confirmed_pct": "33%", "name": "Joost",
    "command": "vraagg", "option": "dringend", "day": "maandagg", "added": "#contracten, #privacy",
    "removed": "#privacy", "current": "#contracten, #juridisch-advies", "topics": "#privacy",
    # The impact report (bot/impact_cli.py): how its pieces are filled in.
    "number": "2", "first": "2025-12", "last": "2026-11", "team": "Acme", "chart": "impact.png",
    "table": "impact.csv", "share": "47.0", "low": "43.2", "high": "50.9", "trials": "644",
    "subject": "na een kortaf antwoord (tekst 1)", "subject_value": "39.5% (95%-interval 33.7-45.5%, 261 keer)",
    "against": "na een antwoord met nieuwe informatie", "against_value": "79.4% (95%-interval 76.9-81.7%, 1049 keer)",
    "verdict": "lager",
    # The pages at the end of a Slack install (bot/slack/install_pages.py).
    "workspace": "Acme", "start": "https://vraagbot.example.org/slack/install",
    # The terminal demo (bot/shell.py): a demo person's handle, a button label, the shell's log file.
    "person": "sanne", "label": "OK", "path": "/home/joost/vraagbot-shell.log",
}
PER_LANGUAGE = {
    "nl": {"weekday": "maandag", "next": "maandag 7 december om 09:00", "language": "Nederlands",
           "average": "4,5", "text": "Mag deze clausule in het contract blijven staan?",
           "assessment": "ja, als de termijn klopt", "question": "Wat maakt het bij ons makkelijk om iets te vragen?",
           "month": "november 2026"},
    "en": {"weekday": "monday", "next": "Monday 7 December at 09:00", "language": "English",
           "average": "4.5", "text": "May this clause stay in the contract?",
           "assessment": "yes, if the term is right", "question": "What makes it easy for us to ask something?",
           "month": "November 2026"},
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def sample_values(catalog: TextCatalog, lang: str, n: int, plural: bool) -> dict[str, str | int]:
    """Sample values for one rendering; ``n`` is the count (a plural text) or every number (any other)."""
    person = LONG_NAME if n >= 2 else SHORT_NAME  # long names where they could break a sentence
    values: dict[str, str | int] = {**SAMPLES, **PER_LANGUAGE[lang], "expert": person, "asker": person,
                                    "names": join_names(catalog, lang, NAMES[min(n, 3)])}
    for name in NUMBERS:
        values[name] = OTHER_NUMBER if plural and name != "count" else n
    values["count"] = n
    return values


def entries(catalog: TextCatalog) -> list[tuple[str, str]]:
    """(key, kind) of every entry, in the reference language's order within each section."""
    reference = LANGUAGES[0]
    return ([(key, "text") for key in catalog.texts[reference]]
            + [(key, "plural") for key in catalog.plurals[reference]]
            + [(key, "variants") for key in catalog.variants[reference]])


def templates(catalog: TextCatalog, lang: str, key: str, kind: str) -> list[str]:
    if kind == "text":
        return [catalog.texts[lang][key]]
    if kind == "plural":
        return list(catalog.plurals[lang][key].values())
    return catalog.variants[lang][key]


def renderings(catalog: TextCatalog, lang: str, key: str, kind: str) -> list[tuple[str, str]]:
    """(label, text) for each way a user can see this entry."""
    numbered = kind == "plural" or bool(set().union(*map(placeholders, templates(catalog, lang, key, kind))) & NUMBERS)
    counts = COUNTS_SENT.get(key, COUNTS) if numbered else (1,)
    shown = []
    for n in counts:
        label = f"n={n}" if numbered else ""
        if kind == "variants":
            for seed in range(len(catalog.variants[lang][key])):
                shown.append((" ".join(filter(None, [f"variant {seed + 1}", label])),
                              catalog.variant(lang, key, seed, **sample_values(catalog, lang, n, False))))
        else:
            shown.append((label, catalog.text(lang, key, **sample_values(catalog, lang, n, kind == "plural"))))
    return shown


def render_review(catalog: TextCatalog) -> str:
    lines = ["# Every vraagbot text, as a user reads it", "",
             "Generated by tests/unit/test_text_review.py from nudges/texts/content/*.toml; do not edit by hand.",
             f"After changing a text, regenerate: `{REGENERATE}`", "",
             f"Sample values: n is 0, 1 and 2 where a number goes in; names are short ({SHORT_NAME}) "
             f"and long ({LONG_NAME}).", ""]
    for key, kind in entries(catalog):
        lines += [f"## {key}" + (f" ({kind})" if kind != "text" else ""), ""]
        for lang in LANGUAGES:
            for label, text in renderings(catalog, lang, key, kind):
                lines.append(f"- **{lang}**{' ' + label if label else ''}:")
                lines += [f"  > {line}" if line else "  >" for line in text.splitlines()]
        lines.append("")
    return "\n".join(lines)


def test_every_placeholder_has_a_sample_value():
    catalog = load_catalog()
    known = set(SAMPLES) | set(PER_LANGUAGE["nl"]) | NUMBERS | {"expert", "asker", "names"}
    for lang in LANGUAGES:
        for key, kind in entries(catalog):
            used = set().union(*map(placeholders, templates(catalog, lang, key, kind)))
            assert used <= known, f"{lang} {key}: give {used - known} a sample value in this test"


def test_no_rendered_text_leaves_a_placeholder_or_says_zero_times():
    review = render_review(load_catalog())
    assert "{" not in review.replace("{braces}", "")
    for clumsy in ("0 keer", "1 vragen", "1 questions", " 0 of your", "1 keer een vraag"):
        assert clumsy not in review, clumsy


def test_the_review_file_matches_the_texts():
    fresh = render_review(load_catalog())
    if os.environ.get("TEXT_REVIEW_WRITE"):
        REVIEW_FILE.parent.mkdir(parents=True, exist_ok=True)
        REVIEW_FILE.write_text(fresh, encoding="utf-8")
    committed = REVIEW_FILE.read_text(encoding="utf-8") if REVIEW_FILE.exists() else ""
    assert committed == fresh, f"{REVIEW_FILE} is out of date with the texts; regenerate it: {REGENERATE}"
