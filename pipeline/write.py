"""Write a build into a staging folder, then swap it in, so dist/ is never half-written."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from .errors import PipelineError

_RENAME_EXCHANGE = 2


@contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock for one output folder; a second build fails at once, clearly."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise PipelineError(
                f"another build is writing {out_dir} (pid {holder}); wait for it to finish"
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


def write_tree(out_dir: Path, files: Mapping[str, bytes], copies: Mapping[str, Path]) -> None:
    """Replace out_dir with exactly `files` (contents) and `copies` (source files), atomically."""
    _recover(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        for relative, data in sorted(files.items()):
            target = _inside(staging, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for relative, source in sorted(copies.items()):
            target = _inside(staging, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        staging.chmod(0o755)
        _fsync_tree(staging)
        _swap(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _inside(root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()) or relative.startswith("/"):
        raise PipelineError(f"refusing to write {relative!r}: it is outside the output folder")
    return target


def _swap(staging: Path, out_dir: Path) -> None:
    """Put staging at out_dir; afterwards staging holds the old tree (or nothing)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise PipelineError(f"{out_dir} exists and is not a folder; not replacing it")
    if out_dir.exists() and _exchange(staging, out_dir):
        return
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    # No atomic exchange on this system: two renames, with a backup that _recover restores.
    backup = out_dir.parent / f".{out_dir.name}.previous"
    shutil.rmtree(backup, ignore_errors=True)
    os.rename(out_dir, backup)
    os.rename(staging, out_dir)
    shutil.rmtree(backup, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux renameat2(RENAME_EXCHANGE); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EXDEV):
        return False
    raise OSError(ctypes.get_errno(), f"cannot swap {a} and {b}")


def _recover(out_dir: Path) -> None:
    """Undo what a killed build left behind: a missing dist/ with a backup, stale staging folders."""
    backup = out_dir.parent / f".{out_dir.name}.previous"
    if backup.is_dir() and not out_dir.exists():
        os.rename(backup, out_dir)
    for stale in out_dir.parent.glob(f".{out_dir.name}.staging-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    # Data reaches the disk before the swap makes it visible, so a crash cannot show empty files.
    for folder, _dirs, names in os.walk(root):
        for name in names:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
