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
from collections.abc import Mapping, Sequence
from itertools import pairwise

import numpy as np

from .records import record
from .search_terms import (
    K1,
    LUNR_VERSION,
    PIPELINE,
    B,
    FieldCounts,
    TermIndex,
    TermPostings,
    _in_js_order,
    document_counts,
    known_words,
    learn_words,
    serialize,
)

# Re-exported: the index's builders and readers import them from here.
__all__ = [
    "K1",
    "LUNR_VERSION",
    "PIPELINE",
    "B",
    "BuilderPostings",
    "FieldCounts",
    "TermArrays",
    "TermIndex",
    "TermPostings",
    "builder_postings",
    "document_counts",
    "known_words",
    "learn_words",
    "serialize",
    "term_index",
    "thousandths",
    "thousandths_array",
    "weigh",
]


@record
class BuilderPostings:
    """Every (document, field, term) posting in the order lunr.py's Builder meets them:
    documents in order, fields in order, each field's terms first-seen. Terms are ids into
    `vocabulary`, whose order means nothing: search_state.py splices these arrays from one
    build to the next, and only the order of the postings decides the index."""

    vocabulary: tuple[str, ...]
    # Kept small, as a rebuild loads them: int32, and int8 for the field.
    term_ids: np.ndarray  # per posting
    field_of: np.ndarray  # per posting
    document_of: np.ndarray  # per posting
    frequencies: np.ndarray  # per posting
    lengths: np.ndarray  # (documents, fields): field length in terms, -1 without terms

    @property
    def document_count(self) -> int:
        return int(self.lengths.shape[0])


@record
class TermArrays:
    """The weighed index, term-major, as arrays: terms in lunr.js order, and for each
    (term, field) run `starts[r * width + f]` up to the next start, the postings' document
    positions (ascending) and weights in integer thousandths."""

    fields: tuple[str, ...]
    document_count: int
    terms: tuple[str, ...]
    numbers: tuple[int, ...]  # each term's vector index
    starts: np.ndarray
    positions: np.ndarray
    weights: np.ndarray
    # Each posting's term frequency, as `positions` (what a later patch weighs again with).
    frequencies: np.ndarray | None = None

    def term_index(self) -> TermIndex:
        width = len(self.fields)
        starts = self.starts.tolist()
        positions, weights = self.positions.tolist(), self.weights.tolist()
        terms = []
        for r, term in enumerate(self.terms):
            runs = pairwise(starts[r * width : (r + 1) * width + 1])
            per_field = tuple((positions[a:b], weights[a:b]) for a, b in runs)
            terms.append(TermPostings(term, self.numbers[r], per_field))
        return TermIndex(self.fields, self.document_count, tuple(terms))


def term_index(
    fields: dict[str, int],
    documents: Sequence[Mapping[str, Sequence[str]]],
    counts: Sequence[Mapping[str, FieldCounts]] | None = None,
) -> TermIndex:
    """The index lunr.py's Builder would build for these documents (refs are their positions).

    `fields` maps field name to boost in Builder.field order; documents[i] holds each field's
    word list, or counts[i] (when given) what document_counts made of them.
    """
    if counts is None:
        counts = [document_counts(document, list(fields)) for document in documents]
    return weigh(fields, builder_postings(list(fields), counts)).term_index()


def builder_postings(
    field_names: Sequence[str],
    documents: Sequence[Mapping[str, FieldCounts]],
    vocabulary: dict[str, int] | None = None,
) -> BuilderPostings:
    """The postings of these documents (positions from 0); new terms are added to `vocabulary`
    (term -> id), which the arrays' ids index."""
    # Millions of small containers and no cycles: the cyclic GC would only rescan them, over
    # and over (a third of the time at 1,000 talks).
    enabled = gc.isenabled()
    gc.disable()
    try:
        vocabulary = {} if vocabulary is None else vocabulary
        width = len(field_names)
        terms_flat: list[str] = []
        frequencies: list[int] = []
        sizes: list[int] = []
        lengths: list[int] = []
        for document in documents:
            for name in field_names:
                field_counts, length = document[name]
                terms_flat += field_counts
                frequencies += field_counts.values()
                sizes.append(len(field_counts))
                lengths.append(length if field_counts else -1)
        for term in dict.fromkeys(terms_flat):
            if term not in vocabulary:
                vocabulary[term] = len(vocabulary)
        ids = np.fromiter(map(vocabulary.__getitem__, terms_flat), np.int32, len(terms_flat))
        cell = np.repeat(np.arange(len(sizes), dtype=np.int32), np.asarray(sizes, dtype=np.int32))
        return BuilderPostings(
            tuple(vocabulary),
            ids,
            (cell % width).astype(np.int8),
            cell // width,
            np.asarray(frequencies, dtype=np.int32),
            np.asarray(lengths, dtype=np.int32).reshape(len(documents), width),
        )
    finally:
        if enabled:
            gc.enable()


