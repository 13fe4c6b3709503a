"""On a rebuild the search stage starts in a worker before the content is read
(early_search.py): the site it writes is byte for byte a plain build's, whatever the edit."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate
from pipeline import early_search, forks, read_cache
from pipeline.build import BuildOptions, build
from pipeline.cache import CACHE_DIR
from pipeline.errors import ContentError
from pipeline.parallel import MIN_ITEMS, Early

two_cores = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="workers need two cores")


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BuildOptions:
    """A generated site built once with caches, its search state counted big enough for the
    early worker, and the hand-overs recorded in `handed`."""
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS", 0)
    monkeypatch.setattr(early_search, "MIN_STATE_BYTES", 0)
    content = generate(tmp_path / "site", MIN_ITEMS + 20)
    options = BuildOptions(content, tmp_path / "site" / "dist", tmp_path / "site" / "pipeline.toml")
    build(options)
    return options


@pytest.fixture
def handed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each early worker decided, as the build heard it (False: it declined)."""
    outcomes: list[bool] = []
    original = early_search.settle

    def recording(*args: Any) -> bool | None:
        outcome = original(*args)
        if outcome is not None:
            outcomes.append(outcome)
        return outcome

    monkeypatch.setattr(early_search, "settle", recording)
    return outcomes


def _plain(options: BuildOptions, monkeypatch: pytest.MonkeyPatch, out: Path) -> dict[str, bytes]:
    monkeypatch.setenv("PIPELINE_NO_CACHE", "1")
    build(BuildOptions(options.content_dir, out, options.config_path))
    monkeypatch.delenv("PIPELINE_NO_CACHE")
    return _tree(out)


def _markdown(options: BuildOptions) -> list[Path]:
    return sorted(options.content_dir.rglob("*.md"))


