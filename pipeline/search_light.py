"""A rebuild's search stage without numpy: the last build's index, patched.

Importing numpy costs a process 60-70 ms of CPU, a third of what a whole rebuild after a
one-file edit costs its three processes. Yet such an edit changes little of the index: the
edited documents' postings, the weights of the terms whose document count moved, and, as every
weight depends on its field's average length, the few weights that the average's small shift
pushes across a rounding step (lunr.py rounds weights to three decimals). A LightState holds
the last index as flat arrays, both in the Builder's order (documents, then fields, then each
field's terms first-seen) and term-major as the files hold it, with what tells which weights
can move:
- `tolerances`: per field, how far the field's average length may move from where the last
  full weighing (search_full.py) left it before a posting's rounded weight might change, for
  the MOST_REWEIGHED postings of least tolerance, in ascending order. Once the average has
  moved at most d since (`drift`), only the postings of tolerance at most d can have moved: a
  prefix, found by bisection, weighed again from their numerators kept beside them. Worked
  out with a margin of a tenth on the weight's slope, which holds while the average stays
  within MAX_DRIFT of its reference. `moved` notes those whose weight is not the full
  weighing's now.
- `dirty_terms` and `dirty_documents`: the terms whose count of postings moved, and the
  edited documents, since the full weighing. Their postings' tolerances no longer hold: they
  are all weighed again every time.

Each weight is computed with the full weighing's floating-point operations in its order, so
the files are byte for byte a full build's; tests/test_search_light.py compares them over
runs of edits. Whatever this does not cover (an item added or removed, a paper added, many
items changed, an average moved too far, too many postings to weigh again) returns None, and
the full weighing runs.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate, compress
from json.encoder import encode_basestring
from operator import sub
from typing import Any

from .records import record, replace
from .search_docs import FIELD_ALIASES, FIELDS, ItemSearch, item_search
from .search_files import DocMeta, files_of_rows, term_size
from .search_terms import K1, B, _in_js_order

WIDTH = len(FIELDS)
BOOSTS = tuple(float(boost) for boost in FIELDS.values())
# More changed items than this, and the full weighing runs: it splices them in bulk.
MOST_ITEMS = 16
# How far (a share of it) a field's average length may move from the full weighing's before
# the tolerances, worked out with a margin of a tenth on each weight's slope, may fail: within
# 1% the slope changes by under 4.1% (search_full.SLOPE_MARGIN).
MAX_DRIFT = 0.01
# More postings to weigh again than this, and the full weighing runs: weighing one takes a
# patch a microsecond or two, and the full weighing tens of milliseconds more than a patch.
MOST_REWEIGHED = 20000
# A vocabulary is left to the full weighing to cut down once it holds more than this many
# times the terms present, plus the slack (search_state.compacted).
VOCABULARY_FACTOR = 2
VOCABULARY_SLACK = 1000
# A term absent from every document.
ABSENT = -1


@record
class FieldTolerances:
    """A field's postings of least tolerance, ascending: how far the field's average length may
    move from the full weighing's before the posting's rounded weight might change. Those of
    tolerance past `reach` are not kept: an average moved that far is left to the full
    weighing."""

    reach: float
    tolerances: array[float]
    terms: array[int]
    documents: array[int]
    weights: array[int]  # at the full weighing
    # idf * (tf * (K1 + 1)): the weight's numerator, which the average leaves as it is.
    products: array[float]
    frequencies: array[int]


@record
class LightState:
    """The last build's search index, as search_light patches it (the module's docstring)."""

    item_tokens: tuple[str, ...]
    # Item i holds documents item_documents[i] up to item_documents[i + 1], and postings
    # item_postings[i] up to item_postings[i + 1]; document d postings
    # document_postings[d] up to document_postings[d + 1].
    item_documents: array[int]
    item_postings: array[int]
    document_postings: array[int]
    vocabulary: tuple[str, ...]
    # Per posting, in the Builder's order.
    term_ids: array[int]
    field_of: array[int]
    frequencies: array[int]
    # (document, field) flat: the field's length in terms, -1 without terms.
    lengths: array[int]
    # Per term id: its postings (in every field), and where the first of them lies in the
    # Builder's order (ABSENT for none): the terms' vector indexes follow that order.
    term_postings: array[int]
    first: array[int]
    # The index term-major: term ids in lunr.js order, each term's vector index, and per
    # (term, field) run `run_starts[r * WIDTH + f]` up to the next start, the postings'
    # document positions (ascending), frequencies and weights (integer thousandths).
    order: tuple[int, ...]
    numbers: array[int]
    run_starts: array[int]
    positions: array[int]
    tfs: array[int]
    weights: array[int]
    rows: tuple[str, ...]
    card_texts: tuple[str, ...]
    meta: tuple[DocMeta, ...]
    # Per field: the full weighing's average length, how far the average has moved from it
    # at most since, the postings of least tolerance, and those of them whose weight is not
    # the full weighing's now (their place among them -> weight).
    reference_averages: tuple[float, ...]
    drift: tuple[float, ...]
    tolerances: tuple[FieldTolerances, ...]
    moved: tuple[dict[int, int], ...]
    # Every posting of these terms and of these documents is weighed again each time.
    dirty_terms: frozenset[int]
    dirty_documents: frozenset[int]

    def changed_items(self, tokens: Sequence[str]) -> list[int] | None:
        """The positions of the items whose token changed, or None when this state cannot
        serve these tokens (items added or removed, or too many changed)."""
        if len(tokens) != len(self.item_tokens):
            return None
        changed = [
            n for n, (a, b) in enumerate(zip(self.item_tokens, tokens, strict=True)) if a != b
        ]
        return changed if len(changed) <= MOST_ITEMS else None


def rebuilt(
    state: LightState,
    tokens: Sequence[str],
    items: Callable[[int], Any],
    edition_names: dict[str, str],
    day_pages: bool,
    coded: Callable[[list[str]], str],
) -> tuple[dict[str, bytes], LightState] | None:
    """The search files for items with these tokens (`items(n)` gives item n, needed only
    where its token changed), and the state to keep; None where the full weighing must run."""
    changed = state.changed_items(tokens)
    if changed is None:
        return None
    described: dict[int, ItemSearch] = {}
    for number in changed:
        made = item_search(items(number))
        if len(made.counts) != state.item_documents[number + 1] - state.item_documents[number]:
            return None  # a paper added or removed: every document after it moves
        described[number] = made
    documents = len(state.document_postings) - 1
    if not documents:
        return None
    patch = _Patch(state)
    try:
        doc_major = _doc_major(patch, described)
    except OverflowError:
        return None  # a term id or frequency past what the state's arrays hold
    averages = tuple(total / documents for total in _totals(patch.lengths))
    drift = []
    for f in range(WIDTH):
        reference = state.reference_averages[f]
        moved = max(state.drift[f], abs(averages[f] - reference))
        if moved > MAX_DRIFT * reference or moved >= state.tolerances[f].reach:
            return None
        drift.append(moved)
    present = list(compress(range(len(patch.term_postings)), patch.term_postings))
    if len(patch.vocabulary) > VOCABULARY_FACTOR * len(present) + VOCABULARY_SLACK:
        return None
    try:
        term_major = _term_major(patch, present)
    except OverflowError:
        return None  # a frequency past what the state's arrays hold
    weighing = _Weighing(patch, doc_major, term_major, averages, documents)
    dirty = weighing.dirty()
    reaches = [bisect_right(state.tolerances[f].tolerances, drift[f]) for f in range(WIDTH)]
    if len(dirty) + sum(reaches) > MOST_REWEIGHED:
        return None
    for term_id, f, k in dirty:
        weighing.weigh(term_id, f, k)
    moved_weights = tuple(weighing.moved(f, reach) for f, reach in enumerate(reaches))
    first, kept_order = _firsts(patch, doc_major, term_major)
    if kept_order and term_major.order == state.order:
        numbers = state.numbers
    else:
        met = sorted(term_major.order, key=first.__getitem__)
        number_of = {t: n for n, t in enumerate(met)}
        numbers = array("q", (number_of[t] for t in term_major.order))
    rows = _rows(patch, term_major, numbers, weighing.changed)
    terms = tuple(map(patch.vocabulary.__getitem__, term_major.order))
    starts = term_major.run_starts
    postings = map(sub, starts[WIDTH::WIDTH], starts[:-1:WIDTH])
    files = files_of_rows(
        rows,
        list(accumulate(map(term_size, terms, postings), initial=0)),
        _Shape(tuple(FIELDS), documents, terms),
        patch.card_texts,
        patch.meta,
        FIELD_ALIASES,
        edition_names,
        day_pages,
        coded,
    )
    kept = replace(
        state,
        item_tokens=tuple(tokens),
        item_postings=doc_major.item_postings,
        document_postings=doc_major.document_postings,
        vocabulary=tuple(patch.vocabulary),
        term_ids=doc_major.term_ids,
        field_of=doc_major.field_of,
        frequencies=doc_major.frequencies,
        lengths=patch.lengths,
        term_postings=patch.term_postings,
        first=first,
        order=term_major.order,
        numbers=numbers,
        run_starts=term_major.run_starts,
        positions=term_major.positions,
        tfs=term_major.tfs,
        weights=term_major.weights,
        rows=tuple(rows),
        card_texts=tuple(patch.card_texts),
        meta=tuple(patch.meta),
        drift=tuple(drift),
        moved=moved_weights,
        dirty_terms=weighing.dirty_terms,
        dirty_documents=weighing.dirty_documents,
    )
    return files, kept


@record
class _Shape:
    """What the manifest says of the index besides its rows (search_files.IndexShape)."""

    fields: tuple[str, ...]
    document_count: int
    terms: tuple[str, ...]


def _totals(lengths: array[int]) -> list[int]:
    """Each field's length summed over the documents holding terms in it: those without count
    -1 each."""
    totals = []
    for f in range(WIDTH):
        column = lengths[f::WIDTH]
        totals.append(sum(column) + column.count(-1))
    return totals


class _Patch:
    """What an edit changes of a LightState (`old`), gathered as the edited items' postings
    are spliced in."""

    def __init__(self, old: LightState) -> None:
        self.old = old
        self.vocabulary = list(old.vocabulary)
        self.ids: dict[str, int] | None = None
        self.term_postings = old.term_postings[:]
        self.lengths = old.lengths[:]
        self.card_texts = list(old.card_texts)
        self.meta = list(old.meta)
        # (term id, field) -> {document: its frequency now, 0 where the posting went}
        self.runs: dict[tuple[int, int], dict[int, int]] = {}
        # Each term met in an edited document, with its first posting there, new order.
        self.firsts: dict[int, int] = {}
        self.edited_documents: set[int] = set()
        # (term id, field, document) -> the frequency an edited document's posting had.
        self.was: dict[tuple[int, int, int], int] = {}

    def term_id(self, term: str) -> int:
        if self.ids is None:
            self.ids = {known: number for number, known in enumerate(self.vocabulary)}
        number = self.ids.get(term)
        if number is None:
            number = self.ids[term] = len(self.vocabulary)
            self.vocabulary.append(term)
            self.term_postings.append(0)
        return number

    def counted(self) -> set[int]:
        """The terms whose count of postings moved: their weights all move with it."""
        old = self.old.term_postings
        touched = {term for term, _ in self.runs}
        return {t for t in touched if t >= len(old) or self.term_postings[t] != old[t]}


@record
class _DocMajor:
    """The postings in the Builder's order, the edited items' spliced in; `spans` holds, per
    edited item, where its postings began and ended before and how many it has now."""

    item_postings: array[int]
    document_postings: array[int]
    term_ids: array[int]
    field_of: array[int]
    frequencies: array[int]
    spans: tuple[tuple[int, int, int], ...]


def _doc_major(patch: _Patch, described: dict[int, ItemSearch]) -> _DocMajor:
    old = patch.old
    term_ids, field_of = array(old.term_ids.typecode), array(old.field_of.typecode)
    frequencies = array(old.frequencies.typecode)
    sizes: dict[int, int] = {}  # edited document -> its postings now
    spans = []
    at = 0
    for number in sorted(described):
        first, stop = old.item_postings[number], old.item_postings[number + 1]
        term_ids += old.term_ids[at:first]
        field_of += old.field_of[at:first]
        frequencies += old.frequencies[at:first]
        began = len(term_ids)
        document = old.item_documents[number]
        for counts in described[number].counts:
            patch.edited_documents.add(document)
            _forget(patch, document)
            size = len(term_ids)
            for f, name in enumerate(FIELDS):
                field_counts, length = counts[name]
                patch.lengths[document * WIDTH + f] = length if field_counts else -1
                for term, frequency in field_counts.items():
                    term_id = patch.term_id(term)
                    patch.firsts.setdefault(term_id, len(term_ids))
                    term_ids.append(term_id)
                    field_of.append(f)
                    frequencies.append(frequency)
                    patch.runs.setdefault((term_id, f), {})[document] = frequency
                    patch.term_postings[term_id] += 1
            sizes[document] = len(term_ids) - size
            document += 1
        first_document = old.item_documents[number]
        patch.card_texts[first_document:document] = described[number].card_texts
        patch.meta[first_document:document] = described[number].meta
        spans.append((first, stop, len(term_ids) - began))
        at = stop
    term_ids += old.term_ids[at:]
    field_of += old.field_of[at:]
    frequencies += old.frequencies[at:]
    _unchanged_left_out(patch)
    item_postings = _moved_offsets(
        old.item_postings, {n: s[2] for n, s in zip(sorted(described), spans, strict=True)}
    )
    return _DocMajor(
        item_postings,
        _moved_offsets(old.document_postings, sizes),
        term_ids,
        field_of,
        frequencies,
        tuple(spans),
    )


def _forget(patch: _Patch, document: int) -> None:
    """Take an edited document's postings out, before its new ones go in."""
    old = patch.old
    for k in range(old.document_postings[document], old.document_postings[document + 1]):
        term_id, f = old.term_ids[k], old.field_of[k]
        patch.runs.setdefault((term_id, f), {})[document] = 0
        patch.was[term_id, f, document] = old.frequencies[k]
        patch.term_postings[term_id] -= 1


