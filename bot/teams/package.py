"""`vraagbot teams-package`: the Teams app package (manifest.json and two icons, zipped) to upload."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

MANIFEST_SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
COLOR = (44, 93, 99)  # the same teal as the Slack manifest


def manifest(app_id: str, *, version: str = "1.0.0", website: str = "https://vraagbot.example.org") -> dict[str, Any]:
    commands = [
        {"title": "vraag", "description": "Vraag een expert / ask an expert (opens the form)"},
        {"title": "help", "description": "Alle commando's / every command"},
        {"title": "rol", "description": "Onderwerpen van je rol / topics of your role"},
        {"title": "mijn gegevens", "description": "Zie en exporteer je gegevens / see and export your data"},
        {"title": "vergeet mij", "description": "Verwijder je gegevens / delete your data"},
    ]
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": "1.16",
        "version": version,
        "id": app_id,
        "developer": {"name": "vraagbot", "websiteUrl": website, "privacyUrl": f"{website}/privacy",
                      "termsOfUseUrl": f"{website}/terms"},
        "name": {"short": "vraagbot", "full": "vraagbot: vraag bij twijfel"},
        "description": {
            "short": "Vraag bij twijfel: vragen stellen hoort bij het werk.",
            "full": "vraagbot routes questions to experts by name or topic, tags them werk or gunst, and sends short "
                    "private reframing messages after a curt reply or a confirmation-only answer. Everyone can see, "
                    "export and delete what it stores about them; team figures are only shown in aggregate.",
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#2C5D63",
        "bots": [{
            "botId": app_id,
            "scopes": ["personal", "team", "groupChat"],
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [{"scopes": ["personal", "team", "groupChat"], "commands": commands}],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def _icon(size: int, *, outline: bool) -> bytes:
    """Color icon: a white question mark on teal. Outline icon: white on transparent (Teams' rules)."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0) if outline else (*COLOR, 255))
    draw = ImageDraw.Draw(image)
    margin = size // 8
    draw.ellipse([margin, margin, size - margin, size - margin], outline=(255, 255, 255, 255),
                 width=max(1, size // 16))
    draw.text((size // 2, size // 2), "?", fill=(255, 255, 255, 255), anchor="mm",
              font_size=size // 2 if size > 32 else 16)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def build_package(app_id: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest(app_id), indent=2, ensure_ascii=False))
        package.writestr("color.png", _icon(192, outline=False))
        package.writestr("outline.png", _icon(32, outline=True))
    return out
