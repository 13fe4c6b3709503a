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


def build_serialized(
    refs: Sequence[str], fields: dict[str, int], documents: Sequence[Mapping[str, Sequence[str]]]
) -> dict[str, Any]:
    """The dict lunr.py's `Builder().build().serialize()` returns for these documents.

    `fields` maps field name to boost in Builder.field order; documents[i] holds each field's
    word list for refs[i]. The invertedIndex is left in code-point order, as lunr.py leaves it.
    """
    # Millions of small containers and no cycles: the cyclic GC would only rescan them, over
    # and over (a third of the time at 1,000 talks).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(refs, fields, documents)
    finally:
        if enabled:
            gc.enable()


def _build(
    refs: Sequence[str], fields: dict[str, int], documents: Sequence[Mapping[str, Sequence[str]]]
) -> dict[str, Any]:
    field_names = list(fields)
    cache: dict[str, str | None] = {}
    term_index: dict[str, int] = {}
    # postings[term][field] -> refs holding it; lists, since each (doc, field) adds a ref once.
    postings: dict[str, dict[str, list[str]]] = {}
    # One (ref, field, Counter, length) per document field, in the Builder's insertion order.
    frequencies: list[tuple[str, str, Counter[str], int]] = []
    length_sums = dict.fromkeys(field_names, 0)
    for ref, document in zip(refs, documents, strict=True):
        for name in field_names:
            terms = index_terms(document.get(name) or (), cache)
            counts = Counter(terms)
            for term in counts:  # Counter keeps first-seen order: the Builder's term order
                posting = postings.get(term)
                if posting is None:
                    posting = postings[term] = {n: [] for n in field_names}
                    term_index[term] = len(term_index)
                posting[name].append(ref)
            frequencies.append((ref, name, counts, len(terms)))
            length_sums[name] += len(terms)
    count = len(refs)
    average = {name: length_sums[name] / count for name in field_names} if count else {}
    idf_cache: dict[str, float] = {}
    field_vectors: list[list[Any]] = []
    for ref, name, counts, length in frequencies:
        boost = fields[name]
        # Computed only for a field with terms: an empty field everywhere has average 0.
        norm = K1 * (1 - B + B * (length / average[name])) if counts else 0.0
        pairs: list[tuple[int, float]] = []
        for term, tf in counts.items():
            idf = idf_cache.get(term)
            if idf is None:
                with_term = sum(len(refs_) for refs_ in postings[term].values())
                x = (count - with_term + 0.5) / (with_term + 0.5)
                idf = idf_cache[term] = math.log(1 + abs(x))
            score = idf * ((K1 + 1) * tf) / (norm + tf)
            score *= boost
            score *= 1  # the document boost lunr.py multiplies by; kept so floats stay identical
            pairs.append((term_index[term], round(score, 3)))
        pairs.sort()
        # Vector.serialize rounds again; rounding a rounded float changes nothing.
        field_vectors.append([f"{name}/{ref}", [x for pair in pairs for x in pair]])
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
