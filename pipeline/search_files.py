"""Cut the search index into files a page loads one query at a time, and put them back together.

A lunr.js score is the query vector's dot product with each matching field vector, divided by
the query vector's length: a document's weights for terms the query does not hold never count.
So an index cut into term ranges answers exactly like the whole one, as long as the page loads
every range that holds a term the query expands to (the word itself, its prefix completions and
its one-typo neighbours, all found in the term list the manifest carries). The page then builds
one small lunr index from those ranges with `lunr.Index.load`.

Files, each a script so the page also searches when opened from file://:
- search/manifest.js: fields, pipeline, field aliases, every term (grouped by range), and per
  document what the filters need (kind, edition, type, day);
- search/terms/<n>.js: one term range: each term's vector index and, per field, the documents
  holding it (delta-coded positions) with the term's weight in each (integer thousandths);
- search/cards/<n>.js: the result cards of CARDS_PER_FILE consecutive documents.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from .errors import PipelineError
from .search_terms import LUNR_VERSION, PIPELINE, TermIndex, TermPostings

FORMAT_VERSION = 2
# Raw JSON bytes per term range: about 10 kB once gzipped, a few milliseconds to load.
RANGE_BYTES = 40_000
# A first page of ten results touches up to ten files: small ones keep those bytes few.
CARDS_PER_FILE = 8
# A site whose search files total at most this many bytes has the page fetch them all while
# it is idle, so typing never waits on the network; it then comes in fewer, larger files, as
# round trips rather than bytes set the pace of fetching it all.
PREFETCH_MAX_BYTES = 4 * 1024 * 1024
PREFETCHED_CARDS_PER_FILE = 64
PREFETCHED_RANGE_FACTOR = 4
# Above this many documents a broad word matches thousands, and lunr.js takes more than a
# frame to score them: the manifest tells the page to search in a worker.
WORKER_MIN_DOCUMENTS = 3000
GLOBAL = "pipelineSearchParts"

# What the manifest's filter table holds of one document: 1 for an item (0 for a paper), its
# edition, type and day.
DocMeta = tuple[int, str, str, str]


def json_text(data: Any) -> str:
    """The JSON every search file is written in; a list's text is its elements' joined."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _script(key: str, data: Any) -> bytes:
    return _script_of(key, json_text(data))


def _script_of(key: str, text: str) -> bytes:
    # U+2028/2029 end a line in older JavaScript parsers; escaped they are the same string.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    # Keyed by the file's own path, so loads of several files at once cannot mix them up.
    return f"(self.{GLOBAL}=self.{GLOBAL}||{{}})[{json.dumps(key)}]={text};\n".encode()


def _list_script_size(key: str, texts: Sequence[str]) -> int:
    """len(_script_of(key, "[" + ",".join(texts) + "]")), without making it."""
    size = len(_script_of(key, "")) + 2 + max(len(texts) - 1, 0)
    joined = "".join(texts)
    # isascii() is a flag the string keeps: most texts need no encoding to be measured.
    if joined.isascii():
        return size + len(joined)
    escaped = joined.count("\u2028") + joined.count("\u2029")
    return size + len(joined.encode("utf-8")) + 3 * escaped


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def front_coded(terms: list[str]) -> str:
    """Sorted terms as one string, a line each: a base-36 digit telling how many leading
    characters (UTF-16 units, at most 35) it shares with the term before, then the rest.
    The term list is most of the manifest; this halves it, gzipped."""
    lines, previous = [], ""
    for term in terms:
        units, before = term.encode("utf-16-be"), previous.encode("utf-16-be")
        shared = 0
        while shared < 35 and 2 * shared + 2 <= min(len(units), len(before)):
            if units[2 * shared : 2 * shared + 2] != before[2 * shared : 2 * shared + 2]:
                break
            shared += 1
        # Never cut a surrogate pair: the rest must stay a valid string on its own.
        if shared and 0xD8 <= units[2 * shared - 2] <= 0xDB:
            shared -= 1
        lines.append(_DIGITS[shared] + units[2 * shared :].decode("utf-16-be"))
        previous = term
    return "\n".join(lines)


