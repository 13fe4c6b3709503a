"""Build lunr.py's index without lunr.py's Builder, byte for byte the same, term-major.

lunr.py's Builder wraps every token in an object, runs each pipeline function over the whole
token list, deep-copies metadata and keeps sparse vectors sorted by repeated list inserts; at
10,000 talks that is most of a minute. Here each distinct word is folded, filtered and stemmed
once, term frequencies come from one Counter per field, and the BM25 weights are computed with
the very same floating-point operations in the same order (lunr/builder.py), so the index that
`serialize` gives is identical. tests/test_fast_index.py compares the two on real and synthetic
sites. The index is kept term-major (TermIndex) so search_shards can cut it into term ranges.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from .stemmer import stem
from .tokens import FOLD_LABEL, STOP_WORDS, fold

# lunr.py's defaults (Builder._k1, Builder._b) and the version it writes (__TARGET_JS_VERSION__).
K1 = 1.2
B = 0.75
LUNR_VERSION = "2.3.9"
PIPELINE = [FOLD_LABEL, "stemmer"]


# Words already folded, filtered and stemmed, for every document of the build: a site's
# vocabulary is small next to its word count, so each distinct word is stemmed once. A stop
# word maps to _STOP, which no term can equal (terms hold letters, digits and marks only).
_TERMS: dict[str, str] = {}
_TERMS_MAX = 500_000
_STOP = "\x00"


def _term(word: str) -> str:
    folded = fold(str(word).lower() if word else "")
    return _STOP if folded in STOP_WORDS else stem(folded)


def _looked_up(words: Sequence[str]) -> list[str]:
    """What lunr.py's pipeline (fold, stop-word filter, stem) makes of each word, or _STOP,
    looked up in bulk; only new words are computed. lunr.py's Tokenizer lower-cases each list
    element again and its Token objects are always truthy, so a word that folds to "" stays a
    term "" exactly as in the Builder."""
    if len(_TERMS) > _TERMS_MAX:
        _TERMS.clear()
    found: list[str | None] = list(map(_TERMS.get, words))
    if None in found:
        for i, term in enumerate(found):
            if term is None:
                found[i] = _TERMS[words[i]] = _term(words[i])
    return found  # type: ignore[return-value]


# What one document field contributes: its terms' frequencies in first-seen order, and its
# length in terms.
FieldCounts = tuple[dict[str, int], int]


def document_counts(
    document: Mapping[str, Sequence[str]], fields: Sequence[str]
) -> dict[str, FieldCounts]:
    """Each field's FieldCounts for one document: what a rebuild may keep for unchanged ones."""
    out: dict[str, FieldCounts] = {}
    for name in fields:
        terms = _looked_up(document.get(name) or ())
        # Counting first and dropping the stop words after keeps the first-seen order.
        counts = Counter(terms)
        stops = counts.pop(_STOP, 0)
        out[name] = (dict(counts), len(terms) - stops)
    return out


@dataclass(frozen=True, slots=True)
class TermPostings:
    """One term: its vector index (the Builder's first-seen order) and, per field in field
    order, the documents holding it (ascending positions) with the term's BM25 weight in each,
    in integer thousandths (lunr.py rounds weights to three decimals: w / 1000 is its float)."""

    term: str
    index: int
    fields: tuple[tuple[list[int], list[int]], ...]


@dataclass(frozen=True, slots=True)
class TermIndex:
    """A lunr index turned term-major: what a term's postings and weights need, side by side,
    so it can be cut into term ranges that a page loads one query at a time."""

    fields: tuple[str, ...]
    document_count: int
    terms: tuple[TermPostings, ...]  # in JavaScript string order, as lunr.js expects


def term_index(
    fields: dict[str, int],
    documents: Sequence[Mapping[str, Sequence[str]]],
    counts: Sequence[Mapping[str, FieldCounts]] | None = None,
) -> TermIndex:
    """The index lunr.py's Builder would build for these documents (refs are their positions).

    `fields` maps field name to boost in Builder.field order; documents[i] holds each field's
    word list, or counts[i] (when given) what document_counts made of them.
    """
    # Millions of small containers and no cycles: the cyclic GC would only rescan them, over
    # and over (a third of the time at 1,000 talks).
    enabled = gc.isenabled()
    gc.disable()
    try:
        if counts is None:
            counts = [document_counts(document, list(fields)) for document in documents]
        return _build(fields, counts)
    finally:
        if enabled:
            gc.enable()


