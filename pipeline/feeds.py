"""talks.json (with its JSON Schema, whole site and per edition) and feed.json (JSON Feed 1.1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from . import scratch
from .joined import Content
from .model import Edition, EditionInfo, Item, Link, Paper, Person, Program, SiteConfig
from .output_cache import token
from .parallel import after_result
from .published import (
    SCHEMA_NAME,
    TALKS_VERSION,
    absolute,
    iso,
    page_url,
    person_record,
    site_root,
)
from .resources import schemas_dir
from .sanitized import unchanged_by_sanitizer
from .splice import Splicer
from .text import sanitize_html

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def outputs(program: Program) -> dict[str, Content]:
    site = program.site
    # Each item's records are written straight as bytes (see below), and a rebuild takes
    # unchanged items' records from the files the last build wrote (splice.py); the documents
    # are byte for byte what dump() gives for them whole.
    splicer = Splicer("feeds")
    every = [(edition.info, item) for edition in program.editions for item in edition.items]
    if splicer.store is not None:
        # A record is written from the site, its edition and the item.
        editions = {id(e.info): token(site) + token(e.info) for e in program.editions}
        keys = [editions[id(info)] + token(item) for info, item in every]
    else:
        keys = [str(number) for number in range(len(every))]
    made: dict[int, tuple[Text, Text, Text]] = {}

    def texts(number: int) -> tuple[Text, Text, Text]:
        if number not in made:
            made[number] = _item_texts(site, *every[number])
        return made[number]

    try:
        files_out = {
            SCHEMA_NAME: schema_bytes(),
            "talks.json": _spliced(
                splicer,
                "talks.json",
                talks(site, program.editions, items=False),
                keys,
                lambda n: texts(n)[0],
            ),
            "feed.json": _spliced(
                splicer, "feed.json", feed(program, items=False), keys, lambda n: texts(n)[2]
            ),
        }
        first = 0
        for edition in program.editions:
            # editions/<id>/talks.json: one edition, importable on its own (`pipeline import`).
            name = f"editions/{edition.id}/talks.json"
            stop = first + len(edition.items)
            files_out[name] = _spliced(
                splicer,
                name,
                talks(site, (edition,), depth=2, items=False),
                keys[first:stop],
                lambda n, first=first: texts(first + n)[1],  # type: ignore[misc]
            )
            first = stop
    finally:
        _recurring.clear()
    after_result(splicer.save)
    return files_out


def _spliced(
    splicer: Splicer,
    name: str,
    document: dict[str, Any],
    keys: list[str],
    record: Callable[[int], Text],
) -> Content:
    """dump() of `document` with its "items" list holding the records record(i) gives (each
    as dump() writes an item of that list), or their bytes in the last build's file.

    The list is dumped holding one marker string, which is then replaced by the records.
    """
    if not keys:
        return dump(document)
    marker = "\x00" + scratch.random_hex(16)
    head, *tail = dump({**document, "items": [marker]}).split(json.dumps(marker).encode())
    if len(tail) != 1:  # the marker is random: this cannot really happen
        items = [json.loads(b"".join(record(n))) for n in range(len(keys))]
        return dump({**document, "items": items})
    return splicer.document(name, head, tail[0], b",\n  ", keys, record)


def schema_bytes() -> bytes:
    """The published JSON Schema of talks.json, exactly as shipped in the package."""
    return (schemas_dir() / SCHEMA_NAME).read_bytes()


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
    return "\n".join(_content_parts(item)[0])


def _content_parts(item: Item) -> tuple[tuple[str, ...], bool]:
    """_content_html(item) as the parts it joins with newlines, and whether those are what
    the sanitiser gives back unchanged."""
    parts = _nonempty(item.abstract_html, _papers_html(item.papers, _escaped), item.bio_html)
    if not parts:
        return (f"<p>{_escaped(item.title or item.type_label)}</p>",), False
    # The abstract and bio were sanitised when read. With the paper list escaped the way the
    # sanitiser writes text (which parses to the same text as escape()'s), the fragment is
    # mostly one the sanitiser would give back unchanged, and then it need not run: it
    # would take longer than all the rest of this stage.
    if item.papers:
        written = _nonempty(
            item.abstract_html, _papers_html(item.papers, _html_text), item.bio_html
        )
    else:
        written = parts
    if unchanged_by_sanitizer(*written):
        return written, True
    return (sanitize_html("\n".join(parts)),), False


def _nonempty(*parts: str) -> tuple[str, ...]:
    return tuple(filter(None, parts))


def _escaped(text: str) -> str:
    from html import escape  # see text.html_to_text

    return escape(text)


def _papers_html(papers: tuple[Paper, ...], escape_text: Callable[[str], str]) -> str:
    if not papers:
        return ""
    rows = []
    for paper in papers:
        authors = f" <em>{escape_text(paper.authors_text)}</em>" if paper.authors else ""
        rows.append(f"<li>{escape_text(paper.title)}{authors}</li>")
    return "<ul>" + "".join(rows) + "</ul>"


def _html_text(text: str) -> str:
    """Text as the sanitiser's serialiser writes it."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\xa0", "&nbsp;")
    )


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"


