"""Issue 18: an in-doubt delivery is never lost because its look-up failed, and only a send whose
outcome is unknown is looked up at all.

The real SlackMessenger over HTTP against the fake Slack, the outbox on SQLite and PostgreSQL. A row
"in doubt" carries the attempt marker begin_attempt leaves when its sender dies mid-send.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.web import LookupPacer, SlackMessenger, make_client
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from nudges.delivery.outbox import OutboxDispatcher
from tests.e2e.fake_slack import FakeSlack
from tests.e2e.test_send_faults import HandClock, outbox_row

pytestmark = pytest.mark.timeout(60)

CHANNELS = ("C0A", "C0B", "C0C")


def nudge(channel: str) -> OutgoingMessage:
    return OutgoingMessage(MessageKind.WEEKLY_TEAM, f"Vragen stellen hoort bij het werk ({channel}).",
                           channel=f"slack:{channel}", private=False)


async def queue_all(uow_factory, clock: HandClock, *, in_doubt: int, channels: tuple[str, ...] = CHANNELS) -> list[int]:
    """One row per channel; the first ``in_doubt`` of them as a killed sender leaves them."""
    ids = []
    async with uow_factory() as uow:
        for n, channel in enumerate(channels):
            row = await uow.outbox.add(dedupe_key=f"lookup-{channel}", message=nudge(channel), period="w48",
                                       due_at=clock.now(), now=clock.now())
            if n < in_doubt:
                await uow.outbox.begin_attempt(row.id, clock.now() - timedelta(minutes=3))
            ids.append(row.id)
    return ids


@pytest.fixture
async def slack(uow_factory):
    async with FakeSlack() as fake:
        client = make_client("xoxb-test", fake.base_url)
        client.timeout = 0.5  # seconds: the fake's hangs last longer
        messenger = SlackMessenger(client, uow_factory, lookups=LookupPacer(6000.0))  # no pacing waits here
        clock = HandClock()
        dispatcher = OutboxDispatcher(uow_factory, messenger, clock, concurrency=3, lookup_seconds=0.3,
                                      lookup_backoff=0.05)
        yield fake, clock, dispatcher
        await client.close()  # its shared HTTP session


FAULTS = {
    "405": lambda fake: fake.fail("conversations.history", 405, times=100),
    "500": lambda fake: fake.fail("conversations.history", 500, times=100),
    "429": lambda fake: fake.rate_limit("conversations.history", times=100, retry_after=0),
    "timeout": lambda fake: fake.hang("conversations.history", 1.0, times=100),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_in_doubt_rows_are_sent_anyway_when_history_cannot_be_read(slack, uow_factory, fault, caplog):
    fake, clock, dispatcher = slack
    ids = await queue_all(uow_factory, clock, in_doubt=len(CHANNELS))
    FAULTS[fault](fake)
    assert await dispatcher.dispatch_due() == len(CHANNELS)
    for channel in CHANNELS:
        assert len(fake.posted(channel)) == 1, (fault, channel)
    for row_id in ids:
        row = await outbox_row(uow_factory, row_id)
        assert (row.status, row.attempts, row.attempt_started_at) == ("sent", 1, None)  # no failure counted
    assert fake.calls("conversations.history")
    assert "sending it anyway" in caplog.text


async def test_history_rate_limited_with_retry_after_is_asked_again_and_finds_the_post(slack, uow_factory):
    """Slack took the post but its answer timed out; history then answers 429 for a while."""
    fake, clock, dispatcher = slack
    dispatcher._lookup_seconds = 20.0  # long enough to outlast the 429s
    [row_id] = await queue_all(uow_factory, clock, in_doubt=0, channels=CHANNELS[:1])
    fake.hang("chat.postMessage", 1.0, accept=True)
    fake.rate_limit("conversations.history", times=3, retry_after=1)  # the SDK waits twice, then we do
    await dispatcher.dispatch_due()
    assert (await outbox_row(uow_factory, row_id)).status == "pending"  # the timed-out post: in doubt
    clock.current = (await outbox_row(uow_factory, row_id)).due_at
    await dispatcher.dispatch_due()
    row = await outbox_row(uow_factory, row_id)
    assert row.status == "sent"
    assert len(fake.posted("C0A")) == 1  # found by the look-up once Slack let us ask: not posted again
    assert len(fake.calls("conversations.history")) == 4


@pytest.mark.parametrize("in_doubt", [0, 2])
async def test_after_a_burst_of_429s_only_rows_of_unknown_outcome_are_looked_up(slack, uow_factory, in_doubt):
    fake, clock, dispatcher = slack
    ids = await queue_all(uow_factory, clock, in_doubt=in_doubt)
    fake.rate_limit("chat.postMessage", times=3 * len(CHANNELS), retry_after=0)  # each send: the SDK's 2 retries too
    for _ in range(6):
        await dispatcher.dispatch_due()
        rows = [await outbox_row(uow_factory, row_id) for row_id in ids]
        if all(row.status == "sent" for row in rows):
            break
        clock.current = max(clock.current, *(row.due_at for row in rows if row.status == "pending"))
    assert [row.status for row in rows] == ["sent"] * len(CHANNELS)
    assert any(row.attempts > 1 for row in rows)  # the burst did make the outbox retry
    for channel in CHANNELS:
        assert len(fake.posted(channel)) == 1
    assert len(fake.calls("conversations.history")) <= in_doubt
