"""Reading Slack payloads: who sent it, from where, and the key that makes a retried or double-sent
request recognisable (issue 12: the inbox stores each request once under this key)."""

from __future__ import annotations

import uuid
from typing import Any

from handlers.asking import AskRequest
from handlers.models import QuestionKind


def team_of(body: dict[str, Any]) -> str:
    # Events carry team_id at the top; interactivity payloads carry a team object.
    return body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""


def user_of(body: dict[str, Any]) -> str:
    """The person acting: a command's user_id, an interaction's user, an event's user."""
    return body.get("user_id") or (body.get("user") or {}).get("id") or (body.get("event") or {}).get("user") or ""


def person_key(body: dict[str, Any]) -> str:
    """Whose request this is: the inbox runs one person's requests in the order they came."""
    return f"slack:{team_of(body)}:{user_of(body)}"


def dedup_key(kind: str, body: dict[str, Any]) -> str:
    """Slack's own handle on one delivery: an event's id (kept across its retries), a modal's view id
    (one view is submitted once, so a double click on Submit counts once), otherwise the trigger id,
    which is new for every command and press. Without any of them (a payload Slack would not send),
    a random key: stored and worked, only not recognisable when repeated."""
    if kind == "event_callback" and isinstance(body.get("event_id"), str):
        return f"slack:event:{body['event_id']}"
    view = body.get("view") or {}
    if kind == "view_submission" and isinstance(view.get("id"), str):
        return f"slack:view:{view['id']}"
    if isinstance(body.get("trigger_id"), str) and body["trigger_id"]:
        return f"slack:{kind}:{body['trigger_id']}"
    return f"slack:{kind}:random:{uuid.uuid4().hex}"


def kind_of(body: dict[str, Any]) -> str:
    """"command" for a slash command (its form has no type), else Slack's payload type."""
    if "command" in body and "type" not in body:
        return "command"
    return str(body.get("type") or "unknown")


def is_thread_reply(event: dict[str, Any]) -> bool:
    """A person's reply inside a thread: the only message events the bot acts on. Edits, joins and bot
    posts carry a subtype or bot_id; a channel message outside a thread is none of our business."""
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if not thread_ts or thread_ts == ts or event.get("bot_id") or not event.get("user"):
        return False
    return event.get("subtype") in (None, "thread_broadcast")


def team_channel(command: dict[str, Any]) -> str | None:
    """The channel a slash command was typed in, unless it is a direct or group message: those are
    not team channels (their ids start with D; group DMs are named mpdm-...)."""
    channel, name = command.get("channel_id") or "", command.get("channel_name") or ""
    if not channel or channel.startswith("D") or name == "directmessage" or name.startswith("mpdm-"):
        return None
    return channel


def ask_request_from(view: dict[str, Any]) -> AskRequest:
    values = view["state"]["values"]

    def field(block: str) -> dict[str, Any]:
        return values.get(block, {}).get("value", {}) or {}

    kind = (field("kind").get("selected_option") or {}).get("value")
    urgent = any(o.get("value") == "urgent" for o in field("urgent").get("selected_options") or [])
    return AskRequest(
        text=(field("question").get("value") or "").strip(),
        expert_external_id=field("expert").get("selected_user"),
        topic=(field("topic").get("value") or "").strip() or None,
        first_assessment=field("assessment").get("value"),
        kind=QuestionKind(kind) if kind in ("doubt", "complex") else None,
        urgent=urgent,
        share_kind=any(o.get("value") == "share" for o in field("share_kind").get("selected_options") or []),
    )


def topics_field(view: dict[str, Any]) -> str:
    return ((view.get("state") or {}).get("values", {}).get("topics", {}).get("value") or {}).get("value") or ""
