"""Where a Teams answer may be shown (privacy rules in docs/architecture.md: personal data only in the
person's own private conversation). The one rule: in a channel or group chat, only answers that belong to
that conversation are posted there: help, a question the asker typed there themselves, and the channel's
weekly-nudge settings. Every other answer (overview, export, forget-me, role, recognition, and every card
button, since those carry someone's own data or choices) goes to the person's 1:1 chat with the bot, and
the conversation gets one short line saying so. New commands are therefore private unless added here."""

from __future__ import annotations

from botbuilder.schema import Activity

from handlers.commands import Ask, Help, parse
from handlers.errors import HandlerError
from handlers.messages import Result
from handlers.team_commands import SetTeamNudge, ShowTeamNudge, SwitchTeamNudge

ANSWERED_WHERE_ASKED = (Help, Ask, ShowTeamNudge, SetTeamNudge, SwitchTeamNudge)


def in_shared_conversation(activity: Activity) -> bool:
    """A channel or group chat: anything but the person's 1:1 chat with the bot."""
    conversation = activity.conversation
    return conversation is not None and conversation.conversation_type not in (None, "personal")


def answer_privately(activity: Activity, text: str | None) -> bool:
    """Whether the answer to ``text`` (None: a card button or form) must go to the 1:1 chat."""
    if not in_shared_conversation(activity):
        return False
    if text is None:
        return True
    try:
        command = parse(text)
    except HandlerError:
        return False  # the refusal says what was typed wrong, nothing about anyone
    return not isinstance(command, ANSWERED_WHERE_ASKED)


def result_is_private(activity: Activity, result: Result) -> bool:
    """An answer with buttons is the person's own to act on, whatever command brought it: a held question's
    confirmation (send now / withdraw) also says that the expert is in focus, which is theirs."""
    return in_shared_conversation(activity) and any(reply.buttons for reply in result.replies)
