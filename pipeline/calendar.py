"""iCalendar files (RFC 5545): the whole schedule, each edition, and each item.

Events carry DTSTART/DTEND in the venue's zone with a TZID and the VTIMEZONE it needs, so a
calendar app shows 15:30 in Phoenix as 22:30 UTC wherever the reader is. Items without a
time are left out: a calendar event needs one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from .errors import PipelineError
from .model import EditionInfo, Item, Program, SiteConfig
from .published import location, page_url, uid_host

PRODID = "-//pipeline//schedule calendar//EN"


def outputs(program: Program) -> dict[str, bytes]:
    stamp = dtstamp(program)
    site = program.site
    everything = [(e.info, item) for e in program.editions for item in e.items]
    files = {"calendar.ics": calendar_bytes(site, site.title, everything, stamp)}
    for edition in program.editions:
        entries = [(edition.info, item) for item in edition.items]
        name = f"{site.title}: {edition.info.name}"
        files[f"calendar/{edition.id}.ics"] = calendar_bytes(site, name, entries, stamp)
        for info, item in entries:
            if item.start is not None:
                files[f"calendar/items/{item.id}.ics"] = calendar_bytes(
                    site, item.title, [(info, item)], stamp
                )
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
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    years: dict[str, set[int]] = {}
    events = []
    for info, item in entries:
        if item.start is None:
            continue
        events.append(_event(site, info, item, stamp))
        if info.timezone != "UTC":
            years.setdefault(info.timezone, set()).update(
                {item.start.year, (item.end or item.start).year}
            )
    # VTIMEZONEs first and in a fixed order (icalendar's add_missing_timezones walks a set),
    # covering only the years the events use, which keeps each zone a few lines long.
    for tzid in sorted(years):
        calendar.add_component(_vtimezone(tzid, min(years[tzid]), max(years[tzid])))
    for event in events:
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


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
