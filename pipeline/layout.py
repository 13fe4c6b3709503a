"""Which pages the site has: index.html alone, or with day pages and edition pages.

Every abstract, bio and paper in one page reads well for a workshop, but a conference of a
thousand papers makes a page of megabytes that a phone parses for seconds before anyone can
search. Above DAY_PAGES_ABOVE items (or when a site asks for it) the schedule is listed
compactly (times, titles, people) and each edition's day gets a page with the details. A site
that keeps many editions then lists only the newest in index.html and gives every other edition
a page of its own, so the first page stays the size of one edition however long the site lives.
Search, on every page, covers all editions. Every page sits beside index.html, so each relative
URL in content works on all of them unchanged.
"""

from __future__ import annotations

from datetime import datetime

from .model import Program

DAY_PAGES_ABOVE = 300


def uses_day_pages(program: Program) -> bool:
    details = program.site.details
    if details == "auto":
        return len(program.items) > DAY_PAGES_ABOVE
    return details == "day-pages"


def day_page(edition_id: str, start: datetime | str | None) -> str:
    """The file name of an edition's day page (static/search.js's Site.href has the same rule)."""
    day = start.date().isoformat() if isinstance(start, datetime) else (start or "")[:10]
    return f"{edition_id}-{day or 'unscheduled'}.html"


def uses_edition_pages(program: Program) -> bool:
    return uses_day_pages(program) and len(program.editions) > 1


def edition_page(edition_id: str, newest_id: str) -> str:
    """The page listing an edition: index.html for the newest, else its own."""
    return "index.html" if edition_id == newest_id else f"edition-{edition_id}.html"
