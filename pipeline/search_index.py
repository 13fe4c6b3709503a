"""The search stage: the prebuilt Lunr index (lunr.py's, byte for byte) that lunr.js loads in the
page, cut into the files it loads a query at a time, plus its result cards.

A rebuild patches the last build's index without importing numpy (search_light.py) where it
can; otherwise, and on a first build, every posting is weighed afresh (search_full.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from .layout import uses_day_pages
from .model import Item, Program
from .output_cache import stage_store, token
from .parallel import after_result
from .records import record
from .search_docs import (
    FIELD_ALIASES,
    FIELDS,
    ItemSearch,
    SearchDoc,
    item_search,
    refs,
    search_docs,
    to_ref,
)
from .search_files import front_coded_with
from .search_light import LightState, rebuilt
from .search_terms import FieldCounts, known_words, learn_words
from .stemmer import lunr_stemmer
from .tokens import FOLD_LABEL, fold_accents, known_stop_words, learn_stop_words

if TYPE_CHECKING:
    from .search_full import FullStage

# Re-exported: tests and the command read them from here.
__all__ = ["FIELDS", "FIELD_ALIASES", "SearchDoc", "_item_search", "refs", "search_docs", "to_ref"]
_item_search = item_search


def register_pipeline_functions() -> None:
    """Register our folding and lunr.js-exact stemmer under the names the saved index uses."""
    # lunr.py is imported here, not with the module: building the index never needs it.
    from lunr.pipeline import Pipeline

    # Assign directly: register_function() logs a warning when it replaces lunr.py's stemmer.
    fold_accents.label = FOLD_LABEL  # type: ignore[attr-defined]
    lunr_stemmer.label = "stemmer"  # type: ignore[attr-defined]
    Pipeline.registered_functions[FOLD_LABEL] = fold_accents
    Pipeline.registered_functions["stemmer"] = lunr_stemmer


def build_index(
    docs: list[SearchDoc], counts: list[dict[str, FieldCounts]] | None = None
) -> dict[str, Any]:
    """A serialized lunr index; refs are positions in `docs` written in base 36 to stay short.

    Built by fast_index, which gives byte for byte what lunr.py's Builder gives
    (`build_index_reference`) in a fraction of the time. `counts`, when given, holds what
    fast_index.document_counts makes of each doc's fields.
    """
    from .fast_index import serialize, term_index

    index = term_index(FIELDS, [doc.fields for doc in docs], counts)
    return serialize(index, refs(index.document_count))


def _js_order(entry: list[Any]) -> bytes:
    # lunr.js inserts terms into its token set in JavaScript string order (UTF-16 code units),
    # which differs from Python's code-point order once a term holds an astral character.
    term: str = entry[0]
    return term.encode("utf-16-be")


def build_index_reference(docs: list[SearchDoc]) -> dict[str, Any]:
    """The same index through lunr.py's own Builder: slow, kept as the reference in tests."""
    from lunr.builder import Builder
    from lunr.stop_word_filter import stop_word_filter

    register_pipeline_functions()
    builder = Builder()
    builder.pipeline.add(fold_accents, stop_word_filter, lunr_stemmer)
    builder.search_pipeline.add(fold_accents, lunr_stemmer)
    builder.ref("ref")
    for name, boost in FIELDS.items():
        builder.field(name, boost)
    for position, doc in enumerate(docs):
        builder.add({"ref": to_ref(position), **doc.fields})
    serialized: dict[str, Any] = builder.build().serialize()
    serialized["invertedIndex"].sort(key=_js_order)
    return serialized


@record
class SearchInputs:
    """What the search stage reads of a Program, but for its items: each item's token (a
    digest of all it holds, output_cache.token), the editions' ids and names in order, and
    whether the site has day pages."""

    tokens: tuple[str, ...]
    editions: tuple[tuple[str, str], ...]
    day_pages: bool


def outputs(program: Program) -> dict[str, bytes]:
    """search/: the manifest, the term ranges and the cards the page loads as a query needs them
    (search_files)."""
    stage = SearchStage()
    items = program.items
    tokens = [token(item) for item in items] if stage.caching else [""] * len(items)
    editions = tuple((edition.id, edition.info.name) for edition in program.editions)
    return stage.outputs(SearchInputs(tuple(tokens), editions, uses_day_pages(program)), items)


class SearchStage:
    """The search stage, made ready: the last build's state loaded (when this build caches).

    What each item gives the search depends on the item alone: a rebuild takes it from the
    last build's state for the items whose token it has, and patches the index (search_light)
    or weighs it whole (search_full). Made ready apart from the Program, so that a worker can
    do it while the content is read (early_search.py)."""

    def __init__(self) -> None:
        self.store = stage_store("search")
        self.light: LightState | None = None
        self.known_ranges: dict[str, str] = {}
        self.full: FullStage | None = None
        if self.store is not None:
            stored = self.store.load()
            found = stored.get("state")
            if isinstance(found, LightState):
                self.light = found
                self.known_ranges = stored.get("ranges") or {}
                words = stored.get("words")
                if isinstance(words, dict):
                    learn_words(words)
                stops = stored.get("stop_words")
                if isinstance(stops, frozenset):
                    learn_stop_words(stops)

    @property
    def caching(self) -> bool:
        return self.store is not None

    def missing(self, tokens: Sequence[str]) -> list[int]:
        """The positions of the items whose part the last build's states lack."""
        if self.light is not None:
            changed = self.light.changed_items(tokens)
            if changed is not None:
                return changed
        return self._full().missing(tokens)

    def _full(self) -> FullStage:
        if self.full is None:
            from .search_full import FullStage  # numpy, imported only here

            self.full = FullStage(self.store, self.light, self.known_ranges)
        return self.full

    def outputs(self, inputs: SearchInputs, items: Sequence[Item | None]) -> dict[str, bytes]:
        """The search files; items[n] may be None where `missing` did not name n."""
        edition_names = dict(inputs.editions)
        light, store = self.light, self.store
        if light is not None and store is not None:
            ranges: dict[str, str] = {}
            coded = front_coded_with(self.known_ranges, ranges)

            made = rebuilt(
                light, inputs.tokens, items.__getitem__, edition_names, inputs.day_pages, coded
            )
            if made is not None:
                files, kept = made
                vocabulary = {"words": known_words(), "stop_words": known_stop_words()}
                after_result(lambda: store.replace({"state": kept, "ranges": ranges, **vocabulary}))
                return files
        return self._full().outputs(
            inputs.tokens, partial(_described, items), edition_names, inputs.day_pages
        )


def _described(items: Sequence[Item | None], number: int) -> ItemSearch:
    item = items[number]
    assert item is not None, "an item the search state lacks was not handed over"
    return item_search(item)
