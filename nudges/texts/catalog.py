"""Texts from editable content files (one TOML file per language), checked when loaded.

An HR colleague can change wording in nudges/texts/content/*.toml without touching code; a file that
lost a key, a variant list or a {placeholder} stops start-up with a line that says what is wrong.

A text that shows a count lives under [plural] as a table of forms (``one``, ``other``, and an
optional ``zero`` for a sentence that must not say "0"); ``text(..., count=n)`` picks the form by
the language's CLDR plural rules (Babel), so no code has to spell out "1 question / 2 questions".
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel import Locale

CONTENT_DIR = Path(__file__).parent / "content"
LANGUAGES = ("nl", "en")
ZERO = "zero"  # our own form: CLDR gives nl and en no "zero", but "0 keer bevestigde je" reads badly
PLURAL_FORMS = {ZERO, "one", "two", "few", "many", "other"}


class CatalogError(ValueError):
    pass


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class _Params(dict[str, Any]):
    """Leaves an unknown {name} visible instead of failing a send over a wording edit."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class TextCatalog:
    texts: dict[str, dict[str, str]]  # language -> key -> text
    variants: dict[str, dict[str, list[str]]]  # language -> key -> texts
    plurals: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # language -> key -> form -> text
    fallback: str = "nl"

    def text(self, locale: str, key: str, **params: Any) -> str:
        lang = self._lang(locale)
        forms = self.plurals.get(lang, {}).get(key)
        template = self.texts[lang][key] if forms is None else forms[_plural_form(lang, forms, params)]
        return template.format_map(_Params(params)).strip()

    def variant(self, locale: str, key: str, seed: int, **params: Any) -> str:
        options = self.variants[self._lang(locale)][key]
        return options[self.variant_number(locale, key, seed)].format_map(_Params(params)).strip()

    def variant_number(self, locale: str, key: str, seed: int) -> int:
        return seed % len(self.variants[self._lang(locale)][key])

    def variant_count(self, key: str) -> int:
        return min(len(self.variants[lang][key]) for lang in self.variants)

    def _lang(self, locale: str) -> str:
        return locale if locale in self.texts else self.fallback


def _plural_form(lang: str, forms: dict[str, str], params: dict[str, Any]) -> str:
    if "count" not in params:
        raise KeyError("count: this text has singular and plural forms, so it needs count=")
    count = params["count"]
    if count == 0 and ZERO in forms:
        return ZERO
    form = Locale.parse(lang).plural_form(count)
    return form if form in forms else "other"


def load_catalog(content_dir: Path = CONTENT_DIR) -> TextCatalog:
    texts: dict[str, dict[str, str]] = {}
    variants: dict[str, dict[str, list[str]]] = {}
    plurals: dict[str, dict[str, dict[str, str]]] = {}
    for lang in LANGUAGES:
        path = content_dir / f"{lang}.toml"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise CatalogError(f"{path}: cannot read texts: {error}") from error
        texts[lang] = _strings(path, data.get("text", {}))
        variants[lang] = _variant_lists(path, data.get("variants", {}))
        plurals[lang] = _plural_tables(path, lang, data.get("plural", {}))
        both = sorted(set(texts[lang]) & set(plurals[lang]))
        if both:
            raise CatalogError(f"{path}: {', '.join(both)} is both under [text] and under [plural]; keep one")
    _check_same_shape(texts, "text")
    _check_same_shape(variants, "variants")
    _check_same_shape(plurals, "plural")
    return TextCatalog(texts, variants, plurals)


def _strings(path: Path, table: Any) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str) and v.strip() for v in table.values()):
        raise CatalogError(f"{path}: every entry under [text] must be a non-empty string")
    for key, value in table.items():
        _check_format(path, key, value)
    return dict(table)


def _variant_lists(path: Path, table: Any) -> dict[str, list[str]]:
    if not isinstance(table, dict):
        raise CatalogError(f"{path}: [variants] must be a table")
    for key, value in table.items():
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise CatalogError(f"{path}: variants '{key}' must be a non-empty list of texts")
        for text in value:
            _check_format(path, key, text)
    return {key: list(value) for key, value in table.items()}


def _plural_tables(path: Path, lang: str, table: Any) -> dict[str, dict[str, str]]:
    """Each entry has at least the forms the language's plural rules can ask for, and only known forms."""
    if not isinstance(table, dict):
        raise CatalogError(f"{path}: [plural] must be a table")
    needed = set(Locale.parse(lang).plural_form.tags) | {"other"}
    for key, forms in table.items():
        if not isinstance(forms, dict) or not all(isinstance(v, str) and v.strip() for v in forms.values()):
            raise CatalogError(f"{path}: plural '{key}' must be a table of non-empty texts (one = ..., other = ...)")
        missing, unknown = sorted(needed - set(forms)), sorted(set(forms) - PLURAL_FORMS)
        if missing or unknown:
            raise CatalogError(f"{path}: plural '{key}' needs the forms {', '.join(sorted(needed))} (zero is optional)"
                               f"; missing: {', '.join(missing) or '-'}; unknown: {', '.join(unknown) or '-'}")
        for text in forms.values():
            _check_format(path, key, text)
    return {key: dict(forms) for key, forms in table.items()}


def _check_format(path: Path, key: str, text: str) -> None:
    try:
        _placeholders(text)
    except ValueError as error:
        raise CatalogError(f"{path}: '{key}' has a broken {{placeholder}}: {error}") from error


def _check_same_shape(per_language: dict[str, dict[str, Any]], section: str) -> None:
    """Every language has the same keys; no language uses a placeholder the reference does not."""
    reference_lang, *others = LANGUAGES
    reference = per_language[reference_lang]
    for lang in others:
        current = per_language[lang]
        missing = sorted(set(reference) ^ set(current))
        if missing:
            raise CatalogError(f"[{section}] keys differ between {reference_lang} and {lang}: {', '.join(missing)}")
        for key in reference:
            unknown = _names(current[key]) - _names(reference[key])
            if unknown:
                raise CatalogError(
                    f"[{section}] '{key}' in {lang} uses {{{', '.join(sorted(unknown))}}}, "
                    f"which {reference_lang} does not: the bot only fills in the names the {reference_lang} text uses"
                )


def _names(value: str | list[str] | dict[str, str]) -> set[str]:
    texts = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return set().union(*(_placeholders(t) for t in texts))
