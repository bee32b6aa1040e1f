"""The Slack manifests ask for exactly the scopes and events the code uses: manifest.json for HTTP (one
workspace, or OAuth distribution), manifest.socket-mode.json for Socket Mode; the same app otherwise."""

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


# app_uninstalled and tokens_revoked: bolt's own listeners (OAuth distribution deletes the tokens then).
REVOCATION_EVENTS = {"app_uninstalled", "tokens_revoked"}


def manifest(name: str = "manifest.json") -> dict:
    return json.loads((ROOT / name).read_text())


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
    assert "enable_token_revocation_listeners()" in source
    http = manifest()
    assert set(http["oauth_config"]["scopes"]["bot"]) == needed
    assert set(http["settings"]["event_subscriptions"]["bot_events"]) == events | REVOCATION_EVENTS
    socket = manifest("manifest.socket-mode.json")  # no OAuth distribution over a socket: no revocation events
    assert set(socket["oauth_config"]["scopes"]["bot"]) == needed
    assert set(socket["settings"]["event_subscriptions"]["bot_events"]) == events


def test_an_oauth_install_asks_for_the_manifests_scopes_and_comes_back_to_the_redirect_route():
    from bot.slack.oauth import BOT_SCOPES, REDIRECT_PATH

    http = manifest()
    assert set(BOT_SCOPES) == set(http["oauth_config"]["scopes"]["bot"])
    [redirect] = http["oauth_config"]["redirect_urls"]
    assert redirect.startswith("https://") and redirect.endswith(REDIRECT_PATH)
    assert http["settings"]["socket_mode_enabled"] is False


def test_the_socket_mode_manifest_is_the_same_app_without_request_urls():
    http, socket = manifest(), manifest("manifest.socket-mode.json")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in json.dumps(socket["features"]) and "request_url" not in json.dumps(socket["settings"])
    assert "redirect_urls" not in socket["oauth_config"]
    [command], [socket_command] = http["features"]["slash_commands"], socket["features"]["slash_commands"]
    assert {k: v for k, v in command.items() if k != "url"} == socket_command
    assert socket["display_information"] == http["display_information"]
    assert socket["features"]["app_home"] == http["features"]["app_home"]
    assert socket["settings"]["interactivity"]["is_enabled"] is True


def test_slash_command_and_interactivity_point_at_the_events_endpoint():
    http = manifest()
    [command] = http["features"]["slash_commands"]
    assert command["command"] == "/vraag" and command["should_escape"] is True  # mentions arrive as <@U..|name>
    assert command["url"].endswith("/slack/events")
    assert http["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert http["features"]["app_home"]["home_tab_enabled"] is True
