"""Write a build into a staging folder, then swap it in, so dist/ is never half-written."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import itertools
import os
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import TypeVar

from . import scratch, syscalls, trees
from .errors import PipelineError
from .joined import Content
from .records import record

# shutil is imported only where a rebuild does not go: every module imported costs each process
# that imports it, and a rebuild's three processes share two cores.

T = TypeVar("T")
_RENAME_EXCHANGE = 2
# A folder that holds this is a site we built before and may replace.
SITE_MARKER = "index.html"


def lock_path(out_dir: Path) -> Path:
    """The lock file of an output folder: beside it, so it survives the folder being swapped."""
    out_dir = _real(out_dir)
    return out_dir.parent / f".{out_dir.name}.lock"


@contextlib.contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock for one output folder; a second build fails at once, clearly.

    flock is released by the kernel when a process dies, so a killed build never leaves a
    stale lock behind.
    """
    path = lock_path(out_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 (held open for the whole build)
    except OSError as exc:
        raise PipelineError(f"cannot create the lock file {path}: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise PipelineError(
                f"another build is writing {out_dir} (pid {holder}, lock {path}); "
                "wait for it to finish, then build again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_tree(
    out_dir: Path,
    files: Mapping[str, Content],
    copies: Mapping[str, Path],
    protect: Iterable[Path] = (),
) -> None:
    """Replace out_dir with exactly `files` (contents) and `copies` (source files), atomically.
    Call it under build_lock. `protect` lists folders (the content) that out_dir must not hold
    or be: replacing them would delete an author's files."""
    staging = Staging(out_dir, protect)
    try:
        staging.put(files, copies)
        staging.commit()
    finally:
        staging.abandon()


class Staging:
    """The next tree of out_dir, made beside it and swapped in by `commit`, atomically.

    The staging folder is the tree out_dir replaced last time, kept beside it and brought up
    to date (trees.py); the tree swapped out is kept in its place for the next build. Files
    may be put in batches, as a build's stages finish. Use it under build_lock, and call
    `abandon` in any case: after a commit it does nothing."""

    def __init__(
        self, out_dir: Path, protect: Iterable[Path] = (), taken: frozenset[str] = frozenset()
    ) -> None:
        """`taken` names the stages whose workers put their files themselves (parallel.py)."""
        self.taken = taken
        self.out_dir = out_dir = _real(out_dir)
        _check_target(out_dir, protect)
        try:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            _recover(out_dir)
            manifests = trees.load(out_dir)
            self.folder: Path | None = _staging(out_dir)
            # Files replaced are moved here and deleted once the site is swapped in: freeing
            # a large file's blocks costs more than writing it.
            self.trash = scratch.new_folder(out_dir.parent, f".{out_dir.name}.trash-")
        except OSError as exc:
            raise PipelineError(f"cannot write beside {out_dir}: {exc.strerror}") from None
        self.root = root = self.folder.resolve()
        current_key = trees.tree_key(out_dir)
        self.current = manifests.get(current_key) if current_key is not None else None
        self.known = manifests.get(trees.tree_key(root) or (0, 0), {})
        self.flushing: list[threading.Thread] = []
        # Records the trees' manifest (and on a first build links the spare) after the swap.
        self.recording: threading.Thread | None = None
        self.emptying: threading.Thread | None = None
        # Made (the staging folder walked) when this process first puts files in it.
        self.walked: trees.Filler | None = None
        # What the tree holds, once committed.
        self.manifest: trees.Manifest = {}

    def _filler(self, walked: bool = True) -> trees.Filler:
        if walked and self.walked is not None:
            return self.walked
        filler = _filler_in(self.root, self.out_dir, self.known, self.current, walked, self.trash)
        if walked:
            self.walked = filler
        return filler

    def takes(self, stage: str) -> bool:
        """Whether a worker running this stage puts its files itself (put_elsewhere)."""
        return stage in self.taken

    def put_elsewhere(self, files: Mapping[str, Content]) -> trees.Manifest:
        """Put these files from another process (a forked worker, which inherited this
        staging folder); what it returns is for `merge` here."""
        # Should it fail, the staging folder is left to this process, which abandons it.
        filler = self._guarded(lambda: self._filler(walked=False), abandon=False)
        self._guarded(lambda: filler.put(files, {}), abandon=False)
        return filler.manifest

    def elsewhere(self, prefixes: tuple[str, ...]) -> Elsewhere:
        """Where a process forked before this staging folder was opened puts its files, all
        under these prefixes: with what the trees' manifests say of those paths, which that
        process then need not load."""
        assert self.folder is not None

        def under(manifest: trees.Manifest) -> trees.Manifest:
            return {path: entry for path, entry in manifest.items() if path.startswith(prefixes)}

        current = None if self.current is None else under(self.current)
        return Elsewhere(self.out_dir, self.root, self.trash, under(self.known), current)

    def merge(self, manifest: trees.Manifest) -> None:
        """Count as put the files put_elsewhere put."""
        self._guarded(lambda: self._filler().merge(manifest))
        self._flush_ahead()

    def digests(self, prefixes: tuple[str, ...]) -> dict[str, str]:
        """The SHA-256 (hex) of each file put so far whose path starts with one of these."""
        manifest = self._guarded(self._filler).manifest
        return {name: entry.digest for name, entry in manifest.items() if name.startswith(prefixes)}

    def put(self, files: Mapping[str, Content], copies: Mapping[str, Path] | None = None) -> None:
        self._guarded(lambda: self._filler().put(files, copies or {}))
        self._flush_ahead()

    def _flush_ahead(self) -> None:
        # The files put so far start on their way to the disk now, in the background, so the
        # sync before the swap has less left to wait for. One flush at a time: a sync of the
        # whole file system slows every write while it runs.
        folder = self.folder
        if folder is not None and not any(thread.is_alive() for thread in self.flushing):
            self.flushing.append(threading.Thread(target=_fsync_tree, args=(folder,), daemon=True))
            self.flushing[-1].start()

    def commit(self) -> None:
        """Remove what was not put, make it durable and swap it in for out_dir."""
        self._guarded(self._commit)

    def empty_trash(self) -> None:
        """Start deleting the files replaced so far, in a thread (`abandon` waits for it):
        call it once the workers are done, so it uses a core they no longer need while the
        site is committed."""
        if self.emptying is None:
            self.emptying = threading.Thread(target=self._empty_trash)
            self.emptying.start()

    def _commit(self) -> None:
        staging, out_dir = self.folder, self.out_dir
        assert staging is not None
        written = self._filler().finish()
        self.manifest = written
        staging.chmod(0o755)
        for thread in self.flushing:
            thread.join()
        _fsync_tree(staging)
        old = _swap(staging, out_dir)
        self.folder = None
        _fsync_dir(out_dir.parent)
        spare = trees.spare_path(out_dir)
        if old is not None:
            try:
                os.rename(old, spare)
            except OSError:
                _remove(old)
            kept = {trees.tree_key(out_dir): written, trees.tree_key(spare): self.current or {}}
            # Written in a thread while the caller waits for the caches to be saved, as the
            # spare's links are below (8 ms at 1,000 items, at the end of the build's path).
            self.recording = threading.Thread(target=trees.save, args=(out_dir, kept))
            self.recording.start()
        else:
            # No earlier tree to keep (a first build): the spare is made of links to this one,
            # so that the next build brings up to date the few files an edit changes rather
            # than link every other one. Mostly system calls, in a thread, while the caller
            # waits for the caches to be saved.
            self.recording = threading.Thread(target=_linked_spare, args=(out_dir, spare, written))
            self.recording.start()

    def abandon(self) -> None:
        """Remove the staging folder, unless it was committed, and the files it replaced;
        wait for the spare tree and the manifest."""
        if self.folder is not None:
            _remove(self.folder)
            self.folder = None
        if self.emptying is not None:
            self.emptying.join()
            self.emptying = None
        # With whatever was replaced after the emptying began.
        _remove(self.trash)
        if self.recording is not None:
            self.recording.join()
            self.recording = None

    def _empty_trash(self) -> None:
        # The files only: more may be moved in meanwhile, and `abandon` removes the folder.
        with os.scandir(self.trash) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

    def _guarded(self, work: Callable[[], T], abandon: bool = True) -> T:
        try:
            return work()
        except (trees.VanishedSource, OSError) as exc:
            if abandon:
                self.abandon()
            raise _write_error(self.out_dir, exc) from None


@record
class Elsewhere:
    """A build's staging folder, for a process forked before it was opened (parallel.Early):
    it puts files there as Staging.put_elsewhere does, and the build merges what it says."""

    out_dir: Path
    folder: Path
    trash: Path
    # What the manifests of the staging folder's tree and of dist/ say of the files to put.
    known: trees.Manifest
    current: trees.Manifest | None

    def put(self, files: Mapping[str, Content]) -> trees.Manifest:
        """Put the files, which lie under the prefixes Staging.elsewhere was given."""
        try:
            filler = _filler_in(
                self.folder, self.out_dir, self.known, self.current, False, self.trash
            )
            filler.put(files, {})
        except (trees.VanishedSource, OSError) as exc:
            raise _write_error(self.out_dir, exc) from None
        return filler.manifest


def _filler_in(
    root: Path,
    out_dir: Path,
    known: trees.Manifest,
    current: trees.Manifest | None,
    walked: bool,
    trash: Path,
) -> trees.Filler:
    return trees.Filler(
        str(root),
        lambda relative: _inside(root, relative),
        known,
        str(out_dir),
        current,
        _link_unchanged,
        walked,
        partial(_move_to, str(trash)),
    )


_discarded = itertools.count()


def _move_to(trash: str, path: str) -> None:
    """Move a replaced file into the trash folder, under a name no other process uses."""
    os.rename(path, os.path.join(trash, f"{os.getpid()}-{next(_discarded)}"))


def _write_error(out_dir: Path, exc: trees.VanishedSource | OSError) -> PipelineError:
    if isinstance(exc, trees.VanishedSource):
        return PipelineError(f"{exc.path} disappeared during the build; build again")
    where = f" ({exc.filename})" if exc.filename else ""
    reason = f"{exc.strerror or exc}{where}"
    return PipelineError(f"writing {out_dir} failed: {reason}; the previous site is unchanged")


def _linked_spare(out_dir: Path, spare: Path, written: trees.Manifest) -> None:
    """Make `spare` a tree of hard links to out_dir's files, and record both trees (a link
    shares its file's inode and times, so the manifest entries are the same). Should any of
    it fail, the spare is removed: the next build only links more."""
    try:
        _remove(spare)
        made: set[str] = set()
        for relative in written:
            target = os.path.join(spare, relative)
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            os.link(os.path.join(out_dir, relative), target, follow_symlinks=False)
    except OSError:
        _remove(spare)
        trees.save(out_dir, {trees.tree_key(out_dir): written})
        return
    trees.save(out_dir, {trees.tree_key(out_dir): written, trees.tree_key(spare): written})


def _staging(out_dir: Path) -> Path:
    """A staging folder: the spare tree, renamed so a killed build's is known for stale, or a
    new empty one."""
    spare = trees.spare_path(out_dir)
    if spare.is_symlink() or (spare.exists() and not spare.is_dir()):
        spare.unlink()
    if spare.is_dir():
        staging = out_dir.parent / f".{out_dir.name}.staging-{scratch.random_hex(4)}"
        try:
            os.rename(spare, staging)
            return staging
        except OSError:
            _remove(spare)
    return scratch.new_folder(out_dir.parent, f".{out_dir.name}.staging-")


def _real(out_dir: Path) -> Path:
    # A dist/ that is a link (to a web root, say) is replaced where it points, link kept.
    return out_dir.resolve() if out_dir.is_symlink() else out_dir.absolute()


def _check_target(out_dir: Path, protect: Iterable[Path]) -> None:
    for folder in protect:
        folder = folder.resolve()
        if folder == out_dir.resolve() or folder.is_relative_to(out_dir.resolve()):
            raise PipelineError(
                f"refusing to write the site into {out_dir}: it holds the content folder {folder}"
            )
    if out_dir.exists() and not out_dir.is_dir():
        raise PipelineError(f"{out_dir} exists and is not a folder; not replacing it")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SITE_MARKER).is_file():
        # The whole folder is swapped out and deleted: never do that to a folder we did not make.
        raise PipelineError(
            f"refusing to replace {out_dir}: it is not empty and holds no {SITE_MARKER} from an "
            "earlier build; choose another --out folder or empty this one"
        )


