"""Signed cache files: what the per-item output caches (output_cache.py) are saved in.

The cache lives beside the content folder in `.pipeline-cache/`. A cache file is a pickle, so
it is signed with a key kept outside the site (in the user's cache folder): one copied in with
a site must never be loaded, and one that fails the check is ignored, as if absent.

A store is a base file and a journal beside it (`<name>.journal`) holding the entries a build
used that the base lacks. A build after a one-file edit adds a handful of entries to a cache of
ten thousand, so it rewrites the small journal rather than the whole base; the base is
rewritten, keeping only what the build used, once the journal grows past a share of its size
or most of its entries go unused.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import mmap
import os
import pickle
from pathlib import Path
from typing import Any

from . import scratch, syscalls
from .trees import WRITEBACK_BYTES

CACHE_DIR = ".pipeline-cache"


def cache_dir(content_dir: Path) -> Path:
    """Where a content folder's caches live: beside it, never inside (it is not content)."""
    return content_dir.resolve().parent / CACHE_DIR


def _signing_key() -> bytes:
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pipeline"
    path = home / "cache-key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        key = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key


# The journal is folded into a new base once its file would pass this share of the base's
# size, or once more than this share of the base's entries went unused by a build.
JOURNAL_BYTES_SHARE = 4
UNUSED_SHARE = 2


class Store:
    """One cache's entries on disk: a signed base and a signed journal tied to that base."""

    def __init__(self, path: Path, version: bytes) -> None:
        self.path = path
        self.journal_path = path.with_name(path.name + ".journal")
        self.version = version
        self.base_signature = b""
        self.base_bytes = 0
        self.base_keys: frozenset[Any] = frozenset()
        self.journal: dict[Any, Any] = {}

    def load(self) -> dict[Any, Any]:
        """Every entry of the base and its journal, or {} when the base is missing or unsigned."""
        entries, self.base_signature, self.base_bytes = _load_signed(self.path, self.version)
        self.base_keys = frozenset(entries)
        if self.base_signature:
            # A journal written against another base (one since replaced) is ignored.
            journal, _, _ = _load_signed(self.journal_path, self.version + self.base_signature)
            self.journal = journal
            entries.update(journal)
        return entries

    def save(self, used: dict[Any, Any], loaded: dict[Any, Any]) -> None:
        """Keep `used` (a build's entries, `loaded` the ones it started with) for the next build:
        in the journal, the entries the base lacks, while it stays small next to the base."""
        if self.base_signature:
            journal = {key: value for key, value in used.items() if key not in self.base_keys}
            unused = sum(1 for key in self.base_keys if key not in used)
            payload = _pickled(journal)
            if len(
                payload
            ) * JOURNAL_BYTES_SHARE <= self.base_bytes and unused * UNUSED_SHARE <= len(used):
                _write_signed(self.journal_path, self.version + self.base_signature, payload)
                return
        self.replace(used)

    def replace(self, entries: dict[Any, Any]) -> None:
        """Write entries as the new base, with no journal."""
        signature = _save_signed(self.path, self.version, entries)
        if signature:
            self.journal_path.unlink(missing_ok=True)
        self.base_signature, self.base_keys, self.journal = signature, frozenset(entries), {}

    def add(self, entries: dict[Any, Any]) -> None:
        """Write entries as the journal of the base this store loaded or last wrote: the
        next load gives them with the base's. Nothing is written without a base."""
        if self.base_signature:
            self.journal = dict(entries)
            _write_signed(self.journal_path, self.version + self.base_signature, _pickled(entries))


def _save_signed(path: Path, version: bytes, entries: dict[Any, Any]) -> bytes:
    """Write entries as a signed pickle; its signature, or b"" when it could not be written
    (a cache that cannot be written is only a slower build)."""
    return _write_signed(path, version, _pickled(entries))


def _pickled(entries: dict[Any, Any]) -> bytes:
    return pickle.dumps(entries, pickle.HIGHEST_PROTOCOL)


def _write_signed(path: Path, version: bytes, pickled: bytes) -> bytes:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Signed and written in pieces: joining them would copy tens of megabytes twice.
        signing = hmac.new(_signing_key(), version, hashlib.sha256)
        signing.update(pickled)
        signature = signing.digest()
        fd, temporary = scratch.new_file(path.parent, f".{path.stem}-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(signature)
                handle.write(version)
                handle.write(pickled)
                if len(pickled) >= WRITEBACK_BYTES:
                    # On its way to the disk now: the next build's sync (write.py), which
                    # flushes whatever its file system holds unwritten, need not wait for it.
                    handle.flush()
                    syscalls.start_writeback(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return b""
    return signature


def _load_signed(path: Path, version: bytes) -> tuple[dict[Any, Any], bytes, int]:
    """The entries, signature and size of a file _save_signed wrote with this user's key and
    this version, else ({}, b"", 0)."""
    nothing: tuple[dict[Any, Any], bytes, int] = ({}, b"", 0)
    try:
        key = _signing_key()
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size <= 32 + len(version):
                return nothing
            # Mapped rather than read: the pages the file system holds are used as they are,
            # not copied into fresh memory (a rebuild loads tens of megabytes of caches, and
            # every fresh page costs a fault).
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                found = _unpickled_signed(mapped, key, version)
    except (OSError, ValueError):
        return nothing
    if found is None:
        return nothing
    entries, signature = found
    return (entries, signature, size) if isinstance(entries, dict) else nothing


def _unpickled_signed(mapped: mmap.mmap, key: bytes, version: bytes) -> tuple[Any, bytes] | None:
    """What the mapped file holds, once its signature proves this user's builds wrote it with
    this version; every view of the mapping is released on return, so it can be closed."""
    with memoryview(mapped) as blob, blob[32:] as payload:
        signature = bytes(blob[:32])
        # A pickle is only loaded once its signature proves this user's builds wrote it.
        if not hmac.compare_digest(signature, hmac.new(key, payload, hashlib.sha256).digest()):
            return None
        if payload[: len(version)] != version:
            return None
        # Unpickling makes a great many objects and no cycles: collections would only rescan
        # them.
        enabled = gc.isenabled()
        gc.disable()
        try:
            with payload[len(version) :] as pickled:
                return pickle.loads(pickled), signature
        except Exception:  # a signed but unreadable cache is just a cold cache
            return None
        finally:
            if enabled:
                gc.enable()
