"""The search files (search_files.py) made from a weighed index in bulk, with numpy: each term's
row of a range file, and the ranges.

Rows are kept from build to build (`memo`), and only those whose postings changed are made
again; the numbers of those are turned to text in bulk, as one comma-separated string per
array.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any

import numpy as np

from .fast_index import TermArrays
from .search_files import DocMeta, files_of_rows, front_coded, ranges_in


def _running(index: TermArrays) -> list[int]:
    """The running sizes of the index's terms (search_files.ranges_in)."""
    width = len(index.fields)
    count = len(index.terms)
    # search_files.term_size, of every term at once.
    weights = np.diff(index.starts[::width]) * 9 + 12
    weights += np.fromiter(map(len, index.terms), np.int64, count)
    running: list[int] = np.concatenate(([0], np.cumsum(weights))).tolist()
    return running


def _ranges(index: TermArrays, range_bytes: int) -> list[tuple[int, int]]:
    """The index's term ranges of about range_bytes each (search_files.ranges_in)."""
    return ranges_in(_running(index), range_bytes)


def shard_files(
    index: TermArrays,
    card_texts: Sequence[str],
    meta: Sequence[DocMeta],
    field_aliases: dict[str, str],
    edition_names: Mapping[str, str],
    day_pages: bool = False,
    coded: Callable[[list[str]], str] = front_coded,
    memo: dict[str, Any] | None = None,
) -> dict[str, bytes]:
    """Every search file of the site (search_files.files_of_rows); `memo` keeps the rows from
    build to build (_RowTexts)."""
    rows = _RowTexts(index, memo if memo is not None else {}).rows()
    return files_of_rows(
        rows,
        _running(index),
        index,
        card_texts,
        meta,
        field_aliases,
        edition_names,
        day_pages,
        coded,
    )


class _RowTexts:
    """Each term's row of a range file, as JSON text: [term, vector index, then per field
    the delta-coded positions and the weights]. Numbers are turned to text in bulk, as one
    comma-separated string per array; a run of postings is then a slice of it.

    Rows are kept from build to build (`memo`): an edit of one item moves the weights of many
    terms (every weight depends on the average field length), but a term whose positions and
    weights are those of the last build has that build's row."""

    def __init__(self, index: TermArrays, memo: dict[str, Any]) -> None:
        self.index = index
        self.memo = memo
        positions = index.positions.astype(np.int64)
        self.key = row_key(positions, index.starts.astype(np.int64))
        width = len(index.fields)
        self.kept, self.afresh = self._kept_rows(width)
        deltas = positions.copy()
        deltas[1:] -= positions[:-1]
        # Each (term, field) run starts from 0 again.
        firsts = index.starts[:-1]
        firsts = firsts[firsts < len(positions)]
        deltas[firsts] = positions[firsts]
        # Only the numbers of the rows made afresh are turned to text; `taken` counts, at each
        # posting, those of them before it.
        take = np.repeat(self.afresh, np.diff(index.starts[::width]))
        taken = np.concatenate(([0], np.cumsum(take)))
        self.deltas, delta_offsets = _joined_numbers(deltas[take])
        self.weights, weight_offsets = _joined_numbers(index.weights[take])
        # Where each (term, field) run's text starts in each: only these are ever sliced at.
        at = taken[index.starts]
        self.delta_at = delta_offsets[at].tolist()
        self.weight_at = weight_offsets[at].tolist()

    def _kept_rows(self, width: int) -> tuple[list[str], np.ndarray]:
        """The last build's rows, and which terms' rows must be made afresh: all of them
        unless the terms, their numbers and their positions are the last build's."""
        index = self.index
        everything = np.ones(len(index.terms), dtype=bool)
        known = self.memo.get("rows")
        if not (
            isinstance(known, tuple)
            and len(known) == 5
            and known[0] == self.key
            and known[1] == index.terms
            and known[2] == index.numbers
        ):
            return [], everything
        weights = known[3]
        if not isinstance(weights, np.ndarray) or weights.shape != index.weights.shape:
            return [], everything
        # Per term: how many of its postings changed weight.
        changed = np.concatenate(([0], np.cumsum(weights != index.weights)))
        firsts = index.starts[::width]
        return known[4], (changed[firsts[1:]] - changed[firsts[:-1]]) > 0

    def rows(self) -> list[str]:
        """Every term's row, in term order; kept in the memo for the next build."""
        kept, afresh = self.kept, self.afresh.tolist()
        made = [self.row(n) if afresh[n] else kept[n] for n in range(len(self.index.terms))]
        index = self.index
        weights = index.weights
        if len(weights) and int(np.abs(weights).max()) < 1 << 31:
            weights = weights.astype(np.int32)  # half the bytes to save and load
        self.memo["rows"] = (self.key, index.terms, index.numbers, weights, made)
        return made

    def row(self, number: int) -> str:
        width = len(self.index.fields)
        parts = [encode_basestring(self.index.terms[number]), str(self.index.numbers[number])]
        runs = range(number * width, (number + 1) * width)
        deltas, delta_at = self.deltas, self.delta_at
        weights, weight_at = self.weights, self.weight_at
        for run in runs:
            first, stop = delta_at[run], delta_at[run + 1]
            if first == stop:
                parts += ("[]", "[]")
                continue
            # Each number's text ends one character before the next one's offset (the comma).
            parts.append("[" + deltas[first : stop - 1] + "]")
            parts.append("[" + weights[weight_at[run] : weight_at[run + 1] - 1] + "]")
        return "[" + ",".join(parts) + "]"


def row_key(positions: np.ndarray, starts: np.ndarray) -> bytes:
    """What rows are kept under (int64 arrays): a digest of the positions and of where each
    run starts. An edit moves weights, hardly ever positions."""
    return hashlib.sha256(positions.tobytes() + starts.tobytes()).digest()


def _joined_numbers(values: np.ndarray) -> tuple[str, np.ndarray]:
    """The integers as one comma-separated text (with a trailing comma), and where each one's
    text starts, plus one offset past the end.

    The text is written digit by digit into a byte array, one pass per decimal place over all
    the numbers at once: a million postings' numbers took a fifth of a second through str()
    and join, and take a few hundredths this way."""
    numbers = values.astype(np.int64)
    negative = numbers < 0
    # abs of the most negative int64 overflows; no index holds one.
    magnitude = np.abs(numbers)
    powers = 10 ** np.arange(1, 19, dtype=np.int64)
    digits = 1 + np.searchsorted(powers, magnitude, side="right")
    offsets = np.zeros(len(numbers) + 1, dtype=np.int64)
    np.cumsum(digits + negative + 1, out=offsets[1:])
    out = np.full(int(offsets[-1]), ord(","), dtype=np.uint8)
    # Each number's last digit sits just before its comma; the others go leftwards from it.
    place = offsets[1:] - 2
    remaining = magnitude
    for k in range(int(digits.max()) if len(numbers) else 0):
        has = digits > k
        out[place[has] - k] = ord("0") + remaining[has] % 10
        remaining = remaining // 10
    out[offsets[:-1][negative]] = ord("-")
    return out.tobytes().decode("ascii"), offsets
