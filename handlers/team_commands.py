"""The weekly-nudge part of the command grammar (see handlers.commands):
    team-nudge                                     show this channel's setting and next send time
    team-nudge <dag> <HH:MM> [<tijdzone>] [nl|en]  set it, e.g. team-nudge maandag 09:00 Europe/Amsterdam nl
    team-nudge uit | aan                           stop it / start it again (English: off | on)
    erkenning | erkenning uit | erkenning aan      your name in the weekly recognition (recognition off | on)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.errors import InvalidInput
from handlers.models import LOCALES
from handlers.schedule_time import canonical_zone


@dataclass(frozen=True)
class ShowTeamNudge:
    pass


@dataclass(frozen=True)
class SetTeamNudge:
    weekday: int  # 0 = Monday
    hour: int
    minute: int
    time_zone: str | None = None  # None: the person's own time zone
    language: str | None = None  # None: the person's own language


@dataclass(frozen=True)
class SwitchTeamNudge:
    enabled: bool


@dataclass(frozen=True)
class Recognition:
    opt_out: bool | None = None  # None: show the current choice


TeamCommand = ShowTeamNudge | SetTeamNudge | SwitchTeamNudge | Recognition

TEAM_NUDGE = {"team-nudge", "teamnudge", "team_nudge", "weeknudge"}
RECOGNITION = {"erkenning", "recognition"}
_OFF = {"uit", "off", "stop"}
_ON = {"aan", "on", "start"}
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_DAYS = (
    ("maandag", "ma", "monday", "mon"),
    ("dinsdag", "di", "tuesday", "tue", "tues"),
    ("woensdag", "wo", "wednesday", "wed"),
    ("donderdag", "do", "thursday", "thu", "thur", "thurs"),
    ("vrijdag", "vr", "friday", "fri"),
    ("zaterdag", "za", "saturday", "sat"),
    ("zondag", "zo", "sunday", "sun"),
)
WEEKDAYS = {name: number for number, names in enumerate(_DAYS) for name in names}


def parse_team_nudge(rest: str) -> TeamCommand:
    words = rest.split()
    if not words:
        return ShowTeamNudge()
    if len(words) == 1 and words[0].lower() in _OFF | _ON:
        return SwitchTeamNudge(enabled=words[0].lower() in _ON)
    if len(words) < 2 or len(words) > 4:
        raise InvalidInput("error.team_nudge_usage")
    day, clock, *extra = words
    weekday = WEEKDAYS.get(day.lower().rstrip(","))
    if weekday is None:
        raise InvalidInput("error.team_nudge_weekday", day=day[:30])
    match = _TIME.match(clock)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InvalidInput("error.team_nudge_time", time=clock[:30])
    zone = language = None
    for word in extra:
        if word.lower() in LOCALES and language is None:
            language = word.lower()
        elif (found := canonical_zone(word)) and zone is None:
            zone = found
        else:
            raise InvalidInput("error.team_nudge_zone", zone=word[:60])
    return SetTeamNudge(weekday, int(match.group(1)), int(match.group(2)), zone, language)


def parse_recognition(rest: str) -> Recognition:
    word = rest.strip().lower()
    if not word:
        return Recognition()
    if word in _OFF | _ON:
        return Recognition(opt_out=word in _OFF)
    raise InvalidInput("error.recognition_usage")
