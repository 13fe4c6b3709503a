"""Which pages the site has: index.html alone, or index.html plus one page per edition and day.

Every abstract, bio and paper in one page reads well for a workshop, but a conference of a
thousand papers makes a page of megabytes that a phone parses for seconds before anyone can
search. Above DAY_PAGES_ABOVE items (or when a site asks for it) index.html lists the whole
schedule compactly (times, titles, people) and each edition's day gets a page with the details.
Day pages sit beside index.html, so every relative URL in content works on them unchanged.
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
