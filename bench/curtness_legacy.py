"""Curt-reply (kortaf) detection for expert replies, Dutch and English.

A reply is *curt* when it reads as short-tempered, impatient or dismissive: the kind of answer
that leaves the asker feeling they were a burden. Length is deliberately NOT a signal on its own:
"Klopt!" or "Spot on, carry on" are short and friendly, while a polite-sounding paragraph that
tells someone to read the manual next time is curt.

The detector is a transparent lexicon and rule model:

* every rule that fires adds a signed weight and a reason code (``"dismissive_phrase:read the
  docs"``, ``"friendly_marker:graag gedaan"`` ...);
* the summed weights plus a bias go through a logistic function, so the score is in ``(0, 1)``,
  grows with every curt signal and shrinks with every friendly one;
* ``curt`` is ``score >= threshold``.

Context (the question, how fast the reply came, whether it interrupted focus time) only nudges the
score a little, and never applies when the reply carries friendly signals.

Pure standard library; imports nothing else from the project.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["CURT_THRESHOLD", "MAX_CHARS", "CurtnessVerdict", "assess_reply"]

# Chosen on the "tune" split of tests/data/curtness_labelled.jsonl only: on a grid 0.05..0.95 (step
# 0.05), the HIGHEST threshold whose tune F1 is within 0.01 (about one item) of the best tune F1.
# Tune F1 peaked at 0.25-0.30 (1.000) and stayed at 0.993 up to 0.45 (0.971 at 0.50); preferring the
# high end keeps a single weak signal (a terse imperative, one CAPS word) below the line, because a
# false alarm sends the asker a needless message. Re-run: ``curtness-eval --split tune --threshold T``.
CURT_THRESHOLD: float = 0.45

MAX_CHARS = 5000  # only the first MAX_CHARS characters are analysed

_BIAS = -2.2  # a reply with no signal at all scores about 0.10
_FRIENDLY_FLOOR = -3.2  # friendly signals together never subtract more than this
_CONTEXT_FAST_SECONDS = 120.0
_TERSE_WORDS = 4  # "terse" = at most this many words
_CONTEXT_MAX_WORDS = 12  # timing context only matters for replies this short
_CONTEXT_CAP = 1.0  # question + timing context together never add more than this


@dataclass(frozen=True)
class CurtnessVerdict:
    score: float  # 0..1
    curt: bool  # score >= threshold
    reasons: tuple[str, ...]  # machine-readable reason codes, strongest first


# --------------------------------------------------------------------------------------------
# Lexicons. Patterns are matched against lower-cased, accent-folded text with straight quotes.
# Each entry: (regex, label shown in the reason, weight). Labels are short and human-readable.
# --------------------------------------------------------------------------------------------

_Entry = tuple[str, str, float]

# Brushing the asker off: go away, look it up yourself, not my business.
_DISMISSIVE: list[_Entry] = [
    # English
    (r"read the (docs|documentation|manual|wiki|faq|policy|protocol|guidelines?|handbook|sop)\b",
     "read the docs", 2.6),
    (r"\brtf?m\b", "rtfm", 3.5),
    (r"\b(just |simply )?google (it|that|this)\b|\blmgtfy\b|let me google that", "google it", 3.0),
    (r"\blook it up\b", "look it up", 2.2),
    (r"\bnot my (job|problem|department|concern|responsibility|call)\b", "not my job", 3.0),
    (r"\b(that'?s|it'?s|sounds like) (your|a you) problem\b|\byour problem,? not mine\b",
     "your problem", 3.0),
    (r"\bfigure (it|that|this) out( yourself| on your own)?\b", "figure it out", 2.4),
    (r"\b(work|sort) (it|that|this) out (yourself|on your own)\b", "sort it out yourself", 2.6),
    (r"\bdeal with it\b", "deal with it", 2.6),
    (r"\bask (someone|somebody|anyone) else\b", "ask someone else", 2.0),
    (r"\b(i have|i've got|got) (better|more important) things to do\b", "better things to do", 3.2),
    (r"\bdon'?t (bother|bug|ping|pester) me\b", "don't bother me", 3.0),
    (r"\bstop (asking|pinging|bugging|messaging)\b", "stop asking", 3.2),
    # "whatever" as a brush-off, not as a determiner ("whatever your decision is")
    (r"^whatever\b(?! (the|your|you|it|we|they|this|that|is|was|works|happens) )|\bwhatever\s*[.!]*$|"
     r"\bwhatever you (say|want|think|like)\b|,\s*whatever\b", "whatever", 2.0),
    (r"\b(it'?s|its|this is|that'?s|it is) (all )?(in|on) the (wiki|docs|documentation|manual|"
     r"handbook|intranet|policy|faq|protocol|readme)\b", "it's in the docs", 1.2),
    (r"\b(this|that|it) (is|was|has been) (already )?(documented|written down|explained)\b",
     "it's documented", 1.4),
    (r"\bsee above\b|\bscroll up\b|\bread (the|my|your own) (thread|question|message) again\b",
     "see above", 2.2),
    (r"\bi don'?t have time for (this|these|that)\b|\bno time for (this|these|that)\b",
     "no time for this", 3.0),
    (r"\bnot (now|today)\b[.!]", "not now", 2.0),
    (r"\b(i'?m|i am) not (the|your) (help ?desk|service ?desk|secretary|assistant|google|encyclopedia|"
     r"babysitter|personal)\b", "i'm not the helpdesk", 2.6),
    (r"\bdo (your|the) own (research|homework|digging)\b|\b(look|find|work) (it|that|this) (up|out) "
     r"yourself\b|\bdoing your homework\b", "do your own research", 2.4),
    (r"\bthat'?s (exactly )?what (the|our) (wiki|docs|documentation|manual|handbook|runbook|faq|intranet|"
     r"protocol)( is| are)? for\b|\bthat'?s what it'?s (there )?for\b", "that's what the docs are for", 1.8),
    (r"\blike every(one|body|thing) else\b", "like everyone else", 1.2),
    (r"\b(i'?ll|i will) look at it when i (get to it|have time|can)\b", "when i get to it", 1.4),
    (r"\bcan'?t you (just )?(read|look|check|search|google)\b", "can't you look it up", 2.6),
    # Dutch
    (r"\bstaat (toch |gewoon |echt |allemaal |duidelijk |letterlijk |gewoon allemaal )+(in|op) (de|het|"
     r"onze|ons|je)\b",
     "staat toch gewoon in", 1.8),
    (r"\blees (de|het|eerst|even eerst|nou|dan|gewoon|toch|eens) ?(eerst |gewoon |even )?"
     r"(de |het )?(handleiding|wiki|protocol|documentatie|instructie|reglement|beleid|faq|intranet|"
     r"cao|regeling|procedure|mail|readme)", "lees de handleiding", 2.4),
    (r"\bgoogle (het|dat|dit|even|maar|zelf)\b|\bgoogle is je vriend\b", "google het", 3.0),
    (r"\bzoek (het|dat|dit) (maar |dan |toch |gewoon )?(zelf )?(op|uit)\b", "zoek het zelf uit", 2.6),
    (r"\bzoek (het|dat|dit)? ?(maar )?zelf\b", "zoek het zelf uit", 2.6),
    (r"\b(niet|geen) mijn (probleem|pakkie-?an|taak|afdeling|verantwoordelijkheid|zaak)\b",
     "niet mijn probleem", 3.0),
    (r"\bniet mijn (pakkie an|pakkie)\b", "niet mijn pakkie-an", 3.0),
    (r"\b(dat|dit) is jouw (probleem|pakkie-?an|zaak)\b", "jouw probleem", 3.0),
    (r"\b(ik heb )?geen tijd voor (dit|dat|deze|zulke|zo'?n|dit soort|dat soort)\b",
     "geen tijd voor", 3.0),
    (r"\b(ik heb|heb) (echt |wel )*(wel )?(wat )?(beters|betere dingen|belangrijkere dingen) te doen\b",
     "beters te doen", 3.2),
    (r"\bvraag (het )?(maar |dan |gewoon )?(aan )?iemand anders\b", "vraag iemand anders", 2.0),
    (r"\bniet storen\b|\bstoor me niet\b|\blaat me (even )?met rust\b", "niet storen", 2.8),
    (r"\b(stop|kap|hou op) (nou |eens |toch )*(met|met dat|met dit) (vragen|appen|pingen|taggen)\b",
     "stop met vragen", 3.2),
    (r"\bzie (hier)?boven\b|\bscroll (maar |even )?(naar )?(omhoog|terug)\b|\bzie (je )?(eigen )?vraag\b",
     "zie boven", 2.2),
    (r"\bmoet je (zelf|maar) weten\b|\bzoek het maar uit\b|\bzoek je het maar uit\b",
     "moet je zelf weten", 2.8),
    (r"\bboeiend\b[.!]?$", "boeiend", 2.6),
    (r"\bniet (nu|vandaag)\b[.!]", "niet nu", 2.0),
    (r"\bik ben (niet )?(de|je|jouw) (helpdesk|servicedesk|secretaresse|assistent|google|encyclopedie|oppas|"
     r"babysitter|vraagbaak)\b(?! hoor)", "ik ben niet de helpdesk", 2.6),
    (r"\bzelf (uit ?zoeken|uitvogelen|opzoeken|uitpluizen|nazoeken)\b|\bdoe je (eigen )?huiswerk\b",
     "zoek het zelf uit", 2.4),
    (r"\bdaar (is|zijn) (het|die|dat|ze) (nou |toch |juist )*voor\b", "daar is het voor", 1.8),
    (r"\bzoals (iedereen|alles)\b", "zoals iedereen", 1.2),
    (r"(^|[.!?] )geen tijd\b(?! voor (een|het) (lang|uitgebreid))|\b(ik )?heb (nu |echt |even |vandaag )*"
     r"geen tijd\b(?! voor (een|het) (lang|uitgebreid))", "geen tijd", 2.0),
    (r"(^|[.!?] )no time\b(?! for (a|the) (long|proper|full))|\b(i have|i'?ve got|i got|i'?ve) "
     r"(really |simply )?no time\b(?! for (a|the) (long|proper|full))", "no time", 2.0),
]

# Impatience about having to answer (again): repetition, being busy, sighs.
_IMPATIENCE: list[_Entry] = [
    # English
    (r"\bas i (already |just |have )?(said|mentioned|wrote|explained|told you)\b", "as i said", 2.4),
    (r"\bi('ve| have)? (already|just) (told|explained|answered|said|shown)\b", "i already told you", 2.8),
    (r"\bi told you (already|before|this|that|last)\b", "i already told you", 2.8),
    (r"\b(i'?ve|i have|we'?ve|we have) (been )?(said|explained|answered|covered|discussed|told you|"
     r"been over) (this|that|it) (already|before|several times|many times|multiple times|"
     r"a (dozen|hundred|million) times|twice)\b", "said this before", 2.8),
    (r"\b(several|many|multiple|a (dozen|hundred|million)|countless|three|five) times (before|already|now)\b",
     "several times before", 2.2),
    (r"\bhow many times\b", "how many times", 2.8),
    (r"\bfor the (third|fourth|fifth|tenth|hundredth|umpteenth|last|nth|\d+(st|nd|rd|th)) time\b",
     "for the nth time", 2.8),
    (r"\bonce again\b|\bagain\?|\byet again\b|\bnot this again\b", "again", 1.6),
    (r"\bi'?m (really |very |too )?busy\b|\bbusy right now\b", "i'm busy", 1.4),
    (r"(^|\s)\*?(sigh|ugh|jeez|geez|sheesh|facepalm)\*?\b", "sigh", 1.8),
    (r"\bcome on\b", "come on", 1.4),
    (r"\bseriously\b", "seriously", 1.4),
    (r"\bper my (last|previous) (email|message|mail)\b", "per my last email", 2.6),
    (r"\bas (previously|already) (stated|mentioned|explained|communicated|indicated)\b",
     "as previously stated", 2.2),
    (r"\blet me repeat\b|\bi'?ll say it (again|once more|one more time)\b|\bto repeat myself\b",
     "let me repeat", 2.4),
    (r"\bone more time\b", "one more time", 1.2),
    (r"\b(this is|that'?s|it'?s) (now |already )?the (second|third|fourth|fifth|tenth|umpteenth|nth) time\b",
     "the third time", 2.4),
    (r"\b(already|just) (answered|explained|covered|discussed|told you)\b|\bi told you (yesterday|earlier|"
     r"this morning|last week|twice|already|before)\b", "already answered", 2.4),
    (r"\b(we'?ve|we have|i'?ve|i have) (been|gone) (over|through) (this|that|it)\b|\bwe went over this\b",
     "we've been over this", 2.4),
    (r"\b(this|that|it) (was|has been|is) (already )?covered in\b", "already covered", 2.0),
    (r"\b(i'?m|i am) not (going to|gonna) (explain|repeat|walk through|go (over|through)) (this|it|that)"
     r"( all)? (again|twice|one more time)\b", "not explaining again", 2.6),
    (r"\byeah,? yeah\b", "yeah yeah", 2.0),
    (r"\b(i'?ll|i will) (just )?drop everything\b", "drop everything", 2.2),
    (r"\b(yet )?another thing (to|on) my plate\b|\badding (more|yet another thing|"
     r"another thing) to my plate\b",
     "more on my plate", 1.6),
    # Dutch
    (r"\bzoals (ik )?(al |net |eerder |reeds |gisteren |vorige week )*(zei|gezegd|aangaf|aangegeven|schreef|"
     r"geschreven|uitlegde|uitgelegd|vermeld|vermeldde|gemaild|gecommuniceerd|besproken)\b",
     "zoals ik al zei", 2.4),
    (r"\bnogmaals\b(?! (bedankt|dank|excuses|sorry))", "nogmaals", 2.0),
    (r"\b(dit|dat|het) is (nu |nou |al )*de (tweede|derde|vierde|vijfde|tiende|zoveelste) keer\b",
     "de derde keer", 2.4),
    (r"\b(heb|had) ik (je|jou|het|dat|dit)? ?(\w+ ){0,3}(al|toch al|eerder|net) (gezegd|verteld|uitgelegd|"
     r"gemaild|beantwoord|gestuurd|aangegeven)\b", "heb ik al gezegd", 2.6),
    (r"\bik ga (dit|dat|het) (echt )?niet (nog eens|opnieuw|weer|nog een keer|nogmaals|elke keer|steeds)"
     r"( opnieuw)? (uitleggen|uitleggen|herhalen|zeggen|"
     r"voordoen)\b", "ik ga het niet nog eens uitleggen", 2.6),
    (r"\bja,? ?ja\b", "jaja", 2.0),
    (r"\bik laat (alles|al mijn werk) (wel )?(even )?(vallen|liggen)\b", "ik laat alles vallen", 2.2),
    (r"\bhoe vaak (moet|ga|heb) ik\b|\bhoe vaak nog\b", "hoe vaak moet ik", 3.0),
    (r"\bvoor de (zoveelste|derde|vierde|vijfde|tiende|honderdste|laatste) keer\b",
     "voor de zoveelste keer", 2.8),
    (r"\b(heb|had) (ik )?(dit|dat|het|je) (toch |al |echt )*(al |eerder |vaker |net )+"
     r"(gezegd|verteld|uitgelegd|gemaild|beantwoord|gestuurd|laten zien|aangegeven)\b",
     "heb ik al gezegd", 2.8),
    (r"\b(heb|had) ik (je )?(toch |al |echt )*(al |eerder |vaker |net )+"
     r"(gezegd|verteld|uitgelegd|gemaild|beantwoord|gestuurd|laten zien|aangegeven)\b",
     "heb ik al gezegd", 2.8),
    (r"\b(al|wel) (tig|honderd|duizend|drie|vijf|zo vaak|heel vaak|meerdere|meermaals|vaak) ?(keer|"
     r"keren|maal)?"
     r" (gezegd|uitgelegd|verteld|gevraagd|besproken)\b", "al vaak gezegd", 2.6),
    (r"\balweer\b|\b(nou|nu) weer\b|\bweer\?", "alweer", 1.6),
    (r"\bik ben (nu |echt |heel |erg )*(druk|bezig)\b", "ik ben bezig", 1.4),
    (r"(^|\s)\*?(zucht|pff+|jeetje|jezus|pfoe|tja)\*?\b", "zucht/pff", 1.6),
    (r"\bkom op\b|\bkom nou\b", "kom op", 1.4),
    (r"\bik herhaal\b|\bik zeg het nog (een|één|1) keer\b|\bik zal het (nog (een|één|1) keer|nogmaals) "
     r"(uitleggen|zeggen)\b", "ik herhaal", 2.4),
    (r"\bzoals (reeds|eerder|al) (aangegeven|vermeld|gecommuniceerd|gemeld|besproken|afgesproken)\b",
     "zoals eerder aangegeven", 2.2),
    (r"\b(wat|hoe) moeilijk (is|kan) (dat|dit|het) (nou|nu|toch|zijn)\b|\bzo moeilijk is (dat|het) "
     r"(toch|niet)\b", "zo moeilijk is dat niet", 2.6),
]

# Reproach and rhetorical questions that imply the asker should not have asked.
_REPROACH: list[_Entry] = [
    # English
    (r"\bdid you (even |actually |bother to )?(read|look|check|try|search|open)\b", "did you even read", 2.4),
    (r"\bhave you (even |actually )?(read|looked|checked|tried|searched|opened)\b", "have you even looked",
     1.4),
    (r"\b(you )?(could|should|might) have (just )?(read|looked|checked|found|googled|searched|asked|known)\b",
     "you could have looked", 2.6),
    (r"\byou should (really |already |definitely )*know (this|that|it)( by now)?\b|\byou ought to know\b",
     "you should know this", 2.8),
    (r"\bwhy (are|would) you (even )?(asking|ask)\b|\bwhy ask me\b|\bwhy is this (even )?a question\b",
     "why are you asking", 2.6),
    (r"\bhow (hard|difficult) (is|can) it (be)?\b", "how hard can it be", 2.6),
    (r"\bwhat did you expect\b|\bwhat do you think\?|\bwhat else would it be\b", "what did you expect", 1.8),
    (r"\bare you (serious|kidding|joking)\b|\breally\?|\bseriously\?", "are you serious", 2.0),
    (r"\bdo i (really )?(have|need) to (explain|spell|repeat|tell)\b", "do i have to explain", 2.8),
    (r"\bisn'?t (it|that|this) obvious\b|\bshould be obvious\b|\bself[- ]explanatory\b", "isn't it obvious",
     2.4),
    (r"\bif you (had|'d) (actually |just |bothered to |even )?(read|looked|checked|listened|opened)\b",
     "if you had read", 2.4),
    (r"\bnext time,? (please )?(read|check|look|search|try)\b|\bbefore asking\b|\bbefore you ask\b|"
     r"\bbefore (the|your) next question\b",
     "check before asking", 2.2),
    (r"\b(any|every) (first[- ]year|junior|intern|student|child|kid)\b.*\b(knows?|can|could)\b",
     "any junior knows", 2.4),
    (r"\bbefore (you )?(ping|pinging|message|messaging|bother|bothering|tag|tagging|call|calling|"
     r"asking) me\b",
     "before pinging me", 2.2),
    (r"\bnot too much to ask\b|\bis that too much to ask\b", "not too much to ask", 2.0),
    (r"\bat your level\b|\bat this point in your career\b|\bsomeone with your experience\b",
     "at your level", 2.0),
    (r"\bwhat part of\b.*\b(don'?t|do not) (you )?(understand|get)\b|\bwhat'?s (so )?(unclear|confusing|"
     r"hard) "
     r"about\b", "what's unclear about", 2.6),
    (r"\b(it'?s|this is|that'?s|it is) not (that|so) (hard|complicated|difficult|complex)\b",
     "not that complicated", 2.0),
    (r"\bplease keep up\b|\bkeep up\b[.!]", "keep up", 2.0),
    (r"\bnext time,? (\w+ ){0,3}(read|reading|check|checking|look|looking|search|searching|try)\b",
     "next time check first", 2.0),
    (r"\bbasic stuff\b|\b(this|that) is (really |pretty )?basic\b|\b101\b", "this is basic", 1.8),
    # Dutch
    (r"\bhad je (dat |het |die |dit |dat nou |het nou )?(zelf|zelf ook|ook zelf|ook|gewoon)"
     r"( ook| wel| even| gewoon)* (kunnen|moeten)\b",
     "had je zelf kunnen", 2.8),
    (r"\b(dat|dit|het) (had|kon) je (toch )?(zelf )?(ook )?(wel )?(even )?(kunnen |zelf )?"
     r"(opzoeken|vinden|lezen|nakijken|weten|bedenken|checken)\b", "had je zelf kunnen", 2.6),
    (r"\bje had (het |dat |dit )?(\w+ ){0,4}(kunnen|moeten) (lezen|zien|vinden|opzoeken|weten|checken|"
     r"nakijken)\b",
     "je had het kunnen lezen", 2.4),
    (r"\bkun(t|) je (dat|dit|het) (niet|nou niet|toch niet|echt niet) (zelf|even zelf|gewoon)\b",
     "kun je dat niet zelf", 2.6),
    (r"\b(dat|dit) (weet|snap|begrijp) je (toch|nou toch|toch wel|zelf toch)\b|\bdat weet je zelf ook\b",
     "dat weet je toch", 2.6),
    (r"\b(dat|dit) (zou|moet) je (toch |nou |inmiddels |echt |onderhand )*(moeten )?(weten|kennen|snappen)\b",
     "dat zou je moeten weten", 2.8),
    (r"\bheb je (wel |eigenlijk |uberhaupt |zelf |eerst |al )*(gekeken|gelezen|gezocht|geprobeerd|"
     r"gegoogled|gecheckt|nagekeken)\b", "heb je wel gekeken", 2.0),
    (r"\bwaarom vraag je (dat|dit|het) (aan mij|nou|nu|eigenlijk|uberhaupt|mij)\b|\bwaarom vraag je dat\?",
     "waarom vraag je dat", 2.6),
    (r"\bwat (denk|dacht) je (zelf|nou|zelf nou)\b", "wat denk je zelf", 2.4),
    (r"\b(meen je dat|serieus\?|echt waar\?|is dit een grap)", "meen je dat", 2.0),
    (r"\bmoet ik (dat|dit|het) (nou |nu |echt |nog |allemaal )*(uitleggen|voorkauwen|uitspellen|"
     r"herhalen|voordoen)\b", "moet ik dat uitleggen", 2.8),
    (r"\b(dat|dit|het) (is|spreekt) (toch |nou toch |gewoon |echt )*(logisch|duidelijk|evident|"
     r"vanzelfsprekend|"
     r"voor zich)\b", "dat is toch logisch", 1.8),
    (r"\bvolgende keer (eerst |even |graag |zelf )*(zelf |eerst )?(kijken|lezen|zoeken|checken|opzoeken|"
     r"nadenken)\b|\beerst (zelf )?(lezen|kijken|zoeken|nadenken),? dan vragen\b|"
     r"\bvoordat je (het )?vraagt\b",
     "volgende keer eerst zelf kijken", 2.4),
    (r"\belke? (eerstejaars|junior|stagiair|student|kind|leek)\b.*\b(weet|kan|snapt)\b",
     "elke junior weet dat", 2.4),
    (r"\bbasiskennis\b|\b(dit|dat) is (echt |toch )*basis\b|\bgeen (hogere wiskunde|raketwetenschap)\b",
     "dit is basiskennis", 2.0),
    (r"\bals je (\w+ ){0,6}(had|zou hebben) (gelezen|bekeken|geluisterd|opgelet|gekeken)\b",
     "als je had gelezen", 2.4),
    (r"\bvoordat je (me |mij )?(\w+ ){0,4}(belt|vraagt|tagt|appt|stoort|pingt|mailt|gaat (bellen|vragen|"
     r"taggen|appen|storen))\b|\bvoor(dat)? je (het )?(aan )?mij (vraagt|komt vragen)\b",
     "voordat je mij vraagt", 2.2),
    (r"\bniet te veel gevraagd\b|\bis dat te veel gevraagd\b", "niet te veel gevraagd", 2.0),
    (r"\bwat (snap|begrijp) je (hier |daar )?(nou |nu )?niet\b|\bwat is (hier|daar) (nou |nu )?(zo )?"
     r"onduidelijk\b", "wat snap je niet", 2.6),
    (r"\bop jouw niveau\b|\bmet jouw ervaring\b", "op jouw niveau", 2.0),
    (r"\bik verwacht (eigenlijk |toch |wel )*dat (je|jij|mensen|iemand|jullie)\b|\bi'?d expect (you|someone|"
     r"people|a|an)\b|\bi expect (you|people) to\b", "ik verwacht dat je", 1.4),
    (r"\b(het|dat|dit) is (toch |echt |nou )*niet (zo )?(moeilijk|ingewikkeld)\b", "niet zo moeilijk", 2.0),
]

# Condescension and sarcasm.
_SARCASM: list[_Entry] = [
    (r"\bobviously\b", "obviously", 2.0),
    (r"\bthanks,? i guess\b|\bbedankt,? denk ik\b", "grudging thanks", 2.2),
    (r"\bclearly\b", "clearly", 0.6),
    (r"\bduh\b", "duh", 2.8),
    (r"\bof course not\b", "of course not", 1.2),
    (r"\bwhat a surprise\b|\bshocking\b|\bwho would have thought\b|\bwho knew\b", "what a surprise", 2.0),
    (r"\bgood luck with that\b", "good luck with that", 2.4),
    (r"\bnice try\b|\bnice one,? (genius|sherlock)\b|\bsherlock\b|\bgenius\b", "nice try, sherlock", 2.2),
    (r"\bthanks for nothing\b|\bthanks a lot for\b.*\bmess\b", "thanks for nothing", 2.8),
    (r"\brocket science\b|\bbrain surgery\b", "not rocket science", 2.2),
    (r"\bwelcome to (the real world|my world|adulthood)\b", "welcome to the real world", 2.0),
    (r"\bcongrat(ulation)?s,? you (found|discovered|read)\b", "congratulations, you found", 2.4),
    (r"\blet me spell it out\b|\bin plain english\b|\bslowly this time\b", "let me spell it out", 2.4),
    (r"\bhope(fully)? (that|this|it) (is|'s) clear (now|enough)\b|\bclear now\?",
     "hopefully this is clear now", 2.0),
    (r"\b(i'?m )?not sure how (to make|i can make) (this|it) (any )?clearer\b|"
     r"\bcan'?t make it (any )?clearer\b",
     "can't make it clearer", 2.8),
    # Dutch
    (r"\bnatuurlijk niet\b|\buiteraard niet\b|\btuurlijk niet\b", "natuurlijk niet", 1.2),
    (r"\bwat een verrassing\b|\bwie had dat gedacht\b|\bverrassing!", "wat een verrassing", 2.0),
    (r"\bsucces (ermee|daarmee|dan maar)\b|\bveel plezier (ermee|daarmee)\b", "succes ermee", 2.4),
    (r"\bgoh\b", "goh", 1.4),
    (r"\bgefeliciteerd,? je hebt\b.*\b(gevonden|ontdekt|gelezen)\b", "gefeliciteerd, je hebt gevonden", 2.4),
    (r"\bbravo\b|\bknap hoor\b", "bravo", 1.6),
    (r"\bslimmerik\b|\bsherlock\b|\bslim hoor\b", "slimmerik", 2.4),
    (r"\bhopelijk is (het|dit|dat) (nu|zo) (wel )?(duidelijk|helder)\b|\bnu duidelijk\?|\bhelder\?",
     "hopelijk is het nu duidelijk", 2.4),
    (r"\bik weet niet hoe ik (het|dit|dat) (nog )?duidelijker (moet|kan)\b|\bduidelijker kan ik het niet\b",
     "duidelijker kan ik het niet", 2.8),
    (r"\bbedankt voor (niks|niets)\b", "bedankt voor niets", 2.8),
    (r"\bvoor de duidelijkheid\b", "voor de duidelijkheid", 0.6),
    (r"\b(nou|ach) ja\b", "nou ja", 0.8),
]

_CURT_GROUPS: list[tuple[str, list[_Entry]]] = [
    ("dismissive_phrase", _DISMISSIVE),
    ("impatience_marker", _IMPATIENCE),
    ("rhetorical_reproach", _REPROACH),
    ("sarcasm_or_condescension", _SARCASM),
]

# Single words that add impatience when used as intensifiers. Small weights: on their own they are
# common in neutral speech ("je kunt gewoon doorgaan"), together with other signals they add up.
_INTENSIFIERS: dict[str, float] = {
    "gewoon": 0.5,
    "simpelweg": 0.6,
    "gewoonweg": 0.8,
    "echt": 0.2,
    "nou": 0.6,
    "toch": 0.3,
    "just": 0.3,
    "simply": 0.6,
    "literally": 0.7,
    "letterlijk": 0.7,
    "already": 0.5,
    "al": 0.0,
    "again": 0.6,
    "weer": 0.3,
    "nogmaals": 0.0,  # covered by the phrase list
    "eindelijk": 0.6,
    "uberhaupt": 0.8,
    "finally": 0.4,
    "ffs": 2.5,
    "wtf": 2.5,
    "omg": 0.8,
}
_INTENSIFIER_CAP = 1.4

# Bare one-word replies that, with a full stop and nothing else, read as a slammed door.
_BARE_STRONG = {
    "nee", "no", "nope", "whatever", "boeiend", "duh", "k", "kk", "noted", "genoteerd", "nee dus", "no idea",
    "geen idee", "so", "en", "and", "jaja", "ja ja", "yeah yeah", "fine", "prima", "nou en", "zie boven",
    "see above", "zie mail", "see email", "ok", "oke", "okay", "whatever then", "not my problem",
    "niet mijn probleem", "wrong", "fout",
}
# ... and those that read that way even without the full stop.
_BARE_NO_STOP_OK = {
    "whatever", "boeiend", "duh", "k", "kk", "jaja", "ja ja", "yeah yeah", "nou en", "nee dus",
}

_IMPERATIVES = {
    # English
    "read", "check", "look", "use", "ask", "see", "google", "search", "stop", "do", "go", "try", "figure",
    "fix", "send", "open", "follow", "call", "email", "mail", "find", "learn", "test", "restart", "reboot",
    "submit", "file", "fill", "don't", "dont", "never", "just",
    # Dutch
    "lees", "kijk", "zoek", "gebruik", "vraag", "doe", "ga", "probeer", "stuur", "volg", "bel", "vul",
    "herstart", "dien", "leer", "zie", "regel", "pak", "neem", "gewoon", "nooit", "niet",
}

# Friendly signals (negative weights).
_FRIENDLY: list[_Entry] = [
    # Dutch
    (r"\bgraag gedaan\b|\bgeen dank\b", "graag gedaan", 1.8),
    (r"\bgoe(d|i)e vraag\b|\bterechte vraag\b|\bslimme vraag\b|\bprima vraag\b", "goeie vraag", 2.0),
    (r"\bgoed (dat|om) je (het |dit |dat )?(even )?(checkt|vraagt|navraagt|nagaat|controleert|checken|vragen|"
     r"meldt|aangeeft|dubbelcheckt|verifieert|even nagaat)\b|\bgoed dat je (het |dit )?(even )?(checkt|"
     r"vraagt)\b",
     "goed dat je het checkt", 2.4),
    (r"\bgoed (gezien|opgemerkt|gevonden|gedaan|bezig|gevraagd|nagedacht|geredeneerd)\b", "goed gezien", 1.8),
    (r"\bhelemaal (juist|goed|correct|terecht|prima|top|in orde)\b|\bklopt helemaal\b|\bhelemaal waar\b",
     "helemaal juist", 2.0),
    (r"\bprecies (goed|zo|wat ik)\b|\bexact(ement)?\b", "precies goed", 1.0),
    (r"\bje hebt (helemaal )?gelijk\b|\bje zit (helemaal )?goed\b|\bje zit op (het goede|"
     r"de goede) (spoor|weg)\b",
     "je zit goed", 1.8),
    (r"\bja hoor\b|\bjawel hoor\b|\bhoor\b", "hoor", 0.8),
    (r"\bsucces\b(?! (ermee|daarmee|dan maar))|\bveel succes\b|\bzet hem op\b|\bzet 'm op\b",
     "succes", 1.6),
    (r"\bgeen (probleem|punt|zorgen)\b|\bmaak je (maar )?geen zorgen\b|\bkomt goed\b|\bgeen enkel probleem\b",
     "geen probleem", 1.6),
    (r"\bvraag (het |maar )?(gerust|altijd|vooral)\b|\b(altijd|gerust) welkom\b|\bschroom niet\b|"
     r"\bstoor je niet\b|\bje stoort (helemaal )?niet\b|\bbel (me )?(gerust|maar)\b|\bping (me )?gerust\b",
     "vraag gerust", 2.4),
    (r"\blaat (maar |het |me |even )*(weten|horen)\b|\bhoor (het )?graag\b", "laat maar weten", 1.2),
    (r"\bhoop (dat )?(dit|dat|het) (je )?helpt\b|\bhopelijk helpt\b|\bhopelijk heb je hier(mee| wat) aan\b",
     "hoop dat dit helpt", 1.6),
    (r"\bfijne? (dag|avond|weekend|dienst|middag)\b|\bfijn\b", "fijn", 1.2),
    (r"\bprima zo\b|\bziet er (goed|prima|top|netjes) uit\b|\bmooi zo\b|\bklinkt goed\b|\bdat is prima\b",
     "prima zo", 1.6),
    (r"\b(top|super|perfect|heerlijk|mooi|prachtig|fantastisch|geweldig|uitstekend)\b(?! (irritant|"
     r"vervelend))",
     "top", 1.0),
    (r"\btuurlijk\b|\bnatuurlijk\b(?! niet)|\bzeker\b(?! niet)|\buiteraard\b(?! niet)", "natuurlijk", 0.6),
    (r"\bga (je gang|zo door|maar door|gerust (door|je gang))\b|\bje kunt (gewoon |gerust )?door\b",
     "ga je gang", 1.2),
    (r"\bklopt[!]", "klopt!", 1.2),
    (r"\bsorry\b|\bexcuses\b|\bexcuus\b|\bmijn excuses\b", "sorry", 1.0),
    (r"\bsamen\b|\bik help (je )?(graag|even|mee)\b|\bik kijk (even )?mee\b|"
     r"\bhelp je graag\b", "ik help graag",
     1.2),
    (r"\bdat is (een )?(heel )?(normaal|logisch|begrijpelijk)e? (vraag|twijfel)\b|\bsnap (ik )?(je|"
     r"de) twijfel\b|"
     r"\bbegrijpelijke vraag\b", "begrijpelijke vraag", 2.0),
    # English
    (r"\bgood (call|catch|thinking|question|point|instinct|spot|eye|job|work)\b|\bgreat (question|call|catch|"
     r"point|work|job)\b|\bnice (catch|work|job|one)\b(?!,? (genius|sherlock))|\bwell (spotted|done|"
     r"caught)\b",
     "good call", 2.0),
    (r"\bspot on\b|(^|[.!?] )(exactly|absolutely)\b|\b(exactly|absolutely) (right|correct)\b|"
     r"\bthat'?s (exactly )?right\b|"
     r"\byou'?re (absolutely |completely |totally )?right\b|\bcorrect!", "spot on", 1.8),
    (r"\bhappy to help\b|\bglad to help\b|\bhappy to (look|explain|walk|jump|chat)\b|\bmy pleasure\b|"
     r"\bany ?time\b|\byou'?re welcome\b", "happy to help", 2.0),
    (r"\bno (problem|worries|prob|probs)\b|\bnot a problem\b|\ball good\b|\bdon'?t worry\b",
     "no problem", 1.6),
    (r"\b(feel free|always happy|never hesitate|don'?t hesitate)\b|\bask (me )?(any ?time|away)\b|"
     r"\bping me (any ?time|whenever)\b|\bnot a (bother|burden)\b|\byou'?re not bothering\b",
     "feel free to ask", 2.4),
    (r"\blet me know\b|\bkeep me posted\b|\bshout if\b|\bgive me a shout\b", "let me know", 1.2),
    (r"\bhope (this|that|it) helps\b|\bhope that clears\b", "hope this helps", 1.6),
    (r"\bgood luck\b(?! with that)|\bfingers crossed\b|\byou'?ve got this\b|"
     r"\byou got this\b", "good luck", 1.4),
    (r"\bcarry on\b|\bgo ahead\b|\bgo for it\b|\bkeep going\b|\bgood to go\b|\byou'?re (all )?set\b",
     "carry on", 1.2),
    (r"\bsounds (good|great|right|fine|reasonable)\b|\blooks (good|great|fine|right|correct)\b",
     "sounds good", 1.4),
    (r"\b(great|perfect|awesome|excellent|lovely|brilliant|nice|cool|super|wonderful)\b", "great", 0.8),
    (r"\bsure\b|\bof course\b(?! not)|\bcertainly\b|\bdefinitely\b", "of course", 0.6),
    (r"\bsorry\b|\bapologies\b|\bmy bad\b", "sorry", 1.0),
    (r"\bhave a (good|great|nice) (one|day|weekend|shift|evening)\b", "have a good one", 1.4),
    (r"\bon the right track\b|\byour (first )?(instinct|assessment|reading|read) (was|is) (right|"
     r"correct|spot on)\b|"
     r"\byou read (it|that) (right|correctly)\b", "right track", 1.8),
    (r"\b(totally|completely|very) (fair|reasonable|understandable|normal) (question|to ask|doubt)\b|"
     r"\bworth (checking|asking)\b|\bglad you (asked|checked|flagged)\b|\bthanks for (checking|asking|"
     r"flagging)\b",
     "worth checking", 2.2),
]

_THANKS: list[_Entry] = [
    (r"\bbedankt\b(?! voor (niks|niets))|\bdank (je|u|jullie)( wel)?\b|\bdankjewel\b|\bdankuwel\b|\bmerci\b|"
     r"\bthanx\b", "bedankt", 1.4),
    (r"\bthanks?\b(?! for nothing)(?! a lot for)|\bthank you\b|\bthx\b|\bty\b|\bcheers\b|"
     r"\bmuch appreciated\b|"
     r"\b(really |truly )?appreciate (it|that|you|people|the)\b", "thanks", 1.4),
    (r"\bik (waardeer|vind) (het )?(juist |echt |heel )*(fijn|goed|prettig|waardevol)\b|\bnetjes\b|"
     r"\bknap (werk|gedaan|uitgezocht)\b|\bgoed werk\b|\btop gedaan\b|\bsterk (werk|gedaan)\b",
     "goed werk", 1.4),
]

_SOFTENERS: list[_Entry] = [
    (r"\bplease\b|\bpls\b|\bplz\b", "please", 0.3),
    (r"\bgraag\b|\balsjeblieft\b|\balstublieft\b|\baub\b|\bajb\b", "graag", 0.5),
    (r"\bmaybe\b|\bperhaps\b|\bi think\b|\bi believe\b|\bi'?d (say|suggest)\b|\bprobably\b|\bmight\b",
     "hedge", 0.4),
    (r"\bmisschien\b|\bwellicht\b|\bvolgens mij\b|\bik denk\b|\bik zou\b|\bwaarschijnlijk\b|\bmogelijk\b",
     "hedge", 0.4),
    (r"\b(could|would) you\b|\bzou je\b|\bkun je misschien\b|\bwil je\b", "polite request", 0.3),
]
_SOFTENER_CAP = 1.0

_GREETING_RE = re.compile(
    r"^\W*(hoi|hi|hey|hallo|hello|hiya|dag|hee|heey|goedemorgen|goedemiddag|goedenavond|morning|"
    r"good (morning|afternoon|evening)|beste|dear|yo)\b"
)

_FRIENDLY_EMOJI = set(
    "🙂😊😀😃😄😁😆☺😉🤗😍🥰🥳🎉👍🙌🙏👌💪✨❤💙💚💛🧡💜👏🤝🌞☀⭐🌟✅😇🤓😎🍀"
)
_ANNOYED_EMOJI = set("🙄😤😒🤦😑😠😡🤨😩😫🤬💢😾🥱")
_FRIENDLY_SHORTCODES = {
    "slightly_smiling_face", "smile", "smiley", "blush", "grinning", "grin", "simple_smile", "wink",
    "+1", "thumbsup", "thumbs_up", "raised_hands", "pray", "ok_hand", "muscle", "sparkles", "heart",
    "hearts", "blue_heart", "green_heart", "yellow_heart", "purple_heart", "clap", "tada", "star",
    "star2", "white_check_mark", "heavy_check_mark", "hugging_face", "hugs", "relaxed", "innocent",
    "sunglasses", "sunny", "party", "partying_face", "handshake", "100", "rocket", "bow",
    "smiling_face_with_3_hearts", "heart_eyes", "joy", "laughing", "four_leaf_clover", "thank_you",
    "thankyou", "thanks", "raised_hand_with_fingers_splayed", "wave", "nerd_face", "sun_with_face",
}
_ANNOYED_SHORTCODES = {
    "roll_eyes", "rolling_eyes", "face_with_rolling_eyes", "facepalm", "face_palm", "man-facepalming",
    "woman-facepalming", "person_facepalming", "unamused", "angry", "rage", "triumph",
    "face_with_raised_eyebrow", "expressionless", "weary", "tired_face", "exploding_head", "anger",
    "face_with_symbols_on_mouth", "yawning_face", "sleeping", "zzz", "-1", "thumbsdown",
}
_FRIENDLY_EMOTICON_RE = re.compile(r"(?:^|\s)(?::-?\)|:-?d\b|;-?\)|\(:|\^\^|\^_\^|:-?p\b|<3)(?=\s|$|[.,!])",
                                   re.IGNORECASE)
_ANNOYED_EMOTICON_RE = re.compile(r"(?:^|\s)(?::-?/|:-?\(|-_-|>:\(|:-?\|)(?=\s|$|[.,!])")

_EMPHASIS_CAPS = {
    "NOT", "NEVER", "ALREADY", "AGAIN", "READ", "ALWAYS", "STOP", "JUST", "DON'T", "DONT", "MUST", "ANY",
    "EVERY", "NO", "WHY", "NIET", "NOOIT", "AL", "ALWEER", "WEL", "ALTIJD", "NOGMAALS", "GEWOON", "ECHT",
    "MOET", "LEES", "GEEN", "ZELF", "YOURSELF", "WAAROM", "NEE", "DOCS", "MANUAL", "HANDLEIDING", "WIKI",
    "THE", "IS", "DE", "HET", "VERY", "HEEL", "REALLY", "ONCE", "TWICE", "ALL", "ALLES", "YOU", "JIJ", "JE",
}

_SLACK_MENTION_RE = re.compile(r"<[@#!][^>]*>")
_SLACK_LINK_RE = re.compile(r"<(?:https?|mailto|tel):[^>|]*\|([^>]*)>")
_SLACK_BARE_LINK_RE = re.compile(r"<(?:https?|mailto|tel):[^>]*>")
_BARE_URL_RE = re.compile(r"https?://\S+")
_TEAMS_AT_RE = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_HTML_TAG_RE = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_SHORTCODE_RE = re.compile(r":([a-z0-9][a-z0-9_+\-']*|\+1|-1)(?:::skin-tone-\d)?:", re.IGNORECASE)
_WORD_RE = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_FOLD_TABLE = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"',
                             "–": "-", "—": "-", "…": "..."})

_CONTRAST_RE = re.compile(r"\b(but|maar|even though|although|though|however|hoewel|alleen)\b")
_BLUNT_OPENER_RE = re.compile(r"^(nee|no|nope|fout|wrong)\s*[.!]")
_DISCOUNT = 0.3  # weight kept by friendly words that are undercut by a contrast or an eye-roll

_NEGATORS = {"not", "no", "never", "niet", "geen", "nooit", "hardly", "nauwelijks", "weinig", "little"}


def _compile(entries: list[_Entry]) -> list[tuple[re.Pattern[str], str, float]]:
    return [(re.compile(pattern), label, weight) for pattern, label, weight in entries]


_CURT_COMPILED = [(code, _compile(entries)) for code, entries in _CURT_GROUPS]
_FRIENDLY_COMPILED = _compile(_FRIENDLY)
_THANKS_COMPILED = _compile(_THANKS)
_SOFTENERS_COMPILED = _compile(_SOFTENERS)


def _fold(text: str) -> str:
    """Lower-case, straight quotes, accents removed, whitespace collapsed."""
    text = text.translate(_FOLD_TABLE).lower()
    decomposed = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class _Prepared:
    plain: str  # markup removed, original case
    folded: str  # for lexicon matching
    words: tuple[str, ...]
    friendly_emoji: int
    annoyed_emoji: int


def _prepare(text: str) -> _Prepared:
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    text = _TEAMS_AT_RE.sub(" ", text)
    text = _SLACK_LINK_RE.sub(r" \1 ", text)
    text = _SLACK_BARE_LINK_RE.sub(" ", text)
    text = _SLACK_MENTION_RE.sub(" ", text)
    text = _HTML_TAG_RE.sub(" ", text)
    text = _BARE_URL_RE.sub(" ", text)
    friendly = annoyed = 0

    def _shortcode(match: re.Match[str]) -> str:
        nonlocal friendly, annoyed
        name = match.group(1).lower()
        if name in _FRIENDLY_SHORTCODES or "smil" in name or "heart" in name or "thumbsup" in name:
            friendly += 1
        elif name in _ANNOYED_SHORTCODES or "facepalm" in name or ("roll" in name and "eye" in name):
            annoyed += 1
        return " "

    text = _SHORTCODE_RE.sub(_shortcode, text)
    friendly += sum(1 for ch in text if ch in _FRIENDLY_EMOJI)
    annoyed += sum(1 for ch in text if ch in _ANNOYED_EMOJI)
    friendly += len(_FRIENDLY_EMOTICON_RE.findall(text))
    annoyed += len(_ANNOYED_EMOTICON_RE.findall(text))
    # Slack/Markdown emphasis characters carry no meaning for us.
    plain = re.sub(r"[*_~]{1,3}(?=\S)|(?<=\S)[*_~]{1,3}", "", text)
    plain = re.sub(r"\s+", " ", plain).strip()
    folded = _fold(plain)
    words = tuple(_WORD_RE.findall(folded))
    return _Prepared(plain=plain, folded=folded, words=words, friendly_emoji=friendly, annoyed_emoji=annoyed)


# Tiny function-word lists to tell Dutch from English where a word means different things ("even").
_NL_HINTS = {
    "de", "het", "een", "en", "je", "ik", "is", "niet", "dat", "dit", "van", "op", "te", "zijn", "wat", "hoe",
    "ja", "nee", "kijk", "maar", "wel", "ook", "naar", "voor", "mag", "kun", "moet", "even",
}
_EN_HINTS = {
    "the", "a", "an", "and", "you", "i", "is", "not", "that", "this", "of", "on", "to", "are", "what", "how",
    "yes", "no", "look", "but", "it", "also", "for", "can", "must", "just", "even", "did",
}


def _looks_dutch(words: tuple[str, ...]) -> bool:
    nl = sum(1 for word in words if word in _NL_HINTS)
    en = sum(1 for word in words if word in _EN_HINTS)
    return nl > en


def _negated(folded: str, start: int) -> bool:
    before = _WORD_RE.findall(folded[max(0, start - 24):start])[-2:]
    return any(word in _NEGATORS for word in before)


def _match_lexicon(
    folded: str, compiled: list[tuple[re.Pattern[str], str, float]], *, check_negation: bool = False
) -> list[tuple[str, float, tuple[int, int]]]:
    """Every distinct label that matches, once, with its first span."""
    hits: dict[str, tuple[float, tuple[int, int]]] = {}
    for pattern, label, weight in compiled:
        if label in hits:
            continue
        for match in pattern.finditer(folded):
            if check_negation and _negated(folded, match.start()):
                continue
            hits[label] = (weight, match.span())
            break
    return [(label, weight, span) for label, (weight, span) in hits.items()]


def _overlaps(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def _is_bare(prepared: _Prepared) -> tuple[str, float] | None:
    stripped = prepared.folded.strip(" \"'")
    if not stripped:
        return None
    body = stripped.rstrip(".!?… ")
    tail = stripped[len(body):]
    if body not in _BARE_STRONG or prepared.friendly_emoji:
        return None
    if tail.startswith("."):
        return body, 2.8
    if tail == "" and body in _BARE_NO_STOP_OK:
        return body, 2.6
    return None


def _caps_signals(plain: str) -> tuple[str, float] | None:
    letters = [ch for ch in plain if ch.isalpha()]
    if len(letters) >= 10:
        upper = sum(1 for ch in letters if ch.isupper())
        if upper / len(letters) >= 0.7:
            return "all_caps", 1.6
    for token in re.findall(r"[A-Za-zÀ-ÿ']+", plain):
        if len(token) >= 2 and token.isupper() and token in _EMPHASIS_CAPS:
            return f"caps_emphasis:{token.lower()}", 1.6
    return None


def _logistic(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def assess_reply(
    text: str,
    *,
    question: str | None = None,
    reply_seconds: float | None = None,
    interrupted_focus: bool = False,
    threshold: float = CURT_THRESHOLD,
) -> CurtnessVerdict:
    """Score how curt ``text`` (an expert's reply) reads, with reasons.

    ``question`` is the question being answered, ``reply_seconds`` how long after delivery the reply
    came, ``interrupted_focus`` whether the question reached the expert during focus time.
    """
    if not isinstance(text, str) or not text.strip():
        return CurtnessVerdict(score=0.0, curt=False, reasons=("empty",))
    prepared = _prepare(text)
    if not prepared.words and not prepared.friendly_emoji and not prepared.annoyed_emoji:
        # Only punctuation or markup (e.g. a lone mention or "?")
        if re.search(r"[?!]{2,}", prepared.plain):
            return _finish([("exclamation_burst", 1.0)], [], threshold)
        return CurtnessVerdict(score=0.0, curt=False, reasons=("empty",))

    folded = prepared.folded
    curt: list[tuple[str, float]] = []
    friendly: list[tuple[str, float]] = []

    # 1. Curt phrases (span-tracked so friendly look-alikes inside them do not count).
    # One stretch of text counts once: a span already claimed by a stronger (earlier) entry is skipped.
    curt_spans: list[tuple[int, int]] = []
    for code, compiled in _CURT_COMPILED:
        for label, weight, span in _match_lexicon(folded, compiled):
            if _overlaps(span, curt_spans):
                continue
            curt.append((f"{code}:{label}", weight))
            curt_spans.append(span)

    bare = _is_bare(prepared)
    if bare is not None:
        # The bare reply replaces a phrase match on the same word ("Whatever." is one signal, not two).
        curt = [item for item in curt if item[0].split(":", 1)[1] != bare[0]]
        curt.append((f"bare_dismissal:{bare[0]}", bare[1]))

    intensity = 0.0
    seen_intensifiers: list[str] = []
    for word in prepared.words:
        weight = _INTENSIFIERS.get(word, 0.0)
        if weight > 0 and word not in seen_intensifiers:
            seen_intensifiers.append(word)
            intensity += weight
    if intensity > 0:
        curt.append((f"impatience_marker:{'/'.join(seen_intensifiers)}", min(intensity, _INTENSIFIER_CAP)))

    caps = _caps_signals(prepared.plain)
    if caps is not None:
        curt.append(caps)
    if re.search(r"(!\s*){2,}|\?\s*!|!\s*\?|(\?\s*){2,}", prepared.plain):
        curt.append(("exclamation_burst", 1.0))
    if prepared.annoyed_emoji:
        curt.append(("emoji_annoyed", 1.4))

    if bare is None and _BLUNT_OPENER_RE.match(folded) and len(prepared.words) > 1:
        curt.append(("blunt_opener", 0.8))

    # 2. Friendly signals. In "friendly words, but/maar <curt phrase>" the part after the contrast
    # is what lands, and an eye-roll emoji turns friendly words into sarcasm: both discount them.
    contrast = _CONTRAST_RE.search(folded)
    contrast_at = contrast.start() if contrast else -1
    curt_after_contrast = contrast_at >= 0 and any(start > contrast_at for start, _ in curt_spans)
    discounted = False
    friendly_spans: list[tuple[int, int]] = []
    for prefix, compiled in (("friendly_marker", _FRIENDLY_COMPILED), ("thanks_or_praise", _THANKS_COMPILED)):
        for label, weight, span in _match_lexicon(folded, compiled, check_negation=True):
            if _overlaps(span, curt_spans) or _overlaps(span, friendly_spans):
                continue
            friendly_spans.append(span)
            if prepared.annoyed_emoji or (curt_after_contrast and span[1] <= contrast_at):
                weight *= _DISCOUNT
                discounted = True
            friendly.append((f"{prefix}:{label}", -weight))
    if discounted:
        curt.append((
            "sarcasm_or_condescension:friendly words undercut" if prepared.annoyed_emoji
            else "contrast_discounts_friendliness",
            0.0,
        ))
    if prepared.friendly_emoji:
        friendly.append(("emoji_friendly", -1.4 if prepared.friendly_emoji == 1 else -1.8))
    greeting = _GREETING_RE.match(folded)
    if greeting:
        friendly.append(("greeting", -0.5))
    # Hedges and "please" soften neutral content; next to a reproach they read as passive-aggressive,
    # so they only count when no curt phrase matched.
    softening = 0.0
    soft_labels: list[str] = []
    if not curt_spans:
        for label, weight, _span in _match_lexicon(folded, _SOFTENERS_COMPILED):
            if label not in soft_labels:
                soft_labels.append(label)
                softening += weight
        if _looks_dutch(prepared.words) and re.search(r"\beven\b", folded):
            soft_labels.append("even")  # Dutch softening particle ("kijk even")
            softening += 0.4
    if softening:
        friendly.append((f"softener:{'/'.join(soft_labels)}", -min(softening, _SOFTENER_CAP)))

    # 3. Shape: terse commands without any softening.
    n_words = len(prepared.words)
    words_after_greeting = _WORD_RE.findall(folded[greeting.end():]) if greeting else list(prepared.words)
    if (
        words_after_greeting
        and words_after_greeting[0] in _IMPERATIVES
        and not friendly
        and not re.search(r"\?\s*$", prepared.plain)
    ):
        curt.append((f"imperative_without_softener:{words_after_greeting[0]}", 1.0))
    terse = n_words <= _TERSE_WORDS
    if terse and not friendly and bare is None and prepared.plain.rstrip().endswith("."):
        curt.append(("terse_full_stop", 0.5))

    # 4. Context: the question and the timing. Never applied to a reply with friendly signals.
    context: list[tuple[str, float]] = []
    if not friendly and n_words <= _CONTEXT_MAX_WORDS:
        if question and isinstance(question, str):
            q_prepared = _prepare(question)
            q_words = len(q_prepared.words)
            careful = bool(re.search(
                r"\b(sorry|excuses|sorry to bother|alvast bedankt|thanks in advance|bedankt|thank you|thanks|"
                r"please|graag|zou je|could you|would you|mag ik|may i|ik twijfel|i'?m not sure|"
                r"weet niet zeker)\b",
                q_prepared.folded))
            if n_words <= _TERSE_WORDS and (q_words >= 35 or (careful and q_words >= 12)):
                context.append(("short_reply_to_careful_question", 0.6))
        if interrupted_focus:
            if reply_seconds is not None and 0 <= reply_seconds < _CONTEXT_FAST_SECONDS:
                context.append(("fast_reply_interrupted_focus", 0.8))
            else:
                context.append(("interrupted_focus", 0.3))

    context_total = sum(weight for _, weight in context)
    if context_total > _CONTEXT_CAP:
        context = [(label, weight * _CONTEXT_CAP / context_total) for label, weight in context]
    return _finish(curt + context, friendly, threshold)


def _finish(
    curt: list[tuple[str, float]], friendly: list[tuple[str, float]], threshold: float
) -> CurtnessVerdict:
    friendly_total = max(sum(weight for _, weight in friendly), _FRIENDLY_FLOOR)
    total = _BIAS + sum(weight for _, weight in curt) + friendly_total
    score = round(_logistic(total), 4)
    ordered = sorted(curt, key=lambda item: -item[1]) + sorted(friendly, key=lambda item: item[1])
    reasons = tuple(label for label, _ in ordered)
    return CurtnessVerdict(score=score, curt=score >= threshold, reasons=reasons)
