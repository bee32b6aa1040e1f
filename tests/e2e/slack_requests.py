"""Build signed inbound Slack requests (slash commands, interactivity payloads, events) as Slack sends them.

Signing follows Slack's documented recipe, done here with hmac/hashlib, independent of slack_sdk's SignatureVerifier:
`X-Slack-Signature: v0=hex(HMAC_SHA256(secret, "v0:<timestamp>:<raw body>"))` plus `X-Slack-Request-Timestamp`.
Shapes follow Slack's documented payloads.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import aiohttp

APP_ID = "A0001"
BOT_USER_ID = "UBOT"
DEFAULT_TRIGGER_ID = "13345224609.738474920.8088930838d88f008e0"
_TRIGGERS = itertools.count(1)
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request it sends."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def new_trigger_id() -> str:
    """Slack gives every command and press a trigger id of its own (the inbox keys on it)."""
    return f"{int(time.time())}.{next(_TRIGGERS)}.{uuid.uuid4().hex[:20]}"


def _action_ts() -> str:
    return f"{time.time():.6f}"


def slash_command(text: str, *, user_id: str, user_name: str, team_id: str = "T0001", channel_id: str = "C0001",
                  response_url: str, trigger_id: str | None = None, command: str = "/vraag",
                  channel_name: str = "general", enterprise_id: str | None = "E0001",
                  enterprise_name: str = "Test Org") -> str:
    """Form body with the keys (and order) of slash_command.bolt_test.form.txt, plus api_app_id.

    `enterprise_id=None` leaves out the two enterprise keys, as for a workspace outside an Enterprise Grid org.
    """
    fields = {"token": "verification_token", "team_id": team_id, "team_domain": "test", "channel_id": channel_id,
              "channel_name": channel_name, "user_id": user_id, "user_name": user_name, "command": command,
              "text": text, "enterprise_id": enterprise_id, "enterprise_name": enterprise_name,
              "response_url": response_url, "trigger_id": trigger_id or new_trigger_id(), "api_app_id": APP_ID}
    if enterprise_id is None:
        del fields["enterprise_id"], fields["enterprise_name"]
    return urlencode(fields)


def _payload_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _user(user_id: str, user_name: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def block_action(action_id: str, value: str, *, user_id: str, user_name: str, team_id: str = "T0001",
                 channel_id: str = "C0001", message_ts: str = "1700000000.000100", response_url: str,
                 trigger_id: str | None = None, block_id: str = "actions",
                 message: dict[str, Any] | None = None) -> str:
    """Form body `payload=<json>` for a button click on a bot message (block_actions.bolt_test_with_message)."""
    action = {"action_id": action_id, "block_id": block_id, "text": {"type": "plain_text", "text": value},
              "value": value, "type": "button", "action_ts": _action_ts()}
    if message is None:
        button = {k: action[k] for k in ("type", "action_id", "text", "value")}
        message = {"type": "message", "subtype": "bot_message", "text": "", "user": BOT_USER_ID, "bot_id": "BBOT",
                   "app_id": APP_ID, "ts": message_ts, "team": team_id,
                   "blocks": [{"type": "actions", "block_id": block_id, "elements": [button]}]}
    payload = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": "verification_token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False},
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": "test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": "general"},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    return _payload_form(payload)


def view_submission(callback_id: str, values: dict[str, dict[str, dict[str, Any]]], *, user_id: str,
                    user_name: str, team_id: str = "T0001", private_metadata: str = "", view_id: str | None = None,
                    trigger_id: str | None = None) -> str:
    """Form body `payload=<json>` for a modal submit (view_submission.bolt_test.payload.json).

    `values` is `view.state.values`: block_id -> action_id -> {"type": ..., "value" | "selected_user" | ...}.
    The view's input blocks are derived from it.
    """
    view_id = view_id or f"V{uuid.uuid4().hex[:10].upper()}"  # each modal Slack opens has its own id
    blocks = [{"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": block_id},
               "optional": False, "element": {"type": element["type"], "action_id": action_id}}
              for block_id, actions in values.items() for action_id, element in actions.items()]
    view = {
        "id": view_id, "team_id": team_id, "type": "modal", "blocks": blocks, "private_metadata": private_metadata,
        "callback_id": callback_id, "state": {"values": values}, "hash": "1700000000.AbCdEf12",
        "title": {"type": "plain_text", "text": "Vraagbot"}, "clear_on_close": False, "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel"}, "submit": {"type": "plain_text", "text": "Submit"},
        "previous_view_id": None, "root_view_id": view_id, "app_id": APP_ID, "external_id": "",
        "app_installed_team_id": team_id, "bot_id": "BBOT",
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "test"},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": APP_ID,
        "token": "verification_token",
        "trigger_id": trigger_id or new_trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_form(payload)


def event_callback(event: dict[str, Any], *, team_id: str = "T0001", event_id: str = "Ev0001",
                   event_time: int | None = None) -> str:
    """JSON body of an Events API delivery wrapping `event` (event_app_mention.bolt_test.json)."""
    envelope = {
        "token": "verification_token",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()) if event_time is None else event_time,
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }
    return json.dumps(envelope)


def thread_reply_event(text: str, *, user: str, channel: str, thread_ts: str, ts: str, channel_type: str = "mpim",
                       team_id: str = "T0001", parent_user_id: str = BOT_USER_ID) -> dict[str, Any]:
    """A `message` event replying in a thread (event_message_thread_reply_im.bolt_test.json); no `subtype`."""
    return {"user": user, "type": "message", "ts": ts, "text": text, "team": team_id, "user_team": team_id,
            "source_team": team_id, "thread_ts": thread_ts, "parent_user_id": parent_user_id, "channel": channel,
            "event_ts": ts, "channel_type": channel_type}


def app_home_opened_event(user: str, *, channel: str = "D0001") -> dict[str, Any]:
    """An `app_home_opened` event for the Home tab, as on first open (no published `view` yet)."""
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": "home", "event_ts": _action_ts()}


async def post_signed(session: aiohttp.ClientSession, url: str, body: str, *, secret: str, content_type: str,
                      timestamp: int | None = None, extra_headers: dict[str, str] | None = None
                      ) -> tuple[int, str, dict[str, str]]:
    """POST `body` with a valid signature; returns (status, response text, response headers)."""
    headers = {"Content-Type": content_type, **sign(body, secret, timestamp), **(extra_headers or {})}
    async with session.post(url, data=body.encode(), headers=headers) as response:
        return response.status, await response.text(), dict(response.headers)