@two_cores
def test_an_edit_is_searched_by_the_early_worker_as_by_a_plain_build(
    site: BuildOptions, handed: list[bool], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    files = _markdown(site)
    edited = files[len(files) // 2]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nQuasarwort.\n", encoding="utf-8")
    files[3].unlink()
    build(site)
    assert handed == [True]
    assert _tree(site.out_dir) == _plain(site, monkeypatch, tmp_path / "plain")
    # The early worker saved its state after handing its files over; the next build uses it.
    build(site)
    assert handed == [True, True]
    assert _tree(site.out_dir) == _tree(tmp_path / "plain")


@two_cores
def test_the_early_worker_asks_for_an_item_it_lacks_and_was_not_offered(
    site: BuildOptions, handed: list[bool], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The build offers the items it read afresh; an item whose part the search state lacks
    though the read cache had it (a state older than the read cache) is asked for."""
    asked: list[list[int]] = []
    original_offer, original_receive = early_search.offer, Early.receive

    def offering_nothing(*args: Any) -> bool:
        return original_offer(*args[:-1], ())

    def recording(early: Early) -> Any:
        reply = original_receive(early)
        if isinstance(reply, list):
            asked.append(reply)
        return reply

    monkeypatch.setattr(early_search, "offer", offering_nothing)
    monkeypatch.setattr(Early, "receive", recording)
    files = _markdown(site)
    edited = files[len(files) // 3]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nQuasarwort.\n", encoding="utf-8")
    build(site)
    assert handed == [True]
    assert [len(numbers) for numbers in asked] == [1]
    assert _tree(site.out_dir) == _plain(site, monkeypatch, tmp_path / "plain")


@two_cores
def test_no_offer_when_most_items_were_read_afresh(
    site: BuildOptions, handed: list[bool], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Handing most items over costs more than forking: after every item changed the early
    worker is ended at once, and the stage starts with the others, as on a cold build."""
    offers: list[bool] = []
    original = early_search.offer

    def recording(*args: Any) -> bool:
        offers.append(original(*args))
        return offers[-1]

    monkeypatch.setattr(early_search, "offer", recording)
    for path in _markdown(site):
        path.write_text(path.read_text(encoding="utf-8") + "\nRevised.\n", encoding="utf-8")
    build(site)
    assert offers == [False]
    assert handed == []
    assert _tree(site.out_dir) == _plain(site, monkeypatch, tmp_path / "plain")


@two_cores
def test_the_early_worker_declines_when_its_state_lacks_most_items(
    site: BuildOptions, handed: list[bool], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A state lacking most items though the read cache has them (say, a state from another
    site copied in): the worker declines once offered, and its stage is queued for the
    build's other workers."""
    from pipeline.search_index import SearchStage

    monkeypatch.setattr(SearchStage, "missing", lambda _self, tokens: list(range(len(tokens))))
    files = _markdown(site)
    edited = files[len(files) // 2]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nQuasarwort.\n", encoding="utf-8")
    build(site)
    assert handed == [False]
    assert _tree(site.out_dir) == _plain(site, monkeypatch, tmp_path / "plain")


@two_cores
def test_a_content_error_ends_the_early_worker_and_writes_nothing(
    site: BuildOptions, handed: list[bool]
) -> None:
    before = _tree(site.out_dir)
    broken = _markdown(site)[5]
    broken.write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    with pytest.raises(ContentError):
        build(site)
    assert handed == []
    assert _tree(site.out_dir) == before
    # Every child was waited for: none is left running.
    assert forks.unreaped() == frozenset()


@two_cores
def test_a_failure_in_the_early_worker_fails_the_build_and_writes_nothing(
    site: BuildOptions, handed: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's exception reaches the build, with the worker's traceback as a note, even
    when the worker has ended before the build tells it where to put its files."""
    import time

    from pipeline.search_index import SearchStage

    def broken(*_args: Any) -> None:
        raise ValueError("the search stage broke")

    settle = early_search.settle

    def late(early: Early, *args: Any) -> bool | None:
        if early.speaking():
            time.sleep(0.5)  # the worker fails and ends meanwhile
        return settle(early, *args)

    monkeypatch.setattr(SearchStage, "outputs", broken)
    monkeypatch.setattr(early_search, "settle", late)
    before = _tree(site.out_dir)
    edited = _markdown(site)[7]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nQuasarwort.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="the search stage broke") as raised:
        build(site)
    assert handed == [True]
    assert any("in a worker" in note for note in raised.value.__notes__)
    assert _tree(site.out_dir) == before
    assert forks.unreaped() == frozenset()


def test_the_survey_reads_what_a_scan_reads(site: BuildOptions) -> None:
    """The early worker's survey of the content folder (read_cache.survey) stands for the
    build's own scan: the same files, items and problems."""
    from pipeline.config import load_config
    from pipeline.output_cache import cache_folder
    from pipeline.read import read_content

    (site.content_dir / "drafts").mkdir()
    (site.content_dir / "drafts" / "broken.md").write_text("no frontmatter\n", encoding="utf-8")
    config = load_config(site.config_path)
    root = site.content_dir.resolve()
    results = []
    for surveyed in (None, read_cache.survey(site.content_dir)):
        with cache_folder(site.content_dir.parent / CACHE_DIR):
            cache = read_cache.ReadCache(root, config)
            results.append(read_content(site.content_dir, config, cache, surveyed))
    scanned, surveyed_result = results
    assert surveyed_result.files == scanned.files
    assert surveyed_result.items == scanned.items
    assert surveyed_result.problems == scanned.problems
    assert len(scanned.items) == MIN_ITEMS + 20
    assert any("broken.md" in problem.path for problem in scanned.problems)


def test_no_early_worker_without_a_cache(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(Path(__file__).parent.parent / "content", content)
    assert early_search.start(content, None) is None
    assert early_search.start(content, tmp_path / "no-cache") is None


@two_cores
def test_a_failure_in_the_builds_own_stages_ends_the_early_worker_and_writes_nothing(
    site: BuildOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early worker is told where to put its files before the build's own stages run:
    when one of them fails, the worker is ended, and neither its files nor the staging
    folder are left anywhere."""
    from pipeline import outputs

    def broken(_program: object) -> dict[str, bytes]:
        raise ValueError("a stage of the build broke")

    monkeypatch.setattr(outputs, "DEFAULT_STAGES", (*outputs.DEFAULT_STAGES, broken))
    before = _tree(site.out_dir)
    beside = sorted(p.name for p in site.out_dir.parent.iterdir())
    edited = _markdown(site)[7]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nQuasarwort.\n", encoding="utf-8")
    with pytest.raises(ValueError, match="a stage of the build broke"):
        build(site)
    assert _tree(site.out_dir) == before
    # Nothing new beside it (the spare tree the staging folder was made of is gone with it).
    assert {p.name for p in site.out_dir.parent.iterdir()} <= set(beside)
    assert forks.unreaped() == frozenset()


@two_cores
def test_the_early_worker_keeps_the_search_files_an_edit_left_alone(
    site: BuildOptions, handed: list[bool]
) -> None:
    """It is told what the trees' manifests say of its files: those an edit did not change
    are kept, linked from the last build's (one inode, two trees), not written again."""
    edited = _markdown(site)[7]
    for word in ("Quasarwort.", "Quasarwurst."):
        edited.write_text(edited.read_text(encoding="utf-8") + f"\n{word}\n", encoding="utf-8")
        build(site)
    assert handed == [True, True]
    spare = site.out_dir.parent / ".dist.spare"
    cards = sorted((site.out_dir / "search" / "cards").iterdir())
    shared = [
        card
        for card in cards
        if card.stat().st_ino == (spare / card.relative_to(site.out_dir)).stat().st_ino
    ]
    # One item changed, so one cards file at most did; the others are one file in both trees.
    assert len(cards) > 3
    assert len(shared) >= len(cards) - 1


def _niceness_recorded(monkeypatch: pytest.MonkeyPatch, record: Path) -> None:
    """Each worker that lowers its priority appends by how much to `record` (a forked worker
    writes to the file: its memory is its own)."""

    def recording(increment: int) -> int:
        with record.open("a", encoding="utf-8") as handle:
            handle.write(f"{increment}\n")
        return increment

    monkeypatch.setattr(os, "nice", recording)


@two_cores
def test_the_other_workers_yield_the_cores_to_the_early_worker(
    site: BuildOptions, handed: list[bool], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Its stage is a rebuild's longest path; theirs (feeds, calendars) have time to spare."""
    from pipeline.parallel import YIELDING_NICENESS

    record = tmp_path / "niceness"
    _niceness_recorded(monkeypatch, record)
    files = _markdown(site)
    files[5].write_text(files[5].read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    build(site)
    assert handed == [True]
    assert record.read_text(encoding="utf-8").split() == [str(YIELDING_NICENESS)]
    # Without an early worker (here, no cache), the workers run the search stage: they keep
    # their priority.
    record.unlink()
    monkeypatch.setenv("PIPELINE_NO_CACHE", "1")
    build(BuildOptions(site.content_dir, tmp_path / "plain", site.config_path))
    assert not record.exists()
