"""`vraagbot shell`: play every role of a demo workspace in the terminal, on the real handlers.

Lines look like what people type in Slack, prefixed with who types them:
    sanne: /vraag @anna #contracten Mag deze clausule blijven staan? | inschatting: ja | twijfel
    anna: knop hoort bij mijn werk          (press a button you were shown, by the start of its label)
    anna: antwoord Ja, die mag blijven.     (write in the thread of the newest question anna got;
                                             'antwoord 1 ...' picks question 1)
    focus anna 60                           (anna is in focus time for 60 minutes)
    klok +61m                               (let time pass: held questions go out)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.platforms import Route
from handlers import dispatch
from handlers.context import Actor, Deps
from handlers.messages import Button, DataExport, OutgoingMessage, Result
from handlers.models import MessageKind
from handlers.personal_data import erase
from handlers.ports import PersonRecord
from nudges.delivery.outbox import OutboxDispatcher
from nudges.planner import WeeklyPlanner

PLATFORM, WORKSPACE = "shell", "demo"
TEAM_CHANNEL = "team"  # weekly team messages show up as "shell:team"


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
  knop <begin van label>     druk op een knop die deze persoon kreeg
  antwoord [<nr>] <tekst>    antwoord in de draad van vraag <nr> (zonder nr: je nieuwste vraag)
Zonder naam:
  focus <naam> <minuten>     zet iemand in focustijd
  klok +<n>m | +<n>h         laat tijd verstrijken
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
        if message.person_id is not None:
            self.inbox.setdefault(message.person_id, []).append(message)

    def last_question(self, person_id: int) -> int | None:
        """The newest question this person was shown: 'antwoord <tekst>' answers in its thread."""
        questions = [m.question_id for m in self.inbox.get(person_id, []) if m.kind == MessageKind.QUESTION]
        return questions[-1] if questions else None

    def find_button(self, person_id: int, wanted: str) -> Button | None:
        wanted = wanted.strip().lower()
        for message in reversed(self.inbox.get(person_id, [])):
            for button in message.buttons:
                if button.label.lower().startswith(wanted):
                    return button
        return None


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
                 planner: WeeklyPlanner | None = None) -> None:
        self.deps = replace(deps, on_queued=self._no_wait)  # the shell drains the outbox after each line
        self.dispatcher = dispatcher
        self.planner = planner  # weekly messages fall due as the shell's clock moves
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
        if self.planner is not None:
            await self.planner.plan_due()
        await self.dispatcher.dispatch_due()
        return True

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
            self.clock.advance(delta)
            local = self.clock.now().astimezone(ZoneInfo(self.deps.policy.default_time_zone))
            self.write(f"  (klok: {local:%Y-%m-%d %H:%M} {self.deps.policy.default_time_zone})")
        else:
            return False
        return True

    async def _as_person(self, handle: str, entry: str) -> None:
        person = self.people.get(handle)
        if person is None:
            self.write(f"  ? {handle} zit niet in de demo-werkruimte. Typ 'mensen'.")
            return
        # Everyone in the demo shares one team channel, so /vraag team-nudge works here too.
        actor = Actor(PLATFORM, WORKSPACE, person.external_id, handle=person.handle,
                      display_name=person.display_name, workspace_name="Demo", channel=TEAM_CHANNEL)
        lowered = entry.lower()
        if lowered.startswith("/vraag"):
            result = await dispatch.handle_text(self.deps, actor, entry[len("/vraag"):])
        elif lowered.startswith(("knop ", "button ")):
            button = self.messenger.find_button(person.id, entry.split(" ", 1)[1])
            if button is None:
                self.write(f"  ? {handle} heeft geen knop die zo begint.")
                return
            self.write(f"  ({handle} drukt op [{button.label}])")
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

    def _show_result(self, person: PersonRecord, result: Result) -> None:
        for reply in result.replies:
            self.messenger.show(replace(reply, person_id=person.id))


def _duration(raw: str) -> timedelta | None:
    match = re.fullmatch(r"\+?(\d+)([mhd])", raw.lower())
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(minutes=amount) if unit == "m" else timedelta(hours=amount if unit == "h" else 24 * amount)
