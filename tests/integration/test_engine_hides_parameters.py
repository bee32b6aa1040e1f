"""Issue 11, finding 12: a failing statement's error (what a log line or traceback shows) names the
SQL but never the values bound to it: those are question texts, names and ids."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.engine import create_engine

VALUE = "GEHEIM-antwoord-van-Anna-4417"


async def test_a_failing_statement_does_not_show_its_parameters(database_url):
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as error:
                await connection.execute(text("SELECT * FROM no_such_table WHERE name = :name"), {"name": VALUE})
    finally:
        await engine.dispose()
    message = str(error.value)
    assert "no_such_table" in message  # the statement itself is still there to debug with
    assert VALUE not in message
    assert "hidden" in message  # SQLAlchemy says it left them out
