"""Fixtures shared by the end-to-end tests: the real bot on a fresh SQLite database, per platform."""

import pytest

from tests.e2e.slack_bot import running_slack_bot
from tests.e2e.teams_bot import running_teams_bot


@pytest.fixture
async def slack(sqlite_database_url):
    async with running_slack_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running


@pytest.fixture
async def teams(sqlite_database_url):
    async with running_teams_bot(sqlite_database_url, sqlite_database_url.split("///", 1)[1]) as running:
        yield running
