"""Build the prebuilt Lunr index (lunr.py's, byte for byte) that lunr.js loads in the page, plus its
result cards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .fast_index import (
    FieldCounts,
    document_counts,
    known_words,
    learn_words,
    serialize,
    term_index,
    weigh,
)
from .layout import uses_day_pages
from .model import Item, Paper, Program
from .output_cache import stage_store, token
from .parallel import after_result
from .records import record
from .search_shards import front_coded, json_text, shard_files
from .search_state import (
    ItemSearch,
    SearchState,
    assemble,
    compacted,
    for_saving,
    from_saved,
)
from .stemmer import lunr_stemmer
from .tokens import FOLD_LABEL, fold_accents, known_stop_words, learn_stop_words, words

# Field name → boost: a hit in a title counts most, then names, affiliations, then the rest.
FIELDS: dict[str, int] = {"title": 10, "names": 5, "affiliation": 3, "text": 1}
# What a person may type before a colon to search one field.
FIELD_ALIASES: dict[str, str] = {
    "title": "title",
    "speaker": "names", "speakers": "names", "author": "names", "authors": "names",
    "name": "names", "by": "names", "moderator": "names", "panelist": "names",
    "affiliation": "affiliation", "affil": "affiliation", "org": "affiliation",
    "abstract": "text", "bio": "text", "text": "text",
}  # fmt: skip
SNIPPET_CHARS = 240


def register_pipeline_functions() -> None:
    """Register our folding and lunr.js-exact stemmer under the names the saved index uses."""
    # lunr.py is imported here, not with the module: building the index never needs it.
    from lunr.pipeline import Pipeline

    # Assign directly: register_function() logs a warning when it replaces lunr.py's stemmer.
    fold_accents.label = FOLD_LABEL  # type: ignore[attr-defined]
    lunr_stemmer.label = "stemmer"  # type: ignore[attr-defined]
    Pipeline.registered_functions[FOLD_LABEL] = fold_accents
    Pipeline.registered_functions["stemmer"] = lunr_stemmer


@record
class SearchDoc:
    """One searchable thing (an item or a paper) and the card the page shows for it."""

    id: str
    kind: str
    fields: dict[str, list[str]]
    card: dict[str, Any]


def search_docs(program: Program) -> list[SearchDoc]:
    docs: list[SearchDoc] = []
    for item in program.items:
        docs.append(_item_doc(item))
        docs.extend(_paper_doc(item, paper) for paper in item.papers)
    return docs


def build_index(
    docs: list[SearchDoc], counts: list[dict[str, FieldCounts]] | None = None
) -> dict[str, Any]:
    """A serialized lunr index; refs are positions in `docs` written in base 36 to stay short.

    Built by fast_index, which gives byte for byte what lunr.py's Builder gives
    (`build_index_reference`) in a fraction of the time. `counts`, when given, holds what
    fast_index.document_counts makes of each doc's fields.
    """
    index = term_index(FIELDS, [doc.fields for doc in docs], counts)
    return serialize(index, refs(index.document_count))


def refs(count: int) -> list[str]:
    return [to_ref(position) for position in range(count)]


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
    (search_shards)."""
    stage = SearchStage()
    items = program.items
    tokens = [token(item) for item in items] if stage.caching else [""] * len(items)
    editions = tuple((edition.id, edition.info.name) for edition in program.editions)
    return stage.outputs(SearchInputs(tuple(tokens), editions, uses_day_pages(program)), items)


