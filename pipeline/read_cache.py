"""What reading each content file gave, kept between builds for files that did not change.

A file's entry is keyed by what its file system entry says about it (size, modification and
change times in nanoseconds, inode, device), by the folder it resolves to, and, through the
cache's salt, by the site config and the content folder: an edit, a rename, a replaced folder
link or a changed config is a miss. Only plain files (not links) inside the content folder are
kept, and only when reading them consulted no other file: an item that links slides or a photo
depends on files its own bytes do not show, so it is read afresh every build. A file changed
in the last seconds is racily clean, as git calls it (another edit within the same clock tick
would keep its size and times): its entry is used only once the file's bytes prove the same.

The entries live in `.pipeline-cache/read.pickle` (output_cache.py): signed, and dropped when
the pipeline's code changes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import time
from pathlib import Path
from typing import Any

from .document import Frontmatter
from .errors import Problem
from .model import Asset, Item, SiteConfig
from .output_cache import OutputCache, stage_store, token
from .records import record
from .scan import resolved_folder, scan_files

# Changes newer than this, at the start of a build, make an entry racily clean: two seconds
# where the file system keeps whole seconds (FAT keeps even ones), a tenth of a second where
# it keeps finer times (ext4, XFS, btrfs, APFS, NTFS), whose clock ticks every few ms.
RACY_NANOSECONDS = 2_000_000_000
RACY_NANOSECONDS_FINE = 100_000_000


@record
class FileRead:
    """What reading one content file gave."""

    relative: str
    item: Item | None
    hidden: bool
    problems: tuple[Problem, ...]
    assets: tuple[tuple[str, Asset], ...]
    # Whether reading it looked at other files (slides, photos): then it is never cached.
    consulted_files: bool
    # The item's output_cache token, once stored: a rebuild keys its stages on it without
    # digesting the item again.
    token: str = ""
    # The SHA-256 of the bytes read, for an entry kept while its file was racily clean.
    digest: bytes = b""


@record
class Survey:
    """The content folder's files (scan.scan_files) and each one's key, made before the read
    cache is loaded, possibly in another process (early_search.py). `changed` maps each key to
    when its file last changed; `began` is when the survey began."""

    found: list[tuple[str, str]]
    skipped: list[Problem]
    keys: list[str | None]
    changed: dict[str, int]
    began: int


def survey(content_dir: Path) -> Survey:
    """Every content file (path, relative path) and its key (ReadCache.key)."""
    began = time.time_ns()
    found, skipped = scan_files(content_dir)
    root = content_dir.resolve()
    folders: dict[str, tuple[str, bool]] = {}
    changed: dict[str, int] = {}
    keys = [_key(path, relative, root, folders, changed) for path, relative in found]
    return Survey(found, skipped, keys, changed, began)


def _key(
    path: str,
    relative: str,
    root: Path,
    folders: dict[str, tuple[str, bool]],
    changed: dict[str, int],
) -> str | None:
    """The file's key, or None when it cannot be cached (a link, or outside the folder); when
    its file last changed goes into `changed`."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    try:
        folder, inside = resolved_folder(os.path.dirname(path), root, folders)
    except (OSError, RuntimeError):
        return None
    if not inside:
        return None
    fields = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
    key = f"{relative}\0{folder}\0{fields}"
    changed[key] = max(info.st_mtime_ns, info.st_ctime_ns)
    return key


