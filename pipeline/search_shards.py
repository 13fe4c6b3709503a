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

import hashlib
import json
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

import numpy as np

from .errors import PipelineError
from .fast_index import LUNR_VERSION, PIPELINE, TermArrays, TermIndex, TermPostings

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
    for text in texts:
        # isascii() is a flag the string keeps: most texts need no encoding to be measured.
        if text.isascii():
            size += len(text)
        else:
            escaped = text.count("\u2028") + text.count("\u2029")
            size += len(text.encode("utf-8")) + 3 * escaped
    return size


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


def _ranges(index: TermArrays, range_bytes: int) -> list[tuple[int, int]]:
    """Consecutive runs of terms (first, stop) of about range_bytes each; one heavy term may
    stand alone.

    A run ends before the first term that takes it past range_bytes, the run's first term
    aside. Found with a search of the running sizes, once per run rather than once per term
    (a loop over the terms took 1.4 ms at 1,000 items, on a rebuild's longest path)."""
    width = len(index.fields)
    count = len(index.terms)
    # About what a row serializes to: a short delta and a weight per posting.
    weights = np.diff(index.starts[::width]) * 9 + 12
    weights += np.fromiter(map(len, index.terms), np.int64, count)
    running = np.concatenate(([0], np.cumsum(weights))).tolist()
    ranges: list[tuple[int, int]] = []
    first = 0
    while first < count:
        # The first term whose end is past the budget ends the run, unless it is the first.
        stop = bisect_right(running, running[first] + range_bytes) - 1
        stop = min(max(stop, first + 1), count)
        ranges.append((first, stop))
        first = stop
    return ranges or [(0, 0)]


def shard_files(
    index: TermArrays,
    card_texts: Sequence[str],
    meta: Sequence[DocMeta],
    field_aliases: dict[str, str],
    edition_names: Mapping[str, str],
    day_pages: bool = False,
    coded: Callable[[list[str]], str] = front_coded,
    memo: dict[str, Any] | None = None,
) -> dict[str, bytes]:
    """Every search file of the site, keyed by its path under dist/. `card_texts` holds each
    document's result card as json_text, `meta` what the filters need of it; `edition_names`
    maps each edition's id to its name, in the program's order. `coded` is front_coded, or
    a memo of it; `memo` keeps the rows from build to build (_RowTexts)."""
    # Made once: a small site's files are cut twice (see `prefetch`).
    rows = _RowTexts(index, memo if memo is not None else {}).rows()
    ranges = _ranges(index, RANGE_BYTES)
    # What the files would weigh cut small, measured without making them: a small site's are
    # made only once, cut large.
    parts = [*_range_parts(rows, ranges), *_card_parts(card_texts, CARDS_PER_FILE)]
    prefetch = sum(_list_script_size(key, texts) for key, texts in parts) <= PREFETCH_MAX_BYTES
    per_file = CARDS_PER_FILE
    if prefetch:
        ranges = _ranges(index, RANGE_BYTES * PREFETCHED_RANGE_FACTOR)
        per_file = PREFETCHED_CARDS_PER_FILE
        parts = [*_range_parts(rows, ranges), *_card_parts(card_texts, per_file)]
    files = {
        f"search/{key}.js": _script_of(key, "[" + ",".join(texts) + "]") for key, texts in parts
    }
    manifest = _manifest(index, meta, ranges, field_aliases, edition_names, per_file, coded)
    manifest.update(
        dayPages=day_pages,
        prefetch=prefetch,
        worker=index.document_count >= WORKER_MIN_DOCUMENTS,
    )
    files["search/manifest.js"] = _script("manifest", manifest)
    return files


