"""iCalendar files (RFC 5545): the whole schedule, each edition, and each item.

Events carry DTSTART/DTEND in the venue's zone with a TZID and the VTIMEZONE it needs, so a
calendar app shows 15:30 in Phoenix as 22:30 UTC wherever the reader is. Items without a
time are left out: a calendar event needs one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from . import digests
from .errors import PipelineError
from .joined import Content, Joined
from .model import EditionInfo, Item, Program, SiteConfig
from .output_cache import OutputCache
from .parallel import after_result
from .published import location, page_url, uid_host

if TYPE_CHECKING:
    from icalendar import Component

PRODID = "-//pipeline//schedule calendar//EN"
# icalendar folds a line once it reaches 75 octets.
_FOLD_AT = 75


def outputs(program: Program) -> dict[str, Content]:
    stamp = dtstamp(program)
    site = program.site
    # Each event goes into three files (the whole schedule, its edition, its own), so it is
    # built and serialised once, with its own file, and the other files are assembled from
    # those bytes; both come from the last build when what they are made of is unchanged.
    cache = OutputCache("calendar")
    # How icalendar writes a time in each zone, from the last build: asking it means
    # importing it, a tenth of a second, for what a rebuild of one item needs once.
    time_zones = dict.fromkeys(edition.info.timezone for edition in program.editions)
    asked = [(name, zone) for zone in time_zones for name in ("DTSTART", "DTEND")]
    asked.append(("DTSTAMP", "UTC"))
    _known_parts.update(zip(asked, cache.get_each(_asked_parts, (), asked), strict=True))
    files: dict[str, bytes] = {}
    built: list[list[tuple[EditionInfo, Item, bytes]]] = []
    for edition in program.editions:
        info = edition.info
        events = cache.get_each(item_event, (site, info, stamp), edition.items)
        entries = []
        for item, (event, own, own_digest) in zip(edition.items, events, strict=True):
            entries.append((info, item, event))
            if own:
                # Kept with the bytes: the tree need not digest ten thousand files again to
                # find them unchanged.
                digests.learn(own, own_digest)
                files[f"calendar/items/{item.id}.ics"] = own
        built.append(entries)
    everything = [entry for entries in built for entry in entries]
    needed = dict.fromkeys(z for entries in (everything, *built) for z in _zones(entries))
    zones = dict(zip(needed, cache.get_each(_vtimezone_of, (), list(needed)), strict=True))
    # The whole calendars are megabytes of the events' bytes: written from the pieces, never
    # joined (joined.py).
    whole: dict[str, Content] = {"calendar.ics": Joined(_parts(site.title, everything, zones))}
    for edition, entries in zip(program.editions, built, strict=True):
        name = f"{site.title}: {edition.info.name}"
        whole[f"calendar/{edition.id}.ics"] = Joined(_parts(name, entries, zones))
    after_result(cache.save)
    # The order the files were made in before the items' own files were cached.
    return {**whole, **files}


def _vtimezone_of(zone: tuple[str, int, int]) -> bytes:
    return _vtimezone(*zone)


def item_event(
    site: SiteConfig, info: EditionInfo, stamp: datetime, item: Item
) -> tuple[bytes, bytes, bytes]:
    """The item's VEVENT (event_bytes), the calendar file of that one event (b"" for an item
    without a time, which has none) and that file's SHA-256."""
    event = event_bytes(site, info, item, stamp)
    own = _assemble(item.title, [(info, item, event)]) if item.start else b""
    return event, own, digests.sha256(own) if own else b""


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
    """One VEVENT as it appears in a calendar file (CRLF-terminated lines); b"" without a time.

    The lines are written here rather than through icalendar's Event, whose add/content_line
    machinery was nearly all of this stage's time (a dozen objects per property); they are
    what Event.to_ical() gives, properties in its order (canonical_order, then the rest
    alphabetically), which tests/test_calendar.py checks against icalendar itself."""
    if item.start is None:
        return b""
    lines = [
        "BEGIN:VEVENT",
        "SUMMARY:" + _text(item.title),
        _time("DTSTART", item.start, info.timezone),
    ]
    if item.end is not None:
        lines.append(_time("DTEND", item.end, info.timezone))
    lines += [
        _time("DTSTAMP", stamp, "UTC"),
        "UID:" + _text(f"{item.id}@{uid_host(site)}"),
        "CATEGORIES:" + _text(item.type_label),
    ]
    description = _description(item)
    if description:
        lines.append("DESCRIPTION:" + _text(description))
    where = location(item, info.venue)
    if item.location and info.venue:
        where = f"{item.location}, {info.venue}"
    if where:
        lines.append("LOCATION:" + _text(where))
    url = page_url(site, item.id)
    if "://" in url:
        lines.append("URL:" + _uri(url))
    lines.append("END:VEVENT")
    return b"".join(_fold(line) + b"\r\n" for line in lines)


def _zones(entries: list[tuple[EditionInfo, Item, bytes]]) -> list[tuple[str, int, int]]:
    """The VTIMEZONEs a calendar of these events holds: (zone, first year, last year), in
    a fixed order (icalendar's add_missing_timezones walks a set), each covering only the
    years the events use, which keeps it a few lines long."""
    years: dict[str, set[int]] = {}
    for info, item, _data in entries:
        if item.start is not None and info.timezone != "UTC":
            years.setdefault(info.timezone, set()).update(
                {item.start.year, (item.end or item.start).year}
            )
    return [(tzid, min(years[tzid]), max(years[tzid])) for tzid in sorted(years)]


