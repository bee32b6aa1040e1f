"""The text people type after ``/vraag`` (Slack), to the bot (Teams) or in the shell.

One grammar for every platform:
    help | hulp
    @naam [#onderwerp] <vraag> [| inschatting: ...] [| twijfel | complex] [| toon-soort] [| urgent]
    #onderwerp <vraag> [| ...]
    rol | rol <onderwerpen> | rol weg <onderwerpen>
    mijn-gegevens | vergeet-mij
    team-nudge ... | erkenning ...   (see handlers.team_commands)
Topic names follow one rule (handlers.models.normalise_topic): one word, or words joined by hyphens;
``rol`` separates topics by commas (handlers.topics.split_topics), ``#juridisch-advies`` asks for one.
English keywords work too (help, role, role remove, assessment:, doubt, show-kind, urgent, my-data,
forget-me). The kind is the asker's own unless ``toon-soort`` / ``show-kind`` shares it with the expert.

``Command`` is the whole vocabulary: what is typed (``parse``), pressed or submitted on a card
(handlers.actions.parse_action, parse_answer) or filled in a modal (``topics_command``) becomes one of
these typed commands, and handlers.dispatch runs each of them the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.asking import AskRequest
from handlers.button_commands import (  # the buttons' commands belong to the one vocabulary too
    AnswerQuestion,
    ButtonCommand,
    CancelForget,
    ConfirmForget,
    ExportData,
    MarkOutcome,
    RemoveTopics,
    ReportCurt,
    TagQuestion,
)
from handlers.errors import HandlerError, InvalidInput
from handlers.models import QuestionKind
from handlers.team_commands import RECOGNITION, TEAM_NUDGE, TeamCommand, parse_recognition, parse_team_nudge
from handlers.topics import split_topics


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Ask:
    request: AskRequest


@dataclass(frozen=True)
class ListTopics:
    pass


@dataclass(frozen=True)
class DeclareTopics:
    topics: list[str]


@dataclass(frozen=True)
class MyData:
    pass


@dataclass(frozen=True)
class ForgetMe:
    pass


TextCommand = Help | Ask | ListTopics | DeclareTopics | RemoveTopics | MyData | ForgetMe | TeamCommand
Command = TextCommand | ButtonCommand
RoleCommand = ListTopics | DeclareTopics | RemoveTopics
__all__ = ["AnswerQuestion", "Ask", "ButtonCommand", "CancelForget", "Command", "ConfirmForget", "DeclareTopics",
           "ExportData", "ForgetMe", "Help", "ListTopics", "MarkOutcome", "MyData", "RemoveTopics", "ReportCurt",
           "RoleCommand", "TagQuestion", "TextCommand", "addressed_expert", "mentioned_expert", "parse",
           "parse_or_refusal", "topics_command"]

_HELP = {"", "help", "hulp", "?", "-h", "--help"}
_MY_DATA = {"mijn-gegevens", "mijn gegevens", "gegevens", "my-data", "my data", "privacy-export"}
_FORGET = {"vergeet-mij", "vergeet mij", "forget-me", "forget me"}
_ROLE = {"rol", "role", "rollen", "roles"}
_REMOVE = {"weg", "verwijder", "remove", "delete", "-"}
_DOUBT = {"twijfel", "doubt", "competentie", "competence"}
_COMPLEX = {"complex", "onvoorzien", "unforeseen"}
_URGENT = {"urgent", "dringend", "spoed"}
_SHARE_KIND = {"toon-soort", "toon soort", "show-kind", "show kind"}
_ASSESSMENT = re.compile(r"^(?:mijn\s+)?(?:inschatting|assessment|my\s+assessment)\s*:\s*(.*)$", re.I | re.S)
_TOPIC_OPTION = re.compile(r"^(?:onderwerp|topic)\s*:\s*(.*)$", re.I | re.S)
_OPTION_SEPARATOR = re.compile(r"\|(?![^<>]*>)")  # a | inside Slack's <@U1|name> is not a separator
# Slack escapes user mentions as <@U123> or <@U123|name>
_SLACK_MENTION = re.compile(r"^<@([^|>\s]+)(?:\|([^>\s]*))?>$")  # Teams ids look like 29:1abc


def parse(text: str) -> TextCommand:
    stripped = text.strip()
    lowered = " ".join(stripped.lower().split())
    if lowered in _HELP:
        return Help()
    if lowered in _MY_DATA:
        return MyData()
    if lowered in _FORGET:
        return ForgetMe()
    first, _, rest = stripped.partition(" ")
    if first.lower() in _ROLE:
        return _parse_role(rest.strip())
    if first.lower() in TEAM_NUDGE:
        return parse_team_nudge(rest)
    if first.lower() in RECOGNITION:
        return parse_recognition(rest)
    if not first.startswith(("@", "#", "<@")):
        raise InvalidInput("error.unknown_command", command=first[:40])
    return Ask(_parse_ask(stripped))


def parse_or_refusal(text: str) -> TextCommand | HandlerError:
    """``parse``, with its refusal returned instead of raised: for an adapter that looks at the command
    (whom it names) before dispatch.handle_parsed runs it or answers the refusal, so the text is read once."""
    try:
        return parse(text)
    except HandlerError as refusal:
        return refusal


def addressed_expert(parsed: Command | HandlerError) -> str | None:
    """The platform id of the colleague a question is addressed to (``<@U123>``), if any; the platforms
    register that one colleague before the question is handled. A refusal names no one: handling it
    explains what is wrong."""
    return parsed.request.expert_external_id if isinstance(parsed, Ask) else None


def mentioned_expert(text: str) -> str | None:
    """``addressed_expert`` of a text, for an adapter that hands dispatch the text itself."""
    return addressed_expert(parse_or_refusal(text))


def topics_command(raw: str) -> RoleCommand:
    """What a topics field (the Slack topics modal) asks for, read by the rules of ``rol <field>``: an
    empty field lists the topics, ``weg ...`` removes, anything else declares."""
    return _parse_role(raw.strip())


def _parse_role(rest: str) -> RoleCommand:
    if not rest:
        return ListTopics()
    first, _, topics = rest.partition(" ")
    if first.lower() in _REMOVE:
        return RemoveTopics(split_topics(topics))
    return DeclareTopics(split_topics(rest))


def _parse_ask(text: str) -> AskRequest:
    head, *options = _OPTION_SEPARATOR.split(text)
    words = head.split()
    handle = external_id = topic = None
    while words and words[0].startswith(("@", "#", "<@")):
        word = words.pop(0)
        mention = _SLACK_MENTION.match(word)
        if mention:
            external_id, handle = mention.group(1), mention.group(2) or None
        elif word.startswith("@") and handle is None and external_id is None:
            handle = word[1:]
        elif word.startswith("#") and topic is None:
            topic = word[1:]
        else:
            raise InvalidInput("error.one_expert_one_topic")
    assessment = None
    kind: QuestionKind | None = None
    urgent = share_kind = False
    for raw in options:
        option = raw.strip()
        lowered = " ".join(option.lower().split())
        if not option:
            continue
        if match := _ASSESSMENT.match(option):
            assessment = match.group(1).strip()
        elif match := _TOPIC_OPTION.match(option):
            topic = match.group(1).strip()
        elif lowered in _DOUBT:
            kind = QuestionKind.DOUBT
        elif lowered in _COMPLEX:
            kind = QuestionKind.COMPLEX
        elif lowered in _URGENT:
            urgent = True
        elif lowered in _SHARE_KIND:
            share_kind = True
        else:
            raise InvalidInput("error.unknown_option", option=option[:40])
    if share_kind and kind is None:
        raise InvalidInput("error.share_kind_without_kind")
    return AskRequest(text=" ".join(words), expert_handle=handle, expert_external_id=external_id, topic=topic,
                      first_assessment=assessment, kind=kind, urgent=urgent, share_kind=share_kind)
