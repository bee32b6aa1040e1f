"""Training-only additions, written after the split was frozen (never in validation or test).

Bare yes/no answers: the generated set had too few plain "Nee." / "No." answers to yes/no checks next
to the curt "Nee." that refuses a request, so the model read every bare no as curt. These rows teach
that a short no to a yes/no question is an answer, not a slammed door (labelling guide, section 3).

Bare refusals of requests: the counterpart, so the rows above do not teach that every bare no is fine.
Added when the GPL-3.0 sets left training and the permissive external sets (no questions, many short
neutral sentences) took a larger share: a bare "Nee." that refuses a request for help stays curt
(labelling guide, section 1).
"""

from __future__ import annotations

# (lang, question, reply, curt)
EXTRA = [
    ("nl", "Moet ik het formulier ook laten tekenen?", "Nee.", False),
    ("nl", "Is de vergadering van morgen nog nodig?", "Nee.", False),
    ("nl", "Heb je de offerte al verstuurd?", "Nee, nog niet.", False),
    ("nl", "Moet ik de arts bellen bij deze waarde?", "Nee, dat is normaal.", False),
    ("nl", "Geldt dit ook voor uitzendkrachten?", "Nee.", False),
    ("nl", "Is die patch al uitgerold?", "Nee hoor.", False),
    ("nl", "Moet er een handtekening van de directeur onder?", "Nee", False),
    ("nl", "Komt de auditor vandaag?", "Nee, volgende week.", False),
    ("nl", "Is de kamer al vrij?", "Nee.", False),
    ("nl", "Telt zaterdag mee als werkdag?", "Nee.", False),
    ("nl", "Moet ik dit ook in het dossier zetten?", "Ja.", False),
    ("nl", "Is de server weer bereikbaar?", "Ja.", False),
    ("nl", "Mag ik het verband nu al verwijderen?", "Nee, pas morgen.", False),
    ("nl", "Heb ik hiervoor een machtiging nodig?", "Nee.", False),
    ("nl", "Zit dit in het basispakket?", "Nee, aanvullend.", False),
    ("en", "Does the form need a second signature?", "No.", False),
    ("en", "Is tomorrow's meeting still needed?", "No.", False),
    ("en", "Have you sent the quote yet?", "No, not yet.", False),
    ("en", "Should I call the doctor for this reading?", "No, that's normal.", False),
    ("en", "Does this apply to agency staff too?", "No.", False),
    ("en", "Has the patch been rolled out?", "Nope, not yet.", False),
    ("en", "Does the director need to sign this?", "No", False),
    ("en", "Is the auditor coming today?", "No, next week.", False),
    ("en", "Is the room free yet?", "No.", False),
    ("en", "Does Saturday count as a working day?", "No.", False),
    ("en", "Should this go in the file as well?", "Yes.", False),
    ("en", "Is the server back up?", "Yes.", False),
    ("en", "Can I take the dressing off now?", "No, tomorrow.", False),
    ("en", "Do I need a mandate for this?", "No.", False),
    ("en", "Is this covered by the basic plan?", "No, it's an add-on.", False),
    ("nl", "Kun je me even helpen met het rooster voor volgende week?", "Nee.", True),
    ("nl", "Zou je mijn memo over de bezwaarprocedure willen nakijken?", "Nee.", True),
    ("nl", "Kun je uitleggen hoe ik de declaratie goed invoer?", "Nee", True),
    ("nl", "Wil je even met me meekijken naar die foutmelding?", "Nee.", True),
    ("nl", "Kunt u mij helpen met het aanvragen van de subsidie?", "Nee.", True),
    ("nl", "Kun je me de nieuwe versie van het protocol sturen?", "Nee.", True),
    ("nl", "Heb je tijd om mijn berekening te checken? Ik twijfel over de btw.", "Nee.", True),
    ("nl", "Zou je me kunnen laten zien hoe de rapportage werkt?", "Nee.", True),
    ("en", "Could you help me with next week's rota?", "No.", True),
    ("en", "Would you review my memo on the appeal procedure?", "No.", True),
    ("en", "Can you explain how to enter the expense claim properly?", "No", True),
    ("en", "Could you look at this error message with me?", "No.", True),
    ("en", "Can you help me apply for the grant?", "No.", True),
    ("en", "Could you send me the new version of the protocol?", "No.", True),
    ("en", "Do you have time to check my calculation? I'm unsure about the VAT.", "No.", True),
    ("en", "Would you show me how the reporting works?", "No.", True),
]


def rows() -> list[dict]:
    return [{"id": f"extra-{i:03d}", "lang": lang, "text": text, "question": question, "reply_seconds": None,
             "interrupted_focus": False, "curt": curt, "category": "bare_refusal" if curt else "yes_no_short",
             "setting": "mixed",
             "group": f"{lang}:extra:{i}", "source": "extra", "split": "train"}
            for i, (lang, question, text, curt) in enumerate(EXTRA)]
