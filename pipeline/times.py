"""Schedule times: wall-clock values at the venue, made absolute with the edition's zone."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

_DATETIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_US_DATE = re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")
EXAMPLE = "2019-06-23 09:30:00"
# Years outside this range are typing mistakes, and near year 1 or 9999 converting to UTC
# overflows in the calendar and feed stages.
FIRST_YEAR, LAST_YEAR = 1900, 2999


class TimeValueError(ValueError):
    """A value that is not a schedule time; the message says how to write one."""


def parse_time(value: object, zone: ZoneInfo, written: str = "") -> datetime:
    """Turn a frontmatter value into an aware datetime at the venue.

    `written` is the value as the file spells it, which names what YAML turned into a number.
    """
    if isinstance(value, datetime):
        _check_year(value.year, written or str(value))
        if value.tzinfo is None:
            return value.replace(tzinfo=zone)
        return value.astimezone(zone)
    if isinstance(value, date):
        raise TimeValueError(f"has a date but no time; write it as '{value.isoformat()} 09:30:00'")
    if isinstance(value, bool) or value is None:
        raise TimeValueError(f"is empty or not a time; write it as '{EXAMPLE}'")
    if isinstance(value, int | float):
        if _CLOCK.match(written.strip()):
            # YAML 1.1 reads 9:00 as the base-60 number 540.
            raise TimeValueError(
                f"'{written.strip()}' has no date (YAML read it as the number {value}); "
                f"write the date too: '{EXAMPLE}'"
            )
        raise TimeValueError(f"is the number {value}, not a time; write it as '{EXAMPLE}'")
    if not isinstance(value, str):
        raise TimeValueError(f"is not a time; write it as '{EXAMPLE}'")
    text = value.strip()
    match = _DATETIME.match(text)
    if match:
        year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
        _check_year(year, text)
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=zone)
        except ValueError as exc:
            raise TimeValueError(f"{text!r} is not a real time ({exc})") from None
    if _US_DATE.match(text):
        raise TimeValueError(f"{text!r} puts the year last; write year-month-day: '{EXAMPLE}'")
    if _CLOCK.match(text):
        raise TimeValueError(f"{text!r} has no date; write the date too: '{EXAMPLE}'")
    shown = text if len(text) <= 40 else text[:40] + "…"
    raise TimeValueError(f"{shown!r} is not a time; write it as '{EXAMPLE}'")


def _check_year(year: int, text: str) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise TimeValueError(f"{text!r} has the year {year}; is it a typing mistake?")
