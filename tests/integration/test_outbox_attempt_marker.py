"""Issue 18: the attempt marker ("in doubt") survives only a failure whose outcome is unknown."""

from __future__ import annotations

from tests.integration.helpers import NOW, message, minutes


async def in_doubt_row(uow_factory) -> int:
    async with uow_factory() as uow:
        row = await uow.outbox.add(dedupe_key="marker-1", message=message(channel="C1"), period="p", due_at=NOW,
                                   now=NOW)
        assert await uow.outbox.begin_attempt(row.id, NOW) is None  # the first attempt: nothing in doubt yet
        return row.id


async def test_a_definite_failure_clears_the_marker_with_the_failure(uow_factory) -> None:
    row_id = await in_doubt_row(uow_factory)
    async with uow_factory() as uow:
        await uow.outbox.mark_failed(row_id, "slack rate limited", NOW, NOW + minutes(1), outcome_unknown=False)
    async with uow_factory() as uow:
        assert await uow.outbox.begin_attempt(row_id, NOW + minutes(1)) is None  # the retry is not looked up
        assert (await uow.outbox._row(row_id)).attempts == 1


async def test_a_failure_of_unknown_outcome_keeps_the_first_marker(uow_factory) -> None:
    row_id = await in_doubt_row(uow_factory)
    async with uow_factory() as uow:
        await uow.outbox.mark_failed(row_id, "slack unreachable: TimeoutError", NOW, NOW + minutes(1))
    async with uow_factory() as uow:
        assert await uow.outbox.begin_attempt(row_id, NOW + minutes(1)) == NOW
