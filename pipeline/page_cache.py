"""Rendered pages kept between builds, each under a digest of everything its context holds.

A page is a pure function of its template and its context (frozen records all the way down),
so a page whose context digests the same is the page rendered last time. Items are digested
once per build (output_cache.token); every other record is digested field by field, once per
object. The search files' version is left out of the key: pages are rendered with a stand-in
for it, replaced once the search files are made (outputs.py).

The pages themselves are not stored: the last build wrote them into dist/. What is kept, per
key, is that file's SHA-256 and where the search files' version stands in it. A page found is read
back from dist/, checked against the digest, and given this build's stand-in at those places;
a page missing or changed there is rendered again.

A page that is rendered again (its listing changed) is made mostly of items that did not:
with the bundled templates each item is rendered through `items_html`, which takes an item's
HTML from where it lies in the same page of the last build (`Fragments`), keyed on the item's
digest, its template and whether a break follows it. So an edit renders one item, not the
thousand its listing page holds.

Only the bundled templates are cached (render.version_is_verbatim): their sources salt every
key, and a site's own templates are rendered afresh each build.
"""

from __future__ import annotations

import hashlib
from bisect import bisect
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from markupsafe import Markup

from . import digests
from .model import Item
from .output_cache import previous_output, stage_store, token
from .records import fields, is_record, record, replace
from .resources import templates_dir

if TYPE_CHECKING:
    from jinja2 import Environment, Template

# The one field of a context that changes with every edit of the search's content.
_VERSION_FIELD = "search_version"
# An item followed by one of these is marked (item--before-band) to close the run before it.
BAND_TYPES = ("break", "lunch")


@record
class WrittenPage:
    """Where a page the last build wrote lies in dist/: its SHA-256, and the byte offsets at
    which it holds the search files' version (`version_length` bytes each)."""

    digest: bytes
    version_at: tuple[int, ...]
    version_length: int


@record
class Fragments:
    """Where each item's HTML lies in a page the last build wrote (SHA-256 `digest`): byte
    offsets (start, end) under the item's key (PageCache._item)."""

    digest: bytes
    spans: dict[str, tuple[int, int]]


