"""Builders for inbound Teams activities, shaped like the real ones Teams sends.

Every builder returns a plain JSON-ready dict; `post_activity` POSTs it to the bot the way the Bot Connector does,
minus the Authorization header (the bot runs with an empty app id).

Ids: users are "29:...", the bot is "28:<app id>", personal conversations "a:...", channels "19:...@thread.tacv2"
(with ";messageid=<root>" for a thread). Activity ids are increasing millisecond-style numbers, like Teams'.
Unless given, a user's aadObjectId and personal conversation id are derived from the user id, so the same user
always gets the same ones.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import uuid
from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

CHANNEL = "msteams"
BOT_ID = "28:bot-app-id"
BOT_NAME = "vraagbot"
TENANT_ID = "tenant-1"
TEAM_ID = "19:team-1@thread.tacv2"
CHANNEL_ID = "19:channel-1@thread.tacv2"
TIMEZONE = "Europe/Amsterdam"

_ids = itertools.count(int(time.time() * 1000))


def next_activity_id() -> str:
    return str(next(_ids))


def aad_id_for(user_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"aad:{user_id}"))


def personal_conversation_id(user_id: str, bot_id: str = BOT_ID) -> str:
    return "a:1" + hashlib.sha256(f"{user_id}|{bot_id}".encode()).hexdigest()[:40]


def channel_conversation_id(channel_id: str, root_id: str) -> str:
    """The conversation id of a channel thread: the channel id plus the id of the thread's first message."""
    return f"{channel_id};messageid={root_id}"


def _timestamps(locale_tz: str = TIMEZONE) -> dict[str, str]:
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo(locale_tz))
    return {"timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": local.isoformat(timespec="milliseconds"), "localTimezone": locale_tz}


def _client_info(locale: str) -> dict[str, Any]:
    return {"type": "clientInfo", "locale": locale, "country": locale.rsplit("-", 1)[-1], "platform": "Web",
            "timezone": TIMEZONE}


def _user(user_id: str, user_name: str | None, aad_id: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id}
    if user_name is not None:
        user["name"] = user_name
    user["aadObjectId"] = aad_id or aad_id_for(user_id)
    return user


def _activity(kind: str, *, activity_id: str | None, service_url: str, user: dict[str, Any],
              conversation: dict[str, Any], bot_id: str, bot_name: str, channel_data: dict[str, Any],
              locale: str | None = None, **extra: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": kind, "id": activity_id or next_activity_id(), "channelId": CHANNEL, "serviceUrl": service_url,
        "from": user, "conversation": conversation, "recipient": {"id": bot_id, "name": bot_name},
        "channelData": channel_data, **_timestamps(),
    }
    if locale is not None:
        activity["locale"] = locale
    activity.update(extra)
    return activity


def _personal(conversation_id: str, tenant_id: str) -> dict[str, Any]:
    return {"conversationType": "personal", "tenantId": tenant_id, "id": conversation_id}


def _text_fields(text: str, html: str | None = None) -> dict[str, Any]:
    """`text` plus the text/html attachment Teams adds that mirrors it."""
    return {"textFormat": "plain", "text": text,
            "attachments": [{"contentType": "text/html", "content": f"<p>{html or escape(text)}</p>"}]}


def personal_message(text: str, *, user_id: str, user_name: str, aad_id: str | None = None,
                     conversation_id: str | None = None, service_url: str, tenant_id: str = TENANT_ID,
                     bot_id: str = BOT_ID, bot_name: str = BOT_NAME, locale: str = "nl-NL",
                     value: dict[str, Any] | None = None, reply_to_id: str | None = None,
                     activity_id: str | None = None) -> dict[str, Any]:
    """A message in the user's 1:1 chat with the bot (message_personal.docs.json).

    With `value` it is what an Action.Submit on a card in a bot message sends: a message with the card's data as
    `value`, `replyToId` = the id of the card message, and no text unless `text` is given."""
    fields: dict[str, Any] = _text_fields(text) if text else {}
    if value is not None:
        fields["value"] = value
    if reply_to_id is not None:
        fields["replyToId"] = reply_to_id
    return _activity(
        "message", activity_id=activity_id, service_url=service_url, user=_user(user_id, user_name, aad_id),
        conversation=_personal(conversation_id or personal_conversation_id(user_id, bot_id), tenant_id),
        bot_id=bot_id, bot_name=bot_name, channel_data={"tenant": {"id": tenant_id}}, locale=locale,
        entities=[_client_info(locale)], **fields)