class _RowTexts:
    """Each term's row of a range file, as JSON text: [term, vector index, then per field
    the delta-coded positions and the weights]. Numbers are turned to text in bulk, as one
    comma-separated string per array; a run of postings is then a slice of it.

    Rows are kept from build to build (`memo`): an edit of one item moves the weights of many
    terms (every weight depends on the average field length), but a term whose positions and
    weights are those of the last build has that build's row."""

    def __init__(self, index: TermArrays, memo: dict[str, Any]) -> None:
        self.index = index
        self.memo = memo
        positions = index.positions.astype(np.int64)
        # The rows are kept under a digest of the positions and of where each run starts: an
        # edit moves weights, hardly ever positions.
        key = hashlib.sha256(positions.tobytes() + index.starts.astype(np.int64).tobytes())
        self.key = key.digest()
        width = len(index.fields)
        self.kept, self.afresh = self._kept_rows(width)
        deltas = positions.copy()
        deltas[1:] -= positions[:-1]
        # Each (term, field) run starts from 0 again.
        firsts = index.starts[:-1]
        firsts = firsts[firsts < len(positions)]
        deltas[firsts] = positions[firsts]
        # Only the numbers of the rows made afresh are turned to text; `taken` counts, at each
        # posting, those of them before it.
        take = np.repeat(self.afresh, np.diff(index.starts[::width]))
        taken = np.concatenate(([0], np.cumsum(take)))
        self.deltas, delta_offsets = _joined_numbers(deltas[take])
        self.weights, weight_offsets = _joined_numbers(index.weights[take])
        # Where each (term, field) run's text starts in each: only these are ever sliced at.
        at = taken[index.starts]
        self.delta_at = delta_offsets[at].tolist()
        self.weight_at = weight_offsets[at].tolist()

    def _kept_rows(self, width: int) -> tuple[list[str], np.ndarray]:
        """The last build's rows, and which terms' rows must be made afresh: all of them
        unless the terms, their numbers and their positions are the last build's."""
        index = self.index
        everything = np.ones(len(index.terms), dtype=bool)
        known = self.memo.get("rows")
        if not (
            isinstance(known, tuple)
            and len(known) == 5
            and known[0] == self.key
            and known[1] == index.terms
            and known[2] == index.numbers
        ):
            return [], everything
        weights = known[3]
        if not isinstance(weights, np.ndarray) or weights.shape != index.weights.shape:
            return [], everything
        # Per term: how many of its postings changed weight.
        changed = np.concatenate(([0], np.cumsum(weights != index.weights)))
        firsts = index.starts[::width]
        return known[4], (changed[firsts[1:]] - changed[firsts[:-1]]) > 0

    def rows(self) -> list[str]:
        """Every term's row, in term order; kept in the memo for the next build."""
        kept, afresh = self.kept, self.afresh.tolist()
        made = [self.row(n) if afresh[n] else kept[n] for n in range(len(self.index.terms))]
        index = self.index
        weights = index.weights
        if len(weights) and int(np.abs(weights).max()) < 1 << 31:
            weights = weights.astype(np.int32)  # half the bytes to save and load
        self.memo["rows"] = (self.key, index.terms, index.numbers, weights, made)
        return made

    def row(self, number: int) -> str:
        width = len(self.index.fields)
        parts = [encode_basestring(self.index.terms[number]), str(self.index.numbers[number])]
        runs = range(number * width, (number + 1) * width)
        deltas, delta_at = self.deltas, self.delta_at
        weights, weight_at = self.weights, self.weight_at
        for run in runs:
            first, stop = delta_at[run], delta_at[run + 1]
            if first == stop:
                parts += ("[]", "[]")
                continue
            # Each number's text ends one character before the next one's offset (the comma).
            parts.append("[" + deltas[first : stop - 1] + "]")
            parts.append("[" + weights[weight_at[run] : weight_at[run + 1] - 1] + "]")
        return "[" + ",".join(parts) + "]"


def _joined_numbers(values: np.ndarray) -> tuple[str, np.ndarray]:
    """The integers as one comma-separated text (with a trailing comma), and where each one's
    text starts, plus one offset past the end.

    The text is written digit by digit into a byte array, one pass per decimal place over all
    the numbers at once: a million postings' numbers took a fifth of a second through str()
    and join, and take a few hundredths this way."""
    numbers = values.astype(np.int64)
    negative = numbers < 0
    # abs of the most negative int64 overflows; no index holds one.
    magnitude = np.abs(numbers)
    powers = 10 ** np.arange(1, 19, dtype=np.int64)
    digits = 1 + np.searchsorted(powers, magnitude, side="right")
    offsets = np.zeros(len(numbers) + 1, dtype=np.int64)
    np.cumsum(digits + negative + 1, out=offsets[1:])
    out = np.full(int(offsets[-1]), ord(","), dtype=np.uint8)
    # Each number's last digit sits just before its comma; the others go leftwards from it.
    place = offsets[1:] - 2
    remaining = magnitude
    for k in range(int(digits.max()) if len(numbers) else 0):
        has = digits > k
        out[place[has] - k] = ord("0") + remaining[has] % 10
        remaining = remaining // 10
    out[offsets[:-1][negative]] = ord("-")
    return out.tobytes().decode("ascii"), offsets


def _range_parts(rows: list[str], ranges: list[tuple[int, int]]) -> list[tuple[str, Sequence[str]]]:
    """Each term range file's key and the rows its list holds."""
    return [(f"terms/{number}", rows[first:stop]) for number, (first, stop) in enumerate(ranges)]


def _card_parts(card_texts: Sequence[str], per_file: int) -> list[tuple[str, Sequence[str]]]:
    """Each cards file's key and the cards its list holds."""
    starts = range(0, max(len(card_texts), 1), per_file)
    return [(f"cards/{n}", card_texts[start : start + per_file]) for n, start in enumerate(starts)]


def _manifest(
    index: TermArrays,
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