def _assemble(
    name: str,
    entries: list[tuple[EditionInfo, Item, bytes]],
    zones: dict[tuple[str, int, int], bytes] | None = None,
) -> bytes:
    """What Calendar.to_ical() gives for these events: it writes a component's properties, then
    each subcomponent's lines, each line folded and CRLF-terminated, so concatenating the
    serialised parts in that order is byte for byte the same. `zones` holds VTIMEZONEs
    made already."""
    return b"".join(_parts(name, entries, zones))


def _parts(
    name: str,
    entries: list[tuple[EditionInfo, Item, bytes]],
    zones: dict[tuple[str, int, int], bytes] | None = None,
) -> list[bytes]:
    """_assemble's pieces, in order."""
    parts = [_header(name)]
    for zone in _zones(entries):
        found = zones.get(zone) if zones is not None else None
        parts.append(found if found is not None else _vtimezone(*zone))
    parts += [data for _info, item, data in entries if item.start is not None]
    parts.append(b"END:VCALENDAR\r\n")
    return parts


def _header(name: str) -> bytes:
    """The calendar's own lines, in Calendar's canonical order, without its END line."""
    # icalendar knows no type for X-WR-CALNAME, so it writes the name verbatim (UNKNOWN).
    return _HEADER + _fold("X-WR-CALNAME:" + _verbatim(name, "the calendar name")) + b"\r\n"


_HEADER = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{PRODID}\r\nCALSCALE:GREGORIAN\r\n".encode()


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    # Imported here: icalendar is a tenth of a second to import, and a rebuild finds every
    # VTIMEZONE it needs in the cache.
    from icalendar import Timezone

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
    if len(data) < _FOLD_AT:
        return data
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


def _text(value: str) -> str:
    """vText(value).to_ical() as it ends up in a content line: RFC 5545 TEXT escaping with
    icalendar's replacements in icalendar's order (a literal backslash-N is taken for a
    newline first, and a lone CR becomes a newline too)."""
    return _bom_dropped(
        value.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _verbatim(value: str, what: str) -> str:
    """An UNKNOWN value, which icalendar writes as it is, without escaping: a line break in
    one cannot be written (icalendar stops on an assertion)."""
    if "\n" in value:
        raise PipelineError(f"{what} {value!r} has a line break, which iCalendar cannot hold")
    return _bom_dropped(value)


def _uri(value: str) -> str:
    """A URI value, written as it is; icalendar refuses one with a CR or LF in it."""
    if "\r" in value or "\n" in value:
        raise PipelineError(f"the URL {value!r} has a line break, which iCalendar cannot hold")
    return _bom_dropped(value)


def _bom_dropped(value: str) -> str:
    # Contentline.from_parts decodes each serialised value as utf-8-sig, which drops one
    # leading byte order mark.
    return value[1:] if value.startswith("\ufeff") else value


def _time(name: str, value: datetime, timezone: str) -> str:
    """The content line of a DATE-TIME property, in the edition's zone (in UTC when the
    property must be UTC, as DTSTAMP must)."""
    prefix, suffix = _time_parts(name, timezone)
    # YYYY-MM-DDTHH:MM:SS, the year always four digits, whatever follows (microseconds, the
    # offset) cut off: vDatetime's YYYYMMDDTHHMMSS once the separators are gone, and faster
    # than formatting the six fields.
    t = _at(value, timezone).isoformat()
    return f"{prefix}{t[:4]}{t[5:7]}{t[8:10]}T{t[11:13]}{t[14:16]}{t[17:19]}{suffix}"


_SAMPLE = datetime(2001, 2, 3, 4, 5, 6)


# (property, zone) -> _time_parts, as icalendar answered in this build or the last one.
_known_parts: dict[tuple[str, str], tuple[str, str]] = {}


def _time_parts(name: str, timezone: str) -> tuple[str, str]:
    """What icalendar writes around a time in this zone (say "DTSTART;TZID=Europe/Berlin:"
    and "", or "DTSTART:" and "Z"): which TZID it names, whether it takes the zone for UTC
    and how it quotes the parameter is its own business, so it is asked once per zone."""
    known = _known_parts.get((name, timezone))
    if known is None:
        known = _known_parts[name, timezone] = _asked_parts((name, timezone))
    return known


def _asked_parts(property_and_zone: tuple[str, str]) -> tuple[str, str]:
    name, timezone = property_and_zone
    from icalendar import Event  # only for events not in the cache: see _vtimezone

    event = Event()
    event.add(name, _SAMPLE.replace(tzinfo=_zone(timezone)))
    line = str(event.content_lines()[1])
    prefix, found, suffix = line.rpartition("20010203T040506")
    assert found and line.startswith(name), line
    return prefix, suffix


def _at(value: datetime, timezone: str) -> datetime:
    return value.astimezone(_zone(timezone))


def _zone(timezone: str) -> tzinfo:
    # A UTC edition is written with a trailing Z and needs no VTIMEZONE.
    return UTC if timezone == "UTC" else ZoneInfo(timezone)


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
