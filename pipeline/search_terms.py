"""What lunr.py's pipeline makes of words, and the index's term-major shape: the part of
building the index that needs no numpy, so that a rebuild's search stage can run without
importing it (search_light.py).

Each distinct word is folded, filtered and stemmed once a build (and kept for the next), term
frequencies come from one Counter per field; fast_index weighs what these give.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

from .records import record
from .stemmer import stem
from .tokens import FOLD_LABEL, fold, stop_words

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
    return _STOP if folded in stop_words() else stem(folded)


def known_words() -> dict[str, str]:
    """What each word met so far maps to (its term, or the stop word mark): for the search
    state, so that a rebuild in a new process maps the words it has seen without folding and
    stemming them again, and without importing what that needs (tokens.stop_words)."""
    return dict(_TERMS)


def learn_words(known: Mapping[str, str]) -> None:
    """Take the words a known_words() of this same code mapped."""
    if len(_TERMS) + len(known) <= _TERMS_MAX:
        _TERMS.update(known)


def _looked_up(words: Sequence[str]) -> list[str]:
    """What lunr.py's pipeline (fold, stop-word filter, stem) makes of each word, or _STOP,
    looked up in bulk; only new words are computed. lunr.py's Tokenizer lower-cases each list
    element again and its Token objects are always truthy, so a word that folds to "" stays a
    term "" exactly as in the Builder."""
    try:
        # Once a site's vocabulary is known, most fields hold no new word.
        return list(map(_TERMS.__getitem__, words))
    except KeyError:
        if len(_TERMS) > _TERMS_MAX:
            _TERMS.clear()
        for word in set(words).difference(_TERMS):
            _TERMS[word] = _term(word)
        return list(map(_TERMS.__getitem__, words))


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


@record
class TermPostings:
    """One term: its vector index (the Builder's first-seen order) and, per field in field
    order, the documents holding it (ascending positions) with the term's BM25 weight in each,
    in integer thousandths (lunr.py rounds weights to three decimals: w / 1000 is its float)."""

    term: str
    index: int
    fields: tuple[tuple[list[int], list[int]], ...]


@record
class TermIndex:
    """A lunr index turned term-major: what a term's postings and weights need, side by side,
    so it can be cut into term ranges that a page loads one query at a time."""

    fields: tuple[str, ...]
    document_count: int
    terms: tuple[TermPostings, ...]  # in JavaScript string order, as lunr.js expects


def _js_order(term: str) -> bytes:
    # lunr.js inserts terms into its token set in JavaScript string order (UTF-16 code units),
    # which differs from Python's code-point order once a term holds an astral character.
    return term.encode("utf-16-be")


def _in_js_order(ids: list[int], vocabulary: Sequence[str]) -> list[int]:
    """The terms' ids sorted by their terms in JavaScript string order."""
    terms = [vocabulary[i] for i in ids]
    # Without an astral character the two orders agree, and comparing strings is cheaper than
    # encoding each (a tenth of a rebuild's weighing at 1,000 items). Told from the terms
    # joined: ASCII, or as many UTF-16 code units as characters (C loops, 0.03 ms; the
    # largest character of each term took 1 ms).
    joined = "".join(terms)
    if joined.isascii() or len(joined.encode("utf-16-le", "surrogatepass")) == 2 * len(joined):
        return [ids[n] for n in sorted(range(len(ids)), key=terms.__getitem__)]
    return sorted(ids, key=lambda i: _js_order(vocabulary[i]))


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
