"""The Slack manifest asks for exactly the scopes and events the code uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Web API method (as slack_sdk names it) -> the bot scope it needs.
SCOPE_OF = {
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "conversations_open": "im:write",  # plus mpim:write for group DMs, see below
    "users_info": "users:read",
    "dnd_info": "dnd:read",
    "files_upload_v2": "files:write",
    "views_open": None,
    "views_publish": None,
    # Reading back our own labelled posts, in team channels (public or private) and DMs, to check
    # whether a send whose outcome was lost arrived (exactly-once outbox).
    "conversations_history": ("channels:history", "groups:history", "im:history", "mpim:history"),
}
EVENT_OF = {"message": ("message.im", "message.mpim"), "app_home_opened": ("app_home_opened",)}
HISTORY_SCOPES = {"message.im": "im:history", "message.mpim": "mpim:history"}


def slack_sources() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "bot" / "slack").glob("*.py"))


def test_scopes_match_the_web_api_methods_and_events_the_code_uses():
    source = slack_sources()
    methods = set(re.findall(r"\.(\w+)\(", source)) & set(SCOPE_OF)
    assert {"chat_postMessage", "conversations_open", "dnd_info", "users_info", "files_upload_v2",
            "conversations_history"} <= methods
    events = {e for name in re.findall(r'app\.event\("(\w+)"\)', source) for e in EVENT_OF[name]}
    scopes = [SCOPE_OF[m] for m in methods if SCOPE_OF[m]]
    needed = {s for scope in scopes for s in ((scope,) if isinstance(scope, str) else scope)}
    needed |= {"commands", "mpim:write"}
    needed |= {HISTORY_SCOPES[e] for e in events if e in HISTORY_SCOPES}
    manifest = json.loads((ROOT / "manifest.json").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == events


def test_slash_command_and_interactivity_point_at_the_events_endpoint():
    manifest = json.loads((ROOT / "manifest.json").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/vraag" and command["should_escape"] is True  # mentions arrive as <@U..|name>
    assert command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
