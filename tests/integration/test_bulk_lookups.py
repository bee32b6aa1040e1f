"""The one-query look-ups the weekly planner and the team figures use at scale: several people by
id, and which outbox keys were queued already, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.integration.helpers import NOW, message, person, workspace


async def test_get_many_returns_the_people_that_exist(uow_factory):
    async with uow_factory() as uow:
        ws = await workspace(uow)
        anna, bram = await person(uow, ws, "anna"), await person(uow, ws, "bram")
        await person(uow, ws, "carla")
    async with uow_factory() as uow:
        found = await uow.people.get_many([bram.id, anna.id, 9999])
        assert sorted(p.handle for p in found) == ["anna", "bram"]
        assert await uow.people.get_many([]) == []


async def test_existing_names_the_keys_queued_in_any_status(uow_factory):
    keys = [f"key-{n}" for n in range(1200)]  # more than one chunk of bound parameters
    async with uow_factory() as uow:
        sent = await uow.outbox.add(dedupe_key=keys[3], message=message(channel="C1"), period="p", due_at=NOW,
                                    now=NOW)
        await uow.outbox.add(dedupe_key=keys[1100], message=message(channel="C2"), period="p", due_at=NOW, now=NOW)
        await uow.outbox.add(dedupe_key="other", message=message(channel="C3"), period="p", due_at=NOW, now=NOW)
        assert sent is not None
        await uow.outbox.mark_sent(sent.id, NOW)
    async with uow_factory() as uow:
        assert await uow.outbox.existing(keys) == {keys[3], keys[1100]}
        assert await uow.outbox.existing([]) == set()
