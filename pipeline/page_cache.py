"""Rendered pages kept between builds, each under a digest of everything its context holds.

A page is a pure function of its template and its context (frozen records all the way down),
so a page whose context digests the same is the page rendered last time. Items are digested
once per build (output_cache.token); every other record is digested field by field, once per
object. The assets' version is left out of the key: pages are rendered with a stand-in version
that is replaced once the assets are made (outputs.py), and a stored page keeps the stand-in
it was rendered with, swapped for this build's on the way out.

Only the bundled templates are cached (render.version_is_verbatim): their sources salt every
key, and a site's own templates are rendered afresh each build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import datetime

from .model import Item
from .output_cache import OutputCache, token
from .resources import templates_dir

# The one field of a context that changes with every build's assets.
_VERSION_FIELD = "asset_version"


class PageCache:
    def __init__(self, stand_in: str) -> None:
        sources = sorted(templates_dir().glob("*.html"))
        salt = "".join(f"{p.name}\0{p.read_text(encoding='utf-8')}\0" for p in sources)
        self.stand_in = stand_in
        self.cache = OutputCache("pages", salt)
        self.memo: dict[int, tuple[object, str]] = {}

    def page(self, name: str, template: str, context: object, render: Callable[[], str]) -> str:
        """The page `render()` gives, from the cache when its context digests the same. A
        context with a cache_inputs() method is keyed on what that returns: the part of it the
        bundled template reads."""
        inputs = getattr(context, "cache_inputs", None)
        key = f"{template}\0{name}\0{self.digest(inputs() if inputs else context)}"
        stand_in, html = self.cache.get_keyed(key, lambda: (self.stand_in, render()))
        return html if stand_in == self.stand_in else html.replace(stand_in, self.stand_in)

    def save(self) -> None:
        self.cache.save()

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
