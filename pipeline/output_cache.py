"""Per-item cache for the output stages, so a rebuild after editing one file redoes one item.

A stage's output for an item (its VEVENT, its talks.json record, its search terms) depends
only on the frozen values it is computed from, so each value is stored under a hash of their
repr, together with a hash of the code that computed it: all pipeline modules and the
versions of the libraries whose output is cached. A repr that differs only makes a miss, so
the worst a stale or unreadable cache can do is make the build slower.

Each stage keeps its own file in `.pipeline-cache/<stage>.pickle` beside the content, signed
(cache.py), and saves it itself: a stage may run in a forked worker. The
folder is set for the duration of one build by `cache_folder`; without it (PIPELINE_NO_CACHE,
or a stage called outside a build) every value is computed afresh.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from . import trees
from .cache import Store
from .records import fields, is_record

T = TypeVar("T")
_folder: Path | None = None
# The site the last build wrote (dist/), which a stage may splice its new files from.
_previous_site: Path | None = None


# id(value) -> (value, digest of its repr) for the frozen values every stage keys on: a
# record's repr is slow, and each item is a key in half a dozen caches (some in forked
# workers, which inherit what was computed before they started). Holding the value keeps
# its id from being reused while the entry exists.
_digests: dict[int, tuple[object, str]] = {}


@contextmanager
def cache_folder(
    folder: Path | None,
    values: Iterable[object] = (),
    known: Iterable[tuple[object, str]] = (),
    previous_site: Path | None = None,
) -> Iterator[None]:
    """Let the stages run inside this block cache their per-item output in `folder`;
    `values` (the items) are the keys they share, digested once here, but for those whose
    token is `known` already (read_cache.py kept it). `previous_site` is the folder the
    last build wrote, which previous_output() reads."""
    global _folder, _previous_site
    previous, previous_written = _folder, _previous_site
    _folder = folder
    _previous_site = previous_site if folder is not None else None
    if folder is not None:
        for value, digest in known:
            _digests[id(value)] = (value, digest)
        for value in values:
            _token(value)
    try:
        yield
    finally:
        _folder, _previous_site = previous, previous_written
        _digests.clear()


def previous_output(relative: str, sha256: bytes) -> bytes | None:
    """The file the last build wrote at `relative`, when this build caches and it is there
    still holding bytes of this SHA-256 (which its stage kept: splice.py, page_cache.py).

    The tree's manifest proves most such files without digesting them again (trees.proves):
    megabytes of them on a rebuild."""
    if _previous_site is None:
        return None
    try:
        with open(os.path.join(_previous_site, relative), "rb") as handle:
            data = handle.read()
            # After reading: a file changed meanwhile has another status, and is digested.
            status = os.fstat(handle.fileno())
    except OSError:
        return None
    if trees.proves(_previous_site, relative, sha256, status):
        return data
    return data if hashlib.sha256(data).digest() == sha256 else None


def mapped_output(relative: str, sha256: bytes) -> mmap.mmap | None:
    """previous_output(), mapped into memory rather than read: for a document whose old bytes
    are only digested and written again (joined.py). The bytes are not copied, so they are
    the file's until then: the build's lock keeps every other build from it, but not a hand
    that edits dist/ meanwhile (a file cut short then ends the process, SIGBUS)."""
    if _previous_site is None:
        return None
    try:
        with open(os.path.join(_previous_site, relative), "rb") as handle:
            status = os.fstat(handle.fileno())
            if not status.st_size:
                return None
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    if trees.proves(_previous_site, relative, sha256, status):
        return mapped
    if hashlib.sha256(mapped).digest() == sha256:
        return mapped
    mapped.close()
    return None


def stage_store(stage: str) -> Store | None:
    """The store of a stage that keeps more than per-item values (search_state.py), or None
    when this build caches nothing."""
    return None if _folder is None else Store(_folder / f"{stage}.pickle", code_version())


def token(value: object) -> str:
    """What a value is keyed by (see _token); for keys that stages build themselves."""
    return _token(value)


def _token(value: object) -> str:
    """What a value is keyed by: its repr, shortened to a digest for records (held
    until the block ends). A zoned time's repr shows its wall clock and zone name but not its
    UTC offset, which comes from the time zone database, so the offsets are added: an update
    of the database is then a miss."""
    # Items are looked up many times a build (every stage keys on them): known ones first.
    known = _digests.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    if isinstance(value, datetime):
        return f"{value!r}{value.isoformat()}"
    if not is_record(value):
        return repr(value)
    times = [v for v in (getattr(value, name) for name in fields(value)) if isinstance(v, datetime)]
    text = repr(value) + "".join(t.isoformat() for t in times)
    digest = "@" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    _digests[id(value)] = (value, digest)
    return digest


# The libraries whose output ends up in cached values.
_LIBRARIES = (
    "icalendar",
    "lunr",
    "nh3",
    "regex",
    "markdown-it-py",
    "tzdata",
    "jinja2",
    "markupsafe",
    "PyYAML",
    "numpy",
)


@lru_cache(maxsize=1)
def code_version() -> bytes:
    # Every module of the package (the stages call into most of them) and the libraries whose
    # output ends up in cached values: changing any of them drops every entry.
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    # Listed, not globbed: a glob compiles an expression, before the compiled-code cache is
    # restored (compiled_cache.py).
    for name in sorted(name for name in os.listdir(here) if name.endswith(".py")):
        digest.update(name.encode())
        digest.update((here / name).read_bytes())
    digest.update(";".join(installed_versions(_LIBRARIES)).encode())
    return digest.digest()


def installed_versions(packages: Iterable[str]) -> list[str]:
    """The packages' installed `name-version` as their metadata folders on sys.path name them,
    "name-?" for one not found. importlib.metadata would say the same, but importing it alone
    costs a rebuild a tenth of a second."""
    wanted = {_normalized(name): name for name in packages}
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".dist-info"):
                continue
            name, _, release = entry[: -len(".dist-info")].rpartition("-")
            key = _normalized(name)
            if key in wanted and key not in found:
                found[key] = f"{wanted[key]}-{release}"
    return [found.get(key, f"{name}-?") for key, name in sorted(wanted.items())]


def _normalized(name: str) -> str:
    # Metadata folder names replace - and . by _ (and may keep the project's capitals).
    return name.replace("-", "_").replace(".", "_").lower()


class OutputCache:
    """Memoised per-item values of one stage; `get_each` computes whatever is not stored."""

    def __init__(self, stage: str, salt: str = "") -> None:
        # `salt` stands for whatever else the values depend on (a template's source, say); it
        # goes into every key, so it is shortened to a digest once.
        self.salt = hashlib.sha256(salt.encode("utf-8", "surrogatepass")).hexdigest()
        self.path = None if _folder is None else _folder / f"{stage}.pickle"
        self.store_file = Store(self.path, code_version()) if self.path else None
        self.entries: dict[bytes, Any] = self.store_file.load() if self.store_file else {}
        self.used: dict[bytes, Any] = {}
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def get_each(
        self, compute: Callable[..., T], shared: tuple[Any, ...], each: Sequence[Any]
    ) -> list[T]:
        """[compute(*shared, value) for value in each], each value what compute returned last
        time for the same function and arguments (compared by repr: the arguments are frozen
        values whose repr shows all they hold); the shared arguments' part of every key is
        worked out once."""
        if self.path is None:
            return [compute(*shared, value) for value in each]
        parts = (self.salt, compute.__module__, compute.__qualname__, *map(_token, shared))
        # repr(parts + (token,)) without making the tuple: every part is a str.
        head = repr(parts)[:-1] + ", "
        values: list[T] = []
        for value in each:
            text = head + repr(_token(value)) + ")"
            key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
            if key in self.entries:
                found: T = self.entries[key]
            else:
                self.misses += 1
                found = compute(*shared, value)
            self.used[key] = found
            values.append(found)
        return values

    def lookup(self, key: str) -> Any:
        """What was stored under the key last time (kept for this build too), or None."""
        if self.path is None:
            return None
        digest = self._digest(key)
        value = self.entries.get(digest)
        if value is not None:
            self.used[digest] = value
        return value

    def store(self, key: str, value: Any) -> None:
        """Keep a value (never None) under the key for the next build."""
        if self.path is None:
            return
        self.misses += 1
        self.used[self._digest(key)] = value

    def _digest(self, key: str) -> bytes:
        return hashlib.sha256(repr((self.salt, key)).encode("utf-8", "surrogatepass")).digest()

    def save(self) -> None:
        """Keep only what this build used."""
        if self.store_file is None or (not self.misses and len(self.used) == len(self.entries)):
            return
        self.store_file.save(self.used, self.entries)