def channel_mention(text: str, *, user_id: str, user_name: str, aad_id: str | None = None, team_id: str = TEAM_ID,
                    channel_id: str = CHANNEL_ID, root_id: str | None = None, service_url: str,
                    tenant_id: str = TENANT_ID, bot_id: str = BOT_ID, bot_name: str = BOT_NAME,
                    locale: str = "nl-NL", activity_id: str | None = None) -> dict[str, Any]:
    """A channel message that @mentions the bot (message_channel_mention.teams_net_test.json).

    The text is "<at>{bot_name}</at> {text}" and has the mention entity. `root_id` is the first message of the
    thread it replies in; without it this is a new post, whose thread root is the message itself."""
    activity_id = activity_id or next_activity_id()
    at = f"<at>{bot_name}</at>"
    mention_html = f'<span itemtype="http://schema.skype.com/Mention" itemscope="" itemid="0">{escape(bot_name)}</span>'
    conversation = {"isGroup": True, "conversationType": "channel", "tenantId": tenant_id,
                    "id": channel_conversation_id(channel_id, root_id or activity_id)}
    channel_data = {"teamsChannelId": channel_id, "teamsTeamId": team_id, "channel": {"id": channel_id},
                    "team": {"id": team_id}, "tenant": {"id": tenant_id}}
    entities = [{"type": "mention", "mentioned": {"id": bot_id, "name": bot_name}, "text": at},
                _client_info(locale)]
    return _activity(
        "message", activity_id=activity_id, service_url=service_url, user=_user(user_id, user_name, aad_id),
        conversation=conversation, bot_id=bot_id, bot_name=bot_name, channel_data=channel_data, locale=locale,
        entities=entities, **_text_fields(f"{at} {text}", f"{mention_html}&nbsp;{escape(text)}"))


def invoke_action_execute(verb: str, data: dict[str, Any], *, user_id: str, user_name: str = "User",
                          aad_id: str | None = None, conversation_id: str | None = None, service_url: str,
                          tenant_id: str = TENANT_ID, bot_id: str = BOT_ID, bot_name: str = BOT_NAME,
                          locale: str = "nl-NL", reply_to_id: str | None = None, title: str = "",
                          activity_id: str | None = None) -> dict[str, Any]:
    """An Action.Execute (Universal Actions) click on a card in the personal chat: an `adaptiveCard/action` invoke
    (invoke_adaptiveCard_action_execute_personal.teams_net_test.json). The bot answers it in the HTTP response."""
    reply_to_id = reply_to_id or next_activity_id()
    channel_data = {"tenant": {"id": tenant_id}, "source": {"name": "message"},
                    "legacy": {"replyToId": "1:" + hashlib.sha256(reply_to_id.encode()).hexdigest()[:40]}}
    value = {"action": {"type": "Action.Execute", "title": title, "verb": verb, "data": data}, "trigger": "manual"}
    return _activity(
        "invoke", activity_id=activity_id or "f:" + str(uuid.uuid4()), service_url=service_url,
        user=_user(user_id, user_name, aad_id),
        conversation=_personal(conversation_id or personal_conversation_id(user_id, bot_id), tenant_id),
        bot_id=bot_id, bot_name=bot_name, channel_data=channel_data, locale=locale,
        entities=[_client_info(locale)], name="adaptiveCard/action", value=value, replyToId=reply_to_id)


def bot_added_to_team(*, team_id: str = TEAM_ID, team_name: str = "Team", channel_id: str = CHANNEL_ID,
                      service_url: str, bot_id: str = BOT_ID, bot_name: str = BOT_NAME, tenant_id: str = TENANT_ID,
                      user_id: str = "29:installer", aad_group_id: str | None = None,
                      channel_name: str | None = None) -> dict[str, Any]:
    """The conversationUpdate a bot gets when it is installed in a team (conversationUpdate_bot_added_to_team.docs
    .json): `membersAdded` is the bot itself, the conversation is the selected channel."""
    conversation: dict[str, Any] = {"isGroup": True, "conversationType": "channel", "tenantId": tenant_id,
                                    "id": channel_id}
    if channel_name is not None:
        conversation["name"] = channel_name
    channel_data = {"settings": {"selectedChannel": {"id": channel_id}},
                    "team": {"aadGroupId": aad_group_id or str(uuid.uuid5(uuid.NAMESPACE_URL, team_id)),
                             "name": team_name, "id": team_id},
                    "eventType": "teamMemberAdded", "tenant": {"id": tenant_id}}
    return _activity(
        "conversationUpdate", activity_id="f:" + str(uuid.uuid4()), service_url=service_url,
        user=_user(user_id, None, None), conversation=conversation, bot_id=bot_id, bot_name=bot_name,
        channel_data=channel_data, membersAdded=[{"id": bot_id}])