def _unchanged_left_out(patch: _Patch) -> None:
    """Leave out of the edit's runs the postings it left as they were: their terms' rows
    change only where their weights do."""
    for run, postings in list(patch.runs.items()):
        term_id, f = run
        for document, frequency in list(postings.items()):
            if patch.was.get((term_id, f, document)) == frequency:
                del postings[document]
        if not postings:
            del patch.runs[run]


def _moved_offsets(offsets: array[int], sizes: dict[int, int]) -> array[int]:
    """Offsets (each part's start, then the end) once the parts in `sizes` hold that many."""
    if all(offsets[n + 1] - offsets[n] == size for n, size in sizes.items()):
        return offsets
    moved = offsets[:]
    shift = 0
    previous = 0
    for n in sorted(sizes):
        for k in range(previous + 1, n + 1):
            moved[k] = offsets[k] + shift
        shift += sizes[n] - (offsets[n + 1] - offsets[n])
        previous = n
    for k in range(previous + 1, len(offsets)):
        moved[k] = offsets[k] + shift
    return moved


class _TermMajor:
    """The index term-major, the edit's runs merged in; weights of new postings are -1 until
    weighed."""

    def __init__(self, order: tuple[int, ...], like: LightState) -> None:
        self.order = order
        self.rank = {t: r for r, t in enumerate(order)}
        self.run_starts = array("q", [0])
        self.positions = array(like.positions.typecode)
        self.tfs = array(like.tfs.typecode)
        self.weights = array(like.weights.typecode)

    def at(self, term_id: int, field: int, document: int) -> int:
        """Where a posting lies, or -1 where there is none."""
        r = self.rank.get(term_id)
        if r is None:
            return -1
        run = r * WIDTH + field
        first, stop = self.run_starts[run], self.run_starts[run + 1]
        k = bisect_left(self.positions, document, first, stop)
        return k if k < stop and self.positions[k] == document else -1


