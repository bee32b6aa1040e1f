"""Features of an expert's reply for the curt-reply model: what the training script and the scorer share.

``extract`` turns (reply, question, timing) into named features, each with a value and the piece of
text that fired it, so a reason can always quote what is really in the reply. Families:

* ``w:`` word unigrams and bigrams (with ``<s>``/``</s>`` for the start and end of the reply);
* ``c:`` character 3-5-grams inside words (catch inflections and typos: "handleiding", "handleidingen");
* ``r:`` rule features: a lexicon phrase group matched (the lexicon is data, ``curtness_lexicon.json``),
  emoji, capitals, bursts of ``!?``, and a few combinations (pointing elsewhere without an offer of help);
* ``x:`` context: question type (yes/no check, open question, request for help), reply length against
  it, reply time and interrupted focus time.

Word and character features are L2-normalised per family, so a long reply does not pile up weight just
by being long. Pure standard library. Training reads ``extract``; at run time ``handlers.curtness`` uses
the same ``prepare``, ``char_grams`` and ``rule_features``, forms the word n-grams as ``word_grams`` does,
and sums their weights without building the features (tests/unit/test_curtness_equivalence.py pins the
two equal).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import pairwise, repeat
from typing import NamedTuple

__all__ = ["MAX_CHARS", "Feature", "Lexicon", "Prepared", "char_gram_names", "char_grams", "extract", "load_lexicon",
           "prepare", "question_type", "rule_features", "word_grams"]

MAX_CHARS = 5000  # only the first MAX_CHARS characters are analysed
_FAST_SECONDS = 120.0
_SHORT_WORDS = 4


class Feature(NamedTuple):  # a tuple: cheap to build, there are ~100 per reply
    name: str  # model feature, e.g. "r:pointing_elsewhere"
    value: float
    label: str  # what fired it, quoted from the text where possible: "pointing_elsewhere:staat in de"


@dataclass(frozen=True)
class Lexicon:
    phrases: dict[str, dict[tuple[str, ...], str]]  # first token -> {phrase tokens: group}
    longest: int
    sizes: dict[str, tuple[int, ...]]  # first token -> the lengths of its phrases, longest first
    friendly_emoji: frozenset[str]
    annoyed_emoji: frozenset[str]
    friendly_shortcodes: frozenset[str]
    annoyed_shortcodes: frozenset[str]
    emphasis_caps: frozenset[str]


@cache
def load_lexicon() -> Lexicon:
    raw = json.loads(resources.files("handlers").joinpath("curtness_lexicon.json").read_text(encoding="utf-8"))
    phrases: dict[str, dict[tuple[str, ...], str]] = {}
    longest = 1
    for group, entries in raw["groups"].items():
        for phrase in entries:
            tokens = tuple(_WORD_RE.findall(_fold(phrase)))
            if tokens:
                phrases.setdefault(tokens[0], {})[tokens] = group
                longest = max(longest, len(tokens))
    emoji = raw["emoji"]
    return Lexicon(
        phrases=phrases,
        longest=longest,
        sizes={first: tuple(sorted({len(tokens) for tokens in entries}, reverse=True))
               for first, entries in phrases.items()},
        friendly_emoji=frozenset(emoji["friendly"]),
        annoyed_emoji=frozenset(emoji["annoyed"]),
        friendly_shortcodes=frozenset(emoji["friendly_shortcodes"]),
        annoyed_shortcodes=frozenset(emoji["annoyed_shortcodes"]),
        emphasis_caps=frozenset(raw["emphasis_caps"]),
    )


# ------------------------------------------------------------------------------------ text clean-up

_SLACK_MENTION_RE = re.compile(r"<[@#!][^>]*>")
_SLACK_LINK_RE = re.compile(r"<(?:https?|mailto|tel):[^>|]*\|([^>]*)>")
_SLACK_BARE_LINK_RE = re.compile(r"<(?:https?|mailto|tel):[^>]*>")
_BARE_URL_RE = re.compile(r"https?://\S+")
_TEAMS_AT_RE = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_HTML_TAG_RE = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_SHORTCODE_RE = re.compile(r":([a-z0-9][a-z0-9_+\-']*|\+1|-1)(?:::skin-tone-\d)?:", re.IGNORECASE)
_EMPHASIS_RE = re.compile(r"[*_~]{1,3}(?=\S)|(?<=\S)[*_~]{1,3}")
_WORD_RE = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_SPACE_RE = re.compile(r"\s+")
_CAPS_TOKEN_RE = re.compile(r"[A-Za-zÀ-ÿ']{2,}")
_BURST_RE = re.compile(r"(!\s*){2,}|\?\s*!|!\s*\?|(\?\s*){2,}")
_FRIENDLY_EMOTICON_RE = re.compile(r"(?:^|\s)(?::-?\)|:-?d\b|;-?\)|\(:|\^\^|\^_\^|:-?p\b|<3)(?=\s|$|[.,!])",
                                   re.IGNORECASE)
_ANNOYED_EMOTICON_RE = re.compile(r"(?:^|\s)(?::-?/|:-?\(|-_-|>:\(|:-?\|)(?=\s|$|[.,!])")
_FOLD_TABLE = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"',
                             "–": "-", "—": "-", "…": "..."})


def _fold(text: str) -> str:
    """Lower-case, straight quotes, accents removed, whitespace collapsed."""
    if text.isascii():  # most replies: nothing to translate or strip, and the per-character pass is costly
        return _SPACE_RE.sub(" ", text.lower()).strip()
    text = unicodedata.normalize("NFD", text.translate(_FOLD_TABLE).lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACE_RE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Prepared:
    plain: str  # markup removed, original case
    words: tuple[str, ...]  # folded word tokens
    friendly_emoji: tuple[str, ...]
    annoyed_emoji: tuple[str, ...]

    @property
    def blank(self) -> bool:
        """Nothing to read: no word and no emoji (a lone mention, "?", "!!!")."""
        return not self.words and not self.friendly_emoji and not self.annoyed_emoji


def prepare(text: str, lexicon: Lexicon) -> Prepared:
    """The reply as the features read it: markup and URLs out, emoji collected, words folded."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    if "<" in text:
        text = _TEAMS_AT_RE.sub(" ", text)
        text = _SLACK_LINK_RE.sub(r" \1 ", text)
        text = _SLACK_BARE_LINK_RE.sub(" ", text)
        text = _SLACK_MENTION_RE.sub(" ", text)
        text = _HTML_TAG_RE.sub(" ", text)
    if "http" in text:
        text = _BARE_URL_RE.sub(" ", text)
    friendly: list[str] = []
    annoyed: list[str] = []
    if ":" in text:
        def _shortcode(match: re.Match[str]) -> str:
            name = match.group(1).lower()
            if name in lexicon.friendly_shortcodes or "smil" in name or "heart" in name or "thumbsup" in name:
                friendly.append(f":{name}:")
            elif name in lexicon.annoyed_shortcodes or "facepalm" in name or ("roll" in name and "eye" in name):
                annoyed.append(f":{name}:")
            return " "

        text = _SHORTCODE_RE.sub(_shortcode, text)
        friendly.extend(match.strip() for match in _FRIENDLY_EMOTICON_RE.findall(text))
        annoyed.extend(match.strip() for match in _ANNOYED_EMOTICON_RE.findall(text))
    if not text.isascii():  # the per-character scan only when an emoji is there (isdisjoint runs in C)
        if not lexicon.friendly_emoji.isdisjoint(text):
            friendly.extend(ch for ch in text if ch in lexicon.friendly_emoji)
        if not lexicon.annoyed_emoji.isdisjoint(text):
            annoyed.extend(ch for ch in text if ch in lexicon.annoyed_emoji)
    if "*" in text or "_" in text or "~" in text:
        text = _EMPHASIS_RE.sub("", text)
    plain = _SPACE_RE.sub(" ", text).strip()
    # An ASCII plain text is already collapsed and stripped: lower-casing is all _fold would do.
    words = tuple(_WORD_RE.findall(plain.lower() if plain.isascii() else _fold(plain)))
    return Prepared(plain=plain, words=words, friendly_emoji=tuple(friendly), annoyed_emoji=tuple(annoyed))


