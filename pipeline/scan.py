"""Find the content files and read their bytes, refusing what must not be read."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import DocumentError, Problem

# A schedule item is a few kB; a file past this is something else, refused before it is read.
MAX_FILE_BYTES = 2 * 1024 * 1024

# Names that look like Markdown but are not read: an author who typed one expects it built.
# Compiled where first used, which most builds never reach, not as a rebuild imports this.
_MARKDOWN_LIKE = r"(?i)\.(md|markdown|mdown|mkd|mkdn)$"


def scan(content_dir: Path) -> tuple[list[Path], list[Problem]]:
    """Walk the content folder; every .md file, and a warning for each one that is not read."""
    found, skipped = scan_files(content_dir)
    return [Path(path) for path, _relative in found], skipped


def scan_files(content_dir: Path) -> tuple[list[tuple[str, str]], list[Problem]]:
    """scan() as (path, path relative to the content folder in posix style) strings.

    The walk is os.walk's (the same folders, links to folders not followed, a folder that
    cannot be listed reported whole), done with the listing's own file types: os.walk and
    a stat of every file cost a quarter of a second on 10,000 files, before any work could
    be handed to the workers (making Path objects was half of that).
    """
    found: list[tuple[tuple[str, ...], str]] = []
    skipped: list[Problem] = []
    pending: list[tuple[str, tuple[str, ...]]] = [(os.fspath(content_dir), ())]
    while pending:
        folder, parts = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as error:
            where = Path(error.filename or content_dir)
            relative = where.relative_to(content_dir).as_posix() if where != content_dir else "."
            skipped.append(Problem(relative, 0, f"folder cannot be read: {error.strerror}"))
            continue
        for entry in entries:
            name = entry.name
            message = ""
            if _is_dir(entry):
                if not entry.is_symlink():
                    pending.append((entry.path, (*parts, name)))
                    continue
                # Folder links are not followed (they can loop or lead outside).
                message = "is a link to a folder; not followed, its files are not read"
            elif name.endswith(".md"):
                # A regular file is known from the listing; anything else is asked about.
                if entry.is_file(follow_symlinks=False) or _is_file_or_link(entry.path):
                    found.append(((*parts, name), entry.path))
                    continue
                message = "is not a regular file; not read"
            elif re.search(_MARKDOWN_LIKE, name):
                message = "is not read: only files ending in '.md' are schedule items"
            if message:
                skipped.append(Problem("/".join((*parts, name)), 0, message, "warning"))
    # Path order compares the parts, which is not the order of the joined strings.
    found.sort(key=lambda pair: pair[0])
    return [(path, "/".join(parts)) for parts, path in found], sorted(skipped)


def _is_file_or_link(path: str) -> bool:
    return Path(path).is_file() or Path(path).is_symlink()


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


class Unreadable(Exception):
    """A content file that cannot be opened; the message says why."""


def read_file(
    path: Path | str,
    relative: str,
    root: Path,
    folders: dict[str, tuple[str, bool]] | None = None,
) -> bytes:
    """The bytes of a content file, refusing links that lead out, non-files and huge files.

    `folders` keeps each folder's resolved path, and whether it lies inside `root`, across
    calls: resolving every file's path afresh costs a system call per folder level.
    """
    try:
        target = _plain_file(path, root, folders) if folders is not None else None
        if target is None:
            resolved = Path(path).resolve()
            if not resolved.is_relative_to(root):
                raise Unreadable(_OUTSIDE)
            if not resolved.is_file():
                # A link to a FIFO or a device would block or never end.
                raise Unreadable("is not a regular file (or a link to one); not read")
            target = str(resolved)
        # A bare descriptor, not open(): a file object adds a buffer and three system calls
        # (a status, a terminal check, a seek), for each of ten thousand files.
        fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC)
        try:
            # Read one byte past the limit, so a 50 MB file costs 2 MB of memory to refuse;
            # asking for the file's size (plus one, to see it end) rather than the limit
            # spares allocating 2 MB for every small file.
            size = os.fstat(fd).st_size
            raw = _read_up_to(fd, min(size, MAX_FILE_BYTES) + 1)
            if size < len(raw) <= MAX_FILE_BYTES:  # it grew, or reports no size (procfs)
                raw += _read_up_to(fd, MAX_FILE_BYTES + 1 - len(raw))
            if len(raw) > MAX_FILE_BYTES:
                size = os.fstat(fd).st_size
                limit = f"{MAX_FILE_BYTES:,} (is it a schedule item?)"
                raise DocumentError(
                    Problem(relative, 0, f"file is {size:,} bytes; the limit is {limit}")
                )
            return raw
        finally:
            os.close(fd)
    except RuntimeError:  # pathlib's answer to a link loop
        raise Unreadable("is a link that loops back on itself; not read") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror or exc}") from None


_OUTSIDE = "is a link to a file outside the content folder; not read"


def _read_up_to(fd: int, count: int) -> bytes:
    """Up to `count` bytes, fewer only at the end of the file."""
    first = os.read(fd, count)
    if not first or len(first) == count:
        return first
    pieces = [first]
    count -= len(first)
    while count > 0 and (piece := os.read(fd, count)):
        pieces.append(piece)
        count -= len(piece)
    return b"".join(pieces)


def _plain_file(path: Path | str, root: Path, folders: dict[str, tuple[str, bool]]) -> str | None:
    """What path.resolve() gives for a regular file that is not a link, having checked that it
    lies inside the content folder; None for anything else, which the caller resolves itself.

    A plain name added to a folder inside the content folder stays inside it.
    """
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
    except OSError:
        return None
    folder, name = os.path.split(path)
    resolved, inside = resolved_folder(folder, root, folders)
    if not inside:
        raise Unreadable(_OUTSIDE)
    return os.path.join(resolved, name)


def resolved_folder(
    folder: str, root: Path, folders: dict[str, tuple[str, bool]]
) -> tuple[str, bool]:
    """What a folder resolves to, and whether that lies inside the content folder, kept in
    `folders`: resolving every file's path afresh costs a system call per folder level."""
    known = folders.get(folder)
    if known is None:
        resolved = Path(folder).resolve()
        known = folders[folder] = (str(resolved), resolved.is_relative_to(root))
    return known