def _term_major(patch: _Patch, present: list[int]) -> _TermMajor:
    old = patch.old
    old_rank = {t: r for r, t in enumerate(old.order)}
    if len(present) == len(old.order) and all(t in old_rank for t in present):
        order = old.order
    else:
        order = tuple(_in_js_order(present, patch.vocabulary))
    made = _TermMajor(order, old)
    touched = {term for term, _ in patch.runs}
    starts = old.run_starts
    positions, tfs, weights = made.positions, made.tfs, made.weights
    lengths: list[int] = []  # each run's postings, made
    block: list[int] = []  # old ranks [first, stop) of untouched terms, copied as one

    def copy(first: int, stop: int) -> None:
        positions.extend(old.positions[first:stop])
        tfs.extend(old.tfs[first:stop])
        weights.extend(old.weights[first:stop])

    def copy_block() -> None:
        if block:
            runs = slice(block[0] * WIDTH, block[1] * WIDTH + 1)
            copy(starts[runs.start], starts[runs.stop - 1])
            lengths.extend(map(sub, starts[runs][1:], starts[runs][:-1]))
            block.clear()

    for term_id in order:
        r = old_rank.get(term_id)
        if term_id not in touched and r is not None:
            if block and block[1] == r:
                block[1] = r + 1
            else:
                copy_block()
                block[:] = [r, r + 1]
            continue
        copy_block()
        for f in range(WIDTH):
            made_before = len(positions)
            first = stop = 0
            if r is not None:
                first, stop = starts[r * WIDTH + f], starts[r * WIDTH + f + 1]
            # The old run spliced around the edited documents' postings (-1: not yet weighed).
            for document, frequency in sorted(patch.runs.get((term_id, f), {}).items()):
                k = bisect_left(old.positions, document, first, stop)
                copy(first, k)
                first = k + 1 if k < stop and old.positions[k] == document else k
                if frequency:
                    positions.append(document)
                    tfs.append(frequency)
                    weights.append(-1)
            copy(first, stop)
            lengths.append(len(positions) - made_before)
    copy_block()
    made.run_starts = array("q", accumulate(lengths, initial=0))
    return made


