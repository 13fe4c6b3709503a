"""schema.org Event JSON-LD for the page: one Event per scheduled talk, session or panel.

The template writes the list through render.script_json, which escapes everything that could
end the <script> element, so the values here are plain data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .model import EditionInfo, Item, Person, Program, SiteConfig
from .published import absolute, iso, location, page_url

# Breaks, lunch and the like are not events anyone searches for.
_SKIPPED_KINDS = frozenset({"slot"})
# The page shows every abstract in full already; the JSON-LD copy is a summary, so the page
# does not carry each abstract twice (full text would be a third of the corpus page's bytes).
DESCRIPTION_CHARS = 300


def events(program: Program) -> list[dict[str, Any]]:
    return [
        record
        for edition in program.editions
        for record in events_of(program.site, edition.info, edition.items)
    ]


def events_of(site: SiteConfig, info: EditionInfo, items: Iterable[Item]) -> list[dict[str, Any]]:
    return [
        event(site, info, item)
        for item in items
        if item.start is not None and item.kind not in _SKIPPED_KINDS
    ]


def event(site: SiteConfig, info: EditionInfo, item: Item) -> dict[str, Any]:
    record: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": page_url(site, item.id),
        "name": item.title,
        "startDate": iso(item.start),
        "url": page_url(site, item.id),
        "eventStatus": "https://schema.org/EventScheduled",
        "superEvent": {
            "@type": "Event",
            "name": info.name,
            **({"url": info.url} if info.url else {}),
        },
    }
    if item.end:
        record["endDate"] = iso(item.end)
    where = location(item, info.venue)
    if info.venue.casefold() == "online" and not item.location:
        record["eventAttendanceMode"] = "https://schema.org/OnlineEventAttendanceMode"
        record["location"] = {
            "@type": "VirtualLocation",
            "url": info.url or page_url(site, item.id),
        }
    elif where:
        place: dict[str, Any] = {"@type": "Place", "name": where}
        if item.location and info.venue:
            place["address"] = info.venue
        record["location"] = place
    performers = [_person(site, p) for p in item.people]
    if performers:
        record["performer"] = performers
    description = item.abstract_text or "; ".join(p.title for p in item.papers)
    if description:
        record["description"] = _summary(description)
    return record


def _person(site: SiteConfig, person: Person) -> dict[str, Any]:
    record: dict[str, Any] = {"@type": "Person", "name": person.name}
    if person.affiliation:
        record["affiliation"] = {"@type": "Organization", "name": person.affiliation}
    if person.url:
        record["url"] = person.url
    if person.avatar:
        record["image"] = absolute(site, person.avatar)
    return record


def _summary(text: str) -> str:
    if len(text) <= DESCRIPTION_CHARS:
        return text
    return text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