def bot_added_personal(user_id: str, *, service_url: str, aad_id: str | None = None,
                       conversation_id: str | None = None, tenant_id: str = TENANT_ID, bot_id: str = BOT_ID,
                       bot_name: str = BOT_NAME, locale: str | None = None) -> dict[str, Any]:
    """The conversationUpdate a bot gets when a user installs it for personal use
    (conversationUpdate_bot_added_personal.docs.json): `membersAdded` is the bot and the user."""
    user = _user(user_id, None, aad_id)
    return _activity(
        "conversationUpdate", activity_id="f:" + uuid.uuid4().hex[:8], service_url=service_url, user=user,
        conversation=_personal(conversation_id or personal_conversation_id(user_id, bot_id), tenant_id),
        bot_id=bot_id, bot_name=bot_name, channel_data={"tenant": {"id": tenant_id}}, locale=locale,
        membersAdded=[{"id": bot_id}, dict(user)])


def installation_update(user_id: str, *, service_url: str, action: str = "add", aad_id: str | None = None,
                        tenant_id: str = TENANT_ID, bot_id: str = BOT_ID, bot_name: str = BOT_NAME,
                        locale: str | None = None) -> dict[str, Any]:
    """The installationUpdate Teams sends next to the conversationUpdate when a user adds (`add`) or removes
    (`remove`) the app for personal use: no name on `from`."""
    return _activity(
        "installationUpdate", activity_id="f:" + uuid.uuid4().hex[:8], service_url=service_url,
        user=_user(user_id, None, aad_id), conversation=_personal(personal_conversation_id(user_id, bot_id), tenant_id),
        bot_id=bot_id, bot_name=bot_name, channel_data={"tenant": {"id": tenant_id}, "source": {"name": "message"}},
        locale=locale, action=action)


def file_consent_invoke(action: str, *, user_id: str, service_url: str, context: Any, upload_url: str = "",
                        name: str = "vraagbot-gegevens.json", reply_to_id: str | None = None,
                        tenant_id: str = TENANT_ID, bot_id: str = BOT_ID, bot_name: str = BOT_NAME,
                        locale: str = "nl-NL", activity_id: str | None = None) -> dict[str, Any]:
    """The `fileConsent/invoke` Teams sends when the user allows (`accept`) or declines (`decline`) a file consent
    card in the personal chat: `value.context` is the card's accept/decline context; on accept `uploadInfo` names
    the upload URL (a OneDrive upload session) and the file's name, content URL and unique id."""
    value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": context}
    if action == "accept":
        value["uploadInfo"] = {"name": name, "uploadUrl": upload_url, "fileType": name.rsplit(".", 1)[-1],
                               "contentUrl": f"https://contoso-my.sharepoint.com/personal/u/Documents/Apps/{name}",
                               "uniqueId": str(uuid.uuid4()).upper()}
    return _activity(
        "invoke", activity_id=activity_id or "f:" + str(uuid.uuid4()), service_url=service_url,
        user=_user(user_id, None, None), conversation=_personal(personal_conversation_id(user_id, bot_id), tenant_id),
        bot_id=bot_id, bot_name=bot_name, channel_data={"tenant": {"id": tenant_id}}, locale=locale,
        name="fileConsent/invoke", value=value, replyToId=reply_to_id or next_activity_id())


async def post_activity(session: aiohttp.ClientSession, url: str, activity: dict[str, Any], *,
                        headers: dict[str, str] | None = None) -> tuple[int, str]:
    """POST `activity` as JSON to the bot's messaging endpoint; no Authorization header unless given."""
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    async with session.post(url, data=json.dumps(activity), headers=all_headers) as response:
        return response.status, await response.text()
