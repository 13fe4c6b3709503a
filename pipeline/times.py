"""Schedule times: wall-clock values at the venue, made absolute with the edition's zone."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_US_DATE = re.compile(r"^\d{1,2}[-/]\d{1,2}[-/]\d{4}")
EXAMPLE = "2019-06-23 09:30:00"


class TimeValueError(ValueError):
    """A value that is not a schedule time; the message says how to write one."""


def parse_time(value: object, zone: ZoneInfo) -> datetime:
    """Turn a frontmatter value into an aware datetime at the venue."""
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None) if value.tzinfo is None else None
        if naive is None:
            return value.astimezone(zone)
        return naive.replace(tzinfo=zone)
    if isinstance(value, date):
        raise TimeValueError(f"has a date but no time; write it as '{value.isoformat()} 09:30:00'")
    if isinstance(value, bool) or value is None:
        raise TimeValueError(f"is empty or not a time; write it as '{EXAMPLE}'")
    if isinstance(value, int | float):
        # YAML 1.1 reads 9:00 as sexagesimal 540; 9:00 alone also lacks the date.
        hint = ""
        if isinstance(value, int) and value >= 0:
            hours, minutes = divmod(value, 60)
            hint = f" (YAML read {hours}:{minutes:02d} as the number {value})"
        raise TimeValueError(f"is a number, not a time{hint}; write the date too: '{EXAMPLE}'")
    text = str(value).strip()
    match = _DATETIME.match(text)
    if match:
        year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=zone)
        except ValueError as exc:
            raise TimeValueError(f"{text!r} is not a real time ({exc})") from None
    if _US_DATE.match(text):
        raise TimeValueError(f"{text!r} puts the year last; write year-month-day: '{EXAMPLE}'")
    raise TimeValueError(f"{text!r} is not a time; write it as '{EXAMPLE}'")
