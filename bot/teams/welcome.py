"""The welcome in a person's personal chat when they install the app, once.

Teams tells a bot about a personal install twice: a ``conversationUpdate`` whose membersAdded holds the bot,
and an ``installationUpdate`` with action ``add``; either may come again when the first delivery's answer
was slow. All of them share one key, the personal conversation (which names the person and the bot), and
the welcome goes out only for the first that records it in processed_events (bot.teams.turns). Event ids
are forgotten after a few days (handlers.retention), so someone who removes the app and adds it again later
is welcomed again."""

from __future__ import annotations

import hashlib

from botbuilder.schema import Activity

from handlers.messages import Result

KIND = "welcome"


def is_personal(activity: Activity) -> bool:
    conversation = activity.conversation
    return bool(conversation and conversation.id) and conversation.conversation_type in (None, "personal")


def welcome_key(activity: Activity) -> str:
    """One key per personal chat for every install event of it (a processed_events id: hashed, fixed length)."""
    return hashlib.sha256(f"{KIND}\n{activity.conversation.id}".encode()).hexdigest()


async def nothing_else(_deps: object) -> Result:
    """The welcome's use case: recording it is all (the person and their chat are stored before)."""
    return Result(replies=[])