class _Weighing:
    """lunr.py's BM25 weight of postings, operation by operation as fast_index.weigh works it
    out, written into the term-major weights; `changed` gathers the (term, field) runs whose
    text changes, with where their weights changed (None: their postings did too)."""

    def __init__(
        self,
        patch: _Patch,
        doc_major: _DocMajor,
        term_major: _TermMajor,
        averages: tuple[float, ...],
        documents: int,
    ) -> None:
        self.patch = patch
        self.doc_major = doc_major
        self.term_major = term_major
        self.averages = averages
        self.documents = documents
        self.changed: dict[tuple[int, int], list[int] | None] = dict.fromkeys(patch.runs)
        self.idf_of: dict[int, float] = {}
        old = patch.old
        self.dirty_terms = old.dirty_terms | patch.counted()
        self.dirty_documents = frozenset(old.dirty_documents | patch.edited_documents)

    def dirty(self) -> list[tuple[int, int, int]]:
        """Every posting of the dirty terms and documents: (term id, field, where it lies)."""
        term_major = self.term_major
        starts, rank = term_major.run_starts, term_major.rank
        postings: list[tuple[int, int, int]] = []
        for term_id in self.dirty_terms:
            r = rank.get(term_id)
            if r is not None:
                for f in range(WIDTH):
                    run = r * WIDTH + f
                    postings.extend((term_id, f, k) for k in range(starts[run], starts[run + 1]))
        terms = self.dirty_terms
        doc_major = self.doc_major
        for document in self.dirty_documents:
            first = doc_major.document_postings[document]
            stop = doc_major.document_postings[document + 1]
            for term_id, f in zip(
                doc_major.term_ids[first:stop], doc_major.field_of[first:stop], strict=True
            ):
                if term_id not in terms:
                    postings.append((term_id, f, term_major.at(term_id, f, document)))
        return postings

    def weigh(self, term_id: int, f: int, k: int) -> None:
        """Weigh the posting at k (of that term, in that field) afresh."""
        count = self.patch.term_postings[term_id]
        idf = self.idf_of.get(count)
        if idf is None:
            documents = self.documents
            idf = self.idf_of[count] = math.log(1 + abs((documents - count + 0.5) / (count + 0.5)))
        tf = float(self.term_major.tfs[k])
        self._write(term_id, f, k, idf * (tf * (K1 + 1)), tf)

    def _write(self, term_id: int, f: int, k: int, product: float, tf: float) -> int:
        document = self.term_major.positions[k]
        length = self.patch.lengths[document * WIDTH + f]
        norm = K1 * (1 - B + B * (length / self.averages[f]))
        weight = product / (norm + tf) * BOOSTS[f]
        made = _thousandths(weight)
        if made != self.term_major.weights[k]:
            self._changed(term_id, f, k, made)
        return made

    def _changed(self, term_id: int, f: int, k: int, weight: int) -> None:
        self.term_major.weights[k] = weight
        run = (term_id, f)
        if run not in self.changed:
            self.changed[run] = [k]
        else:
            ks = self.changed[run]
            if ks is not None:
                ks.append(k)

    def moved(self, f: int, reach: int) -> dict[int, int]:
        """Weigh the field's postings of least tolerance (the first `reach`) that are not
        dirty, afresh; those whose weight is not the full weighing's, now (LightState.moved)."""
        tolerances = self.patch.old.tolerances[f]
        moved = dict(self.patch.old.moved[f])
        terms, documents = tolerances.terms, tolerances.documents
        dirty_terms, dirty_documents = self.dirty_terms, self.dirty_documents
        lengths, average, boost = self.patch.lengths, self.averages[f], BOOSTS[f]
        products, frequencies, weights = (
            tolerances.products,
            tolerances.frequencies,
            tolerances.weights,
        )
        # The loop of a patch's longest part, kept lean: _thousandths inlined, and an int
        # frequency added to a float as its float would be.
        for n in range(reach):
            term_id, document = terms[n], documents[n]
            if term_id in dirty_terms or document in dirty_documents:
                continue
            norm = K1 * (1 - B + B * (lengths[document * WIDTH + f] / average))
            weight = products[n] / (norm + frequencies[n]) * boost
            scaled = weight * 1000.0
            made = round(scaled)
            if abs(scaled - made) > NEAR_HALF:
                made = _thousandths(weight)
            full = weights[n]
            if made == moved.get(n, full):
                continue
            self._changed(term_id, f, self.term_major.at(term_id, f, document), made)
            if made == full:
                del moved[n]
            else:
                moved[n] = made
        return moved


