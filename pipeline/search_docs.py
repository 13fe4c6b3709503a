"""What each schedule item gives the search: its documents (the item, then each of its papers),
the words of each field, and the result card the page shows. Needs no numpy (search_light.py).
"""

from __future__ import annotations

from typing import Any

from .model import Item, Paper, Program
from .records import record
from .search_files import DocMeta, json_text
from .search_terms import FieldCounts, document_counts
from .tokens import words

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


def refs(count: int) -> list[str]:
    return [to_ref(position) for position in range(count)]


@record
class ItemSearch:
    """What one item gives the search, per document (the item, then its papers)."""

    card_texts: tuple[str, ...]
    meta: tuple[DocMeta, ...]
    counts: tuple[dict[str, FieldCounts], ...]


def item_search(item: Item) -> ItemSearch:
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
