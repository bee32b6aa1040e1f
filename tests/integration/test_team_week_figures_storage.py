"""Stored team week figures (issue 11, finding 5): insert-or-get, so two replicas composing the same
week at once end with one row and both use its figures, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from storage.tables import TeamWeekFigures
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import NOW, minutes, workspace

UowFactory = Callable[[], SqlUnitOfWork]

FIRST = {"asked": 6, "werk": 2, "with_outcome": 3, "confirmed": 1, "people": 6, "answered": 6, "answerers": 6,
         "short_replies": 1}
# What a second replica counts after a forget-me deleted one answerer's reply and verdict.
SECOND = {**FIRST, "answerers": 5, "short_replies": 0}
PREVIOUS = [{"asked": 5, "people": 5}, {"asked": 0, "people": 0}, {"asked": 4, "people": 4}, {"asked": 7, "people": 6}]


async def a_workspace(uow_factory: UowFactory) -> int:
    async with uow_factory() as uow:
        return (await workspace(uow)).id


def stored_figures(row: TeamWeekFigures) -> dict[str, int]:
    return {name: getattr(row, name) for name in FIRST}


async def rows(uow_factory: UowFactory) -> int:
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(TeamWeekFigures)) or 0)


async def test_the_second_unit_of_work_gets_the_first_ones_figures(uow_factory: UowFactory) -> None:
    ws = await a_workspace(uow_factory)
    async with uow_factory() as uow:
        assert await uow.team_weeks.get(ws, "2026-W47") is None
        first = await uow.team_weeks.keep(workspace_id=ws, week="2026-W47", time_zone="Europe/Amsterdam",
                                          figures=FIRST, previous=PREVIOUS, now=NOW)
        assert stored_figures(first) == FIRST
    async with uow_factory() as uow:
        second = await uow.team_weeks.keep(workspace_id=ws, week="2026-W47", time_zone="Europe/Amsterdam",
                                           figures=SECOND, previous=[], now=NOW + minutes(60))
        assert stored_figures(second) == FIRST
        assert second.previous == PREVIOUS and second.computed_at == NOW
        # Another week, or another workspace, is a row of its own.
        other = await uow.team_weeks.keep(workspace_id=ws, week="2026-W48", time_zone="Europe/Amsterdam",
                                          figures=SECOND, previous=[], now=NOW)
        assert stored_figures(other) == SECOND
        assert [r.week for r in await uow.team_weeks.get_many(ws, ["2026-W46", "2026-W47", "2026-W48"])] == [
            "2026-W47", "2026-W48"]
    assert await rows(uow_factory) == 2


async def test_each_workspace_of_an_org_has_its_own_figures_of_a_week(uow_factory: UowFactory) -> None:
    """An org-wide Grid install (0015): one ``workspace_id`` for the org, a row per workspace of it, and the
    org-wide row ('') apart from both; each keeps the first figures stored for it."""
    ws = await a_workspace(uow_factory)
    async with uow_factory() as uow:
        for org_workspace, figures in (("T0001", FIRST), ("T0002", SECOND), ("", SECOND)):
            row = await uow.team_weeks.keep(workspace_id=ws, week="2026-W47", time_zone="UTC", figures=figures,
                                            previous=[], now=NOW, org_workspace=org_workspace)
            assert stored_figures(row) == figures
    async with uow_factory() as uow:
        again = await uow.team_weeks.keep(workspace_id=ws, week="2026-W47", time_zone="UTC", figures=SECOND,
                                          previous=[], now=NOW, org_workspace="T0001")
        assert stored_figures(again) == FIRST
        [sales] = await uow.team_weeks.get_many(ws, ["2026-W47"], org_workspace="T0001")
        assert sales.id == again.id
        assert stored_figures(await uow.team_weeks.get(ws, "2026-W47")) == SECOND  # the org as a whole
    assert await rows(uow_factory) == 3


async def test_figures_must_be_the_known_counts(uow_factory: UowFactory) -> None:
    ws = await a_workspace(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="week figures must be exactly"):
            await uow.team_weeks.keep(workspace_id=ws, week="2026-W47", time_zone="UTC",
                                      figures={**FIRST, "target": 1}, previous=[], now=NOW)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_replicas_inserting_at_once_end_with_the_first_ones_row(uow_factory: UowFactory) -> None:
    """PostgreSQL only: SQLite serialises whole transactions (BEGIN IMMEDIATE), so there the second
    one simply comes after the first, as in the test above."""
    ws = await a_workspace(uow_factory)
    first_inserted = asyncio.Event()
    second_waiting = asyncio.Event()

    async def first() -> dict[str, int]:
        async with uow_factory() as uow:
            row = await uow.team_weeks.keep(workspace_id=ws, week="2026-W47", time_zone="UTC",
                                            figures=FIRST, previous=PREVIOUS, now=NOW)
            first_inserted.set()
            await second_waiting.wait()  # commit only once the second insert waits on this one
            return stored_figures(row)

    async def second() -> dict[str, int]:
        await first_inserted.wait()
        async with uow_factory() as uow:
            row = await uow.team_weeks.keep(workspace_id=ws, week="2026-W47", time_zone="UTC",
                                            figures=SECOND, previous=[], now=NOW + minutes(1))
            return stored_figures(row)

    async def watch() -> None:
        """Sets second_waiting once the second insert waits for the first transaction's lock."""
        await first_inserted.wait()
        async with uow_factory() as uow:
            for _ in range(1000):  # a bound, not a timing: the loop ends as soon as the lock wait shows
                # This test's own database only: other test runs may share the server.
                waiting = await uow.session.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"))
                await uow.rollback()  # a fresh snapshot of the statistics each time
                if waiting:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the second insert never waited for the first")
        second_waiting.set()

    a, b, _ = await asyncio.wait_for(asyncio.gather(first(), second(), watch()), timeout=30)
    assert a == FIRST and b == FIRST
    assert await rows(uow_factory) == 1
