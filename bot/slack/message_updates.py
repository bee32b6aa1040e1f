"""After a one-shot button took effect, the Slack message that carried it is updated in place: the choice
shown, the pressed group of buttons gone (handlers.pressed says which). Runs in the inbox worker after the
press's transaction committed, so the update can only show what is recorded, and never holds up or undoes it.

Which call:
- A message the bot posted (a question, an outcome prompt): ``chat.update`` on ``container.channel_id`` and
  ``container.message_ts``, with the blocks Slack sent along in ``message``. It works at any time, where a
  ``response_url`` lapses 30 minutes after the press, and an inbox backlog after an outage may last longer.
- An ephemeral message (what ``/vraag`` and a press answer): ``chat.update`` cannot change those and Slack
  sends no ``message`` for them, so its ``response_url`` replaces it (``replace_original``) with the choice.
- The App Home (``container.type`` "view") is published anew after every press instead.

Both are idempotent: the new message follows from the pressed message and the press alone, so updating
twice (a worker that ran the press again after its lease ran out) shows the same thing. A crash between the
commit and the update leaves the buttons in place; pressing one again is answered as before ("already
marked"). A failed update is one log line; the recorded choice stays.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import escape
from handlers.pressed import Pressed

log = logging.getLogger(__name__)

UPDATE_SECONDS = 10.0  # an update is a courtesy: it must not hold an inbox worker for long


def updated_blocks(blocks: list[dict[str, Any]], pressed: Pressed) -> list[dict[str, Any]]:
    """The message's blocks without the pressed group's buttons (an actions block left empty goes too),
    with the choice as a context line at the end."""
    kept: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements") or [] if e.get("action_id") not in pressed.gone]
            if not elements:
                continue
            block = {**block, "elements": elements}
        kept.append(block)
    kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(pressed.line)}]})
    return kept


async def update_pressed_message(client: AsyncWebClient, body: dict[str, Any], pressed: Pressed) -> None:
    """Never raises: the press is recorded already, whatever happens here."""
    container = body.get("container") or {}
    try:
        async with asyncio.timeout(UPDATE_SECONDS):
            await _update(client, body, container, pressed)
    except (SlackApiError, aiohttp.ClientError, TimeoutError, ValueError, TypeError) as error:
        reason = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
        log.warning("slack: the pressed message was not updated (%s); the choice is recorded", reason)


async def _update(client: AsyncWebClient, body: dict[str, Any], container: dict[str, Any], pressed: Pressed) -> None:
    if container.get("type") == "view":
        return  # the App Home: drawn anew after the press
    message = body.get("message")
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not container.get("is_ephemeral") and isinstance(message, dict) and channel and ts:
        blocks = updated_blocks(message.get("blocks") or [], pressed)
        await client.chat_update(channel=channel, ts=ts, text=message.get("text") or pressed.line, blocks=blocks)
        return
    if body.get("response_url"):  # an ephemeral message: only its response_url can replace it
        blocks = updated_blocks([], pressed)
        answer = await AsyncRespond(response_url=body["response_url"])(text=escape(pressed.line), blocks=blocks,
                                                                       replace_original=True)
        if answer.status_code != 200:  # the webhook client answers errors instead of raising them
            log.warning("slack: the pressed message was not replaced (HTTP %s); the choice is recorded",
                        answer.status_code)
        return
    log.warning("slack: a pressed message names no channel and no response_url; not updated")
