"""How the curt-reply features read the question: a lead-in ("Quick question:", "Sorry to bother you,",
"Goedemorgen,") should not change what kind of question it is. A short "No." to a check is an answer; the
same "No." to a request for help refuses it, so the type matters to the verdict.

Known misread, pinned with strict xfails: today a lead-in ending in ":" or "," makes every question
"open" (70% of our labelled questions have one), and the shipped model is trained on that reading. The fix
is a few lines in ``_question_type`` but needs the model retrained with it, and the retrained model misses
the English recall target on the test split at the threshold its validation rule picks; see
bench/NOTES-curtness.md. Whoever ships the fix and the retrained model removes the xfail markers (strict:
they fail as soon as the fix is in).
"""

from __future__ import annotations

import pytest

from curtness_training import phrasebook_en, phrasebook_nl
from curtness_training.generate import _lower_first
from handlers.curtness_features import extract, question_type

KNOWN_MISREAD = pytest.mark.xfail(strict=True, reason="a lead-in makes every question 'open'; the fix needs the "
                                  "model retrained (bench/NOTES-curtness.md)")


@KNOWN_MISREAD
@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Quick question: can the family visit after eight tonight?", "yes_no"),
        ("Quick question: are the new rates live yet?", "yes_no"),
        ("Quick question: could you check my budget draft?", "request"),
        ("Hi! Quick one: is the objection period six weeks?", "yes_no"),
        ("Just checking: does a train ticket count as travel expenses?", "yes_no"),
        ("Sorry to bother you, can you show me how the absence system works?", "request"),
        ("Dear colleague, may I approve the invoice myself?", "yes_no"),
        ("Vraagje: mag ik vrijdag thuiswerken?", "yes_no"),
        ("Hoi! Korte vraag: kun je even meekijken naar mijn pull request?", "request"),
        ("Sorry dat ik stoor, moet het formulier in tweevoud?", "yes_no"),
        ("Goedemorgen, klopt het dat de bezwaartermijn zes weken is?", "yes_no"),
        ("Ik twijfel een beetje: valt dit onder de AVG?", "yes_no"),
    ],
)
def test_a_lead_in_does_not_change_the_question_type(question: str, kind: str) -> None:
    assert question_type(question) == kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        # Right today and with the fix: open questions behind a lead-in, no lead-in, a comma inside the
        # question, a greeting in its own sentence.
        ("Quick question: how do I book a prepaid software licence?", "open"),
        ("Morning, where do I find the expense form?", "open"),
        ("Beste collega, hoe vraag ik toegang aan tot de database?", "open"),
        ("Klopt het dat de bezwaartermijn zes weken is?", "yes_no"),
        ("Can I, as a new starter, see the payroll system?", "yes_no"),
        ("Hoi! Hoe werkt dit?", "open"),
        ("Kun je me helpen met de overdracht voor kamer 4?", "request"),
        ("Zie bijlage, wat vind je ervan?", "open"),
        ("?", "none"),
    ],
)
def test_question_types_that_are_read_right(question: str, kind: str) -> None:
    assert question_type(question) == kind


@KNOWN_MISREAD
@pytest.mark.parametrize("book", [phrasebook_en, phrasebook_nl], ids=["en", "nl"])
def test_every_generated_lead_in_keeps_the_type_of_the_bare_question(book) -> None:
    # The openers our labelled set puts before its questions, joined as curtness_training.generate does.
    changed = []
    for _setting, question, *_rest in book.ITEMS:
        bare = question_type(question)
        for opener in filter(None, book.QUESTION_OPENERS):
            asked = opener + (_lower_first(question) if opener.endswith((", ", ": ")) else question)
            if question_type(asked) != bare:
                changed.append((asked, question_type(asked), bare))
    assert changed == []


@KNOWN_MISREAD
def test_a_short_answer_to_a_quick_yes_no_question_is_read_as_an_answer() -> None:
    names = {feature.name for feature in extract("No, from 1 July.", "Quick question: are the new rates live yet?")}
    assert "x:short_reply_to_yes_no" in names
    assert "x:short_reply_to_open" not in names
