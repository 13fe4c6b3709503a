"""talks.json (with its JSON Schema, whole site and per edition) and feed.json (JSON Feed 1.1)."""

from __future__ import annotations

import json
import secrets
from html import escape
from importlib.resources import files
from typing import Any

from .model import Edition, EditionInfo, Item, Link, Paper, Program, SiteConfig
from .output_cache import OutputCache
from .published import (
    SCHEMA_NAME,
    TALKS_VERSION,
    absolute,
    iso,
    page_url,
    person_record,
    site_root,
)
from .text import sanitize_html

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def outputs(program: Program) -> dict[str, bytes]:
    site = program.site
    # Each item's record is serialised once and kept for the next build; the documents are
    # spliced from those texts, byte for byte what dump() gives for the whole document.
    cache = OutputCache("feeds")

    def talks_texts(editions: tuple[Edition, ...], depth: int) -> list[str]:
        return [cache.get(_talks_text, site, item, depth) for e in editions for item in e.items]

    feed_texts = [
        cache.get(_feed_text, site, e.info, item) for e in program.editions for item in e.items
    ]
    files_out = {
        SCHEMA_NAME: schema_bytes(),
        "talks.json": _spliced(
            talks(site, program.editions, items=False), talks_texts(program.editions, 0)
        ),
        "feed.json": _spliced(feed(program, items=False), feed_texts),
    }
    for edition in program.editions:
        # editions/<id>/talks.json: one edition, importable on its own (`pipeline import`).
        document = talks(site, (edition,), depth=2, items=False)
        files_out[f"editions/{edition.id}/talks.json"] = _spliced(
            document, talks_texts((edition,), 2)
        )
    cache.save()
    return files_out


def _talks_text(site: SiteConfig, item: Item, depth: int) -> str:
    return _record_text(item_record(site, item, depth))


def _feed_text(site: SiteConfig, info: EditionInfo, item: Item) -> str:
    return _record_text(_feed_item(site, info, item))


def _record_text(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, indent=1)


def _spliced(document: dict[str, Any], texts: list[str]) -> bytes:
    """dump() of `document` with its "items" list holding the records serialised as `texts`.

    The list is dumped holding one marker string, which is then replaced by the texts,
    indented to the depth dump() puts them at (JSON strings never hold a raw newline).
    """
    marker = "\x00" + secrets.token_hex(16)
    encoded = json.dumps(marker)
    whole = dump({**document, "items": [marker] if texts else []})
    text = whole.decode("utf-8")
    if texts and text.count(encoded) != 1:  # the marker is random: this cannot really happen
        return dump({**document, "items": [json.loads(t) for t in texts]})
    return text.replace(encoded, ",\n  ".join(t.replace("\n", "\n  ") for t in texts)).encode()


def schema_bytes() -> bytes:
    """The published JSON Schema of talks.json, exactly as shipped in the package."""
    return files("pipeline").joinpath("schemas", SCHEMA_NAME).read_bytes()


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_bytes())
    return loaded


def dump(value: Any) -> bytes:
    """The one JSON form for every feed: sorted keys, UTF-8, one key per line, final newline."""
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


# -- talks.json ---------------------------------------------------------------------------


def talks(
    site: SiteConfig, editions: tuple[Edition, ...], depth: int = 0, items: bool = True
) -> dict[str, Any]:
    """The talks.json document for some editions; `depth` is how far below dist/ it is written.
    Without `items` its "items" list is left empty, for the caller to fill."""
    root = site_root(site)
    return {
        "$schema": root + SCHEMA_NAME if root else "../" * depth + SCHEMA_NAME,
        "version": TALKS_VERSION,
        "site": {"title": site.title, "description": site.description, "url": root},
        "editions": [edition_record(e.info) for e in editions],
        "items": [item_record(site, item, depth) for e in editions for item in e.items]
        if items
        else [],
    }


def edition_record(info: EditionInfo) -> dict[str, str]:
    return {
        "id": info.id,
        "name": info.name,
        "venue": info.venue,
        "date": info.date,
        "timezone": info.timezone,
        "url": info.url,
    }


