"""Query a built index from Python with exactly the rules static/search.js uses in the page."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import regex
from lunr.index import Index
from lunr.query import Query

from .fast_index import serialize
from .records import record
from .search_files import read_shards
from .search_index import FIELD_ALIASES, refs, register_pipeline_functions
from .tokens import fold, stop_words, word_pattern

_FIELD_PREFIX = regex.compile(r"^([A-Za-z]+):(.*)$", regex.S)
EXACT_BOOST = 10
PREFIX_BOOST = 1
FUZZY_BOOST = 1
# Shorter words get no typo tolerance: a one-letter change turns most of them into other words.
FUZZY_MIN_LENGTH = 5
PREFIX_MIN_LENGTH = 2


@record
class QueryWord:
    word: str
    field: str | None
    prefix: bool


@record
class Hit:
    id: str
    title: str
    score: float
    card: dict[str, Any]


def parse_query(text: str) -> list[QueryWord]:
    """Split typed text into words; `speaker:qian` limits a word to a field; nothing ever fails.

    The last word is matched as a prefix unless the text ends in white space (it is still
    being typed). Stop words are dropped, except a last word still being typed.
    """
    parsed: list[QueryWord] = []
    typing = bool(text) and not text[-1].isspace()
    for chunk in text.split():
        field = None
        match = _FIELD_PREFIX.match(chunk)
        if match and match.group(1).lower() in FIELD_ALIASES:
            field = FIELD_ALIASES[match.group(1).lower()]
            chunk = match.group(2)
        for word in word_pattern().findall(chunk):
            parsed.append(QueryWord(word.lower(), field, False))
    if parsed and typing:
        last = parsed[-1]
        parsed[-1] = QueryWord(last.word, last.field, len(fold(last.word)) >= PREFIX_MIN_LENGTH)
    return [w for w in parsed if fold(w.word) and (w.prefix or fold(w.word) not in stop_words())]


def _add_clauses(query: Query, word: QueryWord) -> None:
    fields = [word.field] if word.field else None
    folded = fold(word.word)
    query.term(word.word, fields=fields, boost=EXACT_BOOST, use_pipeline=True)
    if word.prefix:
        query.term(
            folded,
            fields=fields,
            boost=PREFIX_BOOST,
            use_pipeline=False,
            wildcard=Query.WILDCARD_TRAILING,
        )
    if len(folded) >= FUZZY_MIN_LENGTH:
        query.term(word.word, fields=fields, boost=FUZZY_BOOST, use_pipeline=True, edit_distance=1)


def _rounded(score: float) -> float:
    # Both runtimes compute the same sums in a possibly different order; six decimals hide that.
    return math.floor(score * 1e6 + 0.5) / 1e6


class SearchIndex:
    def __init__(self, data: dict[str, Any]) -> None:
        register_pipeline_functions()
        serialized = dict(data["index"])
        # Saved in JavaScript string order for lunr.js; lunr.py inserts in code-point order.
        serialized["invertedIndex"] = sorted(
            serialized["invertedIndex"], key=lambda entry: entry[0]
        )
        self.index = Index.load(serialized)
        self.docs: list[dict[str, Any]] = data["docs"]

    @classmethod
    def from_site(cls, site: Path) -> SearchIndex:
        """The index the page searches, put back together from every file it may load."""
        index, cards, _manifest = read_shards(site)
        return cls({"index": serialize(index, refs(index.document_count)), "docs": cards})

    def _query(self, words: list[QueryWord]) -> list[dict[str, Any]]:
        query = self.index.create_query()
        for word in words:
            _add_clauses(query, word)
        results: list[dict[str, Any]] = self.index.query(query)
        return results

    def search(self, text: str, limit: int | None = None) -> list[Hit]:
        """Ranked hits: every word must match (exactly, as a prefix, or with one typo)."""
        words = parse_query(text)
        if not words:
            return []
        results = self._query(words)
        if len(words) > 1:
            for word in words:
                allowed = {r["ref"] for r in self._query([word])}
                results = [r for r in results if r["ref"] in allowed]
        results.sort(key=lambda r: (-_rounded(r["score"]), int(r["ref"], 36)))
        hits = []
        for result in results[:limit]:
            card = self.docs[int(result["ref"], 36)]
            hits.append(Hit(card["id"], card["title"], _rounded(result["score"]), card))
        return hits
