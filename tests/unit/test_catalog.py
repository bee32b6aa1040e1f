"""The editable text files: complete in both languages and checked at load."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from nudges.texts.catalog import CONTENT_DIR, CatalogError, load_catalog

ROOT = Path(__file__).resolve().parents[2]


def keys_used_in_code() -> set[str]:
    pattern = re.compile(r'"((?:error|ask|question|tag|answer|reply|outcome|curt|topics|data|forget|button|nudge|'
                         r'word)\.[a-z_]+)"')
    found = set()
    for path in (ROOT / "handlers").glob("*.py"):
        found |= set(pattern.findall(path.read_text()))
    return found


def test_every_key_the_code_uses_exists_in_both_languages():
    catalog = load_catalog()
    for lang in ("nl", "en"):
        known = set(catalog.texts[lang]) | set(catalog.variants[lang]) | set(catalog.plurals[lang])
        assert keys_used_in_code() - known == set()


def test_every_nudge_has_several_variants():
    catalog = load_catalog()
    for key in ("nudge.in_role", "nudge.confirmation", "nudge.curt", "nudge.tagged_werk"):
        assert catalog.variant_count(key) >= 3


def test_a_key_missing_in_one_language_stops_loading(tmp_path):
    shutil.copytree(CONTENT_DIR, tmp_path, dirs_exist_ok=True)
    en = tmp_path / "en.toml"
    en.write_text(en.read_text().replace('"forget.done"', '"forget.gone"'))
    with pytest.raises(CatalogError, match="forget"):
        load_catalog(tmp_path)


def test_an_unknown_placeholder_stops_loading(tmp_path):
    shutil.copytree(CONTENT_DIR, tmp_path, dirs_exist_ok=True)
    en = tmp_path / "en.toml"
    en.write_text(en.read_text().replace("Noted: question #{id} is a favour", "Noted: {nonsense} is a favour"))
    with pytest.raises(CatalogError, match="nonsense"):
        load_catalog(tmp_path)


def test_broken_toml_names_the_file(tmp_path):
    shutil.copytree(CONTENT_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "nl.toml").write_text("[text\n")
    with pytest.raises(CatalogError, match=r"nl\.toml"):
        load_catalog(tmp_path)


def _with_plural(tmp_path: Path, nl: str, en: str) -> Path:
    """The real content files plus one [plural] entry per language, appended at the end."""
    shutil.copytree(CONTENT_DIR, tmp_path, dirs_exist_ok=True)
    for lang, table in (("nl", nl), ("en", en)):
        path = tmp_path / f"{lang}.toml"
        path.write_text(path.read_text() + "\n" + table)
    return tmp_path


APPLES_NL = '[plural."test.apples"]\nzero = "Geen appels."\none = "Eén appel."\nother = "{count} appels."\n'
APPLES_EN = '[plural."test.apples"]\none = "One apple for {who}."\nother = "{count} apples for {who}."\n'


def test_a_count_picks_the_plural_form_by_the_language_rules(tmp_path):
    catalog = load_catalog(_with_plural(tmp_path, APPLES_NL, APPLES_EN.replace(" for {who}", "")))
    assert catalog.text("nl", "test.apples", count=0) == "Geen appels."
    assert catalog.text("nl", "test.apples", count=1) == "Eén appel."
    assert catalog.text("nl", "test.apples", count=2) == "2 appels."
    assert catalog.text("en", "test.apples", count=0) == "0 apples."  # no zero form: the plural
    assert catalog.text("en", "test.apples", count=1) == "One apple."


def test_a_plural_entry_without_a_form_the_language_needs_stops_loading(tmp_path):
    with pytest.raises(CatalogError, match=r"test\.apples.*one"):
        load_catalog(_with_plural(tmp_path, APPLES_NL.replace('one = "Eén appel."\n', ""), APPLES_EN))


def test_a_plural_entry_missing_in_one_language_stops_loading(tmp_path):
    with pytest.raises(CatalogError, match=r"test\.apples"):
        load_catalog(_with_plural(tmp_path, APPLES_NL, ""))


def test_a_plural_placeholder_the_reference_does_not_use_stops_loading(tmp_path):
    with pytest.raises(CatalogError, match="who"):
        load_catalog(_with_plural(tmp_path, APPLES_NL, APPLES_EN))


def test_a_plural_text_asked_for_without_a_count_fails_loudly(tmp_path):
    catalog = load_catalog(_with_plural(tmp_path, APPLES_NL, APPLES_EN.replace(" for {who}", "")))
    with pytest.raises(KeyError, match="count"):
        catalog.text("nl", "test.apples")
