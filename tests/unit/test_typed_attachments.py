"""Attachments are typed (a data export today), and survive the outbox's payload both ways, also in
the shape stored before they were typed (a bare dict meant "a data export")."""

from __future__ import annotations

import json

from handlers.actions import Action
from handlers.messages import DataExport, OutgoingMessage
from handlers.models import MessageKind


def export_message() -> OutgoingMessage:
    return OutgoingMessage(MessageKind.REPLY, "Je gegevens", person_id=3,
                           attachment=DataExport({"person": {"handle": "sanne"}, "questions": []}))


async def test_the_data_export_is_a_typed_attachment_named_as_a_json_file(world):
    [reply] = (await world.press("sanne", Action.EXPORT_DATA, world.people["sanne"].id)).replies
    assert isinstance(reply.attachment, DataExport)
    assert reply.attachment.filename.endswith(".json")
    assert reply.attachment.content["person"]["handle"] == "sanne"


def test_a_data_export_goes_through_the_payload_and_back():
    message = export_message()
    payload = json.loads(json.dumps(message.to_payload()))  # stored as JSON
    back = OutgoingMessage.from_payload(payload)
    assert back.attachment == message.attachment
    assert isinstance(back.attachment, DataExport)


def test_a_payload_stored_before_attachments_were_typed_loads_as_a_data_export():
    stored = {"kind": "reply", "text": "Je gegevens", "person_id": 3, "attachment": {"questions": ["vraag 120"]}}
    back = OutgoingMessage.from_payload(stored)
    assert back.attachment == DataExport({"questions": ["vraag 120"]})


def test_a_payload_whose_attachment_retention_removed_has_none():
    payload = {**export_message().to_payload(), "text": None, "attachment": None}  # what redact_texts leaves
    assert OutgoingMessage.from_payload({**payload, "text": ""}).attachment is None
