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

Only the bundled templates are cached (render.version_is_verbatim): their sources salt every
key, and a site's own templates are rendered afresh each build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime

from .model import Item, record
from .output_cache import previous_output, stage_store, token
from .resources import templates_dir

# The one field of a context that changes with every edit of the search's content.
_VERSION_FIELD = "search_version"


@record
@dataclass(frozen=True, slots=True)
class WrittenPage:
    """Where a page the last build wrote lies in dist/: its SHA-256, and the byte offsets at
    which it holds the search files' version (`version_length` bytes each)."""

    digest: bytes
    version_at: tuple[int, ...]
    version_length: int


class PageCache:
    def __init__(self, stand_in: str) -> None:
        sources = sorted(templates_dir().glob("*.html"))
        salt = "".join(f"{p.name}\0{p.read_text(encoding='utf-8')}\0" for p in sources)
        self.salt = hashlib.sha256(salt.encode("utf-8", "surrogatepass")).hexdigest()
        self.stand_in = stand_in
        # The listing pages' entries change with every edit (the version is in them), so the
        # few entries are written whole each time.
        self.store = stage_store("pages")
        found = self.store.load().get("pages") if self.store is not None else None
        self.last: dict[str, WrittenPage] = found if isinstance(found, dict) else {}
        self.written: dict[str, WrittenPage] = {}
        self.memo: dict[int, tuple[object, str]] = {}
        # name -> key of every page this build made, to record once it is written.
        self.keys: dict[str, str] = {}

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
        return html if html is not None else render()

    def _written(self, name: str, page: WrittenPage) -> bytes | None:
        data = previous_output(name)
        if data is None or hashlib.sha256(data).digest() != page.digest:
            return None
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
        shrink = len(stand_in) - len(final)
        written: dict[str, bytes] = {}
        for name, html in rendered.items():
            data = html.encode("utf-8") if isinstance(html, str) else html
            places: list[int] = []
            at = data.find(stand_in)
            while at >= 0:
                # Each earlier replacement shortened what comes before by `shrink` bytes.
                places.append(at - len(places) * shrink)
                at = data.find(stand_in, at + len(stand_in))
            written[name] = data = data.replace(stand_in, final)
            key = self.keys.get(name)
            if key is not None:
                page = WrittenPage(hashlib.sha256(data).digest(), tuple(places), len(final))
                self.written[key] = page
        return written

    def save(self) -> None:
        if self.store is not None:
            self.store.replace({"pages": self.written})

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
        if is_dataclass(value) and not isinstance(value, type):
            known = self.memo.get(id(value))
            if known is not None and known[0] is value:
                return known[1]
            parts = [
                f"{f.name}={self.digest(getattr(value, f.name))}"
                for f in fields(value)
                if f.name != _VERSION_FIELD
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


def _joined(kind: str, parts: list[str]) -> str:
    text = kind + "(" + ",".join(parts) + ")"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
