"""Times as a person reads them: in their own time zone and language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time


def local_when(moment: datetime, *, now: datetime, time_zone: str, locale: str) -> str:
    """``14:30`` today, otherwise ``di 24 nov 14:30`` (or the English equivalent)."""
    zone = ZoneInfo(time_zone)
    local, today = moment.astimezone(zone), now.astimezone(zone)
    clock = format_time(local, format="HH:mm", locale=locale)
    if local.date() == today.date():
        return clock
    return f"{format_date(local.date(), format='EEE d MMM', locale=locale)} {clock}"
