"""iCalendar files (RFC 5545): the whole schedule, each edition, and each item.

Events carry DTSTART/DTEND in the venue's zone with a TZID and the VTIMEZONE it needs, so a
calendar app shows 15:30 in Phoenix as 22:30 UTC wherever the reader is. Items without a
time are left out: a calendar event needs one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component, Event, Timezone

from .errors import PipelineError
from .model import EditionInfo, Item, Program, SiteConfig
from .output_cache import OutputCache
from .published import location, page_url, uid_host

PRODID = "-//pipeline//schedule calendar//EN"
# icalendar folds a line once it reaches 75 octets.
_FOLD_AT = 75


def outputs(program: Program) -> dict[str, bytes]:
    stamp = dtstamp(program)
    site = program.site
    # Each event goes into three files (the whole schedule, its edition, its own), so it is
    # built and serialised once and the files are assembled from those bytes; both the event
    # and each file's header come from the last build when what they are made of is unchanged.
    cache = OutputCache("calendar")

    def header(name: str) -> bytes:
        return cache.get(_header, name)

    def entry(info: EditionInfo, item: Item) -> tuple[EditionInfo, Item, bytes]:
        return info, item, cache.get(event_bytes, site, info, item, stamp)

    built = [[entry(edition.info, item) for item in edition.items] for edition in program.editions]
    everything = [entry for entries in built for entry in entries]
    files = {"calendar.ics": _assemble(site.title, everything, header)}
    for edition, entries in zip(program.editions, built, strict=True):
        name = f"{site.title}: {edition.info.name}"
        files[f"calendar/{edition.id}.ics"] = _assemble(name, entries, header)
        for one in entries:
            item = one[1]
            if item.start is not None:
                files[f"calendar/items/{item.id}.ics"] = _assemble(item.title, [one], header)
    cache.save()
    return files


def dtstamp(program: Program) -> datetime:
    """DTSTAMP for every event. RFC 5545 requires one, but the wall clock would make two builds
    of the same content differ; so it is SOURCE_DATE_EPOCH (the reproducible-builds convention)
    when set, else the latest end time in the schedule, which only moves when the schedule does."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise PipelineError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds") from None
    ends = [(item.end or item.start).astimezone(UTC) for item in program.items if item.start]
    return max(ends) if ends else datetime(1970, 1, 1, tzinfo=UTC)


def calendar_bytes(
    site: SiteConfig, name: str, entries: Iterable[tuple[EditionInfo, Item]], stamp: datetime
) -> bytes:
    return _assemble(name, [(i, item, event_bytes(site, i, item, stamp)) for i, item in entries])


def event_bytes(site: SiteConfig, info: EditionInfo, item: Item, stamp: datetime) -> bytes:
    """One VEVENT as it appears in a calendar file (CRLF-terminated lines); b"" without a time."""
    if item.start is None:
        return b""
    return _to_ical(_event(site, info, item, stamp))


def _assemble(
    name: str,
    entries: list[tuple[EditionInfo, Item, bytes]],
    header: Callable[[str], bytes] | None = None,
) -> bytes:
    """What Calendar.to_ical() gives for these events: it writes a component's properties, then
    each subcomponent's lines, each line folded and CRLF-terminated, so concatenating the
    serialised parts in that order is byte for byte the same."""
    years: dict[str, set[int]] = {}
    for info, item, _data in entries:
        if item.start is not None and info.timezone != "UTC":
            years.setdefault(info.timezone, set()).update(
                {item.start.year, (item.end or item.start).year}
            )
    # VTIMEZONEs first and in a fixed order (icalendar's add_missing_timezones walks a set),
    # covering only the years the events use, which keeps each zone a few lines long.
    parts = [(header or _header)(name)]
    parts += [_vtimezone(tzid, min(years[tzid]), max(years[tzid])) for tzid in sorted(years)]
    parts += [data for _info, item, data in entries if item.start is not None]
    parts.append(b"END:VCALENDAR\r\n")
    return b"".join(parts)


@lru_cache(maxsize=1024)
def _header(name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    data: bytes = _to_ical(calendar)
    end = b"END:VCALENDAR\r\n"
    assert data.endswith(end)
    return data[: -len(end)]


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    return _to_ical(
        Timezone.from_tzid(
            tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
        )
    )


def _to_ical(component: Component) -> bytes:
    """component.to_ical(), with the lines folded by _fold."""
    return b"".join(_fold(line) + b"\r\n" for line in component.content_lines() if line)


def _fold(line: str) -> bytes:
    """A content line in UTF-8, folded exactly as icalendar's _foldline folds it, which walks
    each character in Python and was most of this stage's time. A folded line holds at most
    74 octets, never splits a character, and never ends with a backslash or caret, so
    escapes stay whole."""
    data = line.encode("utf-8")
    chunks = []
    start = 0
    while len(data) - start >= _FOLD_AT:
        end = start + _FOLD_AT - 1
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: inside a character
            end -= 1
        if data[end - 1] in b"\\^":
            end -= 1
        chunks.append(data[start:end])
        start = end
    chunks.append(data[start:])
    return b"\r\n ".join(chunks)


def _event(site: SiteConfig, info: EditionInfo, item: Item, stamp: datetime) -> Event:
    assert item.start is not None
    event = Event()
    event.add("uid", f"{item.id}@{uid_host(site)}")
    event.add("dtstamp", stamp)
    event.add("dtstart", _at(item.start, info))
    if item.end is not None:
        event.add("dtend", _at(item.end, info))
    event.add("summary", item.title)
    where = location(item, info.venue)
    if item.location and info.venue:
        where = f"{item.location}, {info.venue}"
    if where:
        event.add("location", where)
    description = _description(item)
    if description:
        event.add("description", description)
    url = page_url(site, item.id)
    if "://" in url:
        event.add("url", url)
    event.add("categories", [item.type_label])
    return event


def _at(value: datetime, info: EditionInfo) -> datetime:
    # A UTC edition is written with a trailing Z and needs no VTIMEZONE.
    return (
        value.astimezone(UTC)
        if info.timezone == "UTC"
        else value.astimezone(ZoneInfo(info.timezone))
    )


def _description(item: Item) -> str:
    lines = []
    if item.speakers:
        lines.append("Speakers: " if len(item.speakers) > 1 else "Speaker: ")
        lines[-1] += "; ".join(_person(p.name, p.affiliation) for p in item.speakers)
    if item.moderator:
        lines.append("Moderator: " + _person(item.moderator.name, item.moderator.affiliation))
    if item.panelists:
        lines.append(
            "Panelists: " + "; ".join(_person(p.name, p.affiliation) for p in item.panelists)
        )
    for paper in item.papers:
        authors = f" ({paper.authors_text})" if paper.authors else ""
        lines.append(f"- {paper.title}{authors}")
    if item.abstract_text:
        lines += ["", item.abstract_text]
    return "\n".join(lines).strip()


def _person(name: str, affiliation: str) -> str:
    return f"{name} ({affiliation})" if affiliation else name
