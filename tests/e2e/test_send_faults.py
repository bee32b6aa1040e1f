"""Slack and the Bot Connector answering 500s and timing out for a while: the outbox retries with
backoff (its retry rows, attempts counted) and the message arrives exactly once when they recover.

The real messengers over HTTP against the fakes; the outbox on a real (SQLite) database, driven
tick by tick with a hand-moved clock, so backoff needs no waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from bot.settings import load_settings
from bot.slack.web import SlackMessenger, make_client
from bot.teams.platform import teams_parts
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from nudges.delivery.outbox import OutboxDispatcher
from nudges.texts.catalog import load_catalog
from storage.tables import OutboxMessage
from tests.e2e.fake_connector import FakeConnector
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.teams_bot import origin_of

pytestmark = pytest.mark.timeout(120)


class HandClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


async def queue(uow_factory, clock: HandClock, message: OutgoingMessage) -> int:
    async with uow_factory() as uow:
        row = await uow.outbox.add(dedupe_key="faults-1", message=message, period="w48", due_at=clock.now(),
                                   now=clock.now())
        return row.id


async def outbox_row(uow_factory, row_id: int) -> OutboxMessage:
    async with uow_factory() as uow:
        return await uow.outbox._row(row_id)  # the stored row itself, attempts and all


async def drive_until_sent(dispatcher: OutboxDispatcher, clock: HandClock, uow_factory, row_id: int,
                           ticks: int = 12) -> OutboxMessage:
    """Tick; when the row is waiting for its retry, tick once just before its time (nothing may
    happen: backoff is honoured), then move the clock to it."""
    for _ in range(ticks):
        await dispatcher.dispatch_due()
        row = await outbox_row(uow_factory, row_id)
        if row.status != "pending":
            return row
        assert row.due_at > clock.now(), "a failed send must be retried later, not at once"
        clock.current = row.due_at - timedelta(seconds=1)
        assert await dispatcher.dispatch_due() == 0
        clock.current = row.due_at
    raise AssertionError(f"not sent after {ticks} ticks: {row.status}, {row.attempts} attempts, {row.last_error}")


@pytest.fixture
async def slack(sqlite_uow_factory):
    async with FakeSlack() as fake:
        client = make_client("xoxb-test", fake.base_url)
        client.timeout = 1  # seconds: the fake's hangs last longer
        clock = HandClock()
        dispatcher = OutboxDispatcher(sqlite_uow_factory, SlackMessenger(client, sqlite_uow_factory), clock)
        yield fake, clock, dispatcher
        await client.close()  # its shared HTTP session


def team_nudge() -> OutgoingMessage:
    return OutgoingMessage(MessageKind.WEEKLY_TEAM, "Vragen stellen hoort bij het werk.", channel="slack:C0TEAM",
                           private=False)


async def test_slack_500s_then_recovery_deliver_the_message_once(slack, sqlite_uow_factory):
    fake, clock, dispatcher = slack
    row_id = await queue(sqlite_uow_factory, clock, team_nudge())
    # A 500 may come after Slack posted: the SDK does not retry it at once, the outbox does, after a look-up.
    fake.fail("chat.postMessage", 500, times=4)
    row = await drive_until_sent(dispatcher, clock, sqlite_uow_factory, row_id)
    assert row.status == "sent" and row.attempts == 5, (row.attempts, row.last_error)
    assert len(fake.calls("chat.postMessage")) == 5  # 4 failures and the one that got through
    assert len(fake.calls("conversations.history")) == 4  # each resend looked for the earlier attempt first
    assert [m["text"] for m in fake.posted("C0TEAM")] == ["Vragen stellen hoort bij het werk."]


async def test_slack_hanging_past_the_timeout_is_retried_and_delivered_once(slack, sqlite_uow_factory):
    fake, clock, dispatcher = slack
    row_id = await queue(sqlite_uow_factory, clock, team_nudge())
    fake.hang("chat.postMessage", 1.5, times=3)  # no answer within the client's 1 s, post not taken
    fake.fail("chat.postMessage", 503, times=3)
    row = await drive_until_sent(dispatcher, clock, sqlite_uow_factory, row_id)
    assert row.status == "sent" and row.attempts >= 2
    assert len(fake.posted("C0TEAM")) == 1


async def test_slack_taking_a_post_but_timing_out_its_answer_does_not_post_it_twice(slack, sqlite_uow_factory):
    """The in-doubt case without a crash: Slack has the message, we only saw a timeout."""
    fake, clock, dispatcher = slack
    row_id = await queue(sqlite_uow_factory, clock, team_nudge())
    fake.hang("chat.postMessage", 1.5, accept=True)
    fake.fail("conversations.history", 500, times=3)  # and Slack cannot tell at first either
    row = await drive_until_sent(dispatcher, clock, sqlite_uow_factory, row_id)
    assert row.status == "sent"
    assert len(fake.posted("C0TEAM")) == 1  # found with conversations.history, not posted again
    assert len(fake.calls("conversations.history")) == 4


async def test_slack_carrying_out_a_post_and_then_answering_500_does_not_post_it_twice(slack, sqlite_uow_factory):
    """Slack's internal_error may come after the message was posted: the SDK's own quick retry would post it
    again, so the send fails as in doubt and the outbox looks it up first."""
    fake, clock, dispatcher = slack
    row_id = await queue(sqlite_uow_factory, clock, team_nudge())
    fake.fail("chat.postMessage", 500, carried_out=True)
    row = await drive_until_sent(dispatcher, clock, sqlite_uow_factory, row_id)
    assert row.status == "sent"
    assert len(fake.posted("C0TEAM")) == 1
    assert len(fake.calls("chat.postMessage")) == 1  # found with conversations.history, not posted again


# --------------------------------------------------------------------------- Teams


@pytest.fixture
async def teams(sqlite_uow_factory, sqlite_database_url):
    async with FakeConnector() as fake:
        clock = HandClock()
        settings = load_settings(database_url=sqlite_database_url, teams_service_urls=origin_of(fake.service_url))
        parts = teams_parts(settings, sqlite_uow_factory, load_catalog())
        async with sqlite_uow_factory() as uow:
            workspace = await uow.workspaces.get_or_create("teams", "tenant-1", "Tenant")
            reference = ConversationReference(
                channel_id="msteams", service_url=fake.service_url, bot=ChannelAccount(id="28:bot", name="vraagbot"),
                conversation=ConversationAccount(id="19:team-channel@thread.tacv2", conversation_type="channel",
                                                 tenant_id="tenant-1"))
            await uow.conversations.save(workspace_id=workspace.id, kind="channel",
                                         external_id="19:team-channel@thread.tacv2", name="Algemeen",
                                         reference=reference.serialize(), now=clock.now())
        yield fake, clock, OutboxDispatcher(sqlite_uow_factory, parts.messenger, clock)


async def test_teams_500s_and_502s_then_recovery_deliver_the_message_once(teams, sqlite_uow_factory):
    fake, clock, dispatcher = teams
    message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "Vragen stellen hoort bij het werk.",
                              channel="teams:19:team-channel@thread.tacv2", private=False)
    row_id = await queue(sqlite_uow_factory, clock, message)
    fake.fail(500, times=2)
    fake.fail(502, times=4)  # retried at once by the messenger (twice), then by the outbox
    row = await drive_until_sent(dispatcher, clock, sqlite_uow_factory, row_id)
    assert row.status == "sent" and row.attempts >= 3, (row.attempts, row.last_error)
    delivered = fake.delivered("19:team-channel@thread.tacv2")
    assert len(delivered) == 1
    assert "Vragen stellen hoort bij het werk." in FakeConnector.all_text(delivered[0].body)


async def test_a_hanging_bot_connector_is_given_up_on_and_retried_by_the_outbox(teams, sqlite_uow_factory):
    fake, clock, dispatcher = teams
    dispatcher._messenger._send_timeout = 0.5  # seconds; the fake would hang for 30
    message = OutgoingMessage(MessageKind.WEEKLY_TEAM, "Twijfel? Vragen is werk.",
                              channel="teams:19:team-channel@thread.tacv2", private=False)
    row_id = await queue(sqlite_uow_factory, clock, message)
    fake.hang(30.0, times=3)  # every quick retry of the messenger hangs too: the outbox takes over
    await dispatcher.dispatch_due()
    waiting = await outbox_row(sqlite_uow_factory, row_id)
    assert waiting.status == "pending" and "unreachable" in waiting.last_error  # given up on, not answered
    row = await drive_until_sent(dispatcher, clock, sqlite_uow_factory, row_id)
    assert row.status == "sent" and row.attempts >= 2, (row.attempts, row.last_error)
    assert len(fake.delivered("19:team-channel@thread.tacv2")) == 1
