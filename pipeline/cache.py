"""Per-file cache for the read stage, so a rebuild after editing one file skips the others.

Parsing frontmatter and rendering and sanitising Markdown is most of a build's read time and
depends only on a file's bytes, so results are keyed by a hash of those bytes (and the names
the bio is split on). The cache lives beside the content folder in `.pipeline-cache/`; it is
dropped whole when the code that produced it changes, and only entries used by the latest
build are kept. A cache file is signed with a key kept outside the site (in the user's cache
folder): it is a pickle, and one copied in with a site must never be loaded.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import pickle
import secrets
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from .document import Document, parse_document
from .text import Body, split_body

CACHE_DIR = ".pipeline-cache"
_FILE = "read.pickle"
T = TypeVar("T")
Key = tuple[Any, ...]


class CacheUse(NamedTuple):
    """What one worker's fork of a cache did: entries it computed, keys it found, counts."""

    computed: dict[Key, Any]
    found: list[Key]
    hits: int
    misses: int


def _code_version() -> bytes:
    # The modules whose output is cached, plus the package version: editing either
    # invalidates every entry, so a cached value is always what this code would compute.
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in ("cache.py", "document.py", "text.py", "model.py"):
        digest.update((here / name).read_bytes())
    return digest.digest()


def _signing_key() -> bytes:
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pipeline"
    path = home / "cache-key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key


def save_signed(path: Path, version: bytes, entries: dict[Any, Any]) -> None:
    """Write entries as a signed pickle; a cache that cannot be written is only a slower build."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = version + pickle.dumps(entries, pickle.HIGHEST_PROTOCOL)
        signature = hmac.new(_signing_key(), payload, hashlib.sha256).digest()
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(signature + payload)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def load_signed(path: Path, version: bytes) -> dict[Any, Any]:
    """The entries save_signed wrote with this user's key and this code version, else {}."""
    try:
        blob = path.read_bytes()
        key = _signing_key()
    except OSError:
        return {}
    signature, payload = blob[:32], blob[32:]
    # A pickle is only loaded once its signature proves this user's builds wrote it.
    if not hmac.compare_digest(signature, hmac.new(key, payload, hashlib.sha256).digest()):
        return {}
    if payload[: len(version)] != version:
        return {}
    # Unpickling makes a great many objects and no cycles: collections would only rescan them.
    enabled = gc.isenabled()
    gc.disable()
    try:
        entries = pickle.loads(payload[len(version) :])
    except Exception:  # a signed but unreadable cache is just a cold cache
        return {}
    finally:
        if enabled:
            gc.enable()
    return entries if isinstance(entries, dict) else {}


class ReadCache:
    """Memoised parse_document and split_body; `disabled` computes everything afresh."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.entries: dict[tuple[Any, ...], Any] = {}
        self.used: dict[tuple[Any, ...], Any] = {}
        self.hits = 0
        self.misses = 0
        if folder is not None:
            self.entries = self._load(folder / _FILE)

    @classmethod
    def for_content(cls, content_dir: Path) -> ReadCache:
        """The cache beside a content folder; PIPELINE_NO_CACHE=1 turns it off."""
        if os.environ.get("PIPELINE_NO_CACHE"):
            return cls(None)
        return cls(content_dir.resolve().parent / CACHE_DIR)

    def fork(self) -> ReadCache:
        """A cache sharing this one's stored entries that records its own use, for a worker
        (possibly a forked process) whose use() is merged back here."""
        child = ReadCache(None)
        child.entries = self.entries
        return child

    def use(self) -> CacheUse:
        found = [key for key in self.used if key in self.entries]
        computed = {key: v for key, v in self.used.items() if key not in self.entries}
        return CacheUse(computed, found, self.hits, self.misses)

    def merge(self, use: CacheUse) -> None:
        for key in use.found:
            self.used[key] = self.entries[key]
        self.used.update(use.computed)
        self.hits += use.hits
        self.misses += use.misses

    def document(self, path: str, raw: bytes) -> Document:
        key = ("document", path, hashlib.sha256(raw).digest())
        return self._get(key, lambda: parse_document(path, raw))

    def body(self, markdown: str, names: Iterable[str]) -> Body:
        names = tuple(names)
        key = ("body", hashlib.sha256(markdown.encode("utf-8", "surrogatepass")).digest(), names)
        return self._get(key, lambda: split_body(markdown, names))

    def _get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        if key in self.entries:
            self.hits += 1
            value: T = self.entries[key]
        else:
            self.misses += 1
            value = compute()  # errors propagate and are not cached
        self.used[key] = value
        return value

    def save(self) -> None:
        """Keep what this build used."""
        if self.folder is None or (not self.misses and len(self.used) == len(self.entries)):
            return
        save_signed(self.folder / _FILE, _code_version(), self.used)

    @staticmethod
    def _load(path: Path) -> dict[tuple[Any, ...], Any]:
        return load_signed(path, _code_version())
