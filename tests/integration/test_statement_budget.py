"""How many SQL statements the hot use cases cost (issue 12, "lean work"), on SQLite and PostgreSQL.

The request path around a use case (inbox insert, claim, mark done) takes about 4 of the 15
statements an ask, a thread reply or a button press may cost in all; the use case itself gets the
other 11, everything it does through the ports included: registering the people involved, routing,
storing, queueing the outbox messages. Counted for people who are known already (the common case;
someone's first contact may cost a few more).

Only statements are asserted. Transactions are counted and shown on failure, but the request path
runs a use case's units of work inside one ambient transaction, so their number here says little.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers import dispatch, people
from handlers.actions import Action
from handlers.asking import mark_delivered
from handlers.context import Actor, Deps
from handlers.messages import Result
from handlers.ports import PersonRecord
from nudges.texts.catalog import load_catalog
from storage.uow import make_uow_factory
from tests.integration.statements import Counted, counting

USE_CASE_STATEMENTS = 11

CATALOG = load_catalog()
TEAM = "T1"


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


class NobodyInFocus:
    async def focus_until(self, person: PersonRecord, platform: str) -> datetime | None:
        return None


def actor(handle: str) -> Actor:
    """As the Slack directory describes a known person (users.info): name, handle, locale and zone."""
    return Actor("slack", TEAM, f"U-{handle}", handle=handle, display_name=handle.title(), locale="nl-NL",
                 time_zone="Europe/Amsterdam")


class Team:
    """Sanne asks; Anna and Lotte have #contracten in their role."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.clock = Clock()
        self.deps = Deps(uow=make_uow_factory(engine), clock=self.clock, presence=NobodyInFocus(), catalog=CATALOG)

    async def setup(self) -> None:
        async with self.deps.uow() as uow:
            workspace = await uow.workspaces.get_or_create("slack", TEAM, "Team")
            for handle, topics in (("sanne", ()), ("anna", ("contracten", "privacy")), ("lotte", ("contracten",))):
                person = await uow.people.add(workspace_id=workspace.id, external_id=f"U-{handle}", handle=handle,
                                              display_name=handle.title(), locale="nl",
                                              time_zone="Europe/Amsterdam", now=self.clock.now())
                for topic in topics:
                    await uow.topics.add(person.id, topic, self.clock.now())

    async def ask_anna(self) -> Result:
        """The Slack command path: the named colleague is registered first, then the ask."""
        await people.register(self.deps, actor("anna"))
        return await dispatch.handle_text(self.deps, actor("sanne"), "<@U-anna|anna> Mag dit zo? | inschatting: ja")

    async def delivered(self, result: Result, thread_ref: str) -> int:
        """What the outbox does once the question reached the expert."""
        assert result.ok and result.question_id is not None, result
        async with self.deps.uow() as uow:
            await mark_delivered(uow, result.question_id, thread_ref, self.clock.now())
        self.clock.current += timedelta(minutes=5)
        return result.question_id

    async def counted(self, work: Callable[[], Awaitable[Result]]) -> tuple[Result, Counted]:
        with counting(self.engine) as counted:
            result = await work()
        return result, counted


@pytest.fixture
async def team(engine: AsyncEngine) -> Team:
    team = Team(engine)
    await team.setup()
    return team


def within_budget(result: Result, counted: Counted, **writes: int) -> None:
    """``writes``: the writing statements per table the use case must have made (it did its work)."""
    assert result.ok, result
    assert len(counted.statements) <= USE_CASE_STATEMENTS, f"over the budget of {USE_CASE_STATEMENTS}: {counted}"
    assert counted.writes == writes, f"other writes than expected: {counted}"


async def test_ask_a_named_expert(team: Team) -> None:
    result, counted = await team.counted(team.ask_anna)
    within_budget(result, counted, questions=1, outbox=1)


async def test_ask_by_topic(team: Team) -> None:
    async def ask_by_topic() -> Result:
        return await dispatch.handle_text(team.deps, actor("sanne"), "#contracten Klopt deze termijn? | complex")

    result, counted = await team.counted(ask_by_topic)
    within_budget(result, counted, questions=1, outbox=2)  # to the expert, and the in-role nudge


async def test_ask_a_named_expert_about_their_topic(team: Team) -> None:
    """In-role: the question goes out tagged werk and the asker gets a nudge (with its rotation)."""
    async def ask() -> Result:
        await people.register(team.deps, actor("anna"))
        return await dispatch.handle_text(team.deps, actor("sanne"), "<@U-anna|anna> #privacy Mag dit zo? | twijfel")

    result, counted = await team.counted(ask)
    within_budget(result, counted, questions=1, outbox=2)


@pytest.mark.parametrize(("text", "curt"), [
    ("Ja, dat mag zo. Artikel 7 regelt precies dit geval, dus je kunt het zo versturen.", False),
    ("Zie wiki.", True),  # detected curt: a signal and the asker's private reframing besides
], ids=["first-reply", "curt-first-reply"])
async def test_thread_reply(team: Team, text: str, curt: bool) -> None:
    await team.delivered(await team.ask_anna(), "D1:1700000000.000100")

    async def reply() -> Result:
        return await dispatch.handle_thread_message(team.deps, actor("anna"), "D1:1700000000.000100", text,
                                                    event_id="Ev1")

    result, counted = await team.counted(reply)
    # Relay and outcome prompt to the asker; the question's first reply and status.
    within_budget(result, counted, processed_events=1, replies=1, questions=1, outbox=2 + curt,
                  **({"signals": 1} if curt else {}))


async def test_press_tag_werk(team: Team) -> None:
    question_id = await team.delivered(await team.ask_anna(), "D1:1700000000.000200")

    async def press() -> Result:
        return await dispatch.handle_action(team.deps, actor("anna"), Action.TAG_WERK, str(question_id))

    result, counted = await team.counted(press)
    within_budget(result, counted, questions=1, outbox=1)  # the tag, and the asker's notice


async def test_press_outcome_confirmed(team: Team) -> None:
    question_id = await team.delivered(await team.ask_anna(), "D1:1700000000.000300")
    replied = await dispatch.handle_thread_message(team.deps, actor("anna"), "D1:1700000000.000300",
                                                   "Ja, dat klopt, artikel 7 regelt dit precies zo.", event_id="Ev2")
    assert replied.replies, replied

    async def press() -> Result:
        return await dispatch.handle_action(team.deps, actor("sanne"), Action.OUTCOME_CONFIRMED, str(question_id))

    result, counted = await team.counted(press)
    within_budget(result, counted, questions=1, signals=1, outbox=1)  # outcome, confirmation, nudge
