"""One addressing type for channels: parsed once, written back in the stored "<platform>:<id>" form."""

from __future__ import annotations

import json

import pytest

from handlers.addresses import ChannelAddress
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.queueing import dedupe_key
from handlers.team_nudges import team_key


@pytest.mark.parametrize(("stored", "platform", "channel_id"), [
    ("slack:C0TEAM", "slack", "C0TEAM"),
    ("teams:19:team-channel@thread.tacv2", "teams", "19:team-channel@thread.tacv2"),  # Teams ids hold colons
    ("shell:team", "shell", "team"),
])
def test_parse_and_format_round_trip(stored, platform, channel_id):
    address = ChannelAddress.parse(stored)
    assert (address.platform, address.channel_id) == (platform, channel_id)
    assert str(address) == stored
    assert ChannelAddress(platform, channel_id) == address
    assert ChannelAddress.parse(str(address)) == address


@pytest.mark.parametrize("bad", ["", "C0TEAM", ":C0TEAM", "slack:", "slack: ", " slack:C1", "Slack:C1",
                                 "sl ack:C1", "slack:C1\n"])
def test_strings_that_are_no_address_are_refused(bad):
    with pytest.raises(ValueError, match="channel address"):
        ChannelAddress.parse(bad)


@pytest.mark.parametrize(("platform", "channel_id"), [("", "C1"), ("slack", ""), ("sla:ck", "C1")])
def test_parts_that_make_no_address_are_refused(platform, channel_id):
    with pytest.raises(ValueError, match="channel address"):
        ChannelAddress(platform, channel_id)


def test_a_message_to_a_channel_keeps_its_address_through_the_stored_payload():
    message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "deze week", channel=ChannelAddress("slack", "C1"),
                              private=False)
    payload = json.loads(json.dumps(message.to_payload()))  # as the outbox stores it
    assert payload["channel"] == "slack:C1"  # today's stored form: no migration
    back = OutgoingMessage.from_payload(payload)
    assert back == message and back.channel is not None and back.channel.platform == "slack"
    assert back.channel.channel_id == "C1"


def test_outbox_keys_keep_their_stored_form():
    address = ChannelAddress("slack", "C1")
    message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "", channel=address)
    assert dedupe_key(message, "2026-W48") == "cslack:C1:weekly_team:2026-W48"
    assert team_key(7, address, "2026-W48") == "cslack:C1:weekly_team:2026-W48:w7"
