"""`vraagbot shell`: play every role of a demo workspace in the terminal, on the real handlers.

Lines look like what people type in Slack, prefixed with who types them:
    sanne: /vraag @anna #contracten Mag deze clausule blijven staan? | inschatting: ja | twijfel
    anna: knop hoort bij mijn werk          (press a button you were shown, by the start of its label:
                                             the newest that fits; 'knop 1 ...' picks question 1's,
                                             'knop' lists them)
    anna: antwoord Ja, die mag blijven.     (write in the thread of the newest question anna got;
                                             'antwoord 1 ...' picks question 1)
    focus anna 60                           (anna is in focus time for 60 minutes)
    klok +61m                               (let time pass: held questions and weekly messages go out)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from bot.platforms import Route
from handlers import dispatch
from handlers.addresses import ChannelAddress
from handlers.context import Actor, Deps
from handlers.messages import Button, DataExport, Image, OutgoingMessage, Result
from handlers.models import MessageKind
from handlers.personal_data import erase
from handlers.ports import PersonRecord, UnitOfWork
from nudges.delivery.outbox import OutboxDispatcher
from nudges.monthly import MonthlyPlanner
from nudges.planner import WeeklyPlanner
from storage.tables import OutboxMessage, TeamSchedule, TeamWeekFigures
from storage.uow import SqlUnitOfWork

PLATFORM, WORKSPACE = "shell", "demo"
TEAM_CHANNEL = "team"  # weekly team messages show up as "shell:team"
TEAM_ADDRESS = ChannelAddress(PLATFORM, TEAM_CHANNEL)
# `klok +7d` lets the time pass an hour at a time, planning and sending what fell due in each hour,
# as a running bot would have: so nothing is "past the grace window" just because the clock jumped.
CLOCK_STEP = timedelta(hours=1)


@dataclass(frozen=True)
class DemoPerson:
    handle: str
    name: str
    locale: str
    topics: tuple[str, ...] = ()


DEMO_PEOPLE = (
    DemoPerson("sanne", "Sanne", "nl"),
    DemoPerson("anna", "Anna", "nl", ("contracten", "privacy")),
    DemoPerson("lotte", "Lotte", "nl", ("contracten",)),
    DemoPerson("bram", "Bram", "en", ("security",)),
)

SHELL_HELP = """\
Typ wat een persoon doet, met zijn naam ervoor:   <naam>: <invoer>
  /vraag ...                 elk /vraag-commando (zie: sanne: /vraag help)
  knop <begin van label>     druk op de nieuwste knop die zo begint
  knop <nr> <begin van label>   druk op die knop bij vraag <nr>
  knop                       toon de knoppen van deze persoon, per vraag, nieuwste eerst
  antwoord [<nr>] <tekst>    antwoord in de draad van vraag <nr> (zonder nr: je nieuwste vraag)