class FrontmatterStore:
    """Each frontmatter read (document.Frontmatter), pickled, under its text's SHA-256, kept
    from build to build in `.pipeline-cache/frontmatter.pickle` (document.FrontmatterMemo).

    The commonest edit changes an item's body alone: its frontmatter is then known, and
    reading the file needs neither a YAML parser nor PyYAML imported (13 ms of a rebuild's
    main process). The store is loaded the first time a file is read afresh, and what this
    process parsed is added to it when the read cache is saved. Frontmatter parsed in a
    forked reader (a large first build) is not kept: those processes save nothing."""

    def __init__(self) -> None:
        self.store = stage_store("frontmatter")
        self.loaded: dict[bytes, bytes] | None = None
        self.fresh: dict[bytes, bytes] = {}

    def get(self, frontmatter: str) -> Frontmatter | None:
        key = _frontmatter_key(frontmatter)
        found = self.fresh.get(key)
        if found is None:
            if self.loaded is None:
                self.loaded = self.store.load() if self.store is not None else {}
            found = self.loaded.get(key)
        if not isinstance(found, bytes):
            return None
        # Unpickled anew for each file: the data is the caller's to keep (and a store saved
        # by this code under the user's key; cache.py checks the signature).
        read = pickle.loads(found)
        if isinstance(read, tuple) and len(read) == 3 and all(isinstance(p, dict) for p in read):
            return read
        return None

    def keep(self, frontmatter: str, read: Frontmatter) -> None:
        self.fresh[_frontmatter_key(frontmatter)] = pickle.dumps(read, pickle.HIGHEST_PROTOCOL)

    def kept_since(self, count: int) -> dict[bytes, bytes]:
        """What `keep` was given after the first `count` (len(fresh) then): a forked reader's
        share, which it hands back with its reads (read.py)."""
        return dict(list(self.fresh.items())[count:])

    def take(self, kept: dict[bytes, bytes]) -> None:
        """Keep what kept_since gave in another process."""
        self.fresh.update(kept)

    def save(self) -> None:
        if self.store is None or not self.fresh:
            return
        loaded = self.loaded if self.loaded is not None else self.store.load()
        # Frontmatter no file holds any more piles up, an edit at a time: past the limit the
        # store starts again from what this build read.
        if len(loaded) + len(self.fresh) > FRONTMATTER_KEPT:
            self.store.replace(self.fresh)
        else:
            self.store.save({**loaded, **self.fresh}, loaded)


FRONTMATTER_KEPT = 20_000


def _frontmatter_key(frontmatter: str) -> bytes:
    return hashlib.sha256(frontmatter.encode("utf-8", "surrogatepass")).digest()


class ReadCache:
    def __init__(self, root: Path, config: SiteConfig) -> None:
        self.root = root
        self.cache = OutputCache("read", f"{root}\0{token(config)}")
        self.frontmatter = FrontmatterStore()
        self.began = time.time_ns()
        self.folders: dict[str, tuple[str, bool]] = {}
        # key -> when its file last changed, as its key was made.
        self.changed: dict[str, int] = {}
        # (item, token) of every item this build knows the token of.
        self.tokens: list[tuple[Item, str]] = []
        # The items read from their files this build, not taken from the cache.
        self.afresh: list[Item] = []

    def key(self, path: str, relative: str) -> str | None:
        """The file's key, or None when it cannot be cached (a link, or outside the folder)."""
        return _key(path, relative, self.root, self.folders, self.changed)

    def surveyed(self, made: Survey) -> None:
        """Take the keys of a survey made for this build (which began when it did)."""
        self.changed.update(made.changed)
        # A file is racily clean by when its key was made.
        self.began = min(self.began, made.began)

    def get(self, key: str | None, path: str) -> FileRead | None:
        if key is None:
            return None
        entry: Any = self.cache.lookup(key)
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], FileRead)):
            return None
        found: FileRead = entry[0]
        racy = entry[1]
        if racy:
            # Kept while its file was racily clean: used only if its bytes are the ones read.
            try:
                with open(path, "rb") as handle:
                    same = hashlib.sha256(handle.read()).digest() == found.digest
            except OSError:
                return None
            if not same:
                return None
            self._keep(key, found)
        if found.item is not None and found.token:
            self.tokens.append((found.item, found.token))
        return found

    def store(self, key: str | None, read: FileRead) -> None:
        """Keep what reading the file gave under the key made before reading it: a file changed
        since has another key, so the entry is only ever found for the bytes it was made of
        or, should they have changed meanwhile, never. The read carries its item's token, and
        the item counts as read afresh this build.

        A file changed in the last moments is racily clean, as git says: another edit within
        the same clock tick would keep its key. Its entry is kept marked, and the next build
        compares the file's bytes with the digest of the ones read before using it (git
        compares a racily clean entry's contents too)."""
        if read.item is not None:
            self.afresh.append(read.item)
            if read.token:
                self.tokens.append((read.item, read.token))
        self._keep(key, read)

    def _keep(self, key: str | None, read: FileRead) -> None:
        if key is None or read.consulted_files:
            return
        changed = self.changed[key]
        coarse = changed % 1_000_000_000 == 0
        window = RACY_NANOSECONDS if coarse else min(RACY_NANOSECONDS, RACY_NANOSECONDS_FINE)
        racy = changed > self.began - window
        if racy and not read.digest:
            return
        self.cache.store(key, (read, racy))

    def save(self) -> None:
        self.cache.save()
        self.frontmatter.save()