# -- the records as the files hold them -----------------------------------------------------
#
# Building every record as a dict and then serialising it with an indent (which keeps json
# from using its C encoder) was most of this stage's time on a large site. So each record is
# written here directly as the bytes dump() gives for it as an item of a document's "items"
# list, two levels deep. The dict builders above stay the definition of the records (talks()
# and feed() with items use them); tests/test_feeds.py checks these writers against dump()
# of them, on every fixture site and on generated items. Keys are written in sorted order.

# A record as the pieces it is written in: its long texts stay pieces of their own, shared by
# the records of an item (and by the copy the output cache keeps), and are copied only into
# the documents.
Text = tuple[bytes, ...]

# A newline and the indent of each level.
_NL = tuple(b"\n" + b" " * level for level in range(8))
# Below this length json's own escaper is quicker than escaping the UTF-8 bytes.
_LONG_STRING = 200
# Maps the control characters json writes as escapes (but for newline and tab, the common
# ones) to other bytes, and every other byte to itself: translate() then gives back the very
# object it was given when there is none.
_CONTROLS = bytes(c ^ 0x40 if c < 0x20 and c not in (0x09, 0x0A) else c for c in range(256))


def _text(text: str) -> bytes:
    """The JSON string dump() writes for `text`: encode_basestring(text) as UTF-8."""
    if len(text) < _LONG_STRING:
        return encode_basestring(text).encode("utf-8")
    return b"".join((b'"', _body(text), b'"'))


def _body(text: str, printable: bool = False) -> bytes:
    """_text(text) without its quotes; `printable` says `text` is known to hold no control
    character but tab and newline.

    json escapes '"', '\\' and the control characters, each on its own, so a long string is
    escaped on its UTF-8 bytes (no byte of a multi-byte sequence is below 0x80) when its
    only control characters are tabs and newlines; json's escaper for non-ASCII output is
    slow."""
    if len(text) >= _LONG_STRING:
        raw = text.encode("utf-8")
        if printable or raw.translate(_CONTROLS) is raw:
            return (
                raw.replace(b"\\", b"\\\\")
                .replace(b'"', b'\\"')
                .replace(b"\n", b"\\n")
                .replace(b"\t", b"\\t")
            )
    return encode_basestring(text)[1:-1].encode("utf-8")


# What was written for values that recur across items (editions, types, zones, people,
# times), kept while the stage runs; ids, titles and texts are written each time.
_recurring: dict[object, bytes] = {}
_RECURRING_KEPT = 100_000


def _shared(text: str, known: Callable[[object], bytes | None] = _recurring.get) -> bytes:
    """_text(text) for a value that recurs across items."""
    value = known(text)
    if value is None:
        value = _text(text)
        if len(_recurring) < _RECURRING_KEPT:
            _recurring[text] = value
    return value


def _time(value: datetime | None) -> bytes:
    """_text(iso(value)), or null."""
    if value is None:
        return b"null"
    # An aware time equals any other time of the same instant, and one in a repeated hour
    # its twin in the same zone: the fold and the zone make the key exact.
    key = (value, value.fold, value.tzinfo)
    text = _recurring.get(key)
    if text is None:
        text = _text(value.isoformat())
        if len(_recurring) < _RECURRING_KEPT:
            _recurring[key] = text
    return text


