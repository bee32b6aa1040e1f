"""`vraagbot teams-package` writes a zip Teams accepts: manifest with the bot id and the publisher's own pages,
Dutch strings in the manifest and English ones in en.json (localizationInfo), two icons of the right size.
Without the publisher's pages (or with placeholders) it refuses and writes nothing."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from click.testing import CliRunner
from PIL import Image

from bot.cli import main

APP_ID = "11111111-2222-3333-4444-555555555555"
PUBLISHER = ["--developer-name", "Zorggroep Noord", "--website-url", "https://www.zorggroep-noord.nl",
             "--privacy-url", "https://www.zorggroep-noord.nl/privacy/vraagbot",
             "--terms-url", "https://www.zorggroep-noord.nl/voorwaarden"]


@pytest.fixture
def no_publisher_settings(monkeypatch):
    for name in ("DEVELOPER_NAME", "WEBSITE_URL", "PRIVACY_URL", "TERMS_URL"):
        monkeypatch.delenv(f"VRAAGBOT_TEAMS_{name}", raising=False)


def build(tmp_path, *args: str):
    out = tmp_path / "app.zip"
    result = CliRunner().invoke(main, ["teams-package", "--app-id", APP_ID, "--out", str(out), *args])
    return result, out


def test_package_has_manifest_with_the_bot_id_both_languages_and_both_icons(tmp_path, no_publisher_settings):
    result, out = build(tmp_path, *PUBLISHER)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "en.json", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        english = json.loads(package.read("en.json"))
        color = Image.open(io.BytesIO(package.read("color.png")))
        outline = Image.open(io.BytesIO(package.read("outline.png")))
        raw = b"".join(package.read(name) for name in ("manifest.json", "en.json"))
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert (color.size, outline.size) == ((192, 192), (32, 32))
    assert outline.mode == "RGBA" and outline.getpixel((0, 0))[3] == 0  # transparent background
    assert manifest["developer"] == {"name": "Zorggroep Noord", "websiteUrl": "https://www.zorggroep-noord.nl",
                                     "privacyUrl": "https://www.zorggroep-noord.nl/privacy/vraagbot",
                                     "termsOfUseUrl": "https://www.zorggroep-noord.nl/voorwaarden"}
    assert b"example." not in raw

    assert manifest["localizationInfo"] == {"defaultLanguageTag": "nl",
                                            "additionalLanguages": [{"languageTag": "en", "file": "en.json"}]}
    assert manifest["$schema"].rsplit("/", 2)[1] == english["$schema"].rsplit("/", 2)[1]  # one manifest version
    # Each file in one language: Dutch in the manifest, English in en.json, short and full alike.
    assert "Vraag een collega" in manifest["description"]["short"] and "vraag" in manifest["description"]["full"]
    assert "Ask a colleague" in english["description.short"] and "you ask" in english["description.full"]
    assert "Ask" not in manifest["description"]["full"] and "vraag " not in english["description.full"]
    assert english["name.full"] != manifest["name"]["full"]
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    assert [c["title"] for c in commands] == ["vraag", "help", "rol", "mijn gegevens", "vergeet mij"]
    titles = [english[f"bots[0].commandLists[0].commands[{i}].title"] for i in range(len(commands))]
    assert titles == ["ask", "help", "role", "my data", "forget me"]
    assert all(f"bots[0].commandLists[0].commands[{i}].description" in english for i in range(len(commands)))
    # Within Teams' limits.
    assert len(manifest["description"]["short"]) <= 80 and len(english["description.short"]) <= 80
    assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands)
    # Installing the app grants nothing in Graph: the consent is the admin's, in Entra (docs/deployment.md).
    assert "webApplicationInfo" not in manifest and "authorization" not in manifest


def test_the_publisher_can_come_from_the_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("VRAAGBOT_TEAMS_DEVELOPER_NAME", "Gemeente Zuid")
    monkeypatch.setenv("VRAAGBOT_TEAMS_WEBSITE_URL", "https://gemeente-zuid.nl")
    monkeypatch.setenv("VRAAGBOT_TEAMS_PRIVACY_URL", "https://gemeente-zuid.nl/privacy")
    monkeypatch.setenv("VRAAGBOT_TEAMS_TERMS_URL", "https://gemeente-zuid.nl/voorwaarden")
    result, out = build(tmp_path)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as package:
        assert json.loads(package.read("manifest.json"))["developer"]["privacyUrl"] == "https://gemeente-zuid.nl/privacy"


@pytest.mark.parametrize(("replace", "says"), [
    (None, "the developer name is missing"),  # nothing given at all
    (("--privacy-url", "https://www.example.org/privacy"), "is a placeholder"),
    (("--terms-url", "http://www.zorggroep-noord.nl/voorwaarden"), "is not an https address"),
    (("--website-url", "https://vraagbot.example.com"), "is a placeholder"),
])
def test_a_package_without_real_publisher_pages_is_refused_and_not_written(tmp_path, no_publisher_settings,
                                                                            replace, says):
    args = []
    if replace is not None:
        args = list(PUBLISHER)
        args[args.index(replace[0]) + 1] = replace[1]
    result, out = build(tmp_path, *args)
    assert result.exit_code == 2
    assert "no package written" in result.output and says in result.output
    assert not out.exists()
    if replace is None:  # every missing value is named, with the option and the setting that give it
        assert "--privacy-url, VRAAGBOT_TEAMS_PRIVACY_URL" in result.output
        assert "--terms-url, VRAAGBOT_TEAMS_TERMS_URL" in result.output


def test_package_without_an_app_id_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["teams-package", *PUBLISHER])
    assert result.exit_code == 2 and "MICROSOFT_APP_ID" in result.output
    assert not (tmp_path / "vraagbot-teams.zip").exists()
