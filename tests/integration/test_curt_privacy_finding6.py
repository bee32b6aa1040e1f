"""Issue 11, finding 6: an expert's own data never says which question felt curt, or who said so.

The real use cases on the real storage (SQLite and PostgreSQL): one reply the bot finds curt, one
reply an asker reports as curt. The expert sees one kind ("replies of yours that felt curt") as a
count per calendar month, once the month is over (a count that moves while you watch dates a
report); the reporter still sees their own report.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.actions import Action
from handlers.models import MessageKind
from handlers.ports import SignalRecord
from tests.unit.world import CATALOG, World

CURT = "Zoals ik al zei: staat gewoon in de handleiding, lees die eerst."
KIND = ("Ja, dat mag gewoon: de clausule staat in het standaardcontract en juridische zaken keurde hem vorig "
        "jaar goed. Goed dat je het even checkt, dank je!")


@pytest.fixture
async def world(uow_factory) -> World:
    world = World(uow=uow_factory, db_path="")  # only the use cases: no raw SQLite reads here
    await world.add_person("sanne")
    await world.add_person("anna", "contracten")
    await world.add_person("lotte")
    return world


async def two_curt_signals(world: World) -> tuple[int, int, str]:
    """Sanne's question gets a reply the bot finds curt; Lotte reports Anna's reply to her as curt.
    Returns both question ids and the exact moment Lotte reported."""
    detected = await world.say("sanne", "@anna #contracten Mag dit? | inschatting: ja")
    reported = await world.say("lotte", "@anna Welke versie geldt?")
    await world.drain()
    world.clock.advance(minutes=7, seconds=13)
    await world.reply("anna", detected.question_id, CURT)
    await world.reply("anna", reported.question_id, KIND)
    world.clock.advance(hours=2, minutes=41, seconds=29)
    report_moment = world.clock.now().isoformat()
    pressed = await world.press("lotte", Action.FELT_CURT, reported.question_id)
    assert pressed.ok
    await world.drain()
    assert {"curt_detected", "curt_reported"} <= set(await stored_curt_kinds(world))  # both kinds are there
    return detected.question_id, reported.question_id, report_moment


async def stored_curt_signals(world: World) -> list[SignalRecord]:
    async with world.uow() as uow:
        signals = await uow.signals.about(world.people["anna"].id)
    return [s for s in signals if s.kind in ("curt_detected", "curt_reported")]


async def stored_curt_kinds(world: World) -> list[str]:
    return sorted(s.kind for s in await stored_curt_signals(world))


async def curt_questions(world: World) -> int:
    """However many replies the bot found curt, plus the report: each question counts once."""
    return len({s.question_id for s in await stored_curt_signals(world)})


def walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, leaf) of a JSON value."""
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in walk(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [leaf for item in value for leaf in walk(item, f"{path}[]")]
    return [(path, value)]


async def export_of(world: World, handle: str) -> dict[str, Any]:
    return (await world.press(handle, Action.EXPORT_DATA, world.people[handle].id)).replies[0].attachment.content


async def test_the_experts_export_has_one_kind_per_month_without_question_or_time(world):
    detected_qid, reported_qid, report_moment = await two_curt_signals(world)
    november = await export_of(world, "anna")
    assert "curt_detected" not in json.dumps(november) and "curt_reported" not in json.dumps(november)
    assert november["replies_of_yours_that_felt_curt"]["per_month"] == []  # the month is still running
    world.clock.advance(days=8)  # 1 December
    export = await world.press("anna", Action.EXPORT_DATA, world.people["anna"].id)
    data = export.replies[0].attachment.content
    text = json.dumps(data)

    assert "curt_detected" not in text and "curt_reported" not in text  # one kind, not two
    assert report_moment not in text  # nothing dates the report
    assert data["replies_of_yours_that_felt_curt"]["per_month"] == [
        {"month": "2026-11", "count": await curt_questions(world)}]
    assert data["signals"] == []  # every signal about her is in the monthly count
    # No reply says which one felt curt, so the count cannot be split into detected and reported.
    assert all({"curt", "curt_score", "curt_reasons"}.isdisjoint(r) for r in data["replies"])
    curt_leaves = walk(data["replies_of_yours_that_felt_curt"])
    assert not [p for p, _ in curt_leaves if "question" in p or p.endswith("id")]
    assert not [v for _, v in curt_leaves if isinstance(v, str) and len(v) > len("2026-11") and v[:4].isdigit()]
    assert {q["id"] for q in data["questions"]} == {detected_qid, reported_qid}  # her own questions stay


async def test_the_experts_overview_counts_them_together_without_question_ids(world):
    detected_qid, reported_qid, _ = await two_curt_signals(world)
    assert "per voorbije maand: geen" in (await world.say("anna", "mijn-gegevens")).replies[0].text
    world.clock.advance(days=8)  # 1 December
    summary = (await world.say("anna", "mijn-gegevens")).replies[0].text
    assert "kortaf voelden of leken" in summary and f"november 2026: {await curt_questions(world)}" in summary
    assert f"#{detected_qid}" not in summary and f"#{reported_qid}" not in summary


async def test_the_reporter_still_sees_her_own_report(world):
    _, reported_qid, report_moment = await two_curt_signals(world)
    export = await world.press("lotte", Action.EXPORT_DATA, world.people["lotte"].id)
    [signal] = export.replies[0].attachment.content["signals"]
    assert (signal["kind"], signal["question_id"], signal["reported_by_you"], signal["created_at"]) == (
        "curt_reported", reported_qid, True, report_moment)


async def test_the_reframing_after_a_detected_curt_reply_does_not_name_the_expert(world):
    for turn in range(3):  # every variant comes in turn
        asked = await world.say("sanne", f"@anna Vraag {turn}?")
        await world.drain()
        await world.reply("anna", asked.question_id, CURT)
        [nudge] = [m for m in await world.drain() if m.kind == MessageKind.NUDGE_CURT]
        assert "Anna" not in nudge.text
        assert nudge.text in {CATALOG.variant("nl", "nudge.curt", seed) for seed in range(3)}


def test_no_reframing_variant_names_the_expert():
    for locale in ("nl", "en"):
        variants = CATALOG.variants[locale]["nudge.curt"]
        assert variants and not [v for v in variants if "{expert}" in v]