def _inside(root: Path, relative: str) -> str:
    """root/relative, refused if it leads outside root. root is a fresh, resolved staging
    folder holding no links, so normalising the path is as good as resolving it."""
    base = str(root)
    target = os.path.normpath(os.path.join(base, relative))
    if relative.startswith("/") or not target.startswith(base + os.sep):
        raise PipelineError(f"refusing to write {relative!r}: it is outside the output folder")
    return target


def _link_unchanged(previous: str, target: str, data: bytes) -> bool:
    """Hard-link the previous site's file into staging when reading it shows it holds `data`:
    for a dist/ with no manifest (trees.py), as one an earlier version wrote.

    It is safe because no build ever writes into an existing file: a file is only ever
    unlinked and written anew. Any doubt or error means writing afresh.
    """
    try:
        status = os.lstat(previous)
        if not stat.S_ISREG(status.st_mode) or status.st_size != len(data):
            return False
        with open(previous, "rb") as handle:
            if handle.read(len(data) + 1) != data:
                return False
        os.link(previous, target, follow_symlinks=False)
    except OSError:
        return False
    return True


def _swap(staging: Path, out_dir: Path) -> Path | None:
    """Put staging at out_dir; return where the old tree is now, if there was one."""
    if out_dir.exists() and _exchange(staging, out_dir):
        return staging
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return None
    # No atomic exchange on this system: two renames, with a backup that _recover restores
    # if the build dies between them.
    backup = out_dir.parent / f".{out_dir.name}.previous"
    _remove(backup)
    os.rename(out_dir, backup)
    os.rename(staging, out_dir)
    return backup


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux renameat2(RENAME_EXCHANGE); False where unsupported."""
    renameat2 = getattr(syscalls.libc(), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), f"cannot swap {a} and {b}")


def _recover(out_dir: Path) -> None:
    """Undo what a killed build left: a missing dist/ with a backup, stale staging folders.

    Runs under the lock, so no other build's staging folder is live.
    """
    backup = out_dir.parent / f".{out_dir.name}.previous"
    if backup.is_dir() and not out_dir.exists():
        os.rename(backup, out_dir)
    _remove(backup)
    for pattern in (f".{out_dir.name}.staging-*", f".{out_dir.name}.trash-*"):
        for stale in out_dir.parent.glob(pattern):
            _remove(stale)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
        return
    # Most often there is nothing there, or an emptied folder: no need to import shutil,
    # which a rebuild otherwise never imports (3 ms, with the modules it brings).
    try:
        os.rmdir(path)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    # Data reaches the disk before the swap makes it visible, so a crash cannot show empty files.
    # One syncfs of the staging folder's filesystem flushes every file and folder in it at once;
    # an fsync per file cost more than writing them. os.sync() where syncfs is missing.
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syscalls.syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    # A rename is durable only once the folder holding it is synced.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
