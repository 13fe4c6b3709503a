"""The search stage's full weighing, with numpy: every posting weighed afresh (fast_index), the
files cut from the whole (search_shards), and the state kept for the next build, which both a
full weighing (as a search_state.SearchState, what each item gives the search) and a patch
without numpy (search_light) start from."""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .cache import Store
from .fast_index import BuilderPostings, TermArrays, known_words, weigh
from .parallel import after_result
from .search_docs import FIELD_ALIASES, FIELDS, ItemSearch
from .search_files import front_coded_with
from .search_light import ABSENT, MOST_REWEIGHED, WIDTH, FieldTolerances, LightState
from .search_shards import row_key, shard_files
from .search_state import SearchState, assemble, compacted
from .search_terms import K1, B
from .tokens import known_stop_words

# Slack taken off a weight's distance to the nearest rounding step: more than the floating-point
# error of any weight, far less than a step (0.0005).
ROUNDING_SLACK = 1e-9
# The weight's slope is taken a tenth steeper than where the tolerance is worked out: it stays
# within 4.1% of that while the average stays within search_light.MAX_DRIFT (1%): the slope
# goes as 1 / (average² (norm + tf)²), and each factor moves by at most 1 / 0.99².
SLOPE_MARGIN = 1.1


class FullStage:
    """The search stage weighing every posting, splicing what each item gives the search
    from the last build's state (a LightState, read as search_state.SearchState)."""

    def __init__(
        self, store: Store | None, light: LightState | None, known_ranges: dict[str, str]
    ) -> None:
        self.store = store
        self.previous = _search_state(light) if light is not None else None
        self.memo: dict[str, Any] = {"rows": _rows_memo(light) if light is not None else None}
        self.known_ranges = known_ranges

    def missing(self, tokens: Sequence[str]) -> list[int]:
        """The positions of the items whose part the last build's state lacks."""
        known = set(self.previous.item_tokens) if self.previous is not None else set()
        return [number for number, token in enumerate(tokens) if token not in known]

    def outputs(
        self,
        tokens: Sequence[str],
        describe: Callable[[int], ItemSearch],
        edition_names: dict[str, str],
        day_pages: bool,
    ) -> dict[str, bytes]:
        """The search files; describe(n) tells what item n gives the search, asked only for
        the items `missing` names."""
        state = assemble(list(FIELDS), range(len(tokens)), tokens, describe, self.previous)
        index = weigh(FIELDS, state.postings)
        ranges: dict[str, str] = {}
        coded = front_coded_with(self.known_ranges, ranges)

        files = shard_files(
            index,
            state.card_texts,
            state.meta,
            FIELD_ALIASES,
            edition_names,
            day_pages,
            coded,
            self.memo,
        )
        store = self.store
        if store is not None:
            made = self.memo["rows"][4]
            vocabulary = {"words": known_words(), "stop_words": known_stop_words()}

            def save() -> None:
                # The index's terms are strings: the kept state's new term ids find them.
                kept = light_state(compacted(state, len(index.terms)), index, tuple(made))
                store.replace({"state": kept, "ranges": ranges, **vocabulary})

            # Off the build's path when in a worker: after its files are handed over.
            after_result(save)
        return files


def _search_state(light: LightState) -> SearchState:
    """The light state's postings in the Builder's order, as search_state splices them."""
    documents = len(light.document_postings) - 1
    document_postings = _numbers(light.document_postings)
    postings = BuilderPostings(
        light.vocabulary,
        _numbers(light.term_ids).astype(np.int32),
        _numbers(light.field_of).astype(np.int8),
        np.repeat(np.arange(documents, dtype=np.int32), np.diff(document_postings)),
        _numbers(light.frequencies).astype(np.int32),
        _numbers(light.lengths).astype(np.int32).reshape(documents, WIDTH),
    )
    return SearchState(
        light.item_tokens,
        _numbers(light.item_documents).astype(np.int64),
        _numbers(light.item_postings).astype(np.int64),
        postings,
        light.card_texts,
        light.meta,
    )


def _rows_memo(light: LightState) -> tuple[Any, ...]:
    """The light state's rows as search_shards keeps them from build to build."""
    positions = _numbers(light.positions).astype(np.int64)
    starts = _numbers(light.run_starts).astype(np.int64)
    return (
        row_key(positions, starts),
        tuple(light.vocabulary[t] for t in light.order),
        tuple(light.numbers),
        _numbers(light.weights),
        list(light.rows),
    )


def _numbers(values: array[int]) -> np.ndarray:
    return np.frombuffer(values, dtype=np.dtype(values.typecode))


