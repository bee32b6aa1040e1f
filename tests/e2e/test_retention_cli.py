"""`vraagbot retention [--dry-run]`, run as a user would, on a SQLite file filled through the handlers."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta

from bot.runtime import build_runtime
from bot.settings import load_settings
from handlers.actions import Action
from handlers.personal_data import export_my_data
from storage.engine import create_engine
from storage.migrate import upgrade_to_head
from storage.uow import make_uow_factory
from tests.e2e.cli import run_vraagbot
from tests.unit.world import World, rate_limited

OLD_QUESTION = "Mag ik contract 4711 van leverancier Jansen verlengen?"
OLD_REPLY = "Ja, dat mag, zolang de opzegtermijn van drie maanden blijft staan."
NEW_QUESTION = "Klopt de termijn in offerte 815?"
NEW_REPLY = "Ja, die termijn klopt, dertig dagen is hier gebruikelijk."
STUCK = "Is this clause still valid?"
ASSESSMENT = "ja, volgens artikel 12"


async def with_world(path, work):
    engine = create_engine(f"sqlite:///{path}")
    try:
        return await work(World(uow=make_uow_factory(engine), db_path=str(path)))
    finally:
        await engine.dispose()


async def fill(path) -> None:
    """A thread from 120 days ago, a question from then that never went out, a thread from 10 days ago."""
    await asyncio.to_thread(upgrade_to_head, f"sqlite:///{path}")

    async def work(world: World) -> None:
        now = datetime.now(UTC)
        world.clock.current = now - timedelta(days=120)
        for handle in ("sanne", "anna", "lotte"):
            await world.add_person(handle)
        await world.add_person("bram", locale="en")
        old = (await world.say("sanne", f"@anna {OLD_QUESTION} | inschatting: {ASSESSMENT}")).question_id
        await world.drain()
        await world.reply("anna", old, OLD_REPLY)
        await world.press("sanne", Action.OUTCOME_CONFIRMED, old)
        await world.drain()
        world.messenger.fail_next.append(rate_limited(365 * 86400))
        await world.say("bram", f"@lotte {STUCK}")
        await world.drain()
        world.clock.current = now - timedelta(days=10)
        new = (await world.say("sanne", f"@anna {NEW_QUESTION}")).question_id
        await world.drain()
        await world.reply("anna", new, NEW_REPLY)
        await world.drain()
        async with world.uow() as uow:  # a resend id from long ago, and one from today
            assert await uow.events.first_time("slack", "Ev-old", now - timedelta(days=30))
            assert await uow.events.first_time("slack", "Ev-new", now)

    await with_world(path, work)


def dump(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as connection:
        return {t: connection.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("questions", "replies", "signals", "outbox")}


def all_text(path) -> str:
    return json.dumps(dump(path), ensure_ascii=False)


async def test_dry_run_then_retention_then_nothing_left(tmp_path):
    db = tmp_path / "bot.db"
    await fill(db)
    env = {"VRAAGBOT_DATABASE_URL": f"sqlite:///{db}", "VRAAGBOT_TEXT_RETENTION_DAYS": "90"}
    before = dump(db)
    assert OLD_QUESTION in all_text(db) and ASSESSMENT in all_text(db)

    dry = run_vraagbot("retention", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout
    assert "Text retention 90 days" in out and "Dry run, nothing changed" in out
    day = f"{datetime.now(UTC) - timedelta(days=120):%Y-%m-%d}"
    assert f"question texts        2  (oldest {day}, newest {day})" in out
    assert f"reply texts           1  (oldest {day}, newest {day})" in out
    assert "sent messages" in out and "Kept: 1 unsent messages" in out
    assert dump(db) == before  # the dry run wrote nothing

    run = run_vraagbot("retention", env=env)
    assert run.returncode == 0, run.stderr
    assert "Removed the text of:" in run.stdout
    assert "question texts        2" in run.stdout and "reply texts           1" in run.stdout
    assert "Forgot 1 platform event ids older than 3 days." in run.stdout
    after = all_text(db)
    assert OLD_QUESTION not in after
    assert OLD_REPLY not in after
    assert ASSESSMENT not in after
    assert NEW_QUESTION in after and NEW_REPLY in after
    assert STUCK in after  # still queued: its text must go out with it
    kept = dump(db)
    assert len(kept["questions"]) == 3 and len(kept["replies"]) == 2 and kept["signals"] == before["signals"]
    assert len(kept["outbox"]) == len(before["outbox"])

    again = run_vraagbot("retention", env=env)
    assert again.returncode == 0, again.stderr
    assert "question texts        0" in again.stdout and "reply texts           0" in again.stdout
    assert dump(db) == kept

    async def exports(world: World) -> tuple[dict, dict]:
        for handle in ("sanne", "bram"):
            async with world.uow() as uow:
                workspace = await uow.workspaces.by_external_id("slack", "T1")
                world.people[handle] = await uow.people.by_handle(workspace.id, handle)
        sanne = await world.press("sanne", Action.EXPORT_DATA, world.people["sanne"].id)
        bram = await world.press("bram", Action.EXPORT_DATA, world.people["bram"].id)
        return sanne.replies[0].attachment.content, bram.replies[0].attachment.content

    sanne, bram = await with_world(db, exports)
    assert [q["text"] for q in sanne["questions"]] == ["(tekst verwijderd na 90 dagen)", NEW_QUESTION]
    assert [q["text"] for q in bram["questions"]] == ["(text removed after 90 days)"]


def test_a_bad_database_is_one_line_and_exit_2(tmp_path):
    missing = run_vraagbot("retention", "--dry-run", env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path}/nope.db"})
    assert missing.returncode == 2 and "no database file" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and not (tmp_path / "nope.db").exists()

    (tmp_path / "empty.db").touch()
    empty = run_vraagbot("retention", env={"VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"})
    assert empty.returncode == 2 and "run vraagbot migrate" in empty.stderr
    assert len(empty.stderr.strip().splitlines()) == 1

    down = run_vraagbot("retention", "--dry-run", env={"VRAAGBOT_DATABASE_URL": "postgresql://u@127.0.0.1:1/db"})
    assert down.returncode == 2 and "cannot use the database" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1

    wrong = run_vraagbot("retention", env={"VRAAGBOT_TEXT_RETENTION_DAYS": "0",
                                          "VRAAGBOT_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"})
    assert wrong.returncode == 2 and "VRAAGBOT_TEXT_RETENTION_DAYS" in wrong.stderr.upper()


async def test_the_runtime_wires_the_daily_job_and_the_export_to_the_setting(tmp_path):
    db = tmp_path / "bot.db"
    await fill(db)
    runtime = build_runtime(load_settings(database_url=f"sqlite:///{db}", text_retention_days=5))
    try:
        await runtime.scheduler.retain()  # what the daily job runs
        export = await export_my_data(runtime.deps, World(uow=runtime.uow, db_path=str(db)).actor("sanne"))
    finally:
        await runtime.close()
    after = all_text(db)
    assert OLD_QUESTION not in after and NEW_QUESTION not in after  # 10 days old: past 5 days too
    assert STUCK in after
    questions = export.replies[0].attachment.content["questions"]
    assert [q["text"] for q in questions] == ["(tekst verwijderd na 5 dagen)"] * 2