def _item_texts(site: SiteConfig, info: EditionInfo, item: Item) -> tuple[Text, Text, Text]:
    """The item's record in talks.json, in editions/<id>/talks.json and in feed.json."""
    content, as_read = _content_parts(item)
    # What the sanitiser gives back unchanged holds no control character but tab and newline.
    shared = _Shared(
        _text(item.id),
        _text(item.title),
        _shared(item.edition),
        _shared(item.type),
        _time(item.start),
        _time(item.end),
        _body(item.abstract_html, as_read),
        _body(item.bio_html, as_read),
    )
    top, nested = _talks_texts(site, item, shared)
    return top, nested, _feed_text(site, info, item, shared, content)


class _Shared(NamedTuple):
    """What the three records of an item have in common, written once (the HTML without its
    quotes, as the feed's content joins it)."""

    id: bytes
    title: bytes
    edition: bytes
    type: bytes
    start: bytes
    end: bytes
    abstract_html: bytes
    bio_html: bytes


def _talks_texts(site: SiteConfig, item: Item, shared: _Shared) -> tuple[Text, Text]:
    """dump() of item_record(site, item, depth) for depth 0 and 2."""
    # Only the URLs depend on the depth: the rest is written once for both.
    head = (
        b'{\n   "abstract_html": "',
        shared.abstract_html,
        b'",\n   "abstract_text": "',
        _body(item.abstract_text),
        b'",\n   "bio_html": "',
        shared.bio_html,
        b'",\n   "bio_text": "',
        _body(item.bio_text),
    )
    middle = (
        b'",\n   "edition": ',
        shared.edition,
        b',\n   "end": ',
        shared.end,
        b',\n   "id": ',
        shared.id,
        b',\n   "kind": ',
        _shared(item.kind),
        b',\n   "links": ',
    )
    location = _shared(item.location)
    moderator = item.moderator

    def rest(depth: int) -> tuple[bytes, ...]:
        return (
            _links_text(site, item.links, depth, 3),
            b',\n   "location": ',
            location,
            b',\n   "moderator": ',
            _person_text(site, moderator, depth, 3) if moderator else b"null",
            b',\n   "panelists": ',
            _people_text(site, item.panelists, depth, 3),
            b',\n   "papers": ',
            _list_text([_paper_text(site, p, depth, 4) for p in item.papers], 3)
            if item.papers
            else b"[]",
            b',\n   "speakers": ',
            _people_text(site, item.speakers, depth, 3),
            b',\n   "start": ',
            shared.start,
            b',\n   "title": ',
            shared.title,
            b',\n   "type": ',
            shared.type,
            b',\n   "url": ',
        )

    near = rest(0)
    top = (*head, b"".join((*middle, *near, _text(page_url(site, item.id, 0)), b"\n  }")))
    if site_root(site):  # every URL is absolute, the same from any folder
        return top, top
    far = near if _same_below(site, item) else rest(2)
    return top, (*head, b"".join((*middle, *far, _text(page_url(site, item.id, 2)), b"\n  }")))


def _same_below(site: SiteConfig, item: Item) -> bool:
    """Whether the item's papers, links and people's photos have the same URLs from a file two
    folders below dist/ (they do when none is a relative path)."""
    if item.papers:
        return False
    for link in item.links:
        if absolute(site, link.url, 2) != absolute(site, link.url, 0):
            return False
    for person in item.people:
        if person.avatar and absolute(site, person.avatar, 2) != absolute(site, person.avatar, 0):
            return False
    return True


def _list_text(texts: list[bytes], level: int) -> bytes:
    """A list at `level` of values already written for level + 1."""
    if not texts:
        return b"[]"
    indent = _NL[level + 1]
    return b"[" + indent + (b"," + indent).join(texts) + _NL[level] + b"]"


def _people_text(site: SiteConfig, people: tuple[Person, ...], depth: int, level: int) -> bytes:
    """[person_record(site, person, depth) for person in people] at `level`."""
    if not people:
        return b"[]"
    return _list_text([_person_text(site, p, depth, level + 1) for p in people], level)


def _person_text(site: SiteConfig, person: Person, depth: int, level: int) -> bytes:
    """person_record(site, person, depth) at `level`."""
    indent = _NL[level + 1]
    return b"".join(
        (
            b"{",
            indent,
            b'"affiliation": ',
            _shared(person.affiliation),
            b",",
            indent,
            b'"avatar": ',
            _shared(absolute(site, person.avatar, depth)),
            b",",
            indent,
            b'"name": ',
            _shared(person.name),
            b",",
            indent,
            b'"url": ',
            _shared(person.url),
            _NL[level],
            b"}",
        )
    )