def light_state(state: SearchState, index: TermArrays, rows: tuple[str, ...]) -> LightState:
    """What search_light patches, from a full weighing's state and index (of that state's
    vocabulary) and the index's rows."""
    postings = state.postings
    documents = postings.document_count
    vocabulary = postings.vocabulary
    ids = {term: number for number, term in enumerate(vocabulary)}
    order = np.asarray([ids[term] for term in index.terms], dtype=np.int64)
    lengths = postings.lengths.astype(np.int64)
    averages = []
    for f in range(WIDTH):
        with_terms = lengths[:, f] >= 0
        averages.append(int(lengths[with_terms, f].sum()) / documents if documents else 0.0)
    counts = np.bincount(postings.term_ids, minlength=len(vocabulary))
    first = np.full(len(vocabulary), len(postings.term_ids), dtype=np.int64)
    np.minimum.at(first, postings.term_ids, np.arange(len(postings.term_ids), dtype=np.int64))
    first[first == len(postings.term_ids)] = ABSENT
    document_postings = np.searchsorted(postings.document_of, np.arange(documents + 1), side="left")
    assert index.frequencies is not None
    # Kept in the narrowest type their values fit, as they are loaded and saved each rebuild;
    # a patch that would not fit them leaves the build to the full weighing.
    term_type = _narrow(len(vocabulary))
    document_type = _narrow(documents)
    frequency_type = _narrow(int(postings.frequencies.max(initial=0)) + 1)
    return LightState(
        item_tokens=state.item_tokens,
        item_documents=_array("q", state.item_documents),
        item_postings=_array("q", state.item_postings),
        document_postings=_array("q", document_postings),
        vocabulary=vocabulary,
        term_ids=_array(term_type, postings.term_ids),
        field_of=_array("b", postings.field_of),
        frequencies=_array(frequency_type, postings.frequencies),
        lengths=_array("i", postings.lengths.reshape(-1)),
        term_postings=_array("q", counts),
        first=_array("q", first),
        order=tuple(order.tolist()),
        numbers=array("q", index.numbers),
        run_starts=_array("q", index.starts),
        positions=_array(document_type, index.positions),
        tfs=_array(frequency_type, index.frequencies),
        weights=_array("i", index.weights),
        rows=rows,
        card_texts=state.card_texts,
        meta=state.meta,
        reference_averages=tuple(averages),
        drift=(0.0,) * WIDTH,
        tolerances=_tolerances(index, order, counts, lengths, averages),
        moved=tuple({} for _ in range(WIDTH)),
        dirty_terms=frozenset(),
        dirty_documents=frozenset(),
    )


def _array(typecode: str, values: np.ndarray) -> array[int]:
    """The integers as an array of that type, copied as bytes."""
    out = array(typecode)
    out.frombytes(np.ascontiguousarray(values, dtype=np.dtype(typecode)).tobytes())
    return out


def _narrow(bound: int) -> str:
    """The array type of the values below `bound` (and at least 0): 16 bits where they fit."""
    return "H" if bound <= 1 << 16 else "i"


def _floats(values: np.ndarray) -> array[float]:
    out = array("d")
    out.frombytes(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    return out


def _tolerances(
    index: TermArrays,
    order: np.ndarray,
    counts: np.ndarray,
    lengths: np.ndarray,
    averages: list[float],
) -> tuple[FieldTolerances, ...]:
    """Per field, the postings of least tolerance (search_light.FieldTolerances): at most
    search_light.MOST_REWEIGHED, as a patch weighs no more.

    A weight is product / (norm + tf) * boost, product = idf * (tf * (K1 + 1)) and
    norm = K1 (1 - B + B length / average): it moves with the average by
    slope = weight * K1 * B * length / (average² (norm + tf)), and keeps its rounding while it
    moves less than its distance to the nearest rounding step."""
    assert index.frequencies is not None
    tf_bound = int(index.frequencies.max(initial=0)) + 1
    runs = np.repeat(np.arange(len(index.starts) - 1), np.diff(index.starts))
    field = runs % WIDTH
    term_ids = order[runs // WIDTH]
    documents = index.positions.astype(np.int64)
    tf = index.frequencies.astype(np.float64)
    count = index.document_count
    # The very idf floats fast_index.weigh works out, so that a patch's products are its.
    idf_of = {n: math.log(1 + abs((count - n + 0.5) / (n + 0.5))) for n in set(counts.tolist())}
    idf = np.asarray([idf_of[n] for n in counts.tolist()], dtype=np.float64)[term_ids]
    products = idf * (tf * (K1 + 1))
    length = lengths[documents, field].astype(np.float64)
    average = np.asarray(averages, dtype=np.float64)[field]
    boost = np.asarray([float(b) for b in FIELDS.values()])[field]
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = length / average
        norm *= B
        norm += 1 - B
        norm *= K1
        norm += tf
        weight = products / norm
        weight *= boost
        # How far the weight is from the nearest rounding step: half a thousandth less how far
        # it is from the thousandth it rounds to.
        distance = weight * 1000
        distance -= index.weights
        np.abs(distance, out=distance)
        np.subtract(0.5, distance, out=distance)
        distance /= 1000
        distance -= ROUNDING_SLACK
        slope = weight * (K1 * B * SLOPE_MARGIN)
        slope *= length
        slope /= average * average * norm
        tolerance = distance / slope
    tolerance[~(distance > 0) | ~np.isfinite(tolerance)] = 0.0
    made = []
    for f in range(WIDTH):
        chosen = np.flatnonzero(field == f)
        values = tolerance[chosen]
        reach = math.inf
        least = np.arange(len(chosen))
        if len(chosen) > MOST_REWEIGHED:
            # Only the least are kept: those past them need an average moved further than
            # any patch weighs postings for.
            least = np.argpartition(values, MOST_REWEIGHED)
            reach = float(values[least[MOST_REWEIGHED]])
            least = least[:MOST_REWEIGHED]
        kept = chosen[least[np.argsort(values[least])]]
        made.append(
            FieldTolerances(
                reach=reach,
                tolerances=_floats(tolerance[kept]),
                terms=_array(_narrow(len(order)), term_ids[kept]),
                documents=_array(_narrow(index.document_count), documents[kept]),
                weights=_array("i", index.weights[kept]),
                products=_floats(products[kept]),
                frequencies=_array(_narrow(tf_bound), index.frequencies[kept]),
            )
        )
    return tuple(made)
