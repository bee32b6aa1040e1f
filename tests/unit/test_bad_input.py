"""Bad input gets a clear message and changes nothing."""

from __future__ import annotations

import pytest

from handlers.actions import Action


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@nobody Mag dit?", "Ik ken niemand die nobody heet"),
        ("@anna", "Je vraag is leeg"),
        ("@anna    | urgent", "Je vraag is leeg"),
        ("@anna " + "x" * 40_000, "40000 tekens; het maximum is 4000"),
        ("#onbekend Wie weet dit?", "Niemand heeft #onbekend"),
        ("@sanne Mag ik mezelf iets vragen?", "jezelf geen vraag"),
        ("doe iets", "'doe' ken ik niet"),
        ("@anna Mag dit? | misschien", "'misschien' ken ik niet als toevoeging"),
        ("@anna @lotte Samen?", "Noem één collega"),
        ("rol weg astrologie", "stond niet bij je rol"),
        ("rol ,,,", "Noem minstens één onderwerp"),
    ],
)
async def test_refused_text_commands_write_nothing(world, text, expected):
    before = world.counts()
    result = await world.say("sanne", text)
    assert not result.ok
    assert expected in result.replies[0].text
    assert world.counts() == before


async def test_empty_and_oversized_replies_are_refused(world):
    qid = (await world.say("sanne", "@anna Mag dit?")).question_id
    await world.drain()
    before = world.counts()
    for text in ("   ", "y" * 40_000):
        result = await world.reply("anna", qid, text)
        assert not result.ok
    assert world.counts() == before


@pytest.mark.parametrize(("action", "value"), [("tag_werk", "999"), ("no_such_action", "1"), ("tag_werk", "abc")])
async def test_unknown_questions_and_actions_are_refused(world, action, value):
    before = world.counts()
    result = await world.press("anna", action, value)
    assert not result.ok and result.replies[0].text
    assert world.counts() == before


async def test_unknown_person_acting_on_a_question_is_refused_and_not_registered(world):
    qid = (await world.say("sanne", "@anna Mag dit?")).question_id
    before = world.counts()
    result = await world.press("stranger", Action.TAG_GUNST, qid)
    assert not result.ok
    assert world.counts() == before  # the refused press did not register the stranger


async def test_a_failure_halfway_through_a_use_case_rolls_back_everything(world, monkeypatch):
    async def broken(*args, **kwargs):
        raise ConnectionError("presence service went away")

    monkeypatch.setattr(world.presence, "focus_until", broken)  # fails after the asker was looked up
    before = world.counts()
    result = await world.say("sanne", "@anna Mag dit?")
    assert not result.ok and "niets half opgeslagen" in result.replies[0].text
    assert world.counts() == before


async def test_an_unreachable_database_gives_a_clear_message(world, tmp_path, caplog):
    from dataclasses import replace

    from handlers import dispatch
    from storage.engine import create_engine
    from storage.uow import make_uow_factory

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/db.sqlite")
    deps = replace(world.deps, uow=make_uow_factory(engine))
    try:
        result = await dispatch.handle_text(deps, world.actor("sanne"), "@anna Mag dit?")
    finally:
        await engine.dispose()
    assert not result.ok and "Probeer het over een minuut opnieuw" in result.replies[0].text
    assert any("failed for slack:U-sanne" in r.getMessage() for r in caplog.records)