def _links_text(site: SiteConfig, links: tuple[Link, ...], depth: int, level: int) -> bytes:
    """_links(site, links, depth) at `level`."""
    if not links:
        return b"[]"
    indent = _NL[level + 2]
    return _list_text(
        [
            b"".join(
                (
                    b"{",
                    indent,
                    b'"label": ',
                    _shared(link.label),
                    b",",
                    indent,
                    b'"url": ',
                    _text(absolute(site, link.url, depth)),
                    _NL[level + 1],
                    b"}",
                )
            )
            for link in links
        ],
        level,
    )


def _paper_text(site: SiteConfig, paper: Paper, depth: int, level: int) -> bytes:
    """_paper_record(site, paper, depth) at `level`."""
    indent = _NL[level + 1]
    return b"".join(
        (
            b"{",
            indent,
            b'"affiliation": ',
            _shared(paper.affiliation),
            b",",
            indent,
            b'"authors": ',
            _list_text([_shared(name) for name in paper.authors], level + 1),
            b",",
            indent,
            b'"id": ',
            _text(paper.id),
            b",",
            indent,
            b'"links": ',
            _links_text(site, paper.links, depth, level + 1),
            b",",
            indent,
            b'"title": ',
            _text(paper.title),
            b",",
            indent,
            b'"url": ',
            _text(page_url(site, paper.id, depth)),
            _NL[level],
            b"}",
        )
    )


def _feed_text(
    site: SiteConfig, info: EditionInfo, item: Item, shared: _Shared, content_parts: tuple[str, ...]
) -> Text:
    """dump() of _feed_item(site, info, item) as an item of a document's list; `content_parts`
    are _content_parts(item)."""
    root = site_root(site)
    people = item.people
    parts = [
        b'{\n   "_schedule": {\n    "about": ',
        _shared((root or "") + SCHEMA_NAME),
        b',\n    "edition": ',
        shared.edition,
        b',\n    "end": ',
        shared.end,
        b',\n    "location": ',
        _shared(item.location or info.venue),
        b',\n    "speakers": ',
        _people_text(site, people, 0, 4),
        b',\n    "start": ',
        shared.start,
        b',\n    "timezone": ',
        _shared(info.timezone),
        b',\n    "type": ',
        shared.type,
        b"\n   }",
    ]
    if people:
        authors = [_author_text(site, p.name, p.url, p.avatar) for p in people]
        parts += (b',\n   "authors": ', _list_text(authors, 3))
    parts.append(b',\n   "content_html": "')
    # The content is mostly the abstract and bio joined: escaping is per character, so its
    # JSON string is theirs (already written for talks.json) joined by an escaped newline.
    content: list[bytes] = []
    for part in content_parts:
        if content:
            content.append(b"\\n")
        if part is item.abstract_html:
            content.append(shared.abstract_html)
        elif part is item.bio_html:
            content.append(shared.bio_html)
        else:
            content.append(_body(part))
    parts = [b"".join(parts), *content, b'"']
    if item.start:
        parts += (b',\n   "date_published": ', shared.start)
    parts += (b',\n   "id": ', shared.id)
    if item.abstract_text:
        parts += (b',\n   "summary": ', _text(_shorten(item.abstract_text, 300)))
    parts += (
        b',\n   "tags": [\n    ',
        shared.type,
        b",\n    ",
        shared.edition,
        b'\n   ],\n   "title": ',
        shared.title,
    )
    if root:
        parts += (b',\n   "url": ', _text(page_url(site, item.id)))
    parts.append(b"\n  }")
    tail = len(content) + 1
    return (*parts[:tail], b"".join(parts[tail:]))


def _author_text(site: SiteConfig, name: str, url: str, avatar: str) -> bytes:
    """_author(site, name, url, avatar) at level 4."""
    parts = [b"{"]
    avatar_url = absolute(site, avatar)
    if avatar_url and "://" in avatar_url:
        parts += (b'\n     "avatar": ', _shared(avatar_url), b",")
    parts += (b'\n     "name": ', _shared(name))
    if url:
        parts += (b',\n     "url": ', _shared(url))
    parts.append(b"\n    }")
    return b"".join(parts)
