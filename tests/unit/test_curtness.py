"""Curt-reply detector: behaviour on clear cases, reasons, robustness, context, and a regression guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.curtness import CURT_THRESHOLD, CurtnessVerdict, assess_reply

DATA = Path(__file__).parents[1] / "data" / "curtness_labelled.jsonl"

SHORT_FRIENDLY = [
    "Jep, helemaal juist 🙂",
    "Spot on, carry on",
    "Klopt!",
    "Ja hoor, prima zo",
    "Ja, prima zo 👍",
    "Yes, that's right — good call to check",
    "Graag gedaan!",
    "Happy to help :slightly_smiling_face:",
    "Goeie vraag, en ja: dat klopt.",
    "Thanks for checking, that's fine.",
    ":+1: klopt",
    "Top, dank je!",
    "Yep, you're on the right track 🙌",
    "Helemaal goed zo, succes!",
    "No worries, go ahead.",
    "<@U024BE7LH> ja hoor, doe maar :smile:",
]

DISMISSIVE_LONG = [
    "Dit staat gewoon in de handleiding, die had je zelf ook kunnen lezen. Ik heb echt wel wat beters te "
    "doen dan dit soort dingen uit te leggen.",
    "As I've said several times before, this is documented. Please read it before asking.",
    "Zoals ik gisteren al zei in de stand-up: releases gaan alleen op dinsdag live, dat weet je toch "
    "inmiddels.",
    "I already told you last week that the expense limit is in the travel policy, so I'm not sure why you're "
    "asking me again.",
    "Hoe vaak moet ik nog zeggen dat je de checklist eerst moet afwerken voordat je mij belt over een "
    "patiënt?",
    "Honestly, this is not my job. Figure it out with the service desk, they have the same documentation "
    "I do.",
    "Nogmaals, de offerte moet via inkoop. Ik heb geen tijd voor dit soort vragen tijdens de "
    "maandafsluiting.",
    "Did you even read the ticket before pinging me? The error message tells you exactly what is wrong here.",
]


@pytest.mark.parametrize("text", SHORT_FRIENDLY)
def test_short_friendly_replies_are_not_curt(text: str) -> None:
    verdict = assess_reply(text)
    assert not verdict.curt, verdict
    assert verdict.score < CURT_THRESHOLD


@pytest.mark.parametrize("text", DISMISSIVE_LONG)
def test_dismissive_long_replies_are_curt(text: str) -> None:
    assert len(text.split()) > 12  # the brief's own English example has 14 words
    verdict = assess_reply(text)
    assert verdict.curt, verdict
    friendly_prefixes = ("friendly_marker", "thanks_or_praise", "emoji_friendly", "softener", "greeting")
    assert any(not reason.startswith(friendly_prefixes) for reason in verdict.reasons)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("Zoals ik al zei: het formulier staat op het intranet.", "zoals ik al zei"),
        ("Read the docs, it's all in there.", "read the docs"),
        ("RTFM.", "rtfm"),
        ("Hoe vaak moet ik dit nog uitleggen?", "hoe vaak moet ik"),
        ("Not my job, ask facilities.", "not my job"),
        ("Google het even.", "google het"),
        ("Nee.", "bare_dismissal:nee"),
        ("Whatever.", "bare_dismissal:whatever"),
        ("WHY ARE YOU ASKING ME THIS AGAIN", "all_caps"),
        ("Serieus?! Weer de printer?", "exclamation_burst"),
        ("Tuurlijk, ik help je weer 🙄", "emoji_annoyed"),
    ],
)
def test_reasons_name_what_fired(text: str, needle: str) -> None:
    verdict = assess_reply(text)
    assert any(needle in reason for reason in verdict.reasons), verdict.reasons


def test_friendly_reasons_are_reported() -> None:
    verdict = assess_reply("Graag gedaan, goeie vraag 🙂 Thanks!")
    joined = " ".join(verdict.reasons)
    assert "friendly_marker:graag gedaan" in joined
    assert "friendly_marker:goeie vraag" in joined
    assert "emoji_friendly" in joined
    assert "thanks_or_praise" in joined


def test_verdict_shape_and_threshold() -> None:
    verdict = assess_reply("Staat toch gewoon in de wiki.")
    assert isinstance(verdict, CurtnessVerdict)
    assert isinstance(verdict.reasons, tuple)
    assert verdict.curt == (verdict.score >= CURT_THRESHOLD)
    assert assess_reply("Staat toch gewoon in de wiki.", threshold=0.999).curt is False
    assert assess_reply("Klopt.", threshold=0.0).curt is True
    with pytest.raises(AttributeError):
        verdict.score = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "x" * 40_000,
        ("Zoals ik al zei, lees de handleiding. " * 1200),
        "🙂🙂🙂👍",
        "🙄",
        ":slightly_smiling_face: :+1: :pray:",
        "<@U123ABC> <#C456|general> <!here>",
        "<https://example.com/wiki|de wiki>",
        "ÀÉÎÕÜ ñ ç ÿ — “quotes” ‘single’ …",
        "!!!???",
        "?",
        "\x00\x01\u200b",
        "NEE NEE NEE NEE NEE NEE",
        "é" * 5001,
    ],
)
def test_score_bounds_on_weird_input(text: str) -> None:
    verdict = assess_reply(text)
    assert 0.0 <= verdict.score <= 1.0
    assert verdict.curt == (verdict.score >= CURT_THRESHOLD)
    assert all(isinstance(reason, str) and reason for reason in verdict.reasons)


def test_empty_text_scores_zero_with_reason() -> None:
    for text in ("", "   ", "<@U123>"):
        verdict = assess_reply(text)
        assert verdict.score == 0.0
        assert not verdict.curt
        assert verdict.reasons == ("empty",)


def test_only_processes_the_first_chunk_of_huge_text() -> None:
    friendly_head = "Graag gedaan, goeie vraag! " + "bla " * 2000
    assert not assess_reply(friendly_head + " RTFM. Zoals ik al zei.").curt


def test_slack_markup_is_understood() -> None:
    assert not assess_reply("<@U123> klopt :slightly_smiling_face:").curt
    assert "emoji_friendly" in assess_reply("klopt :+1::skin-tone-3:").reasons
    assert "emoji_friendly" in assess_reply("Yes :pray:").reasons
    assert "emoji_annoyed" in assess_reply("weer deze vraag :face_with_rolling_eyes:").reasons
    assert assess_reply("<@U123> RTFM").curt
    # A link label is kept as text, the URL itself is not.
    linked = assess_reply("<https://wiki.example.com|Read the docs>.")
    assert "dismissive_phrase:read the docs" in linked.reasons


def test_accents_and_case_do_not_matter() -> None:
    plain = assess_reply("Heb je uberhaupt gekeken?")
    accented = assess_reply("HEB JE ÜBERHAUPT GEKEKEN?")
    assert any("heb je wel gekeken" in r for r in plain.reasons)
    assert any("heb je wel gekeken" in r for r in accented.reasons)


def test_fast_reply_during_focus_raises_terse_neutral_reply() -> None:
    base = assess_reply("Ja.")
    context = assess_reply("Ja.", reply_seconds=12, interrupted_focus=True)
    assert context.score > base.score
    assert "fast_reply_interrupted_focus" in context.reasons
    slow = assess_reply("Ja.", reply_seconds=3600, interrupted_focus=True)
    assert base.score < slow.score < context.score
    # Timing without interrupted focus is no signal.
    assert assess_reply("Ja.", reply_seconds=5).score == base.score
    # Context alone does not make a neutral one-word answer curt.
    assert not context.curt


@pytest.mark.parametrize("text", ["Klopt! 🙂", "Spot on, carry on", "Ja hoor, prima zo", "Jep 👍"])
def test_focus_context_never_flips_a_friendly_reply(text: str) -> None:
    long_question = "Sorry dat ik stoor, " + "ik twijfel over de dosering en wil het zeker weten " * 5
    verdict = assess_reply(text, question=long_question, reply_seconds=3, interrupted_focus=True)
    assert not verdict.curt
    assert verdict.score == assess_reply(text).score


def test_short_reply_to_careful_question_adds_a_little() -> None:
    question = (
        "Sorry to bother you, I'm not sure whether the retention rule applies to contractors as well as "
        "employees, because the policy only mentions staff. Could you tell me which one applies? Thanks!"
    )
    base = assess_reply("Employees only.")
    with_question = assess_reply("Employees only.", question=question)
    assert with_question.score > base.score
    assert "short_reply_to_careful_question" in with_question.reasons
    assert with_question.score - base.score < 0.2


def test_monotonic_in_signals() -> None:
    neutral = assess_reply("De deadline is vrijdag.").score
    curt = assess_reply("Zoals ik al zei: de deadline is vrijdag.").score
    curter = assess_reply("Zoals ik al zei: de deadline is vrijdag. Lees je mail.").score
    friendlier = assess_reply("De deadline is vrijdag, succes! 🙂").score
    assert friendlier < neutral < curt <= curter


def test_friendly_words_do_not_rescue_a_sarcastic_or_contrasted_reply() -> None:
    eye_roll = assess_reply("Super, nog een vraag erbij vandaag 🙄")
    assert "sarcasm_or_condescension:friendly words undercut" in eye_roll.reasons
    assert eye_roll.score > assess_reply("Nog een vraag erbij vandaag").score
    assert eye_roll.score > assess_reply("Super, nog een vraag erbij vandaag").score
    assert assess_reply("Tuurlijk, ik laat alles wel even vallen voor jouw vraag 🙄").curt
    verdict = assess_reply("Thanks for asking, but as I said yesterday, read the docs.")
    assert verdict.curt
    assert "contrast_discounts_friendliness" in verdict.reasons


def test_length_alone_is_not_a_signal() -> None:
    long_neutral = (
        "De bewaartermijn voor de loonadministratie is zeven jaar. Dat volgt uit de fiscale bewaarplicht, en "
        "geldt ook voor de onderliggende stukken zoals contracten en loonstroken van medewerkers."
    )
    assert not assess_reply(long_neutral).curt
    assert not assess_reply("Klopt.").curt
    assert not assess_reply("Yes.").curt


# ----------------------------------------------------------------------------- bundled labelled set


def _load() -> list[dict]:
    with DATA.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_labelled_set_is_well_formed() -> None:
    rows = _load()
    assert len(rows) >= 240
    keys = {"text", "question", "reply_seconds", "lang", "curt", "split"}
    for row in rows:
        assert keys <= row.keys()
        assert row["lang"] in {"nl", "en"}
        assert row["split"] in {"tune", "test"}
        assert isinstance(row["curt"], bool)
    texts = [row["text"] for row in rows]
    assert len(set(texts)) == len(texts)
    by_lang = {lang: sum(row["lang"] == lang for row in rows) for lang in ("nl", "en")}
    assert abs(by_lang["nl"] - by_lang["en"]) <= 0.1 * len(rows)
    share = sum(row["curt"] for row in rows) / len(rows)
    assert 0.35 <= share <= 0.45
    test_share = sum(row["split"] == "test" for row in rows) / len(rows)
    assert 0.35 <= test_share <= 0.45
    short_friendly = [r for r in rows if not r["curt"] and len(r["text"].split()) <= 6]
    long_curt = [r for r in rows if r["curt"] and len(r["text"].split()) > 15]
    assert len(short_friendly) >= 40
    assert len(long_curt) >= 30


def test_regression_guard_on_test_split() -> None:
    # Measured with CURT_THRESHOLD = 0.45 on the test split (106 items, 47 curt), model frozen before the
    # first look at the test split: precision 1.000, recall 0.787, F1 0.881, ROC AUC 0.946, AP 0.949
    # (en: P 1.000 R 0.957; nl: P 1.000 R 0.625). Guard = measured minus a small margin.
    from bot.curtness_cli import evaluate

    rows = [row for row in _load() if row["split"] == "test"]
    result = evaluate(rows, CURT_THRESHOLD)["overall"]
    assert result["precision"] >= 0.93
    assert result["recall"] >= 0.74
    assert result["roc_auc"] >= 0.92
