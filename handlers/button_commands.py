"""The typed commands behind the buttons and cards the bot offers (see handlers.commands for the whole
vocabulary). Kept apart from the text grammar so handlers.actions, which the use cases import for their
buttons, can parse into these without importing the use cases back."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.models import Outcome, Tag


@dataclass(frozen=True)
class TagQuestion:
    question_id: int
    tag: Tag
    remember: bool = False  # werk, and the question's topic joins the expert's role


@dataclass(frozen=True)
class MarkOutcome:
    question_id: int
    outcome: Outcome


@dataclass(frozen=True)
class ReportCurt:
    question_id: int


@dataclass(frozen=True)
class AnswerQuestion:
    """The expert's answer typed into a question's card (Teams) or ``antwoord`` (shell)."""

    question_id: int
    text: str


@dataclass(frozen=True)
class ExportData:
    pass


@dataclass(frozen=True)
class ConfirmForget:
    person_id: int  # the person the confirmation was offered to: only they can confirm it


@dataclass(frozen=True)
class CancelForget:
    pass


@dataclass(frozen=True)
class RemoveTopics:
    """A topic's remove button, or ``rol weg <onderwerpen>`` as text."""

    topics: list[str]


@dataclass(frozen=True)
class SendHeldNow:
    """The asker's button on a question held for the expert's focus time: deliver it now, as urgent."""

    question_id: int


@dataclass(frozen=True)
class WithdrawQuestion:
    """The asker's button on a held question: the expert never gets it."""

    question_id: int


ButtonCommand = (TagQuestion | MarkOutcome | ReportCurt | AnswerQuestion | ExportData | ConfirmForget | CancelForget
                 | RemoveTopics | SendHeldNow | WithdrawQuestion)
