"""Platform-neutral outgoing messages. Adapters render these as Block Kit, Adaptive Cards or text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from handlers.addresses import ChannelAddress
from handlers.models import MessageKind


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # e.g. "tag_werk"; see handlers.actions.Action
    value: str  # opaque to platforms; usually the question id
    style: str | None = None  # "primary" or "danger"


@dataclass(frozen=True)
class DataExport:
    """Everything stored about the recipient, for them to keep: a JSON file where the platform can
    attach one, JSON text where it cannot."""

    content: dict[str, Any] = field(hash=False)
    filename: str = "vraagbot-gegevens.json"


@dataclass(frozen=True)
class Chart:
    """A chart to show with the message, drawn only when it is sent (nudges.charts), from what is
    stored here: aggregate figures per week and the chart's own texts, a few hundred bytes in the
    outbox instead of a PNG. The same payload always draws the same picture."""

    weeks: list[dict[str, Any]] = field(hash=False)  # nudges.charts.ChartWeek, as stored
    texts: dict[str, str] = field(hash=False)  # title, axis names, legend, hidden-week label, empty state
    locale: str = "nl"  # for dates on the axis
    filename: str = "vraagbot.png"


@dataclass(frozen=True)
class Image:
    """A drawn picture (PNG). Never stored: the outbox keeps the Chart and draws it for each attempt."""

    png: bytes = field(repr=False)
    filename: str
    alt_text: str


# What a message can carry besides its text.
Attachment = DataExport | Chart | Image
_ATTACHMENT_TYPES: dict[str, type[DataExport] | type[Chart]] = {"data_export": DataExport, "chart": Chart}


def attachment_to_payload(attachment: Attachment | None) -> dict[str, Any] | None:
    if attachment is None:
        return None
    if isinstance(attachment, Image):
        raise TypeError("an Image is drawn for one send and never stored; store the Chart it was drawn from")
    [name] = [name for name, kind in _ATTACHMENT_TYPES.items() if isinstance(attachment, kind)]
    return {"type": name, **asdict(attachment)}


def attachment_from_payload(data: dict[str, Any] | None) -> Attachment | None:
    """The stored form; a bare dict, from before attachments were typed, was always a data export."""
    if data is None:
        return None
    kind = _ATTACHMENT_TYPES.get(data.get("type")) if isinstance(data.get("type"), str) else None
    if kind is None or (kind is DataExport and "content" not in data):
        return DataExport(content=data)
    return kind(**{key: value for key, value in data.items() if key != "type"})


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one person (``person_id``) or one channel (``channel``)."""

    kind: MessageKind
    text: str
    person_id: int | None = None
    channel: ChannelAddress | None = None
    buttons: tuple[Button, ...] = ()
    question_id: int | None = None
    private: bool = True  # only the recipient may see it
    # For a QUESTION: the people who share its thread (asker, expert), so a platform can open one
    # conversation for both. For messages about a question: the thread it lives in, when known.
    participants: tuple[int, ...] = ()
    thread_ref: str | None = None
    attachment: Attachment | None = field(default=None, compare=False)
    # Set by the outbox for one delivery (not stored in the payload): platforms that can label a
    # message with it let the outbox find out later whether a send whose outcome was lost arrived.
    delivery_key: str | None = field(default=None, compare=False)

    def to_payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = str(self.kind)
        data["channel"] = str(self.channel) if self.channel is not None else None  # the stored "<platform>:<id>"
        data["attachment"] = attachment_to_payload(self.attachment)
        del data["delivery_key"]
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> OutgoingMessage:
        return cls(
            kind=MessageKind(data["kind"]),
            text=data["text"],
            person_id=data.get("person_id"),
            channel=ChannelAddress.parse(data["channel"]) if data.get("channel") is not None else None,
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            question_id=data.get("question_id"),
            private=data.get("private", True),
            attachment=attachment_from_payload(data.get("attachment")),
            participants=tuple(data.get("participants", ())),
            thread_ref=data.get("thread_ref"),
        )


@dataclass
class Result:
    """What a use case hands back: messages for the person who acted, and whether it succeeded."""

    replies: list[OutgoingMessage] = field(default_factory=list)
    ok: bool = True
    question_id: int | None = None