# Past this distance from the nearest integer, a weight in thousandths is left to _thousandths:
# wider than its window of a millionth around a half.
NEAR_HALF = 0.49999


def _thousandths(weight: float) -> int:
    """round(weight, 3) * 1000 as an integer, as fast_index.thousandths_array works it out."""
    scaled = weight * 1000.0
    if abs(scaled - math.floor(scaled) - 0.5) < 1e-6:
        return round(round(weight, 3) * 1000)
    return round(scaled)


def _firsts(patch: _Patch, doc_major: _DocMajor, term_major: _TermMajor) -> tuple[array[int], bool]:
    """Where each term's first posting lies in the Builder's order now (ABSENT for none), and
    whether every term's first posting only moved with the postings before it (then the
    terms' order of first postings, their vector indexes, is the last build's)."""
    old = patch.old
    spans = doc_major.spans
    ends = [stop for _, stop, _ in spans]
    # A posting after an edited item moved by what the items before it gained or lost.
    shifts = list(accumulate((size - (stop - first) for first, stop, size in spans), initial=0))
    first = old.first[:]
    first.extend([ABSENT] * (len(patch.vocabulary) - len(old.first)))
    if any(shifts):
        for t, at in enumerate(old.first):
            if at != ABSENT:
                first[t] = at + shifts[bisect_right(ends, at)]
    # The terms whose first posting may have moved otherwise: those of the edited items,
    # before and now.
    terms = set(patch.firsts)
    for begin, end, _ in spans:
        terms.update(old.term_ids[begin:end])
    kept = True
    for t in terms:
        candidates = [patch.firsts[t]] if t in patch.firsts else []
        at = old.first[t] if t < len(old.first) else ABSENT
        if at != ABSENT and not any(begin <= at < end for begin, end, _ in spans):
            candidates.append(first[t])  # before the edit's, or after and moved
        else:
            outside = _first_outside(t, patch, doc_major, term_major)
            if outside is not None:
                candidates.append(outside)
        first[t] = min(candidates) if candidates else ABSENT
        kept = kept and at != ABSENT and first[t] == at + shifts[bisect_right(ends, at)]
    return first, kept


