from __future__ import annotations

import pytest

from tests.unit.world import World


@pytest.fixture
async def world(sqlite_uow_factory, sqlite_database_url) -> World:
    world = World(uow=sqlite_uow_factory, db_path=sqlite_database_url.split("///", 1)[1])
    await world.add_person("sanne")
    await world.add_person("anna", "contracten", "privacy")
    await world.add_person("lotte", "contracten")
    await world.add_person("bram", "security", locale="en")
    return world