# ------------------------------------------------------------------------------------ the question

_YES_NO_STARTS = {
    # Dutch verb-first questions ("Mag ik ...", "Klopt het dat ...")
    "mag", "mogen", "kan", "kunnen", "moet", "moeten", "is", "zijn", "klopt", "heb", "hebben", "heeft", "wordt",
    "worden", "gaat", "gaan", "valt", "vallen", "geldt", "gelden", "hoeft", "hoeven", "zit", "zie", "doe",
    "doen", "was", "waren", "zou", "zouden", "wil", "telt", "tellen", "staat", "blijft", "ben",
    # English auxiliaries
    "are", "am", "can", "could", "should", "do", "does", "did", "may", "will", "would", "have", "has", "were",
    "shall", "must", "need",
}
_OPEN_STARTS = {
    "hoe", "wat", "waar", "wanneer", "waarom", "welke", "welk", "wie", "hoeveel", "waarmee", "waarvoor",
    "how", "what", "where", "when", "why", "which", "who", "whom", "whose",
}
# "Kun je even meekijken?" is yes/no in form, but a request for help: a bare "Nee." refuses it.
_REQUEST_WORDS = {
    "helpen", "meekijken", "uitleggen", "laten", "sturen", "kijken", "doorlopen", "bellen", "nakijken",
    "help", "explain", "show", "walk", "send", "look", "review", "check", "call", "go",
}
_REQUEST_OPENERS = {("kun", "je"), ("kan", "je"), ("kunt", "u"), ("zou", "je"), ("wil", "je"), ("heb", "je"),
                    ("could", "you"), ("can", "you"), ("would", "you"), ("will", "you"), ("do", "you")}
