"""Names and handles in storage, on SQLite and PostgreSQL (issue 11, finding 10): who a typed ``@handle``
can mean, names refreshed from the person's own contact, and two first requests of one new person."""

from __future__ import annotations

import asyncio

import pytest

from handlers.context import Actor, Deps
from handlers.errors import InvalidInput
from handlers.people import ensure_person, find_colleague
from tests.integration.helpers import NOW, workspace
from tests.unit.world import CATALOG


class _Clock:
    def now(self):
        return NOW


class _NoPresence:
    async def focus_until(self, person, platform):
        return None


def deps_for(uow_factory) -> Deps:
    return Deps(uow=uow_factory, clock=_Clock(), presence=_NoPresence(), catalog=CATALOG)


def teams(user_id: str, name: str | None) -> Actor:
    return Actor("teams", "tenant-1", user_id, handle=name.split()[0].lower() if name else None, display_name=name)


async def test_a_handle_two_people_share_is_ambiguous_and_a_longer_one_is_not(uow_factory):
    deps = deps_for(uow_factory)
    async with uow_factory() as uow:
        anna = await ensure_person(uow, deps, teams("29:anna", "Anna de Vries"))
        await ensure_person(uow, deps, teams("29:annamaria", "Anna-Maria Smit"))
        ws_id = anna.workspace_id
    async with uow_factory() as uow:
        assert (await find_colleague(uow, ws_id, handle="@Anna")).external_id == "29:anna"
        assert (await find_colleague(uow, ws_id, handle="anna-maria")).external_id == "29:annamaria"
    async with uow_factory() as uow:
        second = await ensure_person(uow, deps, teams("29:anna2", "Anna Jansen"))
        assert second.handle == "anna-29:anna2"
    async with uow_factory() as uow:
        with pytest.raises(InvalidInput) as refused:
            await find_colleague(uow, ws_id, handle="anna")
        assert refused.value.key == "error.ambiguous_person"
        assert (await find_colleague(uow, ws_id, handle="anna", external_id="29:anna2")).display_name == "Anna Jansen"


async def test_the_persons_own_contact_refreshes_name_and_handle_and_a_nameless_one_does_not(uow_factory):
    deps = deps_for(uow_factory)
    async with uow_factory() as uow:
        await ensure_person(uow, deps, teams("29:lotte", None))
    async with uow_factory() as uow:
        renamed = await ensure_person(uow, deps, teams("29:lotte", "Lotte Bakker"))
        assert (renamed.handle, renamed.display_name) == ("lotte", "Lotte Bakker")
    async with uow_factory() as uow:
        kept = await ensure_person(uow, deps, teams("29:lotte", None))
        assert (kept.handle, kept.display_name) == ("lotte", "Lotte Bakker")


async def test_two_first_requests_of_one_new_person_get_the_one_row(uow_factory):
    async with uow_factory() as uow:
        ws = await workspace(uow)

    async def add(uow):
        return await uow.people.add(workspace_id=ws.id, external_id="U-eve", handle="eve", display_name="Eve",
                                    locale="nl", time_zone="Europe/Amsterdam", now=NOW)

    async def in_own_unit():
        async with uow_factory() as uow:
            return (await add(uow)).id

    async with uow_factory() as first:
        first_id = (await add(first)).id
        second = asyncio.create_task(in_own_unit())  # waits for the first insert's transaction, or finds it
    assert await second == first_id