class SearchStage:
    """The search stage, made ready: the last build's state loaded (when this build caches).

    What each item gives the search depends on the item alone: a rebuild takes it from the
    last build's state for the items whose token it has (search_state.py), and weighs the whole
    afresh. Made ready apart from the Program, so that a worker can do it while the content is
    read (early_search.py)."""

    def __init__(self) -> None:
        self.store = stage_store("search")
        self.previous: SearchState | None = None
        self.known_ranges: dict[str, str] = {}
        self.memo: dict[str, Any] = {}
        if self.store is not None:
            stored = self.store.load()
            found = stored.get("state")
            self.previous = from_saved(found) if isinstance(found, SearchState) else None
            self.known_ranges = stored.get("ranges") or {}
            self.memo = {"rows": stored.get("rows")}
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
        """The positions of the items whose part the last build's state lacks."""
        known = set(self.previous.item_tokens) if self.previous is not None else set()
        return [number for number, token in enumerate(tokens) if token not in known]

    def outputs(self, inputs: SearchInputs, items: Sequence[Item | None]) -> dict[str, bytes]:
        """The search files; items[n] may be None where `missing` did not name n."""
        state = assemble(list(FIELDS), items, inputs.tokens, _described, self.previous)
        index = weigh(FIELDS, state.postings)
        # The manifest's term list changes only with the site's vocabulary: each range's text
        # is kept under the terms it codes.
        ranges: dict[str, str] = {}
        known_ranges = self.known_ranges

        def coded(terms: list[str]) -> str:
            key = "\n".join(terms)
            text = ranges[key] = known_ranges.get(key) or front_coded(terms)
            return text

        files = shard_files(
            index,
            state.card_texts,
            state.meta,
            FIELD_ALIASES,
            dict(inputs.editions),
            inputs.day_pages,
            coded,
            self.memo,
        )
        store = self.store
        if store is not None:
            rows = self.memo.get("rows")
            vocabulary = {"words": known_words(), "stop_words": known_stop_words()}

            def save() -> None:
                kept = for_saving(compacted(state, len(index.terms)))
                store.replace({"state": kept, "ranges": ranges, "rows": rows, **vocabulary})

            # Off the build's path when in a worker: after its files are handed over.
            after_result(save)
        return files


def _described(item: Item | None) -> ItemSearch:
    assert item is not None, "an item the search state lacks was not handed over"
    return _item_search(item)


def _item_search(item: Item) -> ItemSearch:
    docs = [_item_doc(item), *(_paper_doc(item, paper) for paper in item.papers)]
    return ItemSearch(
        tuple(json_text(d.card) for d in docs),
        tuple(
            (1 if d.kind == "item" else 0, d.card["edition"], d.card["type"], d.card["start"][:10])
            for d in docs
        ),
        tuple(document_counts(d.fields, list(FIELDS)) for d in docs),
    )


def to_ref(position: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        position, remainder = divmod(position, 36)
        out = digits[remainder] + out
        if not position:
            return out


def _tokens(*texts: str) -> list[str]:
    return [word for text in texts if text for word in words(text)]


def _item_doc(item: Item) -> SearchDoc:
    people = item.people
    paper_text = [f"{p.title} {p.authors_text}" for p in item.papers]
    fields = {
        "title": _tokens(item.title),
        "names": _tokens(*(p.name for p in people)),
        "affiliation": _tokens(*(p.affiliation for p in people)),
        "text": _tokens(item.abstract_text, item.bio_text, *paper_text),
    }
    card = {
        "id": item.id,
        "kind": "item",
        "type": item.type,
        "label": item.type_label,
        "edition": item.edition,
        "title": item.title,
        "people": "; ".join(_person_line(p.name, p.affiliation) for p in people),
        "start": item.start.isoformat() if item.start else "",
        "end": item.end.isoformat() if item.end else "",
        "snippet": _snippet(item.abstract_text or " ".join(paper_text)),
    }
    return SearchDoc(item.id, "item", fields, card)


def _paper_doc(item: Item, paper: Paper) -> SearchDoc:
    fields = {
        "title": _tokens(paper.title),
        "names": _tokens(*paper.authors),
        "affiliation": _tokens(paper.affiliation),
        "text": _tokens(item.title),
    }
    card = {
        "id": paper.id,
        "kind": "paper",
        "type": item.type,
        "label": "Paper",
        "edition": item.edition,
        "title": paper.title,
        "people": _person_line(paper.authors_text, paper.affiliation),
        "start": item.start.isoformat() if item.start else "",
        "end": item.end.isoformat() if item.end else "",
        "snippet": f"In {item.title}",
        "parent": item.id,
    }
    return SearchDoc(paper.id, "paper", fields, card)


def _person_line(name: str, affiliation: str) -> str:
    return f"{name} ({affiliation})" if affiliation else name


def _snippet(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text[:SNIPPET_CHARS].rsplit(" ", 1)[0]
    return cut + "…"
