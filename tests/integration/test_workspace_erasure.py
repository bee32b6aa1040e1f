"""Erasing one workspace at once (issue 16, handlers/workspace_erasure.py) on SQLite and PostgreSQL.

Workspace B is filled first and every table dumped; then workspace A, with the same kinds of rows (and a
channel both see, a Slack org-wide install, requests waiting in the inbox), is erased. Afterwards every
table must be exactly the dump of B: nothing of A left, nothing of B changed. Also: what its people did in
another workspace, the refusal while installed, and a request adding to it while it is being erased."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.erase_cli import StoredEdgeRecords
from bot.nudges_cli import find_workspace
from handlers.addresses import ChannelAddress
from handlers.messages import OutgoingMessage
from handlers.models import MessageKind
from handlers.team_nudges import team_key
from handlers.workspace_erasure import WorkspaceErasure, erase_workspace
from nudges.monthly import monthly_key
from storage.repositories import inbox, installations
from storage.repositories.team_weeks import FIGURES
from storage.tables import Base, InboxRequest, Workspace
from storage.uow import SqlUnitOfWork
from tests.integration.helpers import NOW, message, person, question

UowFactory = Callable[[], SqlUnitOfWork]
SHARED = ChannelAddress("slack", "CSHARED")  # a channel both workspaces see, each with its own setting

# What fill() stores of a workspace, per table.
FILLED = {"outbox": 4, "signals": 2, "replies": 2, "questions": 2, "team_schedules": 1, "team_week_figures": 2,
          "conversation_refs": 2, "expert_topics": 1, "people": 3, "inbox": 1, "slack_installations": 1,
          "workspaces": 1}


async def fill(uow_factory: UowFactory, key: str, *, org: bool = False) -> int:
    """A workspace with everything a workspace can have, under Slack key ``key`` (an org-wide install of
    Grid org ``key`` with ``org``); returns its id."""
    async with uow_factory() as uow:
        ws = await uow.workspaces.get_or_create("slack", key, f"Team {key}")
        asker, expert, other = [await person(uow, ws, f"{h}-{key.lower()}") for h in ("asker", "expert", "other")]
        await uow.topics.add(expert.id, "contracten", NOW)
        first = await question(uow, ws, asker, expert, text=f"Vraag van {key}")
        second = await question(uow, ws, other, expert, text=f"Nog een vraag van {key}")
        for q in (first, second):
            await uow.replies.add(question_id=q.id, author_id=expert.id, text=f"Antwoord in {key}", created_at=NOW,
                                  reply_seconds=60.0, curt_score=0.1, curt=False, curt_reasons=[])
        await uow.signals.add(question_id=first.id, subject_id=expert.id, reporter_id=asker.id, kind="confirmed",
                              created_at=NOW)
        await uow.signals.add(question_id=second.id, subject_id=expert.id, reporter_id=None, kind="curt_detected",
                              created_at=NOW)
        for dedupe, msg in ((f"relay-{key}", message(person_id=asker.id, question_id=first.id)),
                            (f"nudge-{key}", message(person_id=other.id)),
                            (team_key(ws.id, SHARED, "2025-W10"),
                             OutgoingMessage(MessageKind.WEEKLY_TEAM, f"Week van {key}", channel=SHARED)),
                            (monthly_key(ws.id, SHARED, "2025-02"),
                             OutgoingMessage(MessageKind.MONTHLY_TEAM, f"Maand van {key}", channel=SHARED))):
            assert await uow.outbox.add(dedupe_key=dedupe, message=msg, period="2025-W10", due_at=NOW, now=NOW)
        await uow.team_schedules.save(workspace_id=ws.id, channel=SHARED, weekday=0, hour=9, minute=0,
                                      time_zone="Europe/Amsterdam", language="nl", changed_by=asker.id, now=NOW)
        for week in ("2025-W09", "2025-W10"):
            await uow.team_weeks.keep(workspace_id=ws.id, week=week, time_zone="Europe/Amsterdam",
                                      figures=dict.fromkeys(FIGURES, 5), previous=[], now=NOW)
        await uow.conversations.save(workspace_id=ws.id, kind="person", external_id=asker.external_id, name="",
                                     reference={"conversation": {"id": f"D-{key}"}}, now=NOW)
        await uow.conversations.save(workspace_id=ws.id, kind="channel", external_id=f"19:{key}@thread", name="",
                                     reference={"conversation": {"id": f"19:{key}@thread"}}, now=NOW)
        await installations.save(uow.session, key, {
            "enterprise_id": key if org else None, "team_id": None if org else key, "is_enterprise_install": org,
            "bot_token": f"ciphertext-{key}", "installed_at": NOW})
        # A waiting request (from one of the org's workspaces, for an org) and a done one (keeps no data).
        body = {"type": "event_callback", "event_id": f"Ev-{key}", "team_id": f"{key}-ONE" if org else key,
                "enterprise_id": key if org else None, "is_enterprise_install": org,
                "event": {"type": "message", "user": asker.external_id, "text": "dank je"}}
        assert await inbox.put(uow.session, platform="slack", kind="event_callback", dedup_key=f"slack:event:Ev-{key}",
                               person_key=f"slack:{body['team_id']}:{asker.external_id}", payload=json.dumps(body),
                               request_id=None, now=NOW)
        return ws.id


async def dump(uow_factory: UowFactory) -> dict[str, list[Any]]:
    """Every row of every table (found from the metadata, so a new table is not forgotten)."""
    async with uow_factory() as uow:
        return {table.name: [tuple(row) for row in await uow.session.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in Base.metadata.sorted_tables}


async def erase(uow_factory: UowFactory, team: str, *, confirmed: bool = True,
                even_if_installed: bool = True) -> WorkspaceErasure | None:
    return await erase_workspace(uow_factory, lambda uow: find_workspace(uow, team), StoredEdgeRecords,
                                 confirmed=confirmed, even_if_installed=even_if_installed)


def counted(found: WorkspaceErasure) -> dict[str, int]:
    return {part.table: part.count for part in found.parts}


async def test_erasing_one_workspace_leaves_exactly_the_other(uow_factory: UowFactory):
    await fill(uow_factory, "TB")
    async with uow_factory() as uow:  # a done request keeps no data and no workspace: retention prunes it
        assert await inbox.put(uow.session, platform="slack", kind="command", dedup_key="slack:command:done",
                               person_key="slack:TB:U-asker-tb", payload="{}", request_id=None, now=NOW)
        done_id = await uow.session.scalar(select(InboxRequest.id).where(InboxRequest.dedup_key.endswith(":done")))
        assert await inbox.finish(uow.session, done_id, now=NOW)
    kept = await dump(uow_factory)
    assert {table: len(kept[table]) for table in FILLED} == {**FILLED, "inbox": 2}
    erased_id = await fill(uow_factory, "EA", org=True)

    before = await dump(uow_factory)
    dry = await erase(uow_factory, "slack:EA", confirmed=False)
    assert dry is not None and not dry.erased and dry.installed
    assert counted(dry) == FILLED
    assert await dump(uow_factory) == before  # the dry run changed nothing

    done = await erase(uow_factory, "slack:EA")
    assert done is not None and done.erased and done.workspace_id == erased_id and done.name == "Team EA"
    assert counted(done) == FILLED  # the rows that went are the rows the dry run counted
    assert await dump(uow_factory) == kept  # nothing of A is left, nothing of B changed

    assert await erase(uow_factory, "slack:EA") is None  # gone: an unknown workspace now


async def test_while_installed_it_only_counts_unless_told(uow_factory: UowFactory):
    await fill(uow_factory, "TB")
    await fill(uow_factory, "TA")
    before = await dump(uow_factory)
    refused = await erase(uow_factory, "TA", even_if_installed=False)
    assert refused is not None and refused.installed and not refused.erased
    assert counted(refused) == FILLED
    assert await dump(uow_factory) == before

    async with uow_factory() as uow:  # uninstalled: the row went (app_uninstalled)
        assert await installations.forget(uow.session, "TA")
    erased = await erase(uow_factory, "TA", even_if_installed=False)
    assert erased is not None and erased.erased and not erased.installed
    assert counted(erased) == {**FILLED, "slack_installations": 0}
    async with uow_factory() as uow:
        assert [w.external_id for w in await uow.session.scalars(select(Workspace))] == ["TB"]


async def test_what_its_people_did_in_another_workspace_goes_as_with_forget_me(uow_factory: UowFactory):
    """Their reply and a signal about them on another workspace's question go; the question they were
    asked there stays with its asker, without them; a signal they reported there loses the reporter."""
    other_id = await fill(uow_factory, "TB")
    erased_id = await fill(uow_factory, "TA")
    async with uow_factory() as uow:
        other = await uow.workspaces.get(other_id)
        asker = await uow.people.by_handle(other_id, "asker-tb")
        outsider = await uow.people.by_handle(erased_id, "expert-ta")
        there = await question(uow, other, asker, outsider, text="Over de grens")
        there.thread_ref = "D-expert-ta:1700000000.1"  # the thread in the outsider's chat with the bot
        await uow.replies.add(question_id=there.id, author_id=outsider.id, text="Van buiten", created_at=NOW,
                              reply_seconds=1.0, curt_score=0.0, curt=False, curt_reasons=[])
        await uow.signals.add(question_id=there.id, subject_id=outsider.id, reporter_id=None, kind="curt_detected",
                              created_at=NOW)
        reported = await uow.signals.add(question_id=there.id, subject_id=asker.id, reporter_id=outsider.id,
                                         kind="curt_reported", created_at=NOW)

    done = await erase(uow_factory, "slack:TA")
    assert done is not None and done.erased
    assert (done.count("replies"), done.count("signals"), done.count("questions")) == (3, 3, 2)
    async with uow_factory() as uow:
        kept = await uow.questions.get(there.id)
        assert kept is not None and kept.asker_id == asker.id and (kept.expert_id, kept.thread_ref) == (None, None)
        assert [r.text for r in await uow.replies.for_question(there.id)] == []
        assert [(s.id, s.reporter_id) for s in await uow.signals.for_question(there.id)] == [(reported.id, None)]


class LateArrival:
    """The edge records, and while the erasure runs (its people are gone, the workspace row not yet) a request
    of the workspace adds a person in a transaction of its own, as an inbox worker would."""

    def __init__(self, uow: SqlUnitOfWork, uow_factory: UowFactory) -> None:
        self._inner = StoredEdgeRecords(uow)
        self._uow_factory = uow_factory
        self.arrival: asyncio.Task[None] | None = None

    async def _add_person(self, workspace_id: int) -> None:
        async with self._uow_factory() as uow:
            await uow.people.add(workspace_id=workspace_id, external_id="U-nieuw", handle="nieuwkomer",
                                 display_name="Nieuwkomer", locale="nl", time_zone="Europe/Amsterdam", now=NOW)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def delete_waiting(self, workspace: Any) -> int:
        self.arrival = asyncio.create_task(self._add_person(workspace.id))
        await asyncio.wait({self.arrival}, timeout=0.5)  # with the workspace locked it waits for the commit
        return await self._inner.delete_waiting(workspace)


async def test_a_person_added_meanwhile_waits_and_then_finds_the_workspace_gone(uow_factory: UowFactory):
    await fill(uow_factory, "TB")
    await fill(uow_factory, "TA")
    edges: list[LateArrival] = []

    def edge(uow: SqlUnitOfWork) -> LateArrival:
        edges.append(LateArrival(uow, uow_factory))
        return edges[-1]

    done = await erase_workspace(uow_factory, lambda uow: find_workspace(uow, "TA"), edge, confirmed=True,
                                 even_if_installed=True)
    assert done is not None and done.erased and done.count("people") == 3
    with pytest.raises(IntegrityError):  # its workspace is gone: the request fails, and is tried again later
        await edges[0].arrival
    async with uow_factory() as uow:
        assert [w.external_id for w in await uow.session.scalars(select(Workspace))] == ["TB"]
