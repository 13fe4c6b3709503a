"""What the search stage keeps from one build to the next, so a rebuild re-reads only the
items that changed.

Every weight of a lunr index depends on every document (through the average field length and
each term's document count), so the index cannot be patched. What each item contributes can:
its documents' postings in the Builder's order, their field lengths, result cards and filter
values. A SearchState holds all of that as flat arrays, item after item. The next build splices
the runs of unchanged items out of it, computes the changed items afresh, and weighs the whole
(fast_index.weigh) exactly as a cold build does: same postings in the same order, so the same
index, whatever changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from .fast_index import BuilderPostings, builder_postings
from .records import record, replace
from .search_docs import ItemSearch
from .search_files import DocMeta

T = TypeVar("T")
# A vocabulary is cut down once it holds more than this many times the terms present, plus
# the slack.
VOCABULARY_FACTOR = 2
VOCABULARY_SLACK = 1000


@record
class SearchState:
    """Every item's search documents, flat. Item i holds documents item_documents[i] up to
    item_documents[i + 1], and postings item_postings[i] up to item_postings[i + 1]."""

    item_tokens: tuple[str, ...]
    item_documents: np.ndarray
    item_postings: np.ndarray
    postings: BuilderPostings
    card_texts: tuple[str, ...]
    meta: tuple[DocMeta, ...]


class _Parts:
    """The pieces a new state is concatenated from, gathered item by item."""

    def __init__(self) -> None:
        self.term_ids: list[np.ndarray] = []
        self.field_of: list[np.ndarray] = []
        self.document_of: list[np.ndarray] = []
        self.frequencies: list[np.ndarray] = []
        self.lengths: list[np.ndarray] = []
        self.item_documents: list[np.ndarray] = []
        self.item_postings: list[np.ndarray] = []
        self.card_texts: list[str] = []
        self.meta: list[DocMeta] = []
        self.documents = 0
        self.postings = 0


def assemble(
    field_names: Sequence[str],
    items: Sequence[T],
    tokens: Sequence[str],
    describe: Callable[[T], ItemSearch],
    previous: SearchState | None = None,
) -> SearchState:
    """The state of these items. tokens[i] is a digest of everything items[i] holds: an item
    whose token the previous state has is taken from it; the others are described afresh."""
    known: dict[str, int] = {}
    if previous is not None:
        for number, token in enumerate(previous.item_tokens):
            known.setdefault(token, number)
    # Runs of consecutive previous items ([first, stop)) and runs of fresh items, in order.
    runs: list[list[int] | list[ItemSearch]] = []
    from_previous: list[bool] = []
    for item, token in zip(items, tokens, strict=True):
        found = known.get(token)
        if found is not None:
            last = runs[-1] if runs and from_previous[-1] else None
            if last is not None and last[1] == found:
                last[1] = found + 1
            else:
                runs.append([found, found + 1])
                from_previous.append(True)
        else:
            if not runs or from_previous[-1]:
                runs.append([])
                from_previous.append(False)
            fresh: list[ItemSearch] = runs[-1]  # type: ignore[assignment]
            fresh.append(describe(item))
    width = len(field_names)
    vocabulary: dict[str, int] = {}
    if previous is not None:
        vocabulary = {term: i for i, term in enumerate(previous.postings.vocabulary)}
    parts = _Parts()
    for run, kept in zip(runs, from_previous, strict=True):
        if kept:
            assert previous is not None
            first, stop = run
            _add_previous(parts, previous, int(first), int(stop))  # type: ignore[arg-type]
        else:
            _add_fresh(parts, field_names, run, vocabulary)  # type: ignore[arg-type]
    empty = np.zeros(0, dtype=np.int32)
    postings = BuilderPostings(
        tuple(vocabulary),
        np.concatenate(parts.term_ids or [empty]),
        np.concatenate(parts.field_of or [empty.astype(np.int8)]),
        np.concatenate(parts.document_of or [empty]),
        np.concatenate(parts.frequencies or [empty]),
        np.concatenate(parts.lengths or [np.zeros((0, width), dtype=np.int32)]),
    )
    return SearchState(
        tuple(tokens),
        np.concatenate([*parts.item_documents, [parts.documents]]).astype(np.int64),
        np.concatenate([*parts.item_postings, [parts.postings]]).astype(np.int64),
        postings,
        tuple(parts.card_texts),
        tuple(parts.meta),
    )


def _add_previous(parts: _Parts, previous: SearchState, first: int, stop: int) -> None:
    documents = previous.item_documents
    postings = previous.item_postings
    doc_first, doc_stop = int(documents[first]), int(documents[stop])
    post_first, post_stop = int(postings[first]), int(postings[stop])
    source = previous.postings
    parts.term_ids.append(source.term_ids[post_first:post_stop])
    parts.field_of.append(source.field_of[post_first:post_stop])
    parts.document_of.append(source.document_of[post_first:post_stop] - doc_first + parts.documents)
    parts.frequencies.append(source.frequencies[post_first:post_stop])
    parts.lengths.append(source.lengths[doc_first:doc_stop])
    parts.item_documents.append(documents[first:stop] - doc_first + parts.documents)
    parts.item_postings.append(postings[first:stop] - post_first + parts.postings)
    parts.card_texts.extend(previous.card_texts[doc_first:doc_stop])
    parts.meta.extend(previous.meta[doc_first:doc_stop])
    parts.documents += doc_stop - doc_first
    parts.postings += post_stop - post_first


def _add_fresh(
    parts: _Parts,
    field_names: Sequence[str],
    described: list[ItemSearch],
    vocabulary: dict[str, int],
) -> None:
    counts = [document for item in described for document in item.counts]
    made = builder_postings(field_names, counts, vocabulary)
    # Each item's first document, then where its postings begin: postings run in document
    # order, so the first posting of a document is where its number would sort.
    firsts = np.cumsum([0, *(len(item.counts) for item in described)])[:-1]
    posting_firsts = np.searchsorted(made.document_of, firsts, side="left")
    parts.term_ids.append(made.term_ids)
    parts.field_of.append(made.field_of)
    parts.document_of.append(made.document_of + parts.documents)
    parts.frequencies.append(made.frequencies)
    parts.lengths.append(made.lengths)
    parts.item_documents.append(firsts + parts.documents)
    parts.item_postings.append(posting_firsts + parts.postings)
    for item in described:
        parts.card_texts.extend(item.card_texts)
        parts.meta.extend(item.meta)
    parts.documents += len(counts)
    parts.postings += len(made.term_ids)


def compacted(state: SearchState, terms_present: int) -> SearchState:
    """The state with its vocabulary cut down to the terms present, once edits have left it
    more than twice that: ids of terms no document holds any more would otherwise pile up."""
    vocabulary = state.postings.vocabulary
    if len(vocabulary) <= VOCABULARY_FACTOR * terms_present + VOCABULARY_SLACK:
        return state
    present = np.unique(state.postings.term_ids)
    renumbered = np.full(len(vocabulary), -1, dtype=np.int64)
    renumbered[present] = np.arange(len(present), dtype=np.int64)
    postings = replace(
        state.postings,
        vocabulary=tuple(vocabulary[i] for i in present.tolist()),
        term_ids=renumbered[state.postings.term_ids].astype(np.int32),
    )
    return replace(state, postings=postings)