def weigh(fields: dict[str, int], postings: BuilderPostings) -> TermArrays:
    """BM25-weigh the postings exactly as lunr.py's Builder does, and sort them term-major."""
    field_names = list(fields)
    width = len(field_names)
    count = postings.document_count
    ids, field, doc = postings.term_ids, postings.field_of, postings.document_of
    norms = np.zeros((width, count), dtype=np.float64)
    for f in range(width):
        lengths = postings.lengths[:, f]
        with_terms = lengths >= 0
        total = int(lengths[with_terms].sum())
        average = total / count if count else 0.0
        # The Builder computes a norm only for a field with terms: an empty field everywhere
        # has average 0. Same operations, same order, so the floats are identical.
        if with_terms.any():
            norms[f, with_terms] = K1 * (1 - B + B * (lengths[with_terms] / average))
    # A term's vector index is the order the Builder first met it in.
    first = np.full(len(postings.vocabulary), len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids), dtype=np.int64))
    present = np.flatnonzero(first < len(ids))
    met = present[np.argsort(first[present])]
    number = np.full(len(postings.vocabulary), -1, dtype=np.int64)
    number[met] = np.arange(len(met), dtype=np.int64)
    vocabulary = postings.vocabulary
    by_js_order = _in_js_order(met.tolist(), vocabulary)
    ordered = [vocabulary[i] for i in by_js_order]
    ordered_ids = np.asarray(by_js_order, dtype=np.int64)
    rank = np.empty(len(vocabulary), dtype=np.int64)
    rank[ordered_ids] = np.arange(len(ordered), dtype=np.int64)
    # Weighed where the postings lie (the Builder's order), then sorted: gathering one
    # array costs less than gathering the five it is made from.
    term_number = number[ids]
    tf = postings.frequencies.astype(np.float64)
    # lunr.py counts a term's documents field by field: its postings in every field.
    with_term = np.bincount(term_number, minlength=len(met)).tolist()
    # Worked out once per document count: terms share a few hundred of them.
    idf_of = {n: math.log(1 + abs((count - n + 0.5) / (n + 0.5))) for n in set(with_term)}
    idf_by_number = list(map(idf_of.__getitem__, with_term))
    boost_by_field = np.asarray([fields[name] for name in field_names], dtype=np.float64)
    # lunr.py's idf * ((K1 + 1) * tf) / (norm + tf) * boost * 1, operation by operation in
    # its order, in place: the same floats, without a fresh array (and its pages) per step.
    # (Multiplying is commutative in floating point; the final `* 1`, the document boost,
    # changes no float.)
    weights = np.asarray(idf_by_number, dtype=np.float64)[term_number]
    weights *= tf * (K1 + 1)
    norm = norms[field, doc]
    norm += tf
    weights /= norm
    weights *= boost_by_field[field]
    weights = thousandths_array(weights)
    # By term (lunr.js order), then field, then document: each (term, field) run is one
    # posting list with ascending positions. The Builder's order has the documents ascending
    # already, so a stable sort on the run alone orders them.
    run_of = rank[ids] * width + field
    order = _stable_order(run_of)
    runs = np.bincount(run_of, minlength=len(ordered) * width)
    starts = np.concatenate((np.zeros(1, dtype=np.int64), np.cumsum(runs)))
    doc, weights = doc[order], weights[order]
    numbers = tuple(number[ordered_ids].tolist())
    frequencies = postings.frequencies[order]
    return TermArrays(
        tuple(field_names), count, tuple(ordered), numbers, starts, doc, weights, frequencies
    )


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """np.argsort(keys, kind="stable") for keys in [0, 2**32), in two passes of numpy's radix
    sort on 16-bit digits: a third of the time of one comparison sort of the whole keys."""
    top = int(keys.max()) if len(keys) else 0
    if top >= 1 << 32:
        return np.argsort(keys, kind="stable")
    low = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    if top < 1 << 16:
        return low
    high = (keys[low] >> 16).astype(np.uint16)
    return low[np.argsort(high, kind="stable")]


def thousandths(values: np.ndarray) -> list[int]:
    """round(x, 3) * 1000 of each value, as integers: n / 1000 is then exactly the float
    Python's round(x, 3) gives (both are the double nearest the decimal n/1000)."""
    out: list[int] = thousandths_array(values).tolist()
    return out


def thousandths_array(values: np.ndarray) -> np.ndarray:
    """thousandths() as an int64 array.

    round() rounds the exact binary value to three decimals; so does rint(x * 1000), except
    when x * 1000 lands so near a half that the rounding of the product decides it. Those few
    are handed to round() itself."""
    scaled = values * 1000.0
    out = np.rint(scaled).astype(np.int64)
    # |scaled - floor(scaled) - 0.5|, worked out in place: no fresh array (and its pages)
    # per step.
    floor = np.floor(scaled)
    np.subtract(scaled, floor, out=scaled)
    scaled -= 0.5
    np.abs(scaled, out=scaled)
    for i in np.flatnonzero(scaled < 1e-6).tolist():
        out[i] = round(round(float(values[i]), 3) * 1000)
    return out