def item_record(site: SiteConfig, item: Item, depth: int = 0) -> dict[str, Any]:
    return {
        "id": item.id,
        "edition": item.edition,
        "type": item.type,
        "kind": item.kind,
        "title": item.title,
        "start": iso(item.start),
        "end": iso(item.end),
        "location": item.location,
        "speakers": [person_record(site, p, depth) for p in item.speakers],
        "moderator": person_record(site, item.moderator, depth) if item.moderator else None,
        "panelists": [person_record(site, p, depth) for p in item.panelists],
        "abstract_text": item.abstract_text,
        "abstract_html": item.abstract_html,
        "bio_text": item.bio_text,
        "bio_html": item.bio_html,
        "links": _links(site, item.links, depth),
        "papers": [_paper_record(site, paper, depth) for paper in item.papers],
        "url": page_url(site, item.id, depth),
    }


def _paper_record(site: SiteConfig, paper: Paper, depth: int) -> dict[str, Any]:
    return {
        "id": paper.id,
        "title": paper.title,
        "authors": list(paper.authors),
        "affiliation": paper.affiliation,
        "links": _links(site, paper.links, depth),
        "url": page_url(site, paper.id, depth),
    }


def _links(site: SiteConfig, links: tuple[Link, ...], depth: int) -> list[dict[str, str]]:
    return [{"label": link.label, "url": absolute(site, link.url, depth)} for link in links]


# -- feed.json ----------------------------------------------------------------------------


def feed(program: Program, items: bool = True) -> dict[str, Any]:
    """A JSON Feed 1.1 document; schedule facts ride along in each item's `_schedule` object.
    Without `items` its "items" list is left empty, for the caller to fill."""
    site = program.site
    root = site_root(site)
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": site.title,
        "items": [],
    }
    # JSON Feed has no rule for resolving relative URLs, so without a base_url the URL
    # fields are left out rather than published in a form readers cannot follow.
    if root:
        document["home_page_url"] = root
        document["feed_url"] = root + "feed.json"
    if site.description:
        document["description"] = site.description
    for edition in program.editions if items else ():
        document["items"].extend(_feed_item(site, edition.info, item) for item in edition.items)
    return document


def _feed_item(site: SiteConfig, info: EditionInfo, item: Item) -> dict[str, Any]:
    root = site_root(site)
    entry: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "content_html": _content_html(item),
        "tags": [item.type, item.edition],
        "_schedule": {
            "about": (root or "") + SCHEMA_NAME,
            "edition": item.edition,
            "type": item.type,
            "start": iso(item.start),
            "end": iso(item.end),
            "timezone": info.timezone,
            "location": item.location or info.venue,
            "speakers": [person_record(site, p) for p in item.people],
        },
    }
    if root:
        entry["url"] = page_url(site, item.id)
    if item.start:
        entry["date_published"] = iso(item.start)
    if item.abstract_text:
        entry["summary"] = _shorten(item.abstract_text, 300)
    authors = [_author(site, p.name, p.url, p.avatar) for p in item.people]
    if authors:
        entry["authors"] = authors
    return entry


def _author(site: SiteConfig, name: str, url: str, avatar: str) -> dict[str, str]:
    author = {"name": name}
    if url:
        author["url"] = url
    avatar_url = absolute(site, avatar)
    if avatar_url and "://" in avatar_url:
        author["avatar"] = avatar_url
    return author


def _content_html(item: Item) -> str:
    """Abstract, paper list and bio as one sanitised HTML fragment (never empty)."""
    parts = [item.abstract_html]
    if item.papers:
        rows = []
        for paper in item.papers:
            authors = f" <em>{escape(paper.authors_text)}</em>" if paper.authors else ""
            rows.append(f"<li>{escape(paper.title)}{authors}</li>")
        parts.append("<ul>" + "".join(rows) + "</ul>")
    parts.append(item.bio_html)
    html = "\n".join(part for part in parts if part)
    return sanitize_html(html) if html else f"<p>{escape(item.title or item.type_label)}</p>"


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"
