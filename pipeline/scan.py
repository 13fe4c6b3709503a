"""Find the content files and read their bytes, refusing what must not be read."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .document import MAX_FILE_BYTES, DocumentError
from .errors import Problem

# Names that look like Markdown but are not read: an author who typed one expects it built.
_MARKDOWN_LIKE = re.compile(r"\.(md|markdown|mdown|mkd|mkdn)$", re.IGNORECASE)


def scan(content_dir: Path) -> tuple[list[Path], list[Problem]]:
    """Walk the content folder; every .md file, and a warning for each one that is not read."""
    found: list[Path] = []
    skipped: list[Problem] = []

    def unreadable(error: OSError) -> None:
        where = Path(error.filename or content_dir)
        relative = where.relative_to(content_dir).as_posix() if where != content_dir else "."
        skipped.append(Problem(relative, 0, f"folder cannot be read: {error.strerror}"))

    for folder, dirs, names in os.walk(content_dir, onerror=unreadable):
        base = Path(folder)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                # os.walk does not follow folder links (they can loop or lead outside).
                relative = (base / name).relative_to(content_dir).as_posix()
                skipped.append(
                    Problem(
                        relative,
                        0,
                        "is a link to a folder; not followed, its files are not read",
                        "warning",
                    )
                )
        for name in names:
            path = base / name
            if name.endswith(".md"):
                if path.is_file() or path.is_symlink():
                    found.append(path)
                else:
                    relative = path.relative_to(content_dir).as_posix()
                    skipped.append(
                        Problem(relative, 0, "is not a regular file; not read", "warning")
                    )
            elif _MARKDOWN_LIKE.search(name):
                relative = path.relative_to(content_dir).as_posix()
                skipped.append(
                    Problem(
                        relative,
                        0,
                        "is not read: only files ending in '.md' are schedule items",
                        "warning",
                    )
                )
    return sorted(found), sorted(skipped)


class Unreadable(Exception):
    """A content file that cannot be opened; the message says why."""


def read_file(path: Path, relative: str, root: Path) -> bytes:
    """The bytes of a content file, refusing links that lead out, non-files and huge files."""
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            raise Unreadable("is a link to a file outside the content folder; not read")
        if not resolved.is_file():
            # A link to a FIFO or a device would block or never end.
            raise Unreadable("is not a regular file (or a link to one); not read")
        with open(resolved, "rb") as handle:
            # Read one byte past the limit, so a 50 MB file costs 2 MB of memory to refuse.
            raw = handle.read(MAX_FILE_BYTES + 1)
            if len(raw) > MAX_FILE_BYTES:
                size = os.fstat(handle.fileno()).st_size
                limit = f"{MAX_FILE_BYTES:,} (is it a schedule item?)"
                raise DocumentError(
                    Problem(relative, 0, f"file is {size:,} bytes; the limit is {limit}")
                )
            return raw
    except RuntimeError:  # pathlib's answer to a link loop
        raise Unreadable("is a link that loops back on itself; not read") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read: {exc.strerror or exc}") from None
