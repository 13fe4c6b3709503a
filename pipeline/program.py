"""Assemble read items into a Program: editions newest first, items in time order, ids unique."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from .errors import Problem
from .model import Edition, EditionInfo, Item, Program, SiteConfig
from .read import ReadResult


def assemble(result: ReadResult, config: SiteConfig) -> tuple[Program, list[Problem]]:
    problems, bad_ids = _duplicate_ids(result.items)
    by_edition: dict[str, list[Item]] = defaultdict(list)
    for item in result.items:
        if item.id not in bad_ids:
            by_edition[item.edition].append(item)
    editions = []
    for edition_id, items in by_edition.items():
        info = config.edition(edition_id) or EditionInfo(
            id=edition_id, name=edition_id, timezone=config.timezone
        )
        editions.append(Edition(info, tuple(sorted(items, key=_item_order))))
    editions.sort(key=_edition_order)
    left_out = sorted({p.path for p in result.problems + problems if p.severity == "error"})
    program = Program(
        site=config,
        editions=tuple(editions),
        assets=tuple(sorted(result.assets.values(), key=lambda a: a.target)),
        files_read=len(result.files),
        files_left_out=tuple(left_out),
        hidden=tuple(result.hidden),
    )
    return program, problems


_NEVER = datetime.max.replace(tzinfo=None)


def _item_order(item: Item) -> tuple[bool, datetime, datetime, str, str]:
    start = item.start.replace(tzinfo=None) if item.start else _NEVER
    end = item.end.replace(tzinfo=None) if item.end else _NEVER
    return (item.start is None, start, end, item.title.casefold(), item.id)


def _edition_order(edition: Edition) -> tuple[bool, float, str]:
    # Newest first; editions with no timed item go last, by id.
    start = edition.start
    return (start is None, -start.timestamp() if start else 0.0, edition.id)


def _duplicate_ids(items: list[Item]) -> tuple[list[Problem], set[str]]:
    """Every id must be unique across items and papers: each is a link target (#id) and a key
    that other sites store. Returns the problems and the ids of the items to leave out."""
    owners: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    for item in items:
        owners[item.id].append((item.source.path, 1, item.id))
        for paper in item.papers:
            # A file named talk-p1.md makes the same id as the first paper of talk.md.
            owners[paper.id].append((paper.source.path, paper.source.line, item.id))
    problems = []
    bad_items: set[str] = set()
    for shared_id in sorted(i for i, found in owners.items() if len(found) > 1):
        found = owners[shared_id]
        for path, line, item_id in found:
            others = ", ".join(sorted({p for p, _l, _i in found if p != path})) or "this file"
            problems.append(
                Problem(path, line, f"id '{shared_id}' is also made by {others}; rename one file")
            )
            bad_items.add(item_id)
    return problems, bad_items
