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

The shell's own lines (this help, what it narrates, what it did not understand) come from the text
catalog (keys "shell.*") in the language of VRAAGBOT_DEFAULT_LANGUAGE; what the bot sends follows each
person's language. Its commands have English words too (button, answer, clock, people), and the Dutch
ones work in either language, so a script keeps running whatever the setting.
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
from nudges.texts.catalog import TextCatalog, load_catalog
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

# Command words, Dutch and English alike in either language: a script written for one keeps running.
HELP_WORDS = ("help", "hulp")
PEOPLE_WORDS = ("mensen", "people")
CLOCK_WORDS = ("klok", "clock")
STOP_WORDS = ("stop", "exit", "quit")
LIST_BUTTON_WORDS = ("knop", "knoppen", "button", "buttons")
# 'knop [<nr>] <label>' and 'antwoord [<nr>] <tekst>', with an optional question number.
PRESS = re.compile(r"^(?:knop|button)\s+(?:#?(\d+)\s+)?(.+)$", re.I | re.S)
ANSWER = re.compile(r"^(?:antwoord|answer|reply)\s+(?:#?(\d+)\s+)?(.+)$", re.I | re.S)


@dataclass(frozen=True)
class ShellWords:
    """The shell's own lines in one language: the catalog's "shell.*" texts."""

    catalog: TextCatalog
    language: str

    @classmethod
    def dutch(cls) -> ShellWords:
        return cls(load_catalog(), "nl")

    def __call__(self, key: str, **params: object) -> str:
        return self.catalog.text(self.language, f"shell.{key}", **params)


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
    words: ShellWords = field(default_factory=ShellWords.dutch)
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
            self.write(f"      {self.words('attachment')} (JSON):")
            for line in json.dumps(message.attachment.content, ensure_ascii=False, indent=2).splitlines():
                self.write(f"        {line}")
        elif isinstance(message.attachment, Image):  # a terminal shows no picture: what it shows, in words
            self.write(f"      {self.words('attachment')} ({message.attachment.filename}, "
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
        self.words = messenger.words  # one language for everything the shell itself prints
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
        if text.lower() in STOP_WORDS:
            return False
        handled = await self._meta(text)
        if not handled:
            person_input = re.match(r"^([\w.-]+)\s*[:>]\s*(.*)$", text, re.S)
            if not person_input:
                self.write("  ? " + self.words("no_name"))
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
        parts = text.split()
        command = parts[0].lower()
        if command in HELP_WORDS:
            self.write(self.words("help"))
        elif command in PEOPLE_WORDS:
            for demo in DEMO_PEOPLE:
                topics = ", ".join(f"#{t}" for t in demo.topics) or "-"
                self.write("  " + self.words("person", person=demo.handle, name=demo.name, language=demo.locale,
                                             topics=topics))
        elif command == "focus" and len(parts) == 3 and parts[2].isdigit():
            minutes = int(parts[2])
            self.presence.focus_ends[parts[1].lower()] = self.clock.now() + timedelta(minutes=minutes)
            self.write("  " + self.words("focus", person=parts[1], count=minutes))
        elif command in CLOCK_WORDS and len(parts) == 2 and (delta := _duration(parts[1])):
            zone = self.deps.policy.default_time_zone
            local = (self.clock.now() + delta).astimezone(ZoneInfo(zone))
            self.write("  " + self.words("clock", time=f"{local:%Y-%m-%d %H:%M}", zone=zone))  # then what went out
            await self._let_time_pass(delta)
        else:
            return False
        return True

    async def _as_person(self, handle: str, entry: str) -> None:
        person = self.people.get(handle)
        if person is None:
            self.write("  ? " + self.words("unknown_person", person=handle))
            return
        # Everyone in the demo shares one team channel, so /vraag team-nudge works here too. The
        # person's language goes along, as Slack and Teams send it: help and refusals follow it.
        actor = Actor(PLATFORM, WORKSPACE, person.external_id, handle=person.handle,
                      display_name=person.display_name, workspace_name="Demo", channel=TEAM_CHANNEL,
                      locale=person.locale)
        lowered = entry.lower()
        if lowered.startswith("/vraag"):
            result = await dispatch.handle_text(self.deps, actor, entry[len("/vraag"):])
        elif lowered in LIST_BUTTON_WORDS:
            self._list_buttons(person, handle)
            return
        elif match := PRESS.match(entry):
            question_id = int(match.group(1)) if match.group(1) else None
            shown = self.messenger.find_button(person.id, match.group(2), question_id)
            if shown is None:
                self.write("  ? " + (self.words("no_button", person=handle) if question_id is None else
                                     self.words("no_button.question", person=handle, id=question_id)))
                return
            button = shown.button
            self.write("  " + (self.words("pressed", person=handle, label=button.label)
                               if shown.question_id is None else
                               self.words("pressed.question", person=handle, label=button.label,
                                          id=shown.question_id)))
            result = await dispatch.handle_action(self.deps, actor, button.action, button.value)
        elif match := ANSWER.match(entry):
            question_id = int(match.group(1)) if match.group(1) else self.messenger.last_question(person.id)
            if question_id is None:
                self.write("  ? " + self.words("nothing_to_answer", person=handle))
                return
            result = await dispatch.handle_reply(self.deps, actor, question_id, match.group(2))
        else:
            self.write("  ? " + self.words("unknown_entry"))
            return
        self._show_result(person, result)

    def _list_buttons(self, person: PersonRecord, handle: str) -> None:
        shown = self.messenger.buttons(person.id)
        if not shown:
            self.write("  " + self.words("no_buttons", person=handle))
            return
        self.write("  " + self.words("buttons", person=handle))
        for question_id in dict.fromkeys(s.question_id for s in shown):  # newest first, each question once
            labels = dict.fromkeys(s.button.label for s in shown if s.question_id == question_id)
            where = (self.words("buttons.question", id=question_id) if question_id is not None
                     else self.words("buttons.other"))
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