_CAREFUL_WORDS = {"sorry", "excuses", "bedankt", "alvast", "thanks", "thank", "please", "graag", "twijfel",
                  "unsure", "sure", "zeker", "storen", "bother"}


def question_type(question: str | None) -> str:
    """``"yes_no"`` (a check), ``"request"`` (asks for help or an explanation), ``"open"`` or ``"none"``."""
    return _read_question(question)[0]


_SENTENCE_END_RE = re.compile(r"[.!]\s+")


def _read_question(question: str | None) -> tuple[str, list[str]]:
    """The question's type and its folded words (one fold for both)."""
    if not question or not isinstance(question, str):
        return "none", []
    folded = _fold(question[:MAX_CHARS])
    words = _WORD_RE.findall(folded)
    return _question_type(folded, words), words


def _question_type(folded: str, words: list[str]) -> str:
    if not words:
        return "none"
    # The question proper is usually the last sentence; skip a greeting or an apology before it.
    # (Known misread: a lead-in ending in ":" or "," is not skipped, so "Quick question: is ...?" reads as
    # "open"; the model is trained on that reading. bench/NOTES-curtness.md has the fix and what it needs.)
    last = _SENTENCE_END_RE.split(folded)[-1]
    tail = _WORD_RE.findall(last) or words
    if tuple(tail[:2]) in _REQUEST_OPENERS and _REQUEST_WORDS.intersection(tail[2:8]):
        return "request"
    if tail[0] in _OPEN_STARTS or _OPEN_STARTS.intersection(tail[:3]):
        return "open"
    if tail[0] in _YES_NO_STARTS:
        return "yes_no"
    return "open"


# ------------------------------------------------------------------------------------ extraction


def _lexicon_hits(words: tuple[str, ...], lexicon: Lexicon) -> list[tuple[str, str, int]]:
    """Longest phrase first, left to right; a token belongs to one phrase. (group, phrase, start)."""
    hits: list[tuple[str, str, int]] = []
    sizes_of = lexicon.sizes
    if sizes_of.keys().isdisjoint(words):  # most replies: no phrase starts anywhere
        return hits
    phrases = lexicon.phrases
    i, n = 0, len(words)
    while i < n:
        sizes = sizes_of.get(words[i])
        best = 0
        if sizes:
            candidates = phrases[words[i]]
            for size in sizes:  # only the lengths this token's phrases have, longest first
                if size <= n - i:
                    group = candidates.get(words[i:i + size])
                    if group is not None:
                        hits.append((group, " ".join(words[i:i + size]), i))
                        best = size
                        break
        i += best or 1
    return hits


_ASCII_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
_ASCII_UPPER = bytes(range(65, 91))


def _letter_counts(plain: str) -> tuple[int, int]:
    """(letters, upper-case letters), as str.isalpha and str.isupper count them."""
    if plain.isascii():  # counted in C: the bytes without the letters, without the capitals
        raw = plain.encode("ascii")
        size = len(raw)
        return size - len(raw.translate(None, _ASCII_LETTERS)), size - len(raw.translate(None, _ASCII_UPPER))
    letters = list(filter(str.isalpha, plain))
    return len(letters), sum(map(str.isupper, letters))


