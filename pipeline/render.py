"""Render the schedule page with Jinja2 from a typed context built from the Program."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .model import Edition, Item, Program
from .resources import templates_dir


@dataclass(frozen=True, slots=True)
class Day:
    key: str  # "2019-06-23", or "" for items without a time
    label: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class EditionView:
    edition: Edition
    days: tuple[Day, ...]
    zone_label: str


@dataclass(frozen=True, slots=True)
class PageContext:
    """Everything index.html may use; a renamed field breaks a test, not the page."""

    title: str
    description: str
    editions: tuple[EditionView, ...]
    types: tuple[tuple[str, str], ...]
    item_count: int
    paper_count: int
    json_ld: str
    asset_version: str


def make_environment(site_templates: Path | None = None) -> Environment:
    """Jinja2 environment; a site's own templates/ folder overrides the bundled ones."""
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
    )
    env.filters["hhmm"] = lambda value: value.strftime("%H:%M") if value else ""
    env.filters["iso"] = lambda value: value.isoformat() if value else ""
    return env


def page_context(
    program: Program, json_ld: list[dict[str, Any]], asset_version: str
) -> PageContext:
    views = tuple(_edition_view(edition) for edition in program.editions)
    types = sorted({(item.type, item.type_label) for item in program.items})
    return PageContext(
        title=program.site.title,
        description=program.site.description,
        editions=views,
        types=tuple(types),
        item_count=len(program.items),
        paper_count=len(program.papers),
        json_ld=script_json(json_ld),
        asset_version=asset_version,
    )


def render_page(env: Environment, context: PageContext) -> str:
    return env.get_template("index.html").render(page=context)


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
