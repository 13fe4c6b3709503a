"""The search index patched without numpy (search_light) gives, edit after edit, the very files
the full weighing gives; it leaves to the full weighing what it cannot patch; and a rebuild
after a one-file edit never imports numpy."""

from __future__ import annotations

import os
import pickle
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.generate import generate
from pipeline import search_light
from pipeline.build import BuildOptions, check
from pipeline.fast_index import weigh
from pipeline.model import Item
from pipeline.output_cache import token
from pipeline.records import replace
from pipeline.search_files import front_coded
from pipeline.search_full import light_state
from pipeline.search_index import FIELD_ALIASES, FIELDS, _item_search
from pipeline.search_light import LightState, rebuilt
from pipeline.search_shards import shard_files

from .test_search import FIXTURE
from .test_search_state import _state

EDITIONS = {"e": "E"}


def _full(items: list[Item]) -> tuple[dict[str, bytes], LightState]:
    """The files of a full weighing, and the light state it keeps."""
    state = _state(items)
    index = weigh(FIELDS, state.postings)
    memo: dict[str, Any] = {}
    files = shard_files(index, state.card_texts, state.meta, FIELD_ALIASES, EDITIONS, memo=memo)
    return files, light_state(state, index, tuple(memo["rows"][4]))


def _patched(light: LightState, items: list[Item]) -> tuple[dict[str, bytes], LightState] | None:
    tokens = [token(item) for item in items]
    return rebuilt(light, tokens, items.__getitem__, EDITIONS, False, front_coded)


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> list[Item]:
    site = tmp_path_factory.mktemp("light") / "site"
    content = generate(site, 80)
    program = check(BuildOptions(content_dir=content, config_path=site / "pipeline.toml")).program
    fixture = check(BuildOptions(content_dir=FIXTURE / "content")).program
    return [*program.items, *fixture.items]


def _edited(items: list[Item], rng: random.Random) -> list[Item]:
    """One random edit of the kinds an author makes that keep every item's documents."""
    items = list(items)
    kind = rng.choice(["word", "new word", "drop", "title", "people", "paper", "several", "none"])
    at = rng.randrange(len(items))
    item = items[at]
    word = "".join(rng.choice("klmnopqrst") for _ in range(6))
    if kind == "word":
        items[at] = replace(item, abstract_text=item.abstract_text + " Revised.")
    elif kind == "new word":
        items[at] = replace(item, abstract_text=f"{word} {item.abstract_text} {word}s")
    elif kind == "drop":
        kept = item.abstract_text.split()
        cut = rng.randrange(len(kept) + 1)
        items[at] = replace(item, abstract_text=" ".join(kept[:cut]))
    elif kind == "title":
        items[at] = replace(item, title=f"{item.title} {word}")
    elif kind == "people" and item.speakers:
        speaker = replace(item.speakers[0], name=f"{word.title()} {item.speakers[0].name}")
        items[at] = replace(item, speakers=(speaker, *item.speakers[1:]))
    elif kind == "paper":
        with_papers = [n for n, i in enumerate(items) if i.papers]
        at = rng.choice(with_papers)
        item = items[at]
        paper = replace(item.papers[0], title=f"{item.papers[0].title} {word}")
        items[at] = replace(item, papers=(paper, *item.papers[1:]))
    elif kind == "several":
        for n in rng.sample(range(len(items)), 3):
            items[n] = replace(items[n], abstract_text=f"{items[n].abstract_text} {word}")
    return items


def test_a_patched_index_gives_the_full_weighings_files_edit_after_edit(
    items: list[Item],
) -> None:
    rng = random.Random(7)
    assert any(item.papers for item in items)
    _, light = _full(items)
    patched = declined = 0
    for _ in range(60):
        items = _edited(items, rng)
        full, fresh = _full(items)
        made = _patched(light, items)
        if made is None:
            # Left to the full weighing (the average moved too far, say): its state goes on.
            declined += 1
            light = fresh
            continue
        files, light = made
        assert files == full
        patched += 1
        # Each state goes through what saving and loading it does.
        light = pickle.loads(pickle.dumps(light))
    assert patched > 40, (patched, declined)


def test_what_the_patch_cannot_serve_is_left_to_the_full_weighing(items: list[Item]) -> None:
    _, light = _full(items)
    with_paper = next(n for n, item in enumerate(items) if item.papers)
    item = items[with_paper]
    paper = replace(item.papers[0], id=f"{item.papers[0].id}-more", title="One paper more")
    more_papers = [*items]
    more_papers[with_paper] = replace(item, papers=(*item.papers, paper))
    assert _patched(light, more_papers) is None
    assert _patched(light, items[1:]) is None
    assert _patched(light, [*items, replace(items[0], id="copy")]) is None
    many = [replace(i, title=i.title + " x") for i in items[: search_light.MOST_ITEMS + 1]]
    assert _patched(light, [*many, *items[len(many) :]]) is None
    # One more edit than the tolerances kept can cover: the average moved too far.
    longer = [*items]
    longer[0] = replace(items[0], abstract_text=" ".join(["lengthy"] * 5000))
    assert _patched(light, longer) is None


