"""Read content/**/*.md into frozen Items, collecting every problem with its file and line."""

from __future__ import annotations

import fnmatch
import hashlib
from pathlib import Path

from .document import FrontmatterMemo, parse_document
from .errors import DocumentError, Problem
from .item_reader import ItemReader, ReadResult, slugify, split_authors
from .model import SiteConfig
from .output_cache import token
from .parallel import map_forked
from .read_cache import FileRead, FrontmatterStore, ReadCache, Survey
from .records import replace
from .scan import Unreadable, read_file, scan_files
from .text import split_body

__all__ = ["ReadResult", "read_content", "slugify", "split_authors"]


def read_content(
    content_dir: Path,
    config: SiteConfig,
    cache: ReadCache | None = None,
    surveyed: Survey | None = None,
) -> ReadResult:
    """Read every content file; with a cache (read_cache.py), files unchanged since the last
    build are taken from it and only the others are read. `surveyed` is the folder's survey
    (read_cache.survey), when made already for this build."""
    result = ReadResult()
    root = content_dir.resolve()
    if surveyed is not None and cache is not None:
        cache.surveyed(surveyed)
        found, skipped, found_keys = surveyed.found, surveyed.skipped, surveyed.keys
    else:
        (found, skipped), found_keys = scan_files(content_dir), None
    result.problems.extend(skipped)
    chosen: list[tuple[str, str]] = []
    keys: list[str | None] = []
    for number, (path, relative) in enumerate(found):
        if any(fnmatch.fnmatch(relative, pattern) for pattern in config.exclude):
            result.excluded.append(relative)
            continue
        result.files.append(relative)
        chosen.append((path, relative))
        if cache is not None:
            key = found_keys[number] if found_keys is not None else cache.key(path, relative)
            keys.append(key)
    reads: list[FileRead | None] = (
        [cache.get(k, path) for k, (path, _) in zip(keys, chosen, strict=True)]
        if cache
        else [None] * len(chosen)
    )
    missing = [number for number, read in enumerate(reads) if read is None]
    # Files are read independently, so on a large site they are parsed in forked workers, in
    # contiguous runs merged back in order: the result is the one a single process gets.
    # With a cache, the workers also digest each item they read: the stages key on it.
    memo = cache.frontmatter if cache is not None else None
    state = ([chosen[number] for number in missing], root, config, cache is not None, memo)
    fresh: list[FileRead] = []
    for part, kept in map_forked(_read_run, state, len(missing)):
        fresh += part
        if memo is not None:
            memo.take(kept)
    for number, made in zip(missing, fresh, strict=True):
        reads[number] = made
        if cache:
            cache.store(keys[number], made)
    for each in reads:
        assert each is not None
        if each.hidden:
            result.hidden.append(each.relative)
        elif each.item is not None:
            result.items.append(each.item)
        result.problems.extend(each.problems)
        result.assets.update(each.assets)
    return result


_ReadState = tuple[list[tuple[str, str]], Path, SiteConfig, bool, FrontmatterStore | None]


def _read_run(
    state: _ReadState, first: int, stop: int
) -> tuple[list[FileRead], dict[bytes, bytes]]:
    """Read files first..stop-1; with `tokens`, each with its item's output_cache token. With
    them, the frontmatter this run parsed for the memo (FrontmatterStore.kept_since): a forked
    reader's memo is its own copy, and a first build of 1,000 items kept only half of them,
    which the first rebuild then parsed again (importing PyYAML, 13 ms)."""
    chosen, root, config, tokens, memo = state
    already = len(memo.fresh) if memo is not None else 0
    reads = []
    folders: dict[str, tuple[str, bool]] = {}
    for path, relative in chosen[first:stop]:
        read = _read_one(path, relative, root, config, folders, memo)
        if tokens and read.item is not None:
            read = replace(read, token=token(read.item))
        reads.append(read)
    return reads, memo.kept_since(already) if memo is not None else {}


def _read_one(
    path: str,
    relative: str,
    root: Path,
    config: SiteConfig,
    folders: dict[str, tuple[str, bool]],
    memo: FrontmatterMemo | None = None,
) -> FileRead:
    try:
        raw = read_file(path, relative, root, folders)
    except DocumentError as exc:  # too big to be an item
        return FileRead(relative, None, False, (exc.problem,), (), False)
    except Unreadable as exc:
        return FileRead(relative, None, False, (Problem(relative, 0, str(exc)),), (), True)
    # What the read cache checks an entry kept while its file was racily clean against.
    digest = hashlib.sha256(raw).digest()
    try:
        document = parse_document(relative, raw, memo)
    except DocumentError as exc:
        return FileRead(relative, None, False, (exc.problem,), (), False, digest=digest)
    result = ReadResult()
    reader = ItemReader(document, root, config, result, split_body)
    item = reader.read()
    hidden = item is not None and document.data.get("hidden") is True
    return FileRead(
        relative,
        item,
        hidden,
        tuple(result.problems),
        tuple(result.assets.items()),
        reader.consulted_files,
        digest=digest,
    )
