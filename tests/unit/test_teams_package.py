"""`vraagbot teams-package` writes a zip Teams accepts: manifest with the bot id, two icons of the right size."""

from __future__ import annotations

import io
import json
import zipfile

from click.testing import CliRunner
from PIL import Image

from bot.cli import main


def test_package_has_manifest_with_the_bot_id_and_both_icons(tmp_path):
    out = tmp_path / "app.zip"
    result = CliRunner().invoke(main, ["teams-package", "--app-id", "11111111-2222-3333-4444-555555555555",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color = Image.open(io.BytesIO(package.read("color.png")))
        outline = Image.open(io.BytesIO(package.read("outline.png")))
    assert manifest["id"] == manifest["bots"][0]["botId"] == "11111111-2222-3333-4444-555555555555"
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert (color.size, outline.size) == ((192, 192), (32, 32))
    assert outline.mode == "RGBA" and outline.getpixel((0, 0))[3] == 0  # transparent background


def test_package_without_an_app_id_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["teams-package"])
    assert result.exit_code == 2 and "MICROSOFT_APP_ID" in result.output
    assert not (tmp_path / "vraagbot-teams.zip").exists()