def test_a_posting_whose_rounded_weight_moves_is_within_its_fields_tolerance(
    items: list[Item],
) -> None:
    """The bound the patch relies on: once a field's average length moves by d, every posting
    of another document whose rounded weight changed has a tolerance of at most d."""
    state = _state(items)
    index = weigh(FIELDS, state.postings)
    light = light_state(state, index, ("",) * len(index.terms))
    text = list(FIELDS).index("text")
    tolerances = light.tolerances[text]
    reach = len(tolerances.tolerances)
    kept = {
        (tolerances.terms[n], tolerances.documents[n]): tolerances.tolerances[n]
        for n in range(reach)
    }
    ids = {term: number for number, term in enumerate(state.postings.vocabulary)}
    term_ids = np.repeat([ids[t] for t in index.terms], np.diff(index.starts[:: len(FIELDS)]))
    runs = np.repeat(np.arange(len(index.starts) - 1), np.diff(index.starts))
    documents = index.document_count
    edited = 3
    checked = 0
    for added in (1, 3, 8, 20):
        lengths = state.postings.lengths.copy()
        lengths[edited, text] += added
        moved = weigh(FIELDS, replace(state.postings, lengths=lengths))
        drift = added / documents
        changed = np.flatnonzero(
            (moved.weights != index.weights)
            & (runs % len(FIELDS) == text)
            & (index.positions != edited)
        )
        for k in changed.tolist():
            key = (int(term_ids[k]), int(index.positions[k]))
            assert key in kept or tolerances.reach <= drift, key
            assert kept.get(key, tolerances.reach) <= drift
            checked += 1
    assert checked > 50


def test_a_rebuild_after_a_one_file_edit_never_imports_numpy(tmp_path: Path) -> None:
    """Not in the build's process, nor in any worker it forks: the search stage patches the
    last build's index."""
    site = tmp_path / "site"
    content = generate(site, 400)
    command = [
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "pipeline",
        "build",
        "--content",
        str(content),
        "--out",
        str(tmp_path / "dist"),
        "--config",
        str(site / "pipeline.toml"),
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    env.pop("PIPELINE_NO_CACHE", None)  # the tests' default

    def imported() -> set[str]:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
        return {line.rsplit("|", 1)[1].strip() for line in lines}

    assert "numpy" in imported()
    edited = sorted(content.rglob("*.md"))[200]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nRevised.\n", encoding="utf-8")
    modules = imported()
    assert "pipeline.search_light" in modules
    assert "numpy" not in modules


def test_a_value_past_what_the_states_arrays_hold_is_left_to_the_full_weighing(
    items: list[Item], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frequencies are kept in 16 bits where they fit: a word written 70,000 times does not."""
    _, light = _full(items)
    assert light.tfs.typecode == "H"
    # Wherever the average goes, the tolerances would cover it.
    monkeypatch.setattr(search_light, "MAX_DRIFT", float("inf"))
    monkeypatch.setattr(search_light, "MOST_REWEIGHED", 10**9)
    unbounded = tuple(replace(t, reach=float("inf")) for t in light.tolerances)
    light = replace(light, tolerances=unbounded)
    repeated = [*items]
    repeated[0] = replace(items[0], abstract_text=" ".join(["lengthy"] * 70_000))
    with pytest.raises(OverflowError):
        search_light._doc_major(search_light._Patch(light), {0: _item_search(repeated[0])})
    assert _patched(light, repeated) is None


@pytest.mark.parametrize("parallel", [False, True])
def test_a_run_of_rebuilds_each_writes_what_a_plain_build_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """Edits one after another, patched or weighed whole in turn (a paper added is left to the
    full weighing), in a real build, with its early search worker or in one process: each
    rebuild's site is byte for byte a build's from no cache."""
    from pipeline import read_cache
    from pipeline.build import build

    from .test_rebuild import _assert_a_plain_build_writes_the_same

    site = tmp_path / "site"
    content = generate(site, 320)
    config = site / "pipeline.toml"
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS", 0)
    if not parallel:
        monkeypatch.setenv("PIPELINE_NO_PARALLEL", "1")
    # What each build's search stage did (seen here only when it runs in this process).
    patched: list[bool] = []
    original = search_light.rebuilt

    def noting(*args: Any) -> Any:
        made = original(*args)
        patched.append(made is not None)
        return made

    monkeypatch.setattr(search_light, "rebuilt", noting)
    import pipeline.search_index

    monkeypatch.setattr(pipeline.search_index, "rebuilt", noting)
    files = sorted(content.rglob("*.md"))
    with_papers = next(f for f in files if "papers:" in f.read_text(encoding="utf-8"))

    def appended(path: Path, text: str) -> None:
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    def paper_added(path: Path) -> None:
        text = path.read_text(encoding="utf-8")
        paper = '    - title: "One paper more"\n      authors: "A. Author"\n'
        path.write_text(text.replace("papers:\n", "papers:\n" + paper, 1), encoding="utf-8")

    edits = [
        lambda: appended(files[100], "\nRevised.\n"),
        lambda: appended(files[7], "\nQuokkaberry zyzzogeton.\n"),
        lambda: paper_added(with_papers),
        lambda: appended(files[200], "\nRevised again, quokkaberry.\n"),
    ]
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    for number, edit in enumerate(edits):
        edit()
        build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
        plain = tmp_path / f"plain-{number}"
        _assert_a_plain_build_writes_the_same(monkeypatch, content, config, out, plain)
    if not parallel:
        # The cold build has no state; the paper added makes the full weighing run.
        assert patched == [True, True, False, True]
