"""Read content/**/*.md into frozen Items, collecting every problem with its file and line."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path

from .cache import CacheUse, ReadCache
from .document import Document, DocumentError, parse_document
from .errors import Problem
from .item_reader import ItemReader, ReadResult, slugify, split_authors
from .model import SiteConfig
from .parallel import map_forked
from .scan import Unreadable, read_file, scan_files
from .text import Body, split_body

__all__ = ["ReadResult", "read_content", "slugify", "split_authors"]


def read_content(content_dir: Path, config: SiteConfig) -> ReadResult:
    result = ReadResult()
    root = content_dir.resolve()
    # Parsed frontmatter and rendered bodies of unchanged files come from the last build.
    cache = ReadCache.for_content(content_dir)
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
    state = (chosen, root, config, cache)
    for part, used in map_forked(_read_run, state, len(chosen)):
        result.items.extend(part.items)
        result.hidden.extend(part.hidden)
        result.problems.extend(part.problems)
        result.assets.update(part.assets)
        cache.merge(used)
    cache.save()
    return result


_ReadState = tuple[list[tuple[str, str]], Path, SiteConfig, ReadCache]


def _read_run(state: _ReadState, first: int, stop: int) -> tuple[ReadResult, CacheUse]:
    """Read files first..stop-1; also what the cache computed or used for them."""
    chosen, root, config, parent = state
    cache = parent.fork()
    result = ReadResult()
    # Without a cache folder nothing is saved, so hashing every file and sending each parsed
    # document back from the workers would only cost time.
    parse: Callable[[str, bytes], Document] = cache.document
    body_of: Callable[[str, list[str]], Body] = cache.body
    if parent.folder is None:
        parse, body_of = parse_document, split_body
    folders: dict[str, tuple[str, bool]] = {}
    for path, relative in chosen[first:stop]:
        try:
            raw = read_file(path, relative, root, folders)
            document = parse(relative, raw)
        except DocumentError as exc:
            result.problems.append(exc.problem)
            continue
        except Unreadable as exc:
            result.problems.append(Problem(relative, 0, str(exc)))
            continue
        reader = ItemReader(document, root, config, result, body_of)
        item = reader.read()
        if item is not None:
            if document.data.get("hidden") is True:
                result.hidden.append(relative)
            else:
                result.items.append(item)
    return result, cache.use()