def _caps(plain: str, lexicon: Lexicon) -> list[Feature]:
    letters, upper = _letter_counts(plain)
    if letters >= 10 and upper / letters >= 0.7:
        return [Feature("r:all_caps", 1.0, "all_caps")]
    if upper:
        for token in _CAPS_TOKEN_RE.findall(plain):
            if token in lexicon.emphasis_caps and token.isupper():
                return [Feature("r:caps_emphasis", 1.0, f"caps_emphasis:{token}")]
    return []


_new_feature = tuple.__new__  # with Feature as its first argument: a Feature, without the Python-level __new__


def _or(label: str, gram: str) -> str:
    return label or gram


def _bigrams(words: tuple[str, ...]) -> dict[str, str]:
    """Bigrams over the reply with <s>/</s> markers, in order, each mapped to its label text
    (the gram without the markers)."""
    if not words:  # an emoji-only reply: the empty reply's one bigram
        return {"<s> </s>": "</s>"}
    out = {"<s> " + words[0]: words[0]}
    for a, b in pairwise(words):
        out.setdefault(f"{a} {b}", "")
    out.setdefault(words[-1] + " </s>", words[-1])
    return out


def word_grams(words: tuple[str, ...]) -> dict[str, str]:
    """The ``w:`` family without its prefix: unigrams, then bigrams with <s>/</s>, each once, in order,
    mapped to the text its label quotes ("" when that is the gram itself)."""
    grams = dict.fromkeys(words, "")
    grams.update(_bigrams(words))
    return grams


_WORD_CACHE_SIZE = 4096  # words: ~1 KB for a usual word, at most ~12 MB in all. Chat reuses its words.
CACHED_WORD_CHARS = 16  # longer "words" (hashes, pasted junk) are rare and large: not cached


def char_grams(word: str) -> tuple[str, ...]:
    """The 3-, 4- and 5-grams of " word ", in that order (" wo", "wor", ...); a gram can come twice
    ("aaa" in "aaaa"). The ``c:`` features are these, prefixed."""
    padded = f" {word} "
    return tuple(map(padded.__getitem__, _gram_slices(len(padded))))


def _gram_slices(size: int) -> tuple[slice, ...]:
    # Slicing with ready slice objects runs in C; the ones for usual word lengths are kept.
    return _cached_gram_slices(size) if size <= CACHED_WORD_CHARS + 2 else _build_gram_slices(size)


def _build_gram_slices(size: int) -> tuple[slice, ...]:
    return tuple(slice(start, start + n) for n in (3, 4, 5) for start in range(size - n + 1))


_cached_gram_slices = lru_cache(maxsize=None)(_build_gram_slices)


def char_gram_names(word: str) -> tuple[str, ...]:
    """The feature names of ``char_grams``: "c: wo", "c:wor", ..."""
    return tuple(map("c:".__add__, char_grams(word)))


_cached_char_gram_names = lru_cache(maxsize=_WORD_CACHE_SIZE)(char_gram_names)


def _char_gram_names(word: str) -> tuple[str, ...]:
    # Cached for ordinary words: building ~12 small strings per word is most of the time spent on a reply;
    # a long word bypasses the cache, so hostile input cannot fill memory through it.
    return _cached_char_gram_names(word) if len(word) <= CACHED_WORD_CHARS else char_gram_names(word)


_CURT_GROUPS = ("pointing_elsewhere", "impatience", "reproach", "brush_off", "busy", "sarcasm")
_HELP_GROUPS = ("offer_help", "friendly", "thanks")


