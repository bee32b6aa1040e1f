"""`vraagbot teams-package`: the Teams app package to upload (manifest.json, en.json, two icons, zipped).

The manifest's own strings are Dutch (``localizationInfo.defaultLanguageTag``); en.json holds the English
name, descriptions and command texts, which Teams shows to people whose Teams is in English. Both come from
the text catalog (``app.*``), so each file has its short and full description in one language.

Who publishes the app, and where its privacy statement and terms are, has to be given: Teams shows these
links to everyone who installs it, and a privacy statement is a promise to them and to a works council. So a
package is refused, not built with a warning, when one is missing, is not https, or is a placeholder such as
example.org: a warning scrolls by in a build log, and the placeholder would end up in front of users.

The package asks for no Microsoft Graph permission: no ``webApplicationInfo``, no resource-specific consent.
Focus time needs the application permission Presence.Read.All on the bot's app registration, which a tenant
admin grants in Microsoft Entra (docs/deployment.md); installing the app grants nothing.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image, ImageDraw

from handlers.ports import Catalog

MANIFEST_VERSION = "1.16"
MANIFEST_SCHEMA = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = (f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}"
                       "/MicrosoftTeams.Localization.schema.json")
DEFAULT_LANGUAGE = "nl"  # the manifest's own strings
ADDITIONAL_LANGUAGES = ("en",)  # each in <language>.json next to the manifest
COLOR = (44, 93, 99)  # the same teal as the Slack manifest
SHORT_NAME = "vraagbot"
# Teams' limits on the manifest's strings (the schema's maxLength).
LIMITS = {"name.full": 100, "description.short": 80, "description.full": 4000, "command.title": 32,
          "command.description": 128}
# The bot's commands as people type them in each language (the grammar, handlers/commands.py, takes both),
# with the catalog key of what they do.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("vraag", "ask", "app.command_ask"),
    ("help", "help", "app.command_help"),
    ("rol", "role", "app.command_role"),
    ("mijn gegevens", "my data", "app.command_my_data"),
    ("vergeet mij", "forget me", "app.command_forget_me"),
)
PLACEHOLDER_HOSTS = ("example.org", "example.com", "example.net", "localhost", "127.0.0.1")


class PackageError(ValueError):
    """What is missing or wrong for a package that may be shown to people; one line per problem."""


@dataclass(frozen=True)
class Publisher:
    """Who publishes the app, as Teams shows it on the app's page."""

    name: str
    website_url: str
    privacy_url: str
    terms_url: str

    @classmethod
    def checked(cls, *, name: str | None, website_url: str | None, privacy_url: str | None,
                terms_url: str | None) -> Publisher:
        """Raises PackageError naming every value that is missing, not https, or a placeholder."""
        problems = [] if (name or "").strip() else ["the developer name is missing (--developer-name, "
                                                    "VRAAGBOT_TEAMS_DEVELOPER_NAME)"]
        for what, value, option, variable in (
                ("website", website_url, "--website-url", "VRAAGBOT_TEAMS_WEBSITE_URL"),
                ("privacy statement", privacy_url, "--privacy-url", "VRAAGBOT_TEAMS_PRIVACY_URL"),
                ("terms of use", terms_url, "--terms-url", "VRAAGBOT_TEAMS_TERMS_URL")):
            if problem := _url_problem(value):
                problems.append(f"the {what} URL {problem} ({option}, {variable})")
        if problems:
            raise PackageError("\n".join(problems))
        return cls(str(name).strip(), str(website_url), str(privacy_url), str(terms_url))


def _url_problem(value: str | None) -> str | None:
    if not value:
        return "is missing"
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        return f"{value!r} is not an https address"
    host = parts.hostname.lower()
    if any(host == p or host.endswith("." + p) for p in PLACEHOLDER_HOSTS):
        return f"{value!r} is a placeholder, not a page of yours"
    return None


def _fit(text: str, key: str) -> str:
    if len(text) > LIMITS[key]:
        raise PackageError(f"the {key} text is {len(text)} characters; Teams allows {LIMITS[key]}")
    return text


def _commands(catalog: Catalog, lang: str) -> list[dict[str, str]]:
    column = 0 if lang == DEFAULT_LANGUAGE else 1
    return [{"title": _fit(words[column], "command.title"),
             "description": _fit(catalog.text(lang, key), "command.description")}
            for *words, key in COMMANDS]


def manifest(app_id: str, publisher: Publisher, catalog: Catalog, *, version: str = "1.0.0") -> dict[str, Any]:
    lang = DEFAULT_LANGUAGE
    scopes = ["personal", "team", "groupChat"]
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {"name": publisher.name, "websiteUrl": publisher.website_url,
                      "privacyUrl": publisher.privacy_url, "termsOfUseUrl": publisher.terms_url},
        "name": {"short": SHORT_NAME, "full": _fit(catalog.text(lang, "app.name_full"), "name.full")},
        "description": {"short": _fit(catalog.text(lang, "app.description_short"), "description.short"),
                        "full": _fit(catalog.text(lang, "app.description_full"), "description.full")},
        "localizationInfo": {"defaultLanguageTag": lang,
                             "additionalLanguages": [{"languageTag": other, "file": f"{other}.json"}
                                                     for other in ADDITIONAL_LANGUAGES]},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#2C5D63",
        "bots": [{
            "botId": app_id,
            "scopes": scopes,
            "supportsFiles": True,  # exports as files: the file consent flow (bot/teams/files.py) needs it
            "isNotificationOnly": False,
            "commandLists": [{"scopes": scopes, "commands": _commands(catalog, lang)}],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def localization(catalog: Catalog, lang: str) -> dict[str, Any]:
    """One additional language's file: the same strings as the manifest's, in ``lang``."""
    strings: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA,
        "name.short": SHORT_NAME,
        "name.full": _fit(catalog.text(lang, "app.name_full"), "name.full"),
        "description.short": _fit(catalog.text(lang, "app.description_short"), "description.short"),
        "description.full": _fit(catalog.text(lang, "app.description_full"), "description.full"),
    }
    for number, command in enumerate(_commands(catalog, lang)):
        strings[f"bots[0].commandLists[0].commands[{number}].title"] = command["title"]
        strings[f"bots[0].commandLists[0].commands[{number}].description"] = command["description"]
    return strings


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


def build_package(app_id: str, publisher: Publisher, catalog: Catalog, out: Path) -> Path:
    files = {"manifest.json": manifest(app_id, publisher, catalog)}  # built first: a PackageError writes nothing
    files |= {f"{lang}.json": localization(catalog, lang) for lang in ADDITIONAL_LANGUAGES}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name, content in files.items():
            package.writestr(name, json.dumps(content, indent=2, ensure_ascii=False))
        package.writestr("color.png", _icon(192, outline=False))
        package.writestr("outline.png", _icon(32, outline=True))
    return out
