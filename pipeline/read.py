"""Read content/**/*.md into frozen Items, collecting every problem with its file and line."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from .cache import CacheUse, ReadCache
from .document import DocumentError
from .errors import Problem
from .item_reader import ItemReader, ReadResult, slugify, split_authors
from .model import SiteConfig
from .parallel import map_forked
from .scan import Unreadable, read_file, scan

__all__ = ["ReadResult", "read_content", "slugify", "split_authors"]


def read_content(content_dir: Path, config: SiteConfig) -> ReadResult:
    result = ReadResult()
    root = content_dir.resolve()
    # Parsed frontmatter and rendered bodies of unchanged files come from the last build.
    cache = ReadCache.for_content(content_dir)
    found, skipped = scan(content_dir)
    result.problems.extend(skipped)
    chosen: list[tuple[Path, str]] = []
    for path in found:
        relative = path.relative_to(content_dir).as_posix()
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


_ReadState = tuple[list[tuple[Path, str]], Path, SiteConfig, ReadCache]


def _read_run(state: _ReadState, first: int, stop: int) -> tuple[ReadResult, CacheUse]:
    """Read files first..stop-1; also what the cache computed or used for them."""
    chosen, root, config, parent = state
    cache = parent.fork()
    result = ReadResult()
    for path, relative in chosen[first:stop]:
        try:
            raw = read_file(path, relative, root)
            document = cache.document(relative, raw)
        except DocumentError as exc:
            result.problems.append(exc.problem)
            continue
        except Unreadable as exc:
            result.problems.append(Problem(relative, 0, str(exc)))
            continue
        reader = ItemReader(document, root, config, result, cache.body)
        item = reader.read()
        if item is not None:
            if document.data.get("hidden") is True:
                result.hidden.append(relative)
            else:
                result.items.append(item)
    return result, cache.use()