class PageCache:
    def __init__(self, stand_in: str, env: Environment | None = None) -> None:
        sources = sorted(templates_dir().glob("*.html"))
        salt = "".join(f"{p.name}\0{p.read_text(encoding='utf-8')}\0" for p in sources)
        self.salt = hashlib.sha256(salt.encode("utf-8", "surrogatepass")).hexdigest()
        self.stand_in = stand_in
        self.env = env
        # The listing pages' entries change with every edit (the version is in them), so the
        # entries are written whole each time: with the items' places, 1.9 MB at 10,000 items.
        self.store = stage_store("pages")
        found = self.store.load() if self.store is not None else {}
        pages, fragments = found.get("pages"), found.get("fragments")
        self.last: dict[str, WrittenPage] = dict(pages) if isinstance(pages, dict) else {}
        self.written: dict[str, WrittenPage] = {}
        # Fragments are keyed without the templates' sources: they hold only under the salt.
        same = found.get("salt") == self.salt
        self.last_fragments: dict[str, Fragments] = (
            dict(fragments) if same and isinstance(fragments, dict) else {}
        )
        _complete(self.last, self.last_fragments, found.get("held"), found.get("digests"))
        self.fragments: dict[str, Fragments] = {}
        # name -> key of the pages `hold` noted, whose digests `finish` adds.
        self.held: dict[str, str] = {}
        self.held_length = 0
        # name -> SHA-256 of each held page `finish` gave the version.
        self.finished: dict[str, bytes] = {}
        self.memo: dict[int, tuple[object, str]] = {}
        # name -> key of every page this build made, to record once it is written.
        self.keys: dict[str, str] = {}
        # name -> where each item lies in the page as rendered (with the stand-in), by key.
        self.spans: dict[str, dict[str, tuple[int, int]]] = {}
        # While a page renders: its name, the (key, HTML) of each item in order, and the last
        # build's copy of it (spans, bytes) when items can be taken from there.
        self.rendering: str | None = None
        # The items of each items_html call while a page renders: (key, UTF-8 HTML) in order.
        self.runs: list[list[tuple[str, bytes]]] = []
        self.found: tuple[dict[str, tuple[int, int]], bytes] | None = None
        self.templates: dict[str, Template] = {}
        # What items_html puts in the page in place of its items (then spliced in): the random
        # stand-in cannot occur in a page by chance.
        self.mark = f"\x00{stand_in}:"

    def page(
        self, name: str, template: str, context: object, render: Callable[[], str]
    ) -> str | bytes:
        """The page `render()` gives, or the same page as UTF-8 bytes from the last build's
        dist/ when its context digests the same. A context with a cache_inputs() method is
        keyed on what that returns: the part of it the bundled template reads."""
        inputs = getattr(context, "cache_inputs", None)
        key = f"{self.salt}\0{template}\0{name}\0{self.digest(inputs() if inputs else context)}"
        self.keys[name] = key
        found = self.last.get(key)
        html = self._written(name, found) if isinstance(found, WrittenPage) else None
        if html is not None:
            return html
        self.rendering, self.runs, self.found = name, [], self._last_items(name)
        try:
            data, self.spans[name] = self._spliced(render())
            return data
        finally:
            self.rendering, self.runs, self.found = None, [], None

    def items_html(self, template: str, items: Sequence[Item]) -> Markup:
        """What the bundled listing and day pages show of a day's items: each item's HTML in
        turn, told whether a break or a lunch follows it. Looped here rather than in Jinja,
        where each of a listing page's thousand items cost several times as much.

        The page gets a mark in their place, and their bytes are spliced into it once it is
        rendered (_spliced): an item taken from the last build's page is never decoded, put
        through Jinja and encoded again, nor looked for in the page to know where it lies (a
        listing page of 1,000 items took 12 ms so)."""
        assert self.rendering is not None, "items_html outside PageCache.page"
        last = len(items) - 1
        self.runs.append(
            [
                self._item(template, item, number < last and items[number + 1].type in BAND_TYPES)
                for number, item in enumerate(items)
            ]
        )
        return Markup(f"{self.mark}{len(self.runs) - 1}\x00")

    def _item(self, template: str, item: Item, before_band: bool) -> tuple[str, bytes]:
        """What the bundled listing and day pages show of an item (`template` rendered for it)
        as UTF-8, under its key: from the last build's copy of the page being rendered when
        the item was there."""
        key = f"{template}\0{token(item)}\0{before_band:d}"
        span = self.found[0].get(key) if self.found is not None else None
        if span is not None:
            assert self.found is not None
            return key, self.found[1][span[0] : span[1]]
        html = self._template(template).render(item=item, before_band=before_band)
        return key, html.encode("utf-8")

    def _spliced(self, shell: str) -> tuple[bytes, dict[str, tuple[int, int]]]:
        """The page rendered as `shell`, each items_html mark in it replaced by its items, and
        where each item lies in it."""
        marks = [f"{self.mark}{number}\x00" for number in range(len(self.runs))]
        if not all(shell.count(mark) == 1 for mark in marks):
            # A template that shows a call's items twice, or not at all: as they are.
            for mark, run in zip(marks, self.runs, strict=True):
                shell = shell.replace(mark, b"".join(html for _key, html in run).decode("utf-8"))
            data = shell.encode("utf-8")
            return data, _located(data, [piece for run in self.runs for piece in run])
        pieces: list[bytes] = []
        spans: dict[str, tuple[int, int]] = {}
        at = done = 0
        for mark, run in zip(marks, self.runs, strict=True):
            found = shell.index(mark, done)
            head = shell[done:found].encode("utf-8")
            pieces.append(head)
            at += len(head)
            for key, html in run:
                spans[key] = (at, at + len(html))
                pieces.append(html)
                at += len(html)
            done = found + len(mark)
        pieces.append(shell[done:].encode("utf-8"))
        return b"".join(pieces), spans

    def _template(self, name: str) -> Template:
        found = self.templates.get(name)
        if found is None:
            assert self.env is not None
            found = self.templates[name] = self.env.get_template(name)
        return found

    def _last_items(self, name: str) -> tuple[dict[str, tuple[int, int]], bytes] | None:
        """Where the items lie in the page the last build wrote, and its bytes; None when it
        did not, or the page in dist/ is no longer what it wrote."""
        fragments = self.last_fragments.get(name)
        if not isinstance(fragments, Fragments):
            return None
        data = previous_output(name, fragments.digest)
        return (fragments.spans, data) if data is not None else None

    def _written(self, name: str, page: WrittenPage) -> bytes | None:
        data = previous_output(name, page.digest)
        if data is None:
            return None
        if not page.version_at:
            # The very bytes the last build wrote (a day page holds no version), whose digest
            # the tree need not work out again: 0.7 MB a page at 1,000 items.
            digests.learn(data, page.digest)
            return data
        stand_in = self.stand_in.encode()
        pieces: list[bytes] = []
        last = 0
        for at in page.version_at:
            pieces += (data[last:at], stand_in)
            last = at + page.version_length
        pieces.append(data[last:])
        return b"".join(pieces)

    def record(self, rendered: Mapping[str, str | bytes], version: str) -> dict[str, bytes]:
        """The pages as written, the stand-in they were rendered with replaced by `version`;
        each is noted for the next build, with where the version stands in it."""
        stand_in, final = self.stand_in.encode(), version.encode()
        written: dict[str, bytes] = {}
        for name, html in rendered.items():
            data = html.encode("utf-8") if isinstance(html, str) else html
            written[name] = data.replace(stand_in, final)
            key = self.keys.get(name)
            if key is not None:
                self._note(name, key, data, len(final), digests.sha256(written[name]))
        return written

    def hold(self, rendered: Mapping[str, bytes], version_length: int) -> None:
        """Note pages that hold the stand-in before the search files' version is known, as
        `record` would with a version `version_length` bytes long: where it will stand in
        each, and where each page's items will lie. Only their digests wait for the version
        (`finish`), so the cache can be saved (`save`) while the search stage still runs,
        rather than once it is in, at the end of a rebuild's longest path."""
        self.held_length = version_length
        for name, data in rendered.items():
            key = self.keys.get(name)
            if key is not None:
                self.held[name] = key
                self._note(name, key, data, version_length, b"")

    def finish(self, held: Mapping[str, bytes], version: str) -> dict[str, bytes]:
        """The pages `hold` noted, the stand-in replaced by `version`. Their digests are added
        to the cache `save` wrote, as its journal (cache.Store.add): a build that ends before
        this leaves those pages out of the next build's cache, never wrong in it."""
        final = version.encode()
        assert len(final) == self.held_length or not self.held, "the length hold was told"
        stand_in = self.stand_in.encode()
        written = {name: data.replace(stand_in, final) for name, data in held.items()}
        added = {name: digests.sha256(written[name]) for name in self.held if name in written}
        if added and self.store is not None:
            self.finished.update(added)
            self.store.add({"digests": self.finished})
        return written

    def _note(self, name: str, key: str, data: bytes, length: int, digest: bytes) -> None:
        """Note a page rendered with the stand-in (`data`), to be written with a version
        `length` bytes long in its place, as `digest`."""
        stand_in = self.stand_in.encode()
        shrink = len(stand_in) - length
        found: list[int] = []
        at = data.find(stand_in)
        while at >= 0:
            found.append(at)
            at = data.find(stand_in, at + len(stand_in))
        # Each earlier replacement shortened what comes before by `shrink` bytes.
        places = tuple(at - number * shrink for number, at in enumerate(found))
        self.written[key] = WrittenPage(digest, places, length)
        self._note_fragments(name, digest, found, shrink)

    def _note_fragments(self, name: str, digest: bytes, found: list[int], shrink: int) -> None:
        """Where the page's items lie in it as written, for the next build. A page taken whole
        from the last build keeps its items where they were: only its version changed."""
        spans = self.spans.pop(name, None)
        if spans is None:
            last = self.last_fragments.get(name)
            if isinstance(last, Fragments):
                self.fragments[name] = Fragments(digest, last.spans)
            return
        if found and shrink:
            # The spans were found in the page with the stand-in, which the version replaced.
            spans = {
                key: (start - shrink * bisect(found, start), end - shrink * bisect(found, start))
                for key, (start, end) in spans.items()
            }
        if spans:
            self.fragments[name] = Fragments(digest, spans)

    def save(self) -> None:
        if self.store is not None:
            entries = {
                "pages": self.written,
                "fragments": self.fragments,
                "salt": self.salt,
                "held": self.held,
            }
            self.store.replace(entries)

    def digest(self, value: object) -> str:
        if isinstance(value, Item):
            return token(value)
        if isinstance(value, str):
            return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
        if isinstance(value, datetime):
            return token(value)
        if isinstance(value, tuple | list):
            return _joined(type(value).__name__, [self.digest(v) for v in value])
        if isinstance(value, dict):
            parts = [f"{self.digest(k)}:{self.digest(v)}" for k, v in value.items()]
            return _joined("dict", parts)
        if is_record(value):
            known = self.memo.get(id(value))
            if known is not None and known[0] is value:
                return known[1]
            parts = [
                f"{name}={self.digest(getattr(value, name))}"
                for name in fields(value)
                if name != _VERSION_FIELD
            ]
            digest = _joined(type(value).__qualname__, parts)
            # Holding the value keeps its id from being reused while the entry exists.
            self.memo[id(value)] = (value, digest)
            return digest
        if value is None or isinstance(value, bool | int | float):
            return repr(value)
        # Anything else by its repr: a value whose repr does not show what it holds (an
        # object's address) only ever misses the cache.
        return token(value)