def front_coded_with(known: Mapping[str, str], used: dict[str, str]) -> Callable[[list[str]], str]:
    """front_coded, taking each range's text from `known` (the last build's, under the terms it
    codes) where it is there: the term list changes only with the site's vocabulary. Every
    text given goes into `used`, to be known to the next build."""

    def coded(terms: list[str]) -> str:
        key = "\n".join(terms)
        text = used[key] = known.get(key) or front_coded(terms)
        return text

    return coded


def front_decoded(text: str) -> list[str]:
    terms: list[str] = []
    previous = b""
    for line in text.split("\n"):
        shared = _DIGITS.index(line[0])
        units = previous[: 2 * shared] + line[1:].encode("utf-16-be")
        terms.append(units.decode("utf-16-be"))
        previous = units
    return terms


class IndexShape(Protocol):
    """What the manifest says of an index besides its rows."""

    @property
    def fields(self) -> tuple[str, ...]: ...
    @property
    def document_count(self) -> int: ...
    @property
    def terms(self) -> Sequence[str]: ...


def ranges_in(running: Sequence[int], range_bytes: int) -> list[tuple[int, int]]:
    """Consecutive runs of terms (first, stop) of about range_bytes each, `running[n]` being
    the size of the terms before term n (term_size); one heavy term may stand alone.

    A run ends before the first term that takes it past range_bytes, the run's first term
    aside. Found with a search of the running sizes, once per run rather than once per term
    (a loop over the terms took 1.4 ms at 1,000 items, on a rebuild's longest path)."""
    count = len(running) - 1
    ranges: list[tuple[int, int]] = []
    first = 0
    while first < count:
        # The first term whose end is past the budget ends the run, unless it is the first.
        stop = bisect_right(running, running[first] + range_bytes) - 1
        stop = min(max(stop, first + 1), count)
        ranges.append((first, stop))
        first = stop
    return ranges or [(0, 0)]


def term_size(term: str, postings: int) -> int:
    """About what a term's row serializes to: a short delta and a weight per posting."""
    return postings * 9 + 12 + len(term)


def files_of_rows(
    rows: Sequence[str],
    running: Sequence[int],
    shape: IndexShape,
    card_texts: Sequence[str],
    meta: Sequence[DocMeta],
    field_aliases: dict[str, str],
    edition_names: Mapping[str, str],
    day_pages: bool = False,
    coded: Callable[[list[str]], str] = front_coded,
) -> dict[str, bytes]:
    """Every search file of the site, keyed by its path under dist/, from each term's row
    (in term order) and the running sizes of the terms (ranges_in). `card_texts` holds each
    document's result card as json_text, `meta` what the filters need of it; `edition_names`
    maps each edition's id to its name, in the program's order. `coded` is front_coded, or
    a memo of it."""
    ranges = ranges_in(running, RANGE_BYTES)
    # What the files would weigh cut small, measured without making them: a small site's are
    # made only once, cut large.
    parts = [*_range_parts(rows, ranges), *_card_parts(card_texts, CARDS_PER_FILE)]
    prefetch = sum(_list_script_size(key, texts) for key, texts in parts) <= PREFETCH_MAX_BYTES
    per_file = CARDS_PER_FILE
    if prefetch:
        ranges = ranges_in(running, RANGE_BYTES * PREFETCHED_RANGE_FACTOR)
        per_file = PREFETCHED_CARDS_PER_FILE
        parts = [*_range_parts(rows, ranges), *_card_parts(card_texts, per_file)]
    files = {
        f"search/{key}.js": _script_of(key, "[" + ",".join(texts) + "]") for key, texts in parts
    }
    manifest = _manifest(shape, meta, ranges, field_aliases, edition_names, per_file, coded)
    manifest.update(
        dayPages=day_pages,
        prefetch=prefetch,
        worker=shape.document_count >= WORKER_MIN_DOCUMENTS,
    )
    files["search/manifest.js"] = _script("manifest", manifest)
    return files


