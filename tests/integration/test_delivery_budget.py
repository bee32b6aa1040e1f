"""How many SQL statements the outbox spends on a delivery (issue 12, the work after the ack), on SQLite
and PostgreSQL: one claim for the free senders (the rows, their lease and attempt marker, their recipients'
ids), one statement recording each send, and no claim that finds nothing when fewer rows are due than
there are senders. The messenger takes the claim's recipients, so it looks nobody up itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.ports import Recipient
from nudges.delivery.outbox import OutboxDispatcher
from storage.uow import make_uow_factory
from tests.integration.statements import counting

# PostgreSQL: UPDATE ... FROM (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING, and SELECT the recipients;
# SQLite: the SELECT and the UPDATE apart (its RETURNING cannot show the attempt marker as it was).
CLAIM_STATEMENTS = {"postgresql": 2, "sqlite": 3}
SEND_STATEMENTS = 1  # UPDATE sent

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


class AddressedRecorder:
    """Records the Slack user ids each send was given (handlers.ports.AddressedMessenger)."""

    def __init__(self, recipients: Mapping[int, Recipient] | None = None, sent: list[list[str]] | None = None):
        self._recipients = recipients
        self.sent: list[list[str]] = [] if sent is None else sent

    def addressed(self, recipients: Mapping[int, Recipient]) -> AddressedRecorder:
        return AddressedRecorder(recipients, self.sent)

    async def send(self, message: OutgoingMessage) -> str | None:
        assert self._recipients is not None, "sent without the claim's recipients"
        people = [message.person_id, *message.participants]
        self.sent.append([self._recipients[p].external_id for p in people])
        return None


async def test_two_deliveries_cost_one_claim_and_one_statement_each(engine: AsyncEngine) -> None:
    uow_factory = make_uow_factory(engine)
    async with uow_factory() as uow:
        workspace = await uow.workspaces.get_or_create("slack", "T1", "Team")
        sanne, anna = [await uow.people.add(workspace_id=workspace.id, external_id=f"U-{handle}", handle=handle,
                                            display_name=handle, locale="nl", time_zone="Europe/Amsterdam", now=NOW)
                       for handle in ("sanne", "anna")]
        for key, message in (("q", OutgoingMessage(MessageKind.QUESTION, "Mag dit?", person_id=anna.id,
                                                   participants=(sanne.id, anna.id))),
                             ("n", OutgoingMessage(MessageKind.NUDGE_CURT, "Een tip", person_id=sanne.id))):
            await uow.outbox.add(dedupe_key=key, message=message, period="w48", due_at=NOW, now=NOW)
    messenger = AddressedRecorder()
    dispatcher = OutboxDispatcher(uow_factory, messenger, Clock(), concurrency=4)

    with counting(engine) as counted:
        assert await dispatcher.dispatch_due() == 2

    assert len(counted.statements) == CLAIM_STATEMENTS[engine.dialect.name] + 2 * SEND_STATEMENTS, counted
    assert counted.transactions == 1 + 2, counted  # the claim, and each send's result
    assert counted.writes == {"outbox": 3}, counted
    assert sorted(messenger.sent) == [["U-anna", "U-sanne", "U-anna"], ["U-sanne"]]
