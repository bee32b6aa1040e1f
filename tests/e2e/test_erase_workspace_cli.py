"""`vraagbot erase-workspace`, run as an operator would, on a SQLite file with two filled workspaces (the
same ones as tests/integration/test_workspace_erasure.py): the dry run, the refusal while a Slack
installation is stored, the erase, an unknown team and a database that is not migrated."""

from __future__ import annotations

import asyncio

from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.uow import make_uow_factory
from tests.e2e.cli import run_vraagbot
from tests.integration.test_workspace_erasure import FILLED, dump, fill

LABELS = {"outbox": "queued messages", "signals": "signals", "replies": "replies", "questions": "questions",
          "team_schedules": "channel settings", "team_week_figures": "stored week figures",
          "conversation_refs": "conversation references", "expert_topics": "topics", "people": "people",
          "inbox": "waiting requests", "slack_installations": "Slack installation", "workspaces": "workspace"}


def table_lines(counts: dict[str, int]) -> list[str]:
    return [f"  {LABELS[table]:<24} {count:>7}  ({table})" for table, count in counts.items()]


async def on_database(url: str, work):
    engine = create_engine(url)
    try:
        return await work(make_uow_factory(engine))
    finally:
        await engine.dispose()


async def test_dry_run_refusal_erase_and_unknown_team(tmp_path):
    db = tmp_path / "bot.db"
    url = f"sqlite:///{db}"
    await asyncio.to_thread(upgrade_to_head, url)
    await on_database(url, lambda uow: fill(uow, "TB"))
    kept = await on_database(url, dump)
    erased_id = await on_database(url, lambda uow: fill(uow, "TA"))
    before = await on_database(url, dump)
    env = {"VRAAGBOT_DATABASE_URL": url}

    dry = run_vraagbot("erase-workspace", "--team", "slack:TA", env=env)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[:2] == [f"Workspace {erased_id} 'Team TA' (slack TA).",
                         "Dry run, nothing changed. Would erase, in one transaction:"]
    assert lines[2:14] == table_lines(FILLED)
    assert "still has a stored Slack installation" in dry.stdout and "--yes" in lines[-1]
    assert await on_database(url, dump) == before

    refused = run_vraagbot("erase-workspace", "--team", "TA", "--yes", env=env)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        f"vraagbot: workspace {erased_id} 'Team TA' (slack TA) still has a stored Slack installation, so its next "
        "request would create it anew: uninstall the app from it first, or give --even-if-installed; nothing was "
        "erased"]
    assert await on_database(url, dump) == before

    erased = run_vraagbot("erase-workspace", "--team", str(erased_id), "--yes", "--even-if-installed", env=env)
    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.splitlines() == [f"Erased workspace {erased_id} 'Team TA' (slack TA), in one transaction:",
                                          *table_lines(FILLED)]
    assert await on_database(url, dump) == kept  # only the other workspace is left, as it was

    for team in ("slack:TA", "TA", str(erased_id), "teams:TB", "slack:E0123/TB"):
        unknown = run_vraagbot("erase-workspace", "--team", team, "--yes", env=env)
        assert unknown.returncode == 1, (team, unknown.stderr)
        assert unknown.stderr.strip().splitlines() == [
            f"vraagbot: no workspace {team!r}; use our id, slack:<team id> (slack:<enterprise id> for an org-wide "
            "Grid install, as a whole), teams:<tenant id>, or the platform's id"]
    assert await on_database(url, dump) == kept


def test_a_database_that_is_not_there_or_not_migrated_is_one_line_and_exit_2(tmp_path):
    missing = run_vraagbot("erase-workspace", "--team", "T1", env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert missing.returncode == 2 and "no database file" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.db").exists()

    (tmp_path / "empty.db").touch()
    empty = run_vraagbot("erase-workspace", "--team", "T1", "--yes",
                         env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"})
    assert empty.returncode == 2 and "run vraagbot migrate" in empty.stderr
    assert len(empty.stderr.strip().splitlines()) == 1
