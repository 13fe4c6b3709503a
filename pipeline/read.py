"""Read content/**/*.md into frozen Items, collecting every problem with its file and line."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from .document import DocumentError, parse_document
from .errors import Problem
from .item_reader import ItemReader, ReadResult, slugify, split_authors
from .model import SiteConfig
from .parallel import map_forked
from .scan import Unreadable, read_file, scan_files
from .text import split_body

__all__ = ["ReadResult", "read_content", "slugify", "split_authors"]


def read_content(content_dir: Path, config: SiteConfig) -> ReadResult:
    result = ReadResult()
    root = content_dir.resolve()
    found, skipped = scan_files(content_dir)
    result.problems.extend(skipped)
    chosen: list[tuple[str, str]] = []
    for path, relative in found:
        if any(fnmatch.fnmatch(relative, pattern) for pattern in config.exclude):
            result.excluded.append(relative)
            continue
        result.files.append(relative)
        chosen.append((path, relative))
    # Files are read independently, so on a large site they are parsed in forked workers, in
    # contiguous runs merged back in order: the result is the one a single process gets.
    # Nothing is cached between builds: reading a file afresh now costs less than hashing it,
    # looking it up and sending the stored result back from a worker (measured at 10,000).
    state = (chosen, root, config)
    for part in map_forked(_read_run, state, len(chosen)):
        result.items.extend(part.items)
        result.hidden.extend(part.hidden)
        result.problems.extend(part.problems)
        result.assets.update(part.assets)
    return result


_ReadState = tuple[list[tuple[str, str]], Path, SiteConfig]


def _read_run(state: _ReadState, first: int, stop: int) -> ReadResult:
    """Read files first..stop-1."""
    chosen, root, config = state
    result = ReadResult()
    folders: dict[str, tuple[str, bool]] = {}
    for path, relative in chosen[first:stop]:
        try:
            raw = read_file(path, relative, root, folders)
            document = parse_document(relative, raw)
        except DocumentError as exc:
            result.problems.append(exc.problem)
            continue
        except Unreadable as exc:
            result.problems.append(Problem(relative, 0, str(exc)))
            continue
        reader = ItemReader(document, root, config, result, split_body)
        item = reader.read()
        if item is not None:
            if document.data.get("hidden") is True:
                result.hidden.append(relative)
            else:
                result.items.append(item)
    return result
