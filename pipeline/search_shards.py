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
import operator
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import PipelineError
from .fast_index import LUNR_VERSION, PIPELINE, TermIndex, TermPostings

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


def _script(key: str, data: Any) -> bytes:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # U+2028/2029 end a line in older JavaScript parsers; escaped they are the same string.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    # Keyed by the file's own path, so loads of several files at once cannot mix them up.
    return f"(self.{GLOBAL}=self.{GLOBAL}||{{}})[{json.dumps(key)}]={text};\n".encode()


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


def front_decoded(text: str) -> list[str]:
    terms: list[str] = []
    previous = b""
    for line in text.split("\n"):
        shared = _DIGITS.index(line[0])
        units = previous[: 2 * shared] + line[1:].encode("utf-16-be")
        terms.append(units.decode("utf-16-be"))
        previous = units
    return terms


def _deltas(positions: list[int]) -> list[int]:
    return list(map(operator.sub, positions, [0, *positions[:-1]]))


def _term_row(entry: TermPostings) -> list[Any]:
    row: list[Any] = [entry.term, entry.index]
    for positions, weights in entry.fields:
        row += [_deltas(positions), weights]
    return row


def _ranges(terms: Sequence[TermPostings], range_bytes: int) -> list[list[TermPostings]]:
    """Consecutive runs of terms of about range_bytes each; one heavy term may stand alone."""
    ranges: list[list[TermPostings]] = []
    current: list[TermPostings] = []
    size = 0
    for entry in terms:
        # About what the row serializes to: a short delta and a weight per posting.
        weight = len(entry.term) + 12 + sum(9 * len(p) for p, _ in entry.fields)
        if current and size + weight > range_bytes:
            ranges.append(current)
            current, size = [], 0
        current.append(entry)
        size += weight
    if current or not ranges:
        ranges.append(current)
    return ranges


def shard_files(
    index: TermIndex,
    cards: Sequence[dict[str, Any]],
    field_aliases: dict[str, str],
    edition_names: Mapping[str, str],
    day_pages: bool = False,
) -> dict[str, bytes]:
    """Every search file of the site, keyed by its path under dist/; `edition_names` maps each
    edition's id to its name, in the program's order."""
    ranges = _ranges(index.terms, RANGE_BYTES)
    files = _range_files(ranges)
    card_files = _card_files(cards, CARDS_PER_FILE)
    size = sum(map(len, files.values())) + sum(map(len, card_files.values()))
    prefetch = size <= PREFETCH_MAX_BYTES
    per_file = CARDS_PER_FILE
    if prefetch:
        ranges = _ranges(index.terms, RANGE_BYTES * PREFETCHED_RANGE_FACTOR)
        files = _range_files(ranges)
        per_file = PREFETCHED_CARDS_PER_FILE
        card_files = _card_files(cards, per_file)
    files.update(card_files)
    manifest = _manifest(index, cards, ranges, field_aliases, edition_names, per_file)
    manifest.update(
        dayPages=day_pages,
        prefetch=prefetch,
        worker=index.document_count >= WORKER_MIN_DOCUMENTS,
    )
    files["search/manifest.js"] = _script("manifest", manifest)
    return files


def _range_files(ranges: list[list[TermPostings]]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for number, run in enumerate(ranges):
        key = f"terms/{number}"
        files[f"search/{key}.js"] = _script(key, [_term_row(entry) for entry in run])
    return files


def _card_files(cards: Sequence[dict[str, Any]], per_file: int) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for number, start in enumerate(range(0, max(len(cards), 1), per_file)):
        key = f"cards/{number}"
        files[f"search/{key}.js"] = _script(key, list(cards[start : start + per_file]))
    return files


def _manifest(
    index: TermIndex,
    cards: Sequence[dict[str, Any]],
    ranges: list[list[TermPostings]],
    field_aliases: dict[str, str],
    edition_names: Mapping[str, str],
    cards_per_file: int,
) -> dict[str, Any]:
    editions = list(edition_names)
    editions += sorted({c["edition"] for c in cards} - set(editions))
    types = sorted({c["type"] for c in cards})
    days = sorted({c["start"][:10] for c in cards})
    numbers = [{v: n for n, v in enumerate(values)} for values in (editions, types, days)]
    # Per document: 1 for an item (0 for a paper), then edition, type and day numbers; the
    # filters run on these without loading a single card.
    table: list[int] = []
    for card in cards:
        table += [
            1 if card["kind"] == "item" else 0,
            numbers[0][card["edition"]],
            numbers[1][card["type"]],
            numbers[2][card["start"][:10]],
        ]
    return {
        "version": FORMAT_VERSION,
        "lunr": {"version": LUNR_VERSION, "fields": list(index.fields), "pipeline": list(PIPELINE)},
        "fieldAliases": field_aliases,
        "documents": index.document_count,
        "cardsPerFile": cards_per_file,
        "ranges": [front_coded([entry.term for entry in run]) for run in ranges],
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
