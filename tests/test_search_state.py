"""A search state carried from build to build gives the search files a cold build gives,
whatever the edits between them: changed, added, removed and moved items, new words, and
words no item holds any more."""

from __future__ import annotations

import os
import pickle
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate
from pipeline import search_shards, search_state
from pipeline.build import BuildOptions, check
from pipeline.fast_index import weigh
from pipeline.model import Item
from pipeline.output_cache import token
from pipeline.records import replace
from pipeline.search_full import _search_state, light_state
from pipeline.search_index import FIELD_ALIASES, FIELDS, _item_search
from pipeline.search_shards import shard_files
from pipeline.search_state import SearchState, assemble, compacted

from .test_search import FIXTURE


def _files(state: SearchState, memo: dict[str, Any] | None = None) -> dict[str, bytes]:
    index = weigh(FIELDS, state.postings)
    return shard_files(index, state.card_texts, state.meta, FIELD_ALIASES, {"e": "E"}, memo=memo)


def _state(items: list[Item], previous: SearchState | None = None) -> SearchState:
    tokens = [token(item) for item in items]
    return assemble(list(FIELDS), items, tokens, _item_search, previous)


def _items(tmp_path: Path) -> list[Item]:
    site = tmp_path / "site"
    content = generate(site, 60)
    program = check(BuildOptions(content_dir=content, config_path=site / "pipeline.toml")).program
    fixture = check(BuildOptions(content_dir=FIXTURE / "content")).program
    return [*program.items, *fixture.items]


def _edits(items: list[Item], rng: random.Random) -> list[Item]:
    """One random edit of the kinds an author makes."""
    items = list(items)
    at = rng.randrange(len(items))
    kind = rng.choice(["title", "abstract", "remove", "add", "move", "word"])
    if kind == "title":
        items[at] = replace(items[at], title=items[at].title + " revised")
    elif kind == "abstract":
        items[at] = replace(items[at], abstract_text=items[at].abstract_text + " Revised.")
    elif kind == "remove" and len(items) > 2:
        del items[at]
    elif kind == "add":
        new = replace(items[at], id=f"{items[at].id}-again", title="Zyzzogeton quokkas")
        items.insert(rng.randrange(len(items) + 1), new)
    elif kind == "move":
        items.insert(rng.randrange(len(items)), items.pop(at))
    else:
        word = "".join(rng.choice("abcdefghij") for _ in range(7))
        items[at] = replace(items[at], abstract_text=f"{word} {items[at].abstract_text}")
    return items


def test_a_state_carried_through_edits_gives_the_cold_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    items = _items(tmp_path)
    state = _state(items)
    # The rows kept from build to build, through pickling as the store does.
    memo: dict[str, Any] = {}
    _files(state, memo)
    made: list[int] = []
    row = search_shards._RowTexts.row
    monkeypatch.setattr(
        search_shards._RowTexts, "row", lambda self, n: made.append(n) or row(self, n)
    )
    reused, partly = 0, 0
    for _ in range(40):
        items = _edits(items, rng)
        # Each state goes through what saving and loading it does: kept as a LightState.
        kept = light_state(state, weigh(FIELDS, state.postings), tuple(memo["rows"][4]))
        state = _state(items, _search_state(pickle.loads(pickle.dumps(kept))))
        memo = pickle.loads(pickle.dumps(memo))
        before = memo["rows"][0]
        made.clear()
        files = _files(state, memo)
        terms = len(memo["rows"][1])
        partly += 0 < len(made) < terms / 2
        assert files == _files(_state(items))
        reused += memo["rows"][0] == before
    assert 0 < reused < 40, "edits that keep the positions, and ones that move them"
    assert partly, "edits after which most rows are the last build's"


def test_a_state_of_unchanged_items_takes_nothing_afresh(tmp_path: Path) -> None:
    items = _items(tmp_path)
    state = _state(items)
    described: list[Item] = []

    def describe(item: Item) -> search_state.ItemSearch:
        described.append(item)
        return _item_search(item)

    edited = [*items[:5], replace(items[5], title="Changed"), *items[6:]]
    again = assemble(list(FIELDS), edited, [token(i) for i in edited], describe, state)
    assert [item.title for item in described] == ["Changed"]
    assert _files(again) == _files(_state(edited))


def test_a_vocabulary_left_with_many_unused_words_is_cut_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = _items(tmp_path)
    state = _state(original)
    # Every item's abstract gets a word of its own, a new one each round: the words of earlier
    # rounds stay in the vocabulary though no item holds them.
    for round_number in range(3):
        items = [
            replace(item, abstract_text=f"qx{round_number}z{n} {item.abstract_text}")
            for n, item in enumerate(original)
        ]
        state = _state(items, state)
    index = weigh(FIELDS, state.postings)
    monkeypatch.setattr(search_state, "VOCABULARY_FACTOR", 1)
    monkeypatch.setattr(search_state, "VOCABULARY_SLACK", 0)
    assert compacted(state, len(index.terms) * 2) is state
    smaller = compacted(state, len(index.terms))
    assert len(smaller.postings.vocabulary) == len(index.terms)
    assert len(state.postings.vocabulary) > len(index.terms)
    assert _files(smaller) == _files(state) == _files(_state(items))
    items = _edits(items, random.Random(5))
    assert _files(_state(items, smaller)) == _files(_state(items))


