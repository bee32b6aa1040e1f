"""Platform-neutral outgoing messages. Adapters render these as Block Kit, Adaptive Cards or text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from handlers.models import MessageKind


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # e.g. "tag_werk"; see handlers.actions.Action
    value: str  # opaque to platforms; usually the question id
    style: str | None = None  # "primary" or "danger"


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one person (``person_id``) or one channel (``channel``)."""

    kind: MessageKind
    text: str
    person_id: int | None = None
    channel: str | None = None
    buttons: tuple[Button, ...] = ()
    question_id: int | None = None
    private: bool = True  # only the recipient may see it
    # For a QUESTION: the people who share its thread (asker, expert), so a platform can open one
    # conversation for both. For messages about a question: the thread it lives in, when known.
    participants: tuple[int, ...] = ()
    thread_ref: str | None = None
    attachment: dict[str, Any] | None = field(default=None, compare=False)  # e.g. a data export
    # Set by the outbox for one delivery (not stored in the payload): platforms that can label a
    # message with it let the outbox find out later whether a send whose outcome was lost arrived.
    delivery_key: str | None = field(default=None, compare=False)

    def to_payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        del data["delivery_key"]
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> OutgoingMessage:
        return cls(
            kind=MessageKind(data["kind"]),
            text=data["text"],
            person_id=data.get("person_id"),
            channel=data.get("channel"),
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            question_id=data.get("question_id"),
            private=data.get("private", True),
            attachment=data.get("attachment"),
            participants=tuple(data.get("participants", ())),
            thread_ref=data.get("thread_ref"),
        )


@dataclass
class Result:
    """What a use case hands back: messages for the person who acted, and whether it succeeded."""

    replies: list[OutgoingMessage] = field(default_factory=list)
    ok: bool = True
    question_id: int | None = None