def extract(
    text: str,
    question: str | None = None,
    reply_seconds: float | None = None,
    interrupted_focus: bool = False,
) -> list[Feature]:
    """All features of one reply. Empty when there is nothing to read.

    The definition the model is trained on. ``handlers.curtness`` scores the same features in one pass
    without building them (tests/unit/test_curtness_equivalence.py holds the two together)."""
    lexicon = load_lexicon()
    prepared = prepare(text, lexicon)
    if prepared.blank:
        return rule_features(prepared, lexicon, question, reply_seconds, interrupted_focus)
    words = prepared.words
    features: list[Feature] = []

    # Words: unigrams and bigrams with start/end markers, each once; the label drops the markers.
    # (Features are built with map/zip over C-level constructors: ~150 per reply.)
    grams = word_grams(words)
    value = 1.0 / math.sqrt(len(grams))
    features.extend(map(_new_feature, repeat(Feature), zip(
        map("w:".__add__, grams), repeat(value), map("words:".__add__, map(_or, grams.values(), grams)))))
    # Characters: 3-5-grams of " word " (inside word boundaries), each once; the label is the word.
    chars: dict[str, str] = {}
    for word in dict.fromkeys(words):
        label = "chars:" + word
        for name in _char_gram_names(word):
            if name not in chars:
                chars[name] = label
    if chars:
        value = 1.0 / math.sqrt(len(chars))
        features.extend(map(_new_feature, repeat(Feature), zip(chars, repeat(value), chars.values())))
    features.extend(rule_features(prepared, lexicon, question, reply_seconds, interrupted_focus))
    return features


def rule_features(
    prepared: Prepared,
    lexicon: Lexicon,
    question: str | None,
    reply_seconds: float | None,
    interrupted_focus: bool,
) -> list[Feature]:
    """The ``r:`` and ``x:`` families, in the order ``extract`` lists them (a dozen at most per reply).
    For a blank reply only the burst of ``!?`` counts."""
    features: list[Feature] = []
    if prepared.blank:
        if _BURST_RE.search(prepared.plain):
            features.append(Feature("r:exclamation_burst", 1.0, "exclamation_burst"))
        return features
    words = prepared.words

    # Rules from the lexicon: one feature per group, labelled with the first phrase that fired.
    groups: dict[str, str] = {}
    for group, phrase, _start in _lexicon_hits(words, lexicon):
        groups.setdefault(group, phrase)
    features.extend(Feature(f"r:{group}", 1.0, f"{group}:{phrase}") for group, phrase in groups.items())
    curt_groups = [group for group in _CURT_GROUPS if group in groups]
    if "pointing_elsewhere" in groups and "offer_help" not in groups and len(words) <= 12:
        features.append(Feature("r:pointing_without_help", 1.0,
                                f"pointing_without_help:{groups['pointing_elsewhere']}"))
    if curt_groups and any(group in groups for group in _HELP_GROUPS):
        features.append(Feature("r:curt_and_friendly_words", 1.0, f"mixed:{groups[curt_groups[0]]}"))
    features.extend(_caps(prepared.plain, lexicon))
    if _BURST_RE.search(prepared.plain):
        features.append(Feature("r:exclamation_burst", 1.0, "exclamation_burst"))
    if prepared.friendly_emoji:
        features.append(Feature("r:emoji_friendly", 1.0, f"emoji_friendly:{prepared.friendly_emoji[0]}"))
    if prepared.annoyed_emoji:
        features.append(Feature("r:emoji_annoyed", 1.0, f"emoji_annoyed:{prepared.annoyed_emoji[0]}"))
        if "friendly" in groups or "thanks" in groups:
            features.append(Feature("r:friendly_words_with_eye_roll", 1.0, "sarcasm:friendly words with eye-roll"))
    end = prepared.plain.rstrip()[-1:] if prepared.plain else ""
    if len(words) <= _SHORT_WORDS and end == "." and not groups and not prepared.friendly_emoji:
        features.append(Feature("r:short_with_full_stop", 1.0, "short_with_full_stop"))

    # Context: the question and the timing.
    qtype, q_words = _read_question(question)
    length = "short" if len(words) <= _SHORT_WORDS else "medium" if len(words) <= 15 else "long"
    features.append(Feature(f"x:{length}_reply_to_{qtype}", 1.0, f"context:{length} reply to {qtype} question"))
    if qtype != "none" and length == "short" and question:
        if len(q_words) >= 30 or (len(q_words) >= 12 and _CAREFUL_WORDS.intersection(q_words)):
            features.append(Feature("x:short_reply_to_careful_question", 1.0,
                                    "context:short reply to a careful question"))
    if interrupted_focus:
        fast = reply_seconds is not None and 0 <= reply_seconds < _FAST_SECONDS
        name = "fast_reply_interrupted_focus" if fast else "interrupted_focus"
        features.append(Feature(f"x:{name}", 1.0, f"context:{name}"))
    elif reply_seconds is not None and 0 <= reply_seconds < _FAST_SECONDS:
        features.append(Feature("x:fast_reply", 1.0, "context:fast_reply"))
    return features