def _build(fields: dict[str, int], documents: Sequence[Mapping[str, FieldCounts]]) -> TermIndex:
    field_names = list(fields)
    width = len(field_names)
    count = len(documents)
    # Every (document, field, term) posting end to end, in the Builder's order: documents in
    # order, fields in order, terms first-seen. Then numpy sorts and weighs them in bulk.
    terms_flat: list[str] = []
    frequencies: list[int] = []
    sizes: list[int] = []
    lengths: list[list[int]] = [[] for _ in field_names]
    for document in documents:
        for f, name in enumerate(field_names):
            field_counts, length = document[name]
            terms_flat += field_counts
            frequencies += field_counts.values()
            sizes.append(len(field_counts))
            lengths[f].append(length if field_counts else -1)
    norms: list[list[float]] = []
    for f in range(width):
        total = sum(max(length, 0) for length in lengths[f])
        average = total / count if count else 0.0
        # The Builder computes a norm only for a field with terms: an empty field everywhere
        # has average 0. Same operations, same order, so the floats are identical.
        norms.append(
            [K1 * (1 - B + B * (length / average)) if length >= 0 else 0.0 for length in lengths[f]]
        )
    # A term's vector index is the order the Builder first met it in.
    numbers = {term: number for number, term in enumerate(dict.fromkeys(terms_flat))}
    ordered = sorted(numbers, key=_js_order)
    rank = np.empty(len(ordered), dtype=np.int64)
    rank[[numbers[term] for term in ordered]] = np.arange(len(ordered), dtype=np.int64)
    ids = np.fromiter(map(numbers.__getitem__, terms_flat), dtype=np.int64, count=len(terms_flat))
    cell = np.repeat(np.arange(len(sizes), dtype=np.int64), np.asarray(sizes, dtype=np.int64))
    doc, field = cell // width, cell % width
    # By term (lunr.js order), then field, then document: each (term, field) run is one
    # posting list with ascending positions.
    order = np.lexsort((doc, field, rank[ids]))
    ids, doc, field = ids[order], doc[order], field[order]
    tf = np.asarray(frequencies, dtype=np.float64)[order]
    # lunr.py counts a term's documents field by field: its postings in every field.
    with_term = np.bincount(ids, minlength=len(numbers)).tolist()
    idf_by_number = [math.log(1 + abs((count - n + 0.5) / (n + 0.5))) for n in with_term]
    idf = np.asarray(idf_by_number, dtype=np.float64)[ids]
    norm = np.asarray(norms, dtype=np.float64).reshape(width, count)[field, doc]
    boost = np.asarray([fields[name] for name in field_names], dtype=np.float64)[field]
    # The final `* 1` is the document boost lunr.py multiplies by.
    weights = thousandths(idf * ((K1 + 1) * tf) / (norm + tf) * boost * 1)
    positions = doc.tolist()
    # Where each (term, field) run starts and ends in the sorted postings.
    run_of = rank[ids] * width + field
    starts = np.searchsorted(run_of, np.arange(len(ordered) * width + 1, dtype=np.int64)).tolist()
    terms: list[TermPostings] = []
    for r, term in enumerate(ordered):
        per_field = tuple(
            (positions[starts[r * width + f] : starts[r * width + f + 1]],
             weights[starts[r * width + f] : starts[r * width + f + 1]])
            for f in range(width)
        )  # fmt: skip
        terms.append(TermPostings(term, numbers[term], per_field))
    return TermIndex(tuple(field_names), count, tuple(terms))


def thousandths(values: np.ndarray) -> list[int]:
    """round(x, 3) * 1000 of each value, as integers: n / 1000 is then exactly the float
    Python's round(x, 3) gives (both are the double nearest the decimal n/1000).

    round() rounds the exact binary value to three decimals; so does rint(x * 1000), except
    when x * 1000 lands so near a half that the rounding of the product decides it. Those few
    are handed to round() itself."""
    scaled = values * 1000.0
    out: list[int] = np.rint(scaled).astype(np.int64).tolist()
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    for i in np.flatnonzero(near_half).tolist():
        out[i] = round(round(float(values[i]), 3) * 1000)
    return out


def _js_order(term: str) -> bytes:
    # lunr.js inserts terms into its token set in JavaScript string order (UTF-16 code units),
    # which differs from Python's code-point order once a term holds an astral character.
    return term.encode("utf-16-be")


def serialize(index: TermIndex, refs: Sequence[str]) -> dict[str, Any]:
    """The dict lunr.py's `Builder().build().serialize()` returns, terms in lunr.js order."""
    width = len(index.fields)
    vectors: list[list[list[tuple[int, float]]]] = [
        [[] for _ in range(width)] for _ in range(index.document_count)
    ]
    inverted = []
    # lunr.py stores an empty metadata dict per posting; one shared {} serializes the same.
    empty: dict[str, Any] = {}
    for entry in index.terms:
        serialized: dict[str, Any] = {}
        for f, (positions, weights) in enumerate(entry.fields):
            serialized[index.fields[f]] = dict.fromkeys((refs[p] for p in positions), empty)
            for p, w in zip(positions, weights, strict=True):
                vectors[p][f].append((entry.index, w / 1000))
        serialized["_index"] = entry.index
        inverted.append([entry.term, serialized])
    field_vectors: list[list[Any]] = []
    for position, per_field in enumerate(vectors):
        for f, pairs in enumerate(per_field):
            pairs.sort()
            field_vectors.append(
                [f"{index.fields[f]}/{refs[position]}", list(chain.from_iterable(pairs))]
            )
    return {
        "version": LUNR_VERSION,
        "fields": list(index.fields),
        "fieldVectors": field_vectors,
        "invertedIndex": inverted,
        "pipeline": list(PIPELINE),
    }
