"""The outbox's claim reads the Slack user ids a message goes to, so a send opens no unit of work of its
own to look them up; and nobody's id outlives the send it was read for.

The real SlackMessenger over HTTP against the fake Slack, the outbox on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.slack.web import SlackMessenger, make_client
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from nudges.delivery.outbox import OutboxDispatcher
from storage.uow import SqlUnitOfWork
from tests.e2e.fake_slack import FakeSlack

pytestmark = pytest.mark.timeout(120)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


class CountedUnitsOfWork:
    """The real factory, counting how many units of work the messenger opens."""

    def __init__(self, uow_factory: Callable[[], SqlUnitOfWork]) -> None:
        self._factory = uow_factory
        self.opened = 0

    def __call__(self) -> SqlUnitOfWork:
        self.opened += 1
        return self._factory()


async def person(uow_factory, user_id: str, handle: str) -> int:
    async with uow_factory() as uow:
        workspace = await uow.workspaces.get_or_create("slack", "T1", "Team")
        added = await uow.people.add(workspace_id=workspace.id, external_id=user_id, handle=handle,
                                     display_name=handle, locale="nl", time_zone="Europe/Amsterdam", now=NOW)
        return added.id


async def queue(uow_factory, key: str, message: OutgoingMessage) -> None:
    async with uow_factory() as uow:
        assert await uow.outbox.add(dedupe_key=key, message=message, period="w48", due_at=NOW, now=NOW)


@pytest.fixture
async def slack(uow_factory):
    async with FakeSlack() as fake:
        client = make_client("xoxb-test", fake.base_url)
        counted = CountedUnitsOfWork(uow_factory)
        dispatcher = OutboxDispatcher(uow_factory, SlackMessenger(client, counted), Clock(), concurrency=2)
        yield fake, counted, dispatcher
        await client.close()


async def test_a_question_reaches_asker_and_expert_without_a_look_up_per_recipient(slack, uow_factory):
    fake, counted, dispatcher = slack
    asker, expert = await person(uow_factory, "UASKER", "sanne"), await person(uow_factory, "UEXPERT", "anna")
    await queue(uow_factory, "q-1", OutgoingMessage(MessageKind.QUESTION, "Mag dit?", person_id=expert,
                                                    participants=(asker, expert)))
    await queue(uow_factory, "dm-1", OutgoingMessage(MessageKind.NUDGE_CURT, "Een tip", person_id=asker))
    assert await dispatcher.dispatch_due() == 2
    assert sorted(",".join(users) for users in fake.opened.values()) == ["UASKER", "UASKER,UEXPERT"]
    assert counted.opened == 0  # the claim read the user ids: no unit of work per recipient


async def test_a_recipient_who_no_longer_exists_is_unreachable(slack, uow_factory):
    fake, _, dispatcher = slack
    expert = await person(uow_factory, "UEXPERT", "anna")
    gone = expert + 100  # an asker forgotten since the question was queued
    await queue(uow_factory, "q-1", OutgoingMessage(MessageKind.QUESTION, "Mag dit?", person_id=expert,
                                                    participants=(gone, expert)))
    assert await dispatcher.dispatch_due() == 1
    async with uow_factory() as uow:
        (row,) = await uow.outbox.for_person(expert)
    assert (row.status, row.last_error) == ("failed", f"unreachable: person {gone} no longer exists")
    assert fake.calls("chat.postMessage") == [] and fake.opened == {}


async def test_an_id_given_again_after_a_forget_reaches_the_new_person_only(slack, uow_factory, database_url):
    """SQLite hands the id of a deleted person to the next new one: the first person's user id must not
    be remembered from an earlier send."""
    fake, _, dispatcher = slack
    first = await person(uow_factory, "UFIRST", "bram")
    await queue(uow_factory, "dm-1", OutgoingMessage(MessageKind.NUDGE_CURT, "Voor Bram", person_id=first))
    assert await dispatcher.dispatch_due() == 1
    async with uow_factory() as uow:
        await uow.people.delete(first)  # forgotten (their outbox rows go with them)
    second = await person(uow_factory, "USECOND", "lotte")
    assert second == first or not database_url.startswith("sqlite")  # the case this is about
    await queue(uow_factory, "dm-2", OutgoingMessage(MessageKind.NUDGE_CURT, "Voor Lotte", person_id=second))
    assert await dispatcher.dispatch_due() == 1
    assert list(fake.opened.values()) == [["UFIRST"], ["USECOND"]]
    assert [m["text"] for m in fake.posted()] == ["Voor Bram", "Voor Lotte"]
