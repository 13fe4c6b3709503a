"""What each tree of a site holds, so a build brings the spare tree up to date instead of
writing a new one.

write.py keeps two trees of a site: dist/, and beside it the tree dist/ last replaced,
`.dist.spare/`. A build keeps the spare's files that already hold the right bytes, links the
ones dist/ holds, writes the rest, and swaps it in. After a one-file edit that touches the few
hundred files that change, not the tens of thousands that do not.

To know a file holds the right bytes without reading it, the manifest (`.dist.manifest.json`)
records for each file of each tree its SHA-256, with the size, inode and modification time it
had when written. A file is trusted only while lstat still shows those three: one edited,
replaced or added since is written afresh. A tree is named in the manifest by its root folder's
device and inode, not its path, so a build killed between the swap and the manifest leaves every
tree described truly or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

from . import digests, scratch, syscalls
from .joined import Content, Joined
from .records import record

# shutil is imported where used: everything a build imports before its early search worker
# forks delays that worker (early_search.py), which needs none of it.

_FORMAT = 1
# A file this large starts on its way to the disk as soon as it is written, not when the build
# syncs the tree before the swap: a rebuild's feeds, calendars and pages (tens of megabytes on
# a large site) are then mostly written by the time it does. Smaller files wait for the sync,
# which writes thousands of them at once.
WRITEBACK_BYTES = 1 << 18


class Written(NamedTuple):
    """One file as a build left it: its bytes' SHA-256 (hex) and the status that proves it
    still holds them. A named tuple: a build loads tens of thousands from the manifest, and
    a frozen dataclass took twice as long to make."""

    size: int
    mtime_ns: int
    inode: int
    digest: str

    def holds(self, status: os.stat_result) -> bool:
        return (
            stat.S_ISREG(status.st_mode)
            and status.st_size == self.size
            and status.st_mtime_ns == self.mtime_ns
            and status.st_ino == self.inode
        )


class VanishedSource(Exception):
    """A file to copy into the tree is gone (deleted while the build ran)."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


Manifest = dict[str, Written]
TreeKey = tuple[int, int]