Zonder naam:
  focus <naam> <minuten>     zet iemand in focustijd
  klok +<n>m | +<n>h | +<n>d laat tijd verstrijken: wat intussen aan de beurt was, gaat alsnog uit
  mensen                     wie zit in de demo-werkruimte
  help | stop"""


class ShellClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class ShellPresence:
    def __init__(self, clock: ShellClock) -> None:
        self._clock = clock
        self.focus_ends: dict[str, datetime] = {}

    async def focus_until(self, person: PersonRecord, platform: str) -> datetime | None:
        end = self.focus_ends.get(person.handle)
        return end if end and end > self._clock.now() else None


@dataclass
class ShellMessenger:
    """Prints each message under the name of whoever receives it, and remembers its buttons."""

    write: Callable[[str], None]
    names: dict[int, str] = field(default_factory=dict)
    inbox: dict[int, list[OutgoingMessage]] = field(default_factory=dict)

    async def send(self, message: OutgoingMessage) -> str | None:
        self.show(message)
        return f"shell:q{message.question_id}" if message.kind == MessageKind.QUESTION else None

    def show(self, message: OutgoingMessage) -> None:
        who = self.names.get(message.person_id or -1, message.channel or "?")
        self.write(f"  → {who}:")
        for line in message.text.splitlines():
            self.write(f"      {line}")
        if message.buttons:
            self.write("      " + " ".join(f"[{b.label}]" for b in message.buttons))
        if isinstance(message.attachment, DataExport):
            self.write("      bijlage/attachment (JSON):")
            for line in json.dumps(message.attachment.content, ensure_ascii=False, indent=2).splitlines():
                self.write(f"        {line}")
        elif isinstance(message.attachment, Image):  # a terminal shows no picture: what it shows, in words
            self.write(f"      bijlage/attachment ({message.attachment.filename}, "
                       f"{len(message.attachment.png) // 1024} KB): {message.attachment.alt_text}")
        if message.person_id is not None:
            self.inbox.setdefault(message.person_id, []).append(message)

    def last_question(self, person_id: int) -> int | None:
        """The newest question this person was shown: 'antwoord <tekst>' answers in its thread."""
        questions = [m.question_id for m in self.inbox.get(person_id, []) if m.kind == MessageKind.QUESTION]
        return questions[-1] if questions else None

    def find_button(self, person_id: int, wanted: str, question_id: int | None = None) -> ShownButton | None:
        """The newest button whose label starts with ``wanted``; with ``question_id``, the newest of that question."""
        wanted = wanted.strip().lower()
        for shown in self.buttons(person_id):
            if question_id is not None and shown.question_id != question_id:
                continue
            if shown.button.label.lower().startswith(wanted):
                return shown
        return None

    def buttons(self, person_id: int) -> list[ShownButton]:
        """Every button this person was shown, newest message first."""
        return [ShownButton(button, message.question_id)
                for message in reversed(self.inbox.get(person_id, [])) for button in message.buttons]


@dataclass(frozen=True)
class ShownButton:
    button: Button
    question_id: int | None  # the question of the message that carried it, if any


@dataclass
class ShellPlatform:
    """The terminal as a platform (bot/platforms.py): it prints what is sent and knows who is in
    focus time; people type, so there is no route, and nothing to start or stop."""

    messenger: ShellMessenger
    presence: ShellPresence
    name = PLATFORM

    def routes(self) -> list[Route]:
        return []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def close(self) -> None:
        return None


class Shell:
    def __init__(self, deps: Deps, dispatcher: OutboxDispatcher, messenger: ShellMessenger,
                 clock: ShellClock, presence: ShellPresence, write: Callable[[str], None],
                 planner: WeeklyPlanner | None = None, monthly: MonthlyPlanner | None = None) -> None:
        self.deps = replace(deps, on_queued=self._no_wait)  # the shell drains the outbox after each line
        self.dispatcher = dispatcher
        self.planner = planner  # weekly messages fall due as the shell's clock moves
        self.monthly = monthly  # and the monthly pictures after them
        self.messenger = messenger
        self.clock = clock
        self.presence = presence
        self.write = write
        self.people: dict[str, PersonRecord] = {}

    @staticmethod
    async def _no_wait() -> None:
        return None

    async def seed(self, *, reset: bool = False) -> None:
        """The demo workspace: created once and kept, or wiped and made anew with ``reset``."""
        async with self.deps.uow() as uow:
            workspace = await uow.workspaces.get_or_create(PLATFORM, WORKSPACE, "Demo")
            for demo in DEMO_PEOPLE:
                person = await uow.people.by_external_id(workspace.id, demo.handle)
                if person is not None and reset:
                    await erase(uow, person.id)
                    person = None
                if person is None:
                    person = await uow.people.add(workspace_id=workspace.id, external_id=demo.handle,
                                                  handle=demo.handle, display_name=demo.name, locale=demo.locale,
                                                  time_zone=self.deps.policy.default_time_zone,
                                                  now=self.clock.now())
                    for topic in demo.topics:
                        await uow.topics.add(person.id, topic, self.clock.now())
                self.people[demo.handle] = person
                self.messenger.names[person.id] = demo.handle
            if reset:
                await _forget_team_channel(uow, workspace.id)

    async def run(self, stream: TextIO, *, echo: bool, prompt: Callable[[], None] | None = None) -> None:
        while True:
            if prompt:
                prompt()
            line = stream.readline()
            if not line:
                break
            line = line.rstrip("\n")
            if echo and line.strip():
                self.write(line if line.startswith("#") else f"» {line}")
            if not await self.execute(line):
                break

    async def execute(self, line: str) -> bool:
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        if text.lower() in ("stop", "exit", "quit"):
            return False
        handled = await self._meta(text)
        if not handled:
            person_input = re.match(r"^([\w.-]+)\s*[:>]\s*(.*)$", text, re.S)
            if not person_input:
                self.write("  ? Begin met een naam, bijvoorbeeld 'sanne: /vraag help', of typ 'help'.")
                return True
            await self._as_person(person_input.group(1).lower(), person_input.group(2).strip())
        await self._deliver_due()
        return True

    async def _deliver_due(self) -> None:
        if self.planner is not None:
            await self.planner.plan_due()
        if self.monthly is not None:
            await self.monthly.plan_due()
        await self.dispatcher.dispatch_due()

    async def _let_time_pass(self, delta: timedelta) -> None:
        end = self.clock.now() + delta
        while self.clock.now() < end:
            self.clock.advance(min(CLOCK_STEP, end - self.clock.now()))
            await self._deliver_due()

    async def _meta(self, text: str) -> bool:
        words = text.split()
        command = words[0].lower()
        if command in ("help", "hulp"):
            self.write(SHELL_HELP)
        elif command in ("mensen", "people"):
            for demo in DEMO_PEOPLE:
                topics = ", ".join(f"#{t}" for t in demo.topics) or "-"
                self.write(f"  {demo.handle} ({demo.name}, {demo.locale}) topics: {topics}")
        elif command == "focus" and len(words) == 3 and words[2].isdigit():
            self.presence.focus_ends[words[1].lower()] = self.clock.now() + timedelta(minutes=int(words[2]))
            self.write(f"  ({words[1]} zit {words[2]} minuten in focustijd)")
        elif command in ("klok", "clock") and len(words) == 2 and (delta := _duration(words[1])):
            zone = self.deps.policy.default_time_zone
            local = (self.clock.now() + delta).astimezone(ZoneInfo(zone))
            self.write(f"  (klok: {local:%Y-%m-%d %H:%M} {zone})")  # then what went out on the way there
            await self._let_time_pass(delta)
        else:
            return False
        return True

    async def _as_person(self, handle: str, entry: str) -> None:
        person = self.people.get(handle)
        if person is None:
            self.write(f"  ? {handle} zit niet in de demo-werkruimte. Typ 'mensen'.")
            return
        # Everyone in the demo shares one team channel, so /vraag team-nudge works here too. The
        # person's language goes along, as Slack and Teams send it: help and refusals follow it.
        actor = Actor(PLATFORM, WORKSPACE, person.external_id, handle=person.handle,
                      display_name=person.display_name, workspace_name="Demo", channel=TEAM_CHANNEL,
                      locale=person.locale)
        lowered = entry.lower()
        if lowered.startswith("/vraag"):
            result = await dispatch.handle_text(self.deps, actor, entry[len("/vraag"):])
        elif lowered in ("knop", "knoppen", "button", "buttons"):
            self._list_buttons(person, handle)
            return
        elif match := re.match(r"^(?:knop|button)\s+(?:#?(\d+)\s+)?(.+)$", entry, re.I | re.S):
            question_id = int(match.group(1)) if match.group(1) else None
            shown = self.messenger.find_button(person.id, match.group(2), question_id)
            if shown is None:
                where = f" bij vraag #{question_id}" if question_id is not None else ""
                self.write(f"  ? {handle} heeft{where} geen knop die zo begint. Typ '{handle}: knop' voor de lijst.")
                return
            button = shown.button
            where = f" bij vraag #{shown.question_id}" if shown.question_id is not None else ""
            self.write(f"  ({handle} drukt op [{button.label}]{where})")
            result = await dispatch.handle_action(self.deps, actor, button.action, button.value)
        elif match := re.match(r"^(?:antwoord|reply)\s+(?:#?(\d+)\s+)?(.+)$", entry, re.I | re.S):
            question_id = int(match.group(1)) if match.group(1) else self.messenger.last_question(person.id)
            if question_id is None:
                self.write(f"  ? {handle} heeft nog geen vraag gekregen om op te antwoorden.")
                return
            result = await dispatch.handle_reply(self.deps, actor, question_id, match.group(2))
        else:
            self.write("  ? Gebruik /vraag ..., knop <label> of antwoord <nr> <tekst>.")
            return
        self._show_result(person, result)

    def _list_buttons(self, person: PersonRecord, handle: str) -> None:
        shown = self.messenger.buttons(person.id)
        if not shown:
            self.write(f"  ({handle} heeft nog geen knoppen gekregen)")
            return
        self.write(f"  (knoppen van {handle}, nieuwste eerst; 'knop <label>' drukt op de bovenste die past, "
                   f"'knop <nr> <label>' op die bij vraag <nr>)")
        for question_id in dict.fromkeys(s.question_id for s in shown):  # newest first, each question once
            labels = dict.fromkeys(s.button.label for s in shown if s.question_id == question_id)
            where = f"vraag #{question_id}" if question_id is not None else "overig"
            self.write(f"    {where}: " + " ".join(f"[{label}]" for label in labels))

    def _show_result(self, person: PersonRecord, result: Result) -> None:
        for reply in result.replies:
            self.messenger.show(replace(reply, person_id=person.id))


async def _forget_team_channel(uow: UnitOfWork, workspace_id: int) -> None:
    """--reset: the demo's team channel starts anew too (its weekly setting, the weeks it was sent,
    the figures kept for them). Erasing the people does not reach these: they belong to no one."""
    assert isinstance(uow, SqlUnitOfWork)  # the shell runs on bot.runtime's storage
    session = uow.session
    await session.execute(delete(TeamSchedule).where(TeamSchedule.workspace_id == workspace_id))
    await session.execute(delete(TeamWeekFigures).where(TeamWeekFigures.workspace_id == workspace_id))
    await session.execute(delete(OutboxMessage).where(OutboxMessage.person_id.is_(None),
                                                      OutboxMessage.channel == str(TEAM_ADDRESS)))


def _duration(raw: str) -> timedelta | None:
    match = re.fullmatch(r"\+?(\d+)([mhd])", raw.lower())
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount if unit == "h" else 24 * amount)
