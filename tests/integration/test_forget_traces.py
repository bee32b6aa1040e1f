"""Issue 11, finding 7: after forget-me no text, name or id of the person is left in any table.

The person asks, answers, tags, is recognised in two channels' weekly messages (one sent, one still
queued), has a Teams channel reference taken while they spoke, and then forgets themselves through
the real use case. Every text and JSON column of every table (found from storage.tables' metadata,
so a new table is searched without anyone remembering to add it) is then searched for their
platform id, display name, handle, question text and reply text, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import JSON, String, select

from handlers import dispatch, retention
from handlers.actions import Action
from handlers.context import Actor, Policy
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind, OutboxStatus
from nudges.planner import WeeklyPlanner
from storage.tables import Base, OutboxMessage
from storage.uow import SqlUnitOfWork
from tests.unit.world import CATALOG, World

UowFactory = Callable[[], SqlUnitOfWork]

TARGET = Actor("slack", "T1", "UZQX9TARGET", handle="zoelinde", display_name="Zoëlinde Vrakking",
               workspace_name="Team")
QUESTION = "Mag ik de kwartaalcijfers van project Kwispelstaart al delen?"
REPLY = "Ja hoor, dat staat op de wikipagina Flonkerbaai onder werkafspraken."
LATE_REPLY = "Het rooster voor Zeepaardje komt vrijdag, tot die tijd niets beloven."
NEEDLES = (TARGET.user_external_id, TARGET.display_name, TARGET.handle, QUESTION, REPLY, LATE_REPLY)


async def traces(uow_factory: UowFactory, needles: tuple[str, ...] = NEEDLES) -> set[tuple[str, str, str]]:
    """(table, column, needle) for every needle found, case-insensitively, in any text or JSON column."""
    found: set[tuple[str, str, str]] = set()
    async with uow_factory() as uow:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
            for column in columns:
                for value in await uow.session.scalars(select(column)):
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    found |= {(table.name, column.name, n) for n in needles if n.casefold() in text.casefold()}
    return found


def searched_columns() -> set[str]:
    return {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns
            if isinstance(c.type, String | JSON)}


async def outbox_rows(uow_factory: UowFactory) -> set[tuple[str, str | None, str]]:
    async with uow_factory() as uow:
        return {(r.kind, r.channel, r.status) for r in await uow.session.scalars(select(OutboxMessage))}


async def test_the_search_covers_every_table_with_text(uow_factory: UowFactory) -> None:
    """A guard on the guard: the columns where traces were found before are among those searched."""
    assert {"people.display_name", "people.handle", "people.external_id", "questions.text", "replies.text",
            "outbox.payload", "outbox.last_error", "conversation_refs.reference", "conversation_refs.name",
            "processed_events.event_id", "team_schedules.channel"} <= searched_columns()


async def test_after_forget_me_nothing_of_theirs_is_left_anywhere(uow_factory: UowFactory) -> None:
    world = World(uow=uow_factory, db_path="")
    world.clock.current = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday of ISO week 48
    for name in ("sanne", "lotte", "bram"):
        await world.add_person(name)
    deps = world.deps
    await dispatch.handle_text(deps, TARGET, "erkenning")  # registers them; recognition stays on
    # Two team channels with a weekly message on Monday, at 09:00 and at 10:00 Amsterdam time.
    for channel, hour in (("C1", "09:00"), ("C2", "10:00")):
        await dispatch.handle_text(deps, Actor(**{**world.actor("sanne").__dict__, "channel": channel}),
                                   f"team-nudge maandag {hour} Europe/Amsterdam nl")
    # The Teams edge stores the channel's reference as botbuilder serialises it: with whoever spoke.
    async with uow_factory() as uow:
        ws = await uow.workspaces.by_external_id("slack", "T1")
        assert ws is not None
        await uow.conversations.save(
            workspace_id=ws.id, kind="channel", external_id="19:kanaal@thread.tacv2", name="Team",
            reference={"activityId": "1", "user": {"id": TARGET.user_external_id, "name": TARGET.display_name,
                                                   "aadObjectId": "aad-zoelinde"},
                       "bot": {"id": "28:bot", "name": "vraagbot"}, "conversation": {"id": "19:kanaal@thread.tacv2"},
                       "channelId": "msteams", "serviceUrl": "https://smba.trafficmanager.net/emea/"},
            now=world.clock.now())

    # They ask Lotte; Sanne asks them, they tag it werk and answer; everything is delivered.
    await dispatch.handle_text(deps, TARGET, f"@lotte {QUESTION}")
    asked = await world.say("sanne", "@zoelinde Hoe zit het met de planning voor januari?")
    await dispatch.handle_action(deps, TARGET, Action.TAG_WERK, str(asked.question_id))
    await dispatch.handle_reply(deps, TARGET, asked.question_id, REPLY)
    await world.drain()

    # The weekly messages: C1's goes out at 09:00 naming them, C2's is queued at 10:00 and waits.
    planner = WeeklyPlanner(uow_factory, world.clock, CATALOG, Policy(), grace=timedelta(hours=6))
    world.clock.current = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert await planner.plan_due() == 1
    [weekly] = [m for m in await world.drain() if m.kind == MessageKind.WEEKLY_TEAM]
    assert TARGET.display_name in weekly.text  # recognised by name
    world.clock.current = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    await planner.plan_due()  # C2's message (and the experts' own summaries)
    assert ("weekly_team", "slack:C2", OutboxStatus.PENDING) in await outbox_rows(uow_factory)
    # Bram asks them too; their answer to him is queued but not yet sent when they forget themselves.
    late = await world.say("bram", "@zoelinde Wanneer komt het nieuwe rooster?")
    await dispatch.handle_reply(deps, TARGET, late.question_id, LATE_REPLY)

    before = await traces(uow_factory)
    assert {(t, n) for t, _, n in before} >= {
        ("people", TARGET.display_name), ("questions", QUESTION), ("replies", REPLY), ("outbox", REPLY),
        ("outbox", LATE_REPLY), ("outbox", TARGET.display_name)}
    assert not {t for t, _, _ in before} & {"conversation_refs"}  # the reference was stored without the user

    prompt = await dispatch.handle_text(deps, TARGET, "vergeet-mij")
    confirm = next(b for b in prompt.replies[0].buttons if b.action == Action.FORGET_CONFIRM)
    done = await dispatch.handle_action(deps, TARGET, confirm.action, confirm.value)
    assert done.ok

    assert await traces(uow_factory) == set()

    # What happened to the messages to others: sent ones kept (their key stops a second send) without
    # text; Bram's unsent relay of their answer and C2's unsent weekly message are gone.
    rows = await outbox_rows(uow_factory)
    assert ("weekly_team", "slack:C1", OutboxStatus.SENT) in rows
    assert ("weekly_team", "slack:C2", OutboxStatus.PENDING) not in rows
    # C2's weekly message is planned afresh, without them, and sent once.
    assert await planner.plan_due() == 1
    [again] = [m for m in await world.drain() if m.kind == MessageKind.WEEKLY_TEAM]
    assert again.channel == "slack:C2" and TARGET.display_name not in again.text
    assert not [m for m in world.messenger.sent[-5:] if LATE_REPLY in (m.text or "")]
    assert await planner.plan_due() == 0  # C1's (sent, scrubbed) is not sent again


async def test_event_ids_are_pruned_by_the_retention_run(uow_factory: UowFactory) -> None:
    world = World(uow=uow_factory, db_path="")
    now = world.clock.now()
    async with uow_factory() as uow:
        assert await uow.events.first_time("slack", "EvOLD", now - retention.EVENT_IDS_KEPT - timedelta(minutes=1))
        assert await uow.events.first_time("slack", "EvRECENT", now - timedelta(hours=1))
    report = await retention.apply_retention(uow_factory, world.clock, 30)
    assert report.events_pruned == 1
    async with uow_factory() as uow:
        # The recent one still recognises a retry; the old one is forgotten.
        assert not await uow.events.first_time("slack", "EvRECENT", now)
        assert await uow.events.first_time("slack", "EvOLD", now)


async def test_messages_to_others_that_name_them(uow_factory: UowFactory) -> None:
    """Unsent and about them: deleted. Unsent and naming them in passing: blanked. Sent: kept
    without text. A longer word that merely contains the name is not theirs."""
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    name = TARGET.display_name
    async with uow_factory() as uow:
        ws = await uow.workspaces.get_or_create("slack", "T1", "Team")
        bram = await uow.people.add(workspace_id=ws.id, external_id="U-bram", handle="bram", display_name="Bram",
                                    locale="nl", time_zone="UTC", now=now)
        rows = {
            "passing": OutgoingMessage(MessageKind.QUESTION, f"Bram, {name} zei dat jij het weet.", person_id=bram.id),
            "unrelated": OutgoingMessage(MessageKind.NUDGE_CURT, "Niets over haar.", person_id=bram.id),
            "longer": OutgoingMessage(MessageKind.NUDGE_CURT, f"Zie de {name}straat.", person_id=bram.id),
            "sent": OutgoingMessage(MessageKind.WEEKLY_TEAM, f"Dank aan {name}.", channel="slack:C1"),
            "queued": OutgoingMessage(MessageKind.WEEKLY_TEAM, f"Dank aan {name}.", channel="slack:C2"),
        }
        ids = {}
        for key, message in rows.items():
            row = await uow.outbox.add(dedupe_key=key, message=message, period="p", due_at=now, now=now)
            assert row is not None
            ids[key] = row.id
        await uow.outbox.mark_sent(ids["sent"], now)
        done = await uow.outbox.forget_mentions(person_id=-1, question_ids=[], names=(name, "zoelinde"), now=now)
    assert (done.deleted, done.blanked, done.scrubbed) == (1, 1, 1)
    async with uow_factory() as uow:
        left = {r.dedupe_key: r for r in await uow.session.scalars(select(OutboxMessage))}
    assert "queued" not in left
    assert left["passing"].payload["text"] == "Bram, … zei dat jij het weet."
    assert left["unrelated"].payload["text"] == "Niets over haar."
    assert left["longer"].payload["text"] == f"Zie de {name}straat."
    assert left["sent"].payload["text"] is None and left["sent"].text_redacted_at is not None