def manifest_path(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.manifest.json"


def spare_path(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.spare"


def tree_key(folder: Path) -> TreeKey | None:
    try:
        status = os.lstat(folder)
    except OSError:
        return None
    return (status.st_dev, status.st_ino) if stat.S_ISDIR(status.st_mode) else None


# The last manifest loaded, under its file's path and status: a build loads it in more than one
# place (the staging folder, output_cache.previous_output), and the file is only ever replaced.
_loaded: dict[str, tuple[tuple[int, int, int], dict[TreeKey, Manifest]]] = {}


def load(out_dir: Path) -> dict[TreeKey, Manifest]:
    """Every tree's manifest; {} when the file is missing or unreadable (every file is then
    compared or written afresh, never trusted). The manifests are shared: not to be changed."""
    path = manifest_path(out_dir)
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            seen = (status.st_ino, status.st_size, status.st_mtime_ns)
            found = _loaded.get(str(path))
            if found is not None and found[0] == seen:
                return found[1]
            manifests = _parsed(handle.read())
    except OSError:
        return {}
    _loaded.clear()
    _loaded[str(path)] = (seen, manifests)
    return manifests


def proves(out_dir: Path, relative: str, digest: bytes, status: os.stat_result) -> bool:
    """Whether out_dir's manifest shows its file at `relative` (of this status) holds bytes
    of this SHA-256, as written and untouched since."""
    key = tree_key(out_dir)
    written = load(out_dir).get(key) if key is not None else None
    proof = written.get(relative) if written is not None else None
    return proof is not None and proof.holds(status) and proof.digest == digest.hex()


def _parsed(data: bytes) -> dict[TreeKey, Manifest]:
    try:
        saved = json.loads(data)
        if saved.get("format") != _FORMAT:
            return {}
        return {
            (int(tree["device"]), int(tree["inode"])): dict(
                zip(
                    tree["paths"],
                    map(Written, tree["sizes"], tree["mtimes"], tree["inodes"], tree["digests"]),
                    strict=True,
                )
            )
            for tree in saved["trees"]
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def save(out_dir: Path, trees: Mapping[TreeKey | None, Manifest]) -> None:
    """Record the trees' manifests; one that cannot be written only makes the next build
    slower, so the failure is swallowed (after removing the stale file, which would be safe
    but useless)."""
    saved = {
        "format": _FORMAT,
        # Column by column: ten thousand files load and save in a few hundredths of a second.
        "trees": [
            {
                "device": key[0],
                "inode": key[1],
                "paths": list(files),
                "sizes": [w.size for w in files.values()],
                "mtimes": [w.mtime_ns for w in files.values()],
                "inodes": [w.inode for w in files.values()],
                "digests": [w.digest for w in files.values()],
            }
            for key, files in trees.items()
            if key is not None
        ],
    }
    path = manifest_path(out_dir)
    try:
        fd, temporary = scratch.new_file(path.parent, f"{path.name}-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(saved, separators=(",", ":")).encode())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        path.unlink(missing_ok=True)


def digest_of(data: Content) -> str:
    return digests.sha256(data).hex()


def file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def walk(root: str) -> tuple[dict[str, os.stat_result], list[str]]:
    """Every regular file under root (relative path -> lstat) and every folder, deepest first.
    Anything else (a link, a socket) is removed: a tree this module fills holds neither, and
    write.py's path checks rely on it.

    Workers may be putting their files meanwhile (Filler not walked): a file replaced under
    the walk is missed or seen with either status, which their merge then overrides."""
    files: dict[str, os.stat_result] = {}
    folders: list[str] = []

    def visit(folder: str, prefix: str) -> None:
        try:
            listing = os.scandir(folder)
        except FileNotFoundError:
            return
        with listing as entries:
            for entry in entries:
                relative = prefix + entry.name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        visit(entry.path, relative + "/")
                        folders.append(relative)
                    elif entry.is_file(follow_symlinks=False):
                        files[relative] = entry.stat(follow_symlinks=False)
                    else:
                        os.unlink(entry.path)
                except FileNotFoundError:
                    continue

    visit(root, "")
    return files, folders


@record
class Source:
    """What one file of the new tree is made from: bytes, or a file to copy."""

    data: Content | None
    path: Path | None

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            raise VanishedSource(self.path) from None

    def digest(self) -> str:
        return digest_of(self.data) if self.data is not None else file_digest(self.path or Path())


class Filler:
    """Makes the folder `root` hold exactly the files it is given, in batches (`put`), then
    removes the rest (`finish`), which returns root's manifest.

    A file root holds is kept when `known` (its own manifest, or dist/'s for the files the two
    trees share by link) proves it holds the bytes; otherwise a file dist/ (`current_root`)
    holds is linked when `current` proves it, or, with no manifest of dist/ at all, when
    `same_as_current` finds it by reading; everything else is written. `place(relative)` is the
    absolute path of a wanted file inside root, refusing paths that lead outside it."""

    def __init__(
        self,
        root: str,
        place: Callable[[str], str],
        known: Manifest,
        current_root: str,
        current: Manifest | None,
        same_as_current: Callable[[str, str, bytes], bool],
        walked: bool = True,
        discard: Callable[[str], None] = os.unlink,
    ) -> None:
        """`discard(path)` takes away a file a new one replaces (os.unlink, or a move out of
        the way, to delete later)."""
        self.root = root
        self.discard = discard
        self.place = place
        self.known = known
        self.current_root = current_root
        self.current = current
        self.same_as_current = same_as_current
        # Walked, root's files are known from the start and what is not put can be removed
        # (`finish`). Not walked (a worker putting its stage's files, while this process
        # walks), each file is looked up as it is put.
        self.walked = walked
        self.present: dict[str, os.stat_result] = {}
        self.folders: set[str] = set()
        if walked:
            self.present, folders = walk(root)
            self.folders = set(folders)
        self.made: set[str] = {root}
        # Not walked: the folders (relative) this filler has seen to be real folders, not
        # files or links in the way, so each is checked once rather than for every file in it.
        self.cleared: set[str] = set()
        # Not walked: the folders (absolute) this filler made, which hold only files it put.
        self.fresh: set[str] = set()
        # With no dist/ at all (a first build) there is nothing to compare a file with.
        self.current_exists = current is not None or os.path.isdir(current_root)
        self.manifest: Manifest = {}

    def merge(self, manifest: Manifest) -> None:
        """Count as put the files another Filler (not walked) put in root."""
        for relative in manifest:
            self.present.pop(relative, None)
        self.manifest.update(manifest)

    def _status(self, relative: str) -> os.stat_result | None:
        if self.walked:
            return self.present.get(relative)
        # Joined by hand: os.path.join was a fifth of the time an unchanged file takes, and a
        # rebuild checks tens of thousands.
        path = f"{self.root}{os.sep}{relative}"
        if path.rpartition(os.sep)[0] in self.fresh:
            return None
        try:
            return os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def put(self, files: Mapping[str, Content], copies: Mapping[str, Path]) -> None:
        """Put these files (contents) and copies (source files)."""
        present, known, manifest = self.present, self.known, self.manifest
        current = self.current if self.current is not None else {}
        status_of = self._status
        for relative in sorted(files):
            data = files[relative]
            status = status_of(relative)
            # Most files are unchanged by an edit and already in root: that is checked here,
            # inline, as it is done for tens of thousands of files.
            if status is None:
                self._put(relative, Source(data, None), absent=True)
                continue
            if stat.S_ISREG(status.st_mode):
                size = len(data)
                mine = known.get(relative)
                theirs = current.get(relative)
                if (mine is not None and mine.size == size) or (
                    theirs is not None and theirs.size == size
                ):
                    digest = digest_of(data)
                    for proof in (mine, theirs):
                        if proof is not None and proof.digest == digest and proof.holds(status):
                            manifest[relative] = proof
                            present.pop(relative, None)
                            break
                    else:
                        self._put(relative, Source(data, None), status)
                    continue
            self._put(relative, Source(data, None), status)
        for relative in sorted(copies):
            self._put(relative, Source(None, copies[relative]))

    def _put(
        self,
        relative: str,
        source: Source,
        status: os.stat_result | None = None,
        absent: bool = False,
    ) -> None:
        """Put one file; `status` is what root holds at its path, when the caller looked it
        up (`absent`: nothing)."""
        size = source.size()
        digest = ""
        if status is None and not absent:
            status = self._status(relative)
        self.present.pop(relative, None)
        if status is not None:
            proofs = [w for w in (self.known.get(relative), _get(self.current, relative)) if w]
            proofs = [w for w in proofs if w.holds(status) and w.size == size]
            if proofs:
                digest = source.digest()
                match = next((w for w in proofs if w.digest == digest), None)
                if match is not None:
                    self.manifest[relative] = match
                    return
        # Only now the path is checked: one the walk found is inside root by construction.
        target = self.place(relative)
        if status is not None and not stat.S_ISDIR(status.st_mode):
            self.discard(target)
        else:
            self._clear_way(relative, absent)
        parent = os.path.dirname(target)
        if parent not in self.made:
            if not self.walked and not os.path.isdir(parent):
                self.fresh.add(parent)
            os.makedirs(parent, exist_ok=True)
            self.made.add(parent)
        previous = os.path.join(self.current_root, relative)
        current = _get(self.current, relative)
        linked = _link_proven(previous, target, current, size, source, digest)
        unproven = (
            linked is None
            and self.current is None
            and self.current_exists
            and source.data is not None
        )
        if unproven and self.same_as_current(previous, target, bytes(source.data or b"")):
            linked = os.lstat(target)
        if linked is not None:
            self.manifest[relative] = Written(
                size, linked.st_mtime_ns, linked.st_ino, digest or source.digest()
            )
            return
        self.manifest[relative] = _write(target, source, digest)

    def _clear_way(self, relative: str, absent: bool = False) -> None:
        """Remove what the old tree has where this file's folders or the file itself go: a
        file where a folder is wanted, or a folder where a file is. `absent`: looking the file
        up found nothing, so once its folders are known to be folders nothing is in the way."""
        parts = relative.split("/")
        if not self.walked:
            if absent and all("/".join(parts[:d]) in self.cleared for d in range(1, len(parts))):
                return
            for depth in range(1, len(parts) + 1):
                prefix = "/".join(parts[:depth])
                if depth < len(parts) and prefix in self.cleared:
                    continue
                path = os.path.join(self.root, prefix)
                if os.path.isdir(path) and not os.path.islink(path):
                    if depth == len(parts):
                        _remove_tree(path)
                    else:
                        self.cleared.add(prefix)
                elif os.path.lexists(path):
                    os.unlink(path)
                    return
                else:
                    return
            return
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if self.present.pop(prefix, None) is not None:
                os.unlink(os.path.join(self.root, prefix))
        if relative in self.folders:
            _remove_tree(os.path.join(self.root, relative))
            self.folders = {
                f for f in self.folders if f != relative and not f.startswith(relative + "/")
            }
            self.present = {
                path: status
                for path, status in self.present.items()
                if not path.startswith(relative + "/")
            }

    def finish(self) -> Manifest:
        """Remove every file not put and every folder left empty; root's manifest."""
        assert self.walked, "only a walked root knows what was not put"
        for relative in self.present:
            os.unlink(os.path.join(self.root, relative))
        self.present = {}
        needed: set[str] = set()
        for relative in self.manifest:
            parent = relative.rpartition("/")[0]
            while parent and parent not in needed:
                needed.add(parent)
                parent = parent.rpartition("/")[0]
        # Deepest first, so a folder is empty once the folders in it are gone.
        for folder in sorted(self.folders - needed, key=lambda f: f.count("/"), reverse=True):
            os.rmdir(os.path.join(self.root, folder))
        return self.manifest


def _get(manifest: Manifest | None, relative: str) -> Written | None:
    return manifest.get(relative) if manifest is not None else None


def _link_proven(
    previous: str, target: str, proof: Written | None, size: int, source: Source, digest: str
) -> os.stat_result | None:
    """Hard-link dist/'s file when its manifest entry proves it holds the bytes; its status,
    or None. Linking is safe because no build writes into an existing file: a file is only
    ever unlinked and written anew."""
    if proof is None or proof.size != size or proof.digest != (digest or source.digest()):
        return None
    try:
        status = os.lstat(previous)
        if not proof.holds(status):
            return None
        os.link(previous, target, follow_symlinks=False)
    except OSError:
        return None
    return status


def _write(target: str, source: Source, digest: str) -> Written:
    if source.data is not None:
        # A bare descriptor, not open(): a build writes tens of thousands of files, and a file
        # object costs a buffer and a status lookup of its own for each.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            if isinstance(source.data, Joined):
                source.data.write(fd)
            else:
                syscalls.write_all(fd, source.data)
            if len(source.data) >= WRITEBACK_BYTES:
                syscalls.start_writeback(fd)
            status = os.fstat(fd)
        finally:
            os.close(fd)
        return Written(status.st_size, status.st_mtime_ns, status.st_ino, digest or source.digest())
    assert source.path is not None
    import shutil

    try:
        shutil.copyfile(source.path, target)
    except FileNotFoundError:
        raise VanishedSource(source.path) from None
    status = os.lstat(target)
    # The copy's own bytes are digested, not the source's: the source may change meanwhile.
    return Written(status.st_size, status.st_mtime_ns, status.st_ino, file_digest(Path(target)))


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path)
