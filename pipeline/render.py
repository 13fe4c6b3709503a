"""Render the schedule page with Jinja2 from a typed context built from the Program."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from .jsonld import events_of
from .layout import day_page, edition_page, uses_day_pages, uses_edition_pages
from .model import Edition, Item, Program, SiteConfig
from .page_cache import PageCache
from .records import record, replace
from .resources import templates_dir


@record
class Day:
    """One day of an edition's schedule and its items."""

    key: str  # "2019-06-23", or "" for items without a time
    label: str
    items: tuple[Item, ...]


@record
class EditionView:
    """An edition as the page shows it: day by day, with its time zone's label."""

    edition: Edition
    days: tuple[Day, ...]
    zone_label: str


@record
class PageContext:
    """Everything index.html may use; a renamed field breaks a test, not the page."""

    title: str
    description: str
    editions: tuple[EditionView, ...]
    types: tuple[tuple[str, str], ...]
    item_count: int
    paper_count: int
    json_ld: str
    # Tags for browser caches: `asset_version` changes with assets/ (the style sheet and the
    # scripts), `search_version` with search/. An edit changes only the second, which only
    # the listing pages (this template) hold, so day pages stay as they were.
    asset_version: str
    search_version: str
    # True when abstracts and papers live on day pages and this page lists items compactly.
    day_pages: bool = False
    # The editions this page lists (all of them, unless each edition has its own page).
    shown: tuple[EditionView, ...] = ()
    edition_pages: bool = False

    def cache_inputs(self) -> tuple[object, ...]:
        """What the bundled index.html reads, for page_cache.py's key: of the editions, only
        their ids and infos (the edition menu) and their days' keys and labels (the day
        filter); of the editions it lists (`shown`), everything. An edit to another edition's
        item leaves this page cached; tests/test_rebuild.py checks the page is still right."""
        outline = tuple(
            (view.edition.info, tuple((day.key, day.label) for day in view.days))
            for view in self.editions
        )
        return (replace(self, editions=()), outline)

    def edition_href(self, edition_id: str) -> str:
        """The page that lists an edition: this one, or its own page (layout.py)."""
        if not self.edition_pages or any(v.edition.id == edition_id for v in self.shown):
            return ""
        return edition_page(edition_id, self.editions[0].edition.id)


@record
class DayLink:
    """A link to one day's page."""

    href: str
    label: str


@record
class DayPageContext:
    """Everything day.html may use: one edition's day with every item in full."""

    site_title: str
    schedule: str  # the page that lists this day's edition
    edition: EditionView
    day: Day
    previous: DayLink | None
    next: DayLink | None
    json_ld: str
    asset_version: str


def make_environment(
    site_templates: Path | None = None, compiled: BytecodeCache | None = None
) -> Environment:
    """Jinja2 environment; a site's own templates/ folder overrides the bundled ones.
    `compiled` keeps the compiled templates from build to build (template_cache.py)."""
    loaders = (
        [FileSystemLoader(str(site_templates))]
        if site_templates and site_templates.is_dir()
        else []
    )
    loaders.append(FileSystemLoader(str(templates_dir())))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # A build renders tens of thousands of includes; templates cannot change meanwhile,
        # and checking each one's file on every include cost a second at 10,000 items.
        auto_reload=False,
        bytecode_cache=compiled,
    )
    env.filters["hhmm"] = lambda value: value.strftime("%H:%M") if value else ""
    env.filters["iso"] = lambda value: value.isoformat() if value else ""
    env.globals["day_page"] = day_page
    # With the bundled templates and a page cache, what renders a day's items from their cached
    # HTML (page_cache.PageCache.items_html); otherwise the pages include the item templates.
    env.globals["items_html"] = None
    # What earlier bundled templates called for each item: a site's copy of one still renders.
    env.globals["item_html"] = None
    return env


def edition_views(program: Program) -> tuple[EditionView, ...]:
    """Each edition's days, in the program's order: made once for all of a build's pages, whose
    contexts then share them (and page_cache.py digests each once)."""
    return tuple(_edition_view(edition) for edition in program.editions)


def listing_contexts(
    program: Program,
    json_ld: list[dict[str, Any]],
    asset_version: str,
    search_version: str,
    views: tuple[EditionView, ...] | None = None,
) -> list[tuple[str, PageContext]]:
    """(file name, context) of index.html and, on a site with edition pages (layout.py), of
    every other edition's page; `views` are edition_views(program), when already made."""
    views = views if views is not None else edition_views(program)
    types = tuple(sorted({(item.type, item.type_label) for item in program.items}))
    day_pages = uses_day_pages(program)
    split = uses_edition_pages(program)
    items = program.items
    # Program.papers is worked out afresh on each use: once, not once per page.
    paper_count = len(program.papers)

    def context(listed: tuple[EditionView, ...], events: list[dict[str, Any]]) -> PageContext:
        return PageContext(
            title=program.site.title,
            description=program.site.description,
            editions=views,
            types=types,
            item_count=len(items),
            paper_count=paper_count,
            # With day pages, each day's events are on its own page, not all of them here.
            json_ld=script_json([] if day_pages else events),
            asset_version=asset_version,
            search_version=search_version,
            day_pages=day_pages,
            shown=listed,
            edition_pages=split,
        )

    if not split:
        return [("index.html", context(views, json_ld))]
    newest = views[0].edition.id
    pages = [("index.html", context(views[:1], json_ld))]
    for view in views[1:]:
        pages.append((edition_page(view.edition.id, newest), context((view,), [])))
    return pages