def _range_parts(
    rows: Sequence[str], ranges: list[tuple[int, int]]
) -> list[tuple[str, Sequence[str]]]:
    """Each term range file's key and the rows its list holds."""
    return [(f"terms/{number}", rows[first:stop]) for number, (first, stop) in enumerate(ranges)]


def _card_parts(card_texts: Sequence[str], per_file: int) -> list[tuple[str, Sequence[str]]]:
    """Each cards file's key and the cards its list holds."""
    starts = range(0, max(len(card_texts), 1), per_file)
    return [(f"cards/{n}", card_texts[start : start + per_file]) for n, start in enumerate(starts)]


def _manifest(
    index: IndexShape,
    meta: Sequence[DocMeta],
    ranges: list[tuple[int, int]],
    field_aliases: dict[str, str],
    edition_names: Mapping[str, str],
    cards_per_file: int,
    coded: Callable[[list[str]], str],
) -> dict[str, Any]:
    editions = list(edition_names)
    editions += sorted({m[1] for m in meta} - set(editions))
    types = sorted({m[2] for m in meta})
    days = sorted({m[3] for m in meta})
    numbers = [{v: n for n, v in enumerate(values)} for values in (editions, types, days)]
    # Per document: 1 for an item (0 for a paper), then edition, type and day numbers; the
    # filters run on these without loading a single card.
    table: list[int] = []
    for is_item, edition, kind, day in meta:
        table += [is_item, numbers[0][edition], numbers[1][kind], numbers[2][day]]
    return {
        "version": FORMAT_VERSION,
        "lunr": {"version": LUNR_VERSION, "fields": list(index.fields), "pipeline": list(PIPELINE)},
        "fieldAliases": field_aliases,
        "documents": index.document_count,
        "cardsPerFile": cards_per_file,
        "ranges": [coded(list(index.terms[first:stop])) for first, stop in ranges],
        "editions": editions,
        # For a page or widget that shows results without the schedule's edition menu.
        "editionNames": {e: edition_names.get(e, e) for e in editions},
        "types": types,
        "days": days,
        "table": table,
    }


# ---- Reading the files back: `pipeline search` and the tests use the same format the page does.


def _load(path: Path, key: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PipelineError(f"{path} not found: run `pipeline build` first") from None
    head = f"(self.{GLOBAL}=self.{GLOBAL}||{{}})[{json.dumps(key)}]="
    if not text.startswith(head):
        raise PipelineError(f"{path} is not a pipeline search file")
    return json.loads(text[len(head) :].rstrip().rstrip(";"))


def read_shards(site: Path) -> tuple[TermIndex, list[dict[str, Any]], dict[str, Any]]:
    """The whole index, every card and the manifest, from a built site's search/ folder."""
    folder = site / "search"
    manifest = _load(folder / "manifest.js", "manifest")
    if manifest.get("version") != FORMAT_VERSION:
        found = manifest.get("version")
        raise PipelineError(
            f"{folder / 'manifest.js'}: search format {found}, expected {FORMAT_VERSION}; rebuild"
        )
    fields = tuple(manifest["lunr"]["fields"])
    terms: list[TermPostings] = []
    for number in range(len(manifest["ranges"])):
        for row in _load(folder / "terms" / f"{number}.js", f"terms/{number}"):
            per_field = []
            for f in range(len(fields)):
                deltas, weights = row[2 + 2 * f], row[3 + 2 * f]
                positions, last = [], 0
                for d in deltas:
                    last += d
                    positions.append(last)
                per_field.append((positions, weights))
            terms.append(TermPostings(row[0], row[1], tuple(per_field)))
    cards: list[dict[str, Any]] = []
    per_file = manifest["cardsPerFile"]
    for number in range(-(-manifest["documents"] // per_file)):
        cards += _load(folder / "cards" / f"{number}.js", f"cards/{number}")
    return TermIndex(fields, manifest["documents"], tuple(terms)), cards, manifest
