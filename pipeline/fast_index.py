"""Build the serialized lunr index without lunr.py's Builder, byte for byte the same.

lunr.py's Builder wraps every token in an object, runs each pipeline function over the whole
token list, deep-copies metadata and keeps sparse vectors sorted by repeated list inserts; at
10,000 talks that is most of a minute. Here each distinct word is folded, filtered and stemmed
once, term frequencies come from one Counter per field, and the BM25 weights are computed with
the very same floating-point operations in the same order (lunr/builder.py), so the JSON that
comes out is identical. tests/test_fast_index.py compares the two on real and synthetic sites.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

from .stemmer import stem
from .tokens import FOLD_LABEL, STOP_WORDS, fold

# lunr.py's defaults (Builder._k1, Builder._b) and the version it writes (__TARGET_JS_VERSION__).
K1 = 1.2
B = 0.75
LUNR_VERSION = "2.3.9"
PIPELINE = [FOLD_LABEL, "stemmer"]


def index_terms(words: Sequence[str], cache: dict[str, str | None]) -> list[str]:
    """What lunr.py's pipeline (fold, stop-word filter, stem) makes of a field's word list.

    lunr.py's Tokenizer lower-cases each list element again and its Token objects are always
    truthy, so a word that folds to "" stays a term "" exactly as in the Builder.
    """
    terms: list[str] = []
    append = terms.append
    for word in words:
        if word in cache:
            term = cache[word]
        else:
            folded = fold(str(word).lower() if word else "")
            term = None if folded in STOP_WORDS else stem(folded)
            cache[word] = term
        if term is not None:
            append(term)
    return terms


# What one document field contributes: its terms' frequencies in first-seen order, and its
# length in terms.
FieldCounts = tuple[dict[str, int], int]


def document_counts(
    document: Mapping[str, Sequence[str]], fields: Sequence[str]
) -> dict[str, FieldCounts]:
    """Each field's FieldCounts for one document: what a rebuild may keep for unchanged ones."""
    cache: dict[str, str | None] = {}
    out: dict[str, FieldCounts] = {}
    for name in fields:
        terms = index_terms(document.get(name) or (), cache)
        out[name] = (dict(Counter(terms)), len(terms))
    return out


def build_serialized(
    refs: Sequence[str],
    fields: dict[str, int],
    documents: Sequence[Mapping[str, Sequence[str]]],
    counts: Sequence[Mapping[str, FieldCounts]] | None = None,
) -> dict[str, Any]:
    """The dict lunr.py's `Builder().build().serialize()` returns for these documents.

    `fields` maps field name to boost in Builder.field order; documents[i] holds each field's
    word list for refs[i], or counts[i] (when given) what document_counts made of them. The
    invertedIndex is left in code-point order, as lunr.py leaves it.
    """
    # Millions of small containers and no cycles: the cyclic GC would only rescan them, over
    # and over (a third of the time at 1,000 talks).
    enabled = gc.isenabled()
    gc.disable()
    try:
        if counts is None:
            counts = [document_counts(document, list(fields)) for document in documents]
        return _build(refs, fields, counts)
    finally:
        if enabled:
            gc.enable()


def _build(
    refs: Sequence[str], fields: dict[str, int], documents: Sequence[Mapping[str, FieldCounts]]
) -> dict[str, Any]:
    field_names = list(fields)
    term_index: dict[str, int] = {}
    # postings[term][field] -> refs holding it; lists, since each (doc, field) adds a ref once.
    postings: dict[str, dict[str, list[str]]] = {}
    # One (ref, field, counts, length) per document field, in the Builder's insertion order.
    frequencies: list[tuple[str, str, dict[str, int], int]] = []
    length_sums = dict.fromkeys(field_names, 0)
    for ref, document in zip(refs, documents, strict=True):
        for name in field_names:
            counts, length = document[name]
            for term in counts:  # first-seen order: the Builder's term order
                posting = postings.get(term)
                if posting is None:
                    posting = postings[term] = {n: [] for n in field_names}
                    term_index[term] = len(term_index)
                posting[name].append(ref)
            frequencies.append((ref, name, counts, length))
            length_sums[name] += length
    count = len(refs)
    average = {name: length_sums[name] / count for name in field_names} if count else {}
    idf: dict[str, float] = {}
    for term, posting in postings.items():
        with_term = sum(len(refs_) for refs_ in posting.values())
        x = (count - with_term + 0.5) / (with_term + 0.5)
        idf[term] = math.log(1 + abs(x))
    k1_plus_1 = K1 + 1
    field_vectors: list[list[Any]] = []
    for ref, name, counts, length in frequencies:
        boost = fields[name]
        # Computed only for a field with terms: an empty field everywhere has average 0.
        norm = K1 * (1 - B + B * (length / average[name])) if counts else 0.0
        # The same operations in the same order as lunr.py, so the floats are identical; the
        # final `* 1` is the document boost it multiplies by. Term indexes are unique, so
        # sorting the pairs sorts by index alone.
        pairs = [
            (term_index[term], round(idf[term] * (k1_plus_1 * tf) / (norm + tf) * boost * 1, 3))
            for term, tf in counts.items()
        ]
        pairs.sort()
        # Vector.serialize rounds again; rounding a rounded float changes nothing.
        field_vectors.append([f"{name}/{ref}", list(chain.from_iterable(pairs))])
    inverted = []
    for term in sorted(postings):
        # lunr.py stores an empty metadata dict per posting; one shared {} serializes the same.
        empty: dict[str, Any] = {}
        entry: dict[str, Any] = {n: dict.fromkeys(r, empty) for n, r in postings[term].items()}
        entry["_index"] = term_index[term]
        inverted.append([term, entry])
    return {
        "version": LUNR_VERSION,
        "fields": field_names,
        "fieldVectors": field_vectors,
        "invertedIndex": inverted,
        "pipeline": list(PIPELINE),
    }