@record
class DayPageInputs:
    """What one day page is made from. Its context, with the day's JSON-LD, is built only when
    the page is rendered rather than found in the page cache (page_cache.py)."""

    site: SiteConfig
    schedule: str
    edition: EditionView
    day: Day
    previous: DayLink | None
    next: DayLink | None
    asset_version: str

    def cache_inputs(self) -> tuple[object, ...]:
        """What the bundled day.html reads, for page_cache.py's key: of its edition, only the
        id, the infos and the time zone, so an edit on another day of the edition leaves this
        page cached; tests/test_rebuild.py checks the page is still right."""
        view = self.edition
        edition = (view.edition.id, view.edition.info, view.zone_label)
        return (
            self.site,
            self.schedule,
            edition,
            self.day,
            self.previous,
            self.next,
            self.asset_version,
        )


def day_page_inputs(
    program: Program, asset_version: str, views: tuple[EditionView, ...] | None = None
) -> list[tuple[str, DayPageInputs]]:
    """(file name, inputs) for every edition's every day, in schedule order."""
    pages = []
    split = uses_edition_pages(program)
    for edition, view in zip(program.editions, views or edition_views(program), strict=True):
        schedule = edition_page(edition.id, program.editions[0].id) if split else "index.html"
        links = [DayLink(day_page(edition.id, day.key), day.label) for day in view.days]
        for number, day in enumerate(view.days):
            inputs = DayPageInputs(
                site=program.site,
                schedule=schedule,
                edition=view,
                day=day,
                previous=links[number - 1] if number else None,
                next=links[number + 1] if number + 1 < len(links) else None,
                asset_version=asset_version,
            )
            pages.append((links[number].href, inputs))
    return pages


def day_page_context(inputs: DayPageInputs) -> DayPageContext:
    events = events_of(inputs.site, inputs.edition.edition.info, inputs.day.items)
    return DayPageContext(
        site_title=inputs.site.title,
        schedule=inputs.schedule,
        edition=inputs.edition,
        day=inputs.day,
        previous=inputs.previous,
        next=inputs.next,
        json_ld=script_json(events),
        asset_version=inputs.asset_version,
    )


def day_page_contexts(program: Program, asset_version: str) -> list[tuple[str, DayPageContext]]:
    """(file name, context) for every edition's every day, in schedule order."""
    return [(name, day_page_context(i)) for name, i in day_page_inputs(program, asset_version)]


def render_page(env: Environment, context: PageContext) -> str:
    return env.get_template("index.html").render(page=context)


def version_is_verbatim(env: Environment) -> bool:
    """Whether the page's templates are the bundled ones, which write asset_version only as
    it is: then the page can be rendered with a stand-in version, replaced once the assets
    are made. A site's own template might transform it, so that site waits for the assets."""
    names = ("index.html", DAY_TEMPLATE, *_ITEM_PARTS)
    return all(
        _source(env, name) == (templates_dir() / name).read_text(encoding="utf-8") for name in names
    )


# The pages include these for each item.
ITEM_TEMPLATE = "item.html"
COMPACT_TEMPLATE = "item_compact.html"
DAY_TEMPLATE = "day.html"
_ITEM_PARTS = (ITEM_TEMPLATE, COMPACT_TEMPLATE, "item_time.html", "person.html")


# (file name, template, context) of one page to write.
PageSpec = tuple[str, str, Any]


def render_pages(
    env: Environment, pages: list[PageSpec], cache: PageCache | None = None
) -> dict[str, str | bytes]:
    """Every page; with a cache, each page whose context is unchanged since the last build is
    taken from it, and a page rendered again takes its unchanged items' HTML from the same page
    of the last build (PageCache.items_html). A context may be DayPageInputs, made into the
    page's context only when the page is rendered. A page from the cache is UTF-8 bytes
    already; a page rendered is text."""
    out: dict[str, str | bytes] = {}
    for name, template, context in pages:

        def render(template: str = template, context: Any = context) -> str:
            if isinstance(context, DayPageInputs):
                context = day_page_context(context)
            return env.get_template(template).render(page=context)

        out[name] = cache.page(name, template, context, render) if cache else render()
    return out


def _source(env: Environment, name: str) -> str | None:
    assert env.loader is not None
    try:
        return env.loader.get_source(env, name)[0]
    except TemplateNotFound:
        return None


def script_json(value: Any) -> str:
    """JSON safe inside <script>: no `</script>`, `<!--` or line separator can break out."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _edition_view(edition: Edition) -> EditionView:
    days = []
    for key, group in groupby(edition.items, key=lambda item: _day_key(item.start)):
        items = tuple(group)
        label = items[0].start.strftime("%A %-d %B %Y") if items[0].start else "Not scheduled"
        days.append(Day(key, label, items))
    return EditionView(edition, tuple(days), edition.info.timezone)


def _day_key(start: datetime | None) -> str:
    return start.date().isoformat() if start else ""