def test_numbers_are_joined_as_str_would_write_them() -> None:
    import numpy as np

    from pipeline.search_shards import _joined_numbers

    rng = np.random.default_rng(1)
    for values in (
        np.array([], dtype=np.int64),
        np.array([0, -5, 7, 10, 99, 100, -1000, 123456789012345]),
        rng.integers(-(10**12), 10**12, 1000),
        rng.integers(0, 3000, 5000),
    ):
        text, offsets = _joined_numbers(values)
        assert text == "".join(f"{int(n)}," for n in values)
        starts = np.cumsum([0, *(len(str(int(n))) + 1 for n in values)])
        assert offsets.tolist() == starts.tolist()


def test_range_rows_hold_each_runs_deltas_and_weights_empty_runs_first_and_last() -> None:
    """A row is [term, vector index, then per field the delta-coded positions and weights];
    a run with no postings, even the very first or the very last, is [] and []."""
    import json

    import numpy as np

    from pipeline.fast_index import TermArrays
    from pipeline.search_shards import _RowTexts

    index = TermArrays(
        fields=("title", "body"),
        document_count=4,
        terms=("alpha", "beta"),
        numbers=(0, 1),
        # alpha: no title, body in documents 0 and 2; beta: title in 3, no body.
        starts=np.array([0, 0, 2, 3, 3]),
        positions=np.array([0, 2, 3]),
        weights=np.array([1500, 250, 3000]),
    )
    rows = [json.loads(row) for row in _RowTexts(index, {}).rows()]
    assert rows == [["alpha", 0, [], [], [0, 2], [1500, 250]], ["beta", 1, [3], [3000], [], []]]


_REBUILD_AND_REPORT = """
import sys
from pathlib import Path
from pipeline.build import BuildOptions, build
from pipeline import stemmer
site = Path(sys.argv[1])
build(BuildOptions(site / "content", site / "dist", site / "pipeline.toml"))
compiled = stemmer._patterns.cache_info().currsize
print("lunr" in sys.modules, "regex" in sys.modules, compiled)
"""


def _rebuilt_in_a_new_process(site: Path) -> str:
    env = {**os.environ, "PIPELINE_NO_PARALLEL": "1"}
    env.pop("PIPELINE_NO_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", _REBUILD_AND_REPORT, str(site)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_a_rebuild_maps_the_words_it_has_seen_without_lunr_or_the_stemmer(
    tmp_path: Path,
) -> None:
    # The words' terms and lunr's stop words are kept with the state: a new process that
    # meets only known words in ASCII text imports neither lunr.py nor `regex`, nor compiles
    # the stemmer.
    site = tmp_path / "site"
    generate(site, 30)
    assert _rebuilt_in_a_new_process(site).startswith("True ")  # lunr, for the stop words
    edited = next(p for p in sorted((site / "content").rglob("*.md")) if p.read_text().isascii())
    text = edited.read_text(encoding="utf-8")
    known_sentence = text.rstrip("\n").rsplit("\n", 1)[-1]
    edited.write_text(f"{text}\n{known_sentence}\n", encoding="utf-8")
    assert _rebuilt_in_a_new_process(site) == "False False 0"
    # A new word needs the stemmer, not lunr.py; text that is not ASCII, `regex`.
    edited.write_text(f"{text}\nQuasarwortig.\n", encoding="utf-8")
    assert _rebuilt_in_a_new_process(site) == "False False 1"
    edited.write_text(f"{text}\n{known_sentence} Café.\n", encoding="utf-8")
    assert _rebuilt_in_a_new_process(site).endswith(" True 1")


def test_a_search_file_is_measured_as_it_is_written() -> None:
    """Whether a site's search files are small enough to prefetch is decided on their size cut
    small, measured without making them (search_files._list_script_size)."""
    from pipeline.search_files import _list_script_size, _script_of

    lists: list[list[str]] = [
        [],
        ["[]"],
        ['["plain",3,[1],[250]]', '["más",4,[],[]]'],
        ['["line\u2028sep\u2029para",5,[2],[90]]', '["😀",6,[],[]]', '["a",7,[1,2],[5,6]]'],
    ]
    for number, texts in enumerate(lists):
        key = f"terms/{number}"
        made = _script_of(key, "[" + ",".join(texts) + "]")
        assert _list_script_size(key, texts) == len(made)
