"""Build the prebuilt Lunr index (lunr.py) that lunr.js loads in the page, plus its result cards."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lunr.builder import Builder
from lunr.pipeline import Pipeline
from lunr.stop_word_filter import stop_word_filter

from .fast_index import FieldCounts, build_serialized, document_counts
from .model import Item, Paper, Program
from .output_cache import OutputCache
from .stemmer import lunr_stemmer
from .tokens import FOLD_LABEL, fold_accents, words

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
DATA_PREFIX = "self.pipelineSearchData="
QUICK_PREFIX = "self.pipelineQuickData="
FORMAT_VERSION = 1
# Below this the full index loads in well under a frame budget and no quick index is written.
QUICK_MIN_BYTES = 512 * 1024
QUICK_FIELDS = ("title", "names")


def register_pipeline_functions() -> None:
    """Register our folding and lunr.js-exact stemmer under the names the saved index uses."""
    # Assign directly: register_function() logs a warning when it replaces lunr.py's stemmer.
    fold_accents.label = FOLD_LABEL  # type: ignore[attr-defined]
    lunr_stemmer.label = "stemmer"  # type: ignore[attr-defined]
    Pipeline.registered_functions[FOLD_LABEL] = fold_accents
    Pipeline.registered_functions["stemmer"] = lunr_stemmer


@dataclass(frozen=True, slots=True)
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
    refs = [to_ref(position) for position in range(len(docs))]
    serialized = build_serialized(refs, FIELDS, [doc.fields for doc in docs], counts)
    serialized["invertedIndex"].sort(key=_js_order)
    return serialized


def _js_order(entry: list[Any]) -> bytes:
    # lunr.js inserts terms into its token set in JavaScript string order (UTF-16 code units),
    # which differs from Python's code-point order once a term holds an astral character.
    term: str = entry[0]
    return term.encode("utf-16-be")


def build_index_reference(docs: list[SearchDoc]) -> dict[str, Any]:
    """The same index through lunr.py's own Builder: slow, kept as the reference in tests."""
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


def outputs(program: Program) -> dict[str, bytes]:
    """search/index.js (the full index, as before) and search/quick.js, which the page loads first.

    quick.js says how big the full index is, and for a large site carries a small index of
    titles and names that answers the first keystrokes while the full index loads.
    """
    # Each item's docs and index counts depend on the item alone: a rebuild keeps them for
    # unchanged items and recomputes only the weights, which depend on every document.
    cache = OutputCache("search")
    docs: list[SearchDoc] = []
    counts: list[dict[str, FieldCounts]] = []
    for item in program.items:
        for doc_id, kind, card, doc_counts in cache.get(_item_entry, item):
            # The word lists are not kept: with the counts given, nothing reads them.
            docs.append(SearchDoc(doc_id, kind, {}, card))
            counts.append(doc_counts)
    cache.save()
    full = _script(
        DATA_PREFIX,
        {
            "version": FORMAT_VERSION,
            "index": build_index(docs, counts),
            "docs": [d.card for d in docs],
            "fieldAliases": FIELD_ALIASES,
        },
    )
    quick: dict[str, Any] = {"version": FORMAT_VERSION, "fullBytes": len(full), "index": None}
    if len(full) >= QUICK_MIN_BYTES:
        quick["index"] = build_quick_index(docs, counts)
        quick["docs"] = [_quick_card(d.card) for d in docs]
        quick["fieldAliases"] = FIELD_ALIASES
    return {"search/index.js": full, "search/quick.js": _script(QUICK_PREFIX, quick)}


def build_quick_index(
    docs: list[SearchDoc], counts: list[dict[str, FieldCounts]] | None = None
) -> dict[str, Any]:
    """A lunr index of titles and names only: a tenth of the full index, same refs and rules."""
    refs = [to_ref(position) for position in range(len(docs))]
    fields = [{name: doc.fields.get(name, []) for name in QUICK_FIELDS} for doc in docs]
    quick = {name: FIELDS[name] for name in QUICK_FIELDS}
    serialized = build_serialized(refs, quick, fields, counts)
    serialized["invertedIndex"].sort(key=_js_order)
    return serialized


def _quick_card(card: dict[str, Any]) -> dict[str, Any]:
    # The snippet is most of a card's bytes; quick results show it once the full index is in.
    return {key: value for key, value in card.items() if key != "snippet"}


def _script(prefix: str, data: dict[str, Any]) -> bytes:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # Kept inside a script (not fetched) so the page also searches when opened from file://.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"{prefix}{text};\n".encode()


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


def _item_entry(item: Item) -> list[tuple[str, str, dict[str, Any], dict[str, FieldCounts]]]:
    """Of each of an item's docs (itself, then its papers): id, kind, card and index counts;
    plain tuples, which unpickle much faster than dataclasses."""
    docs = [_item_doc(item), *(_paper_doc(item, paper) for paper in item.papers)]
    return [(d.id, d.kind, d.card, document_counts(d.fields, list(FIELDS))) for d in docs]


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
