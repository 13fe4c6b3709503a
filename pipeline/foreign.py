"""Other sites' schedules: frab/pretalx schedule.json, and pages with schema.org Event JSON-LD."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from bs4 import BeautifulSoup

from .htmlmd import html_to_markdown, text_to_markdown
from .incoming import Cleaner, Incoming, Parsed, PersonIn, SourceError, as_dict, as_list
from .text import markdown_to_html
from .urls import is_remote


def frab(schedule: dict[str, Any], base: str) -> Parsed:
    """A frab or pretalx schedule.json: the conference acronym is the edition."""
    parsed = Parsed("frab schedule.json", [])
    clean = Cleaner(base, parsed.warnings)
    conference = as_dict(schedule.get("conference"))
    if not base and isinstance(schedule.get("base_url"), str) and is_remote(schedule["base_url"]):
        clean.base = schedule["base_url"]
    edition = clean.text(conference.get("acronym"))
    parsed.site = {"title": clean.text(conference.get("title")), "description": ""}
    zone = clean.text(conference.get("time_zone_name"))
    if edition:
        parsed.editions[edition] = {"name": parsed.site["title"], "timezone": zone}
    for day in as_list(conference.get("days")):
        for room, events in sorted(as_dict(as_dict(day).get("rooms")).items()):
            for raw in as_list(events):
                if isinstance(raw, dict):
                    parsed.items.append(_frab_event(raw, clean.text(room), edition, clean))
    return parsed


def _frab_event(raw: dict[str, Any], room: str, edition: str, clean: Cleaner) -> Incoming:
    title = clean.text(raw.get("title"))
    start = clean.time(raw.get("date"), title or "event")
    end = start + _duration(clean.text(raw.get("duration"))) if start else None
    persons = as_list(raw.get("persons"))
    speakers: list[PersonIn] = []
    bios: list[str] = []
    for raw_person in persons:
        person = clean.person(raw_person)
        if person is None:
            continue
        speakers.append(person)
        biography = clean.long(raw_person.get("biography") if isinstance(raw_person, dict) else "")
        if biography.strip():
            # A paragraph opening with the name in bold is where the reader finds the bio.
            bios.append(f"**{text_to_markdown(person.name)}** {biography.strip()}")
    parts = [clean.long(raw.get(key)) for key in ("subtitle", "abstract", "description")]
    # pretalx writes Markdown; rendering then converting back sanitises it the same way as HTML.
    body = html_to_markdown(markdown_to_html("\n\n".join(p for p in parts + bios if p.strip())))
    links = clean.links(raw.get("links"))
    url = clean.url(raw.get("url"), "url")
    if url:
        links.append(("Website", url))
    return Incoming(
        key="",
        edition=edition,
        type=_frab_type(clean.text(raw.get("type"))),
        title=title or "Untitled",
        start=start,
        end=end,
        location=room or clean.text(raw.get("room")),
        speakers=speakers,
        body=body,
        links=links,
    )


def _duration(text: str) -> timedelta:
    numbers = [int(n) for n in re.findall(r"\d+", text)][-3:]
    if not numbers:
        return timedelta()
    parts = [0] * (3 - len(numbers)) + numbers  # [days,] hours, minutes
    return timedelta(days=parts[0], hours=parts[1], minutes=parts[2])


def _frab_type(kind: str) -> str:
    lowered = kind.casefold()
    for known in ("keynote", "panel", "break", "lunch", "workshop"):
        if known in lowered:
            return known
    if not lowered or "talk" in lowered or "lecture" in lowered:
        return "talk"
    return re.sub(r"\W+", "_", lowered).strip("_")


def html_jsonld(text: str, base: str) -> Parsed:
    """Every schema.org Event in a page's JSON-LD blocks (a frame's sub-events, not the frame)."""
    parsed = Parsed("schema.org JSON-LD", [])
    clean = Cleaner(base, parsed.warnings)
    soup = BeautifulSoup(text, "html.parser")
    events: list[dict[str, Any]] = []
    for script in soup.find_all("script"):
        if str(script.get("type", "")).strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.get_text())
        except (ValueError, RecursionError):
            parsed.warnings.append("a JSON-LD block is not valid JSON; skipped")
            continue
        _collect_events(data, events, 0)
    if not events:
        raise SourceError(
            'the page has no schema.org Event in a <script type="application/ld+json">'
        )
    for raw in events:
        title = clean.text(raw.get("name")) or "Untitled"
        description = clean.long(raw.get("description"))
        looks_html = bool(re.search(r"<[a-zA-Z/][^>]*>", description))
        location = raw.get("location")
        if isinstance(location, list):
            location = location[0] if location else ""
        if isinstance(location, dict):
            kind = location.get("@type")
            location = "Online" if kind == "VirtualLocation" else location.get("name", "")
        performers = raw.get("performer") or raw.get("performers") or []
        parsed.items.append(
            Incoming(
                key="",
                edition="",
                type="talk",
                title=title,
                start=clean.time(raw.get("startDate"), title),
                end=clean.time(raw.get("endDate"), title),
                location=clean.text(location),
                speakers=clean.people(performers),
                body=html_to_markdown(description) if looks_html else text_to_markdown(description),
                links=[("Website", u) for u in [clean.url(raw.get("url"), "url")] if u],
            )
        )
    return parsed


def _collect_events(data: Any, out: list[dict[str, Any]], depth: int) -> None:
    if depth > 8:
        return
    if isinstance(data, list):
        for entry in data:
            _collect_events(entry, out, depth + 1)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if any(isinstance(k, str) and k.endswith("Event") for k in kinds):
            # A conference with sub-events is the frame, not an item; its sub-events are.
            if data.get("subEvent"):
                _collect_events(data.get("subEvent"), out, depth + 1)
            else:
                out.append(data)
        else:
            _collect_events(data.get("@graph"), out, depth + 1)