def _complete(
    pages: dict[str, WrittenPage], fragments: dict[str, Fragments], held: object, found: object
) -> None:
    """Give the pages a build saved before their digests were known (`held`: name -> key)
    the digests its journal holds (`found`: name -> SHA-256); drop those it lacks."""
    held = held if isinstance(held, dict) else {}
    found = found if isinstance(found, dict) else {}
    for name, key in held.items():
        digest = found.get(name)
        page, items = pages.pop(key, None), fragments.pop(name, None)
        if not isinstance(digest, bytes):
            continue
        if isinstance(page, WrittenPage):
            pages[key] = replace(page, digest=digest)
        if isinstance(items, Fragments):
            fragments[name] = replace(items, digest=digest)


def _located(data: bytes, pieces: list[tuple[str, bytes]]) -> dict[str, tuple[int, int]]:
    """Where each (key, HTML) piece lies in the page: they were written in order, each after
    the last, so each is looked for from where the last one ended."""
    spans: dict[str, tuple[int, int]] = {}
    at = 0
    for key, piece in pieces:
        start = data.find(piece, at)
        if start < 0:
            return {}
        at = start + len(piece)
        spans[key] = (start, at)
    return spans


def _joined(kind: str, parts: list[str]) -> str:
    text = kind + "(" + ",".join(parts) + ")"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