def _first_outside(
    term_id: int, patch: _Patch, doc_major: _DocMajor, term_major: _TermMajor
) -> int | None:
    """Where a term's first posting outside the edited documents lies now, if it has one."""
    r = term_major.rank.get(term_id)
    if r is None:
        return None
    edited = patch.edited_documents
    best = None
    for f in range(WIDTH):
        run = r * WIDTH + f
        for k in range(term_major.run_starts[run], term_major.run_starts[run + 1]):
            document = term_major.positions[k]
            if document not in edited:
                best = document if best is None else min(best, document)
                break
    if best is None:
        return None
    postings = doc_major.document_postings
    for k in range(postings[best], postings[best + 1]):
        if doc_major.term_ids[k] == term_id:
            return k
    raise AssertionError("a term's posting is missing from its document")


def _rows(
    patch: _Patch,
    term_major: _TermMajor,
    numbers: array[int],
    changed: dict[tuple[int, int], list[int] | None],
) -> list[str]:
    """Each term's row, given its vector index: the last build's, with its number and its
    changed runs' text made anew."""
    order = term_major.order
    old = patch.old
    old_rank = {t: r for r, t in enumerate(old.order)}
    touched = {term for term, _ in patch.runs}
    changed_terms = {term for term, _ in changed}
    starts, positions, weights = term_major.run_starts, term_major.positions, term_major.weights
    rows = []
    for r, t in enumerate(order):
        was = old_rank.get(t)
        number = numbers[r]
        if t not in changed_terms and was is not None and old.numbers[was] == number:
            rows.append(old.rows[was])
            continue
        head = "[" + encode_basestring(patch.vocabulary[t])
        if was is None or t in touched:
            runs = []
            for f in range(WIDTH):
                a, b = starts[r * WIDTH + f], starts[r * WIDTH + f + 1]
                runs.append(_run_text(positions[a:b], weights[a:b]))
        else:
            runs = _runs_of(old.rows[was], len(head) + 1 + len(str(old.numbers[was])))
            for f in range(WIDTH):
                moved = changed.get((t, f))
                if moved:
                    # Only some weights changed: the run's text is cut at its commas, and
                    # those put anew.
                    run = runs[f]
                    cut = run.index("],[") + 3
                    numbers_text = run[cut:-1].split(",")
                    a = starts[r * WIDTH + f]
                    for k in moved:
                        numbers_text[k - a] = str(weights[k])
                    runs[f] = run[:cut] + ",".join(numbers_text) + "]"
        rows.append(head + "," + str(number) + "," + ",".join(runs) + "]")
    return rows


def _runs_of(row: str, at: int) -> list[str]:
    """A row's runs' text ("[deltas],[weights]" for each field), found after its head and
    number (which end at `at`): numbers hold no bracket."""
    runs = []
    for _ in range(WIDTH):
        between = row.index("],[", at + 2)
        end = row.index("]", between + 3)
        runs.append(row[at + 1 : end + 1])
        at = end + 1
    return runs


def _run_text(positions: Sequence[int], weights: Sequence[int]) -> str:
    """One (term, field) run as a row holds it: delta-coded positions, then weights."""
    deltas = map(sub, positions, (0, *positions[:-1])) if positions else ()
    return "[" + _numbers(deltas) + "],[" + _numbers(weights) + "]"


def _numbers(values: Iterable[int]) -> str:
    return ",".join(map(str, values))
