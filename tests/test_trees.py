"""The writer keeps the tree it replaced as the next build's staging folder, and trusts a file
there (or in dist/) only while its manifest entry and its status prove what it holds."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from pipeline import digests, output_cache, syscalls, trees
from pipeline.output_cache import cache_folder, previous_output
from pipeline.write import write_tree


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _site(version: str, count: int = 30) -> dict[str, bytes]:
    files = {f"calendar/items/{n}.ics": f"item {n}".encode() for n in range(count)}
    files["index.html"] = f"page {version}".encode()
    files["talks.json"] = f'{{"version": "{version}"}}'.encode()
    return files


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the writer writes (rather than keeps or links)."""
    names: list[str] = []
    original = trees._write

    def counting(target: str, source: trees.Source, digest: str) -> trees.Written:
        names.append(target)
        return original(target, source, digest)

    monkeypatch.setattr(trees, "_write", counting)
    return names


def test_the_replaced_tree_is_kept_and_brought_up_to_date(
    tmp_path: Path, written: list[str]
) -> None:
    out = tmp_path / "dist"
    spare = tmp_path / ".dist.spare"
    write_tree(out, _site("1"), {})
    assert len(written) == 32
    # A first build leaves a spare of links to its own files.
    assert _tree(spare) == _site("1")
    assert (spare / "index.html").stat().st_ino == (out / "index.html").stat().st_ino
    written.clear()
    # The second build starts from it, keeps every unchanged file and writes the two that
    # changed.
    write_tree(out, _site("2"), {})
    assert sorted(Path(p).name for p in written) == ["index.html", "talks.json"]
    assert _tree(out) == _site("2") and _tree(spare) == _site("1")
    written.clear()
    # The third starts from the spare (the first tree) and writes only what differs from it.
    third = {**_site("3"), "new.txt": b"new"}
    del third["calendar/items/0.ics"]
    write_tree(out, third, {})
    assert sorted(Path(p).name for p in written) == ["index.html", "new.txt", "talks.json"]
    assert _tree(out) == third and _tree(spare) == _site("2")
    assert sorted(p.name for p in tmp_path.iterdir() if ".staging-" in p.name) == []


def test_a_file_changed_behind_the_writers_back_is_written_again(
    tmp_path: Path, written: list[str]
) -> None:
    out = tmp_path / "dist"
    spare = tmp_path / ".dist.spare"
    for version in "121":
        write_tree(out, _site(version), {})
    # dist/ and the spare share this file's inode: an edit in place changes both names.
    shared = out / "calendar/items/3.ics"
    assert shared.stat().st_ino == (spare / "calendar/items/3.ics").stat().st_ino
    with open(shared, "r+b") as handle:
        handle.write(b"ITEM")
    os.utime(shared, ns=(0, 5))
    # A file of the spare replaced by another of the same size.
    (spare / "calendar/items/4.ics").unlink()
    (spare / "calendar/items/4.ics").write_bytes(b"item X")
    written.clear()
    write_tree(out, _site("2"), {})
    assert _tree(out) == _site("2")
    # The spare already held version 2 of the page and the feed; 4.ics is linked from dist/,
    # whose copy its entry still proves; 3.ics is proven nowhere, so it is written.
    assert sorted(Path(p).name for p in written) == ["3.ics"]


def test_what_is_added_to_the_spare_is_removed(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    for version in "12":
        write_tree(out, _site(version), {})
    spare = tmp_path / ".dist.spare"
    (spare / "extra" / "deep").mkdir(parents=True)
    (spare / "extra" / "deep" / "f.txt").write_text("stray")
    (spare / "calendar" / "link").symlink_to(tmp_path)
    (spare / "index.html").unlink()
    (spare / "index.html").mkdir()  # a folder where a file belongs
    write_tree(out, _site("3"), {})
    assert _tree(out) == _site("3")
    assert not (out / "extra").exists() and not (out / "calendar" / "link").is_symlink()


def test_a_worker_clears_what_stands_in_its_files_way(tmp_path: Path) -> None:
    """A worker's filler (not walked) looks each folder up once, not for every file in it: a
    file, a link or a folder where its files or their folders go is still taken away first,
    and nothing is written through a link."""
    root, outside = tmp_path / "staging", tmp_path / "outside"
    (root / "cards").mkdir(parents=True)
    (root / "cards" / "0.js").write_text("stale")
    (root / "calendar").write_text("a file where a folder goes")
    outside.mkdir()
    (root / "terms").symlink_to(outside)
    (root / "feed.json").mkdir()  # a folder where a file goes
    filler = trees.Filler(
        str(root),
        lambda r: str(root / r),
        {},
        str(tmp_path / "dist"),
        None,
        lambda *_: False,
        walked=False,
    )
    files = {f"calendar/items/{n}.ics": f"item {n}".encode() for n in range(20)}
    files |= {f"cards/{n}.js": f"cards {n}".encode() for n in range(3)}
    files |= {f"terms/{n}.js": f"terms {n}".encode() for n in range(3)}
    files["feed.json"] = b"{}"
    filler.put(files, {})
    assert _tree(root) == files
    assert not (root / "terms").is_symlink() and not any(outside.iterdir())
    assert set(filler.manifest) == set(files)


def test_without_a_manifest_nothing_is_trusted(tmp_path: Path, written: list[str]) -> None:
    out = tmp_path / "dist"
    for version in "12":
        write_tree(out, _site(version), {})
    trees.manifest_path(out).write_text("{not json")
    written.clear()
    write_tree(out, _site("1"), {})
    assert _tree(out) == _site("1")
    # No entry proves anything: the spare's files are replaced, by links to the same bytes in
    # dist/ (found by reading them, as for a dist/ an older version wrote) or by writing.
    assert sorted(Path(p).name for p in written) == ["index.html", "talks.json"]
    assert trees.load(out), "the manifest is written again"


def test_a_manifest_of_other_trees_is_not_used(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    write_tree(out, _site("1"), {})
    saved = trees.load(out)
    assert list(saved) == [trees.tree_key(out), trees.tree_key(tmp_path / ".dist.spare")]
    entries = saved[trees.tree_key(out)]
    assert entries["index.html"].digest == trees.digest_of(b"page 1")
    # Keyed by the root folder's identity, not its name: a new folder at the same path is
    # another tree.
    os.rename(out, tmp_path / "moved")
    out.mkdir()
    (out / "index.html").write_bytes(b"page 1")
    assert trees.tree_key(out) not in trees.load(out)


def test_a_file_removed_under_the_walk_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers put their files while this process walks the staging folder: a file a worker
    replaces between the listing and its status is missed, not an error."""
    (tmp_path / "sub").mkdir()
    for name in ("a", "b", "sub/c"):
        (tmp_path / name).write_bytes(b"x")
    listing = os.scandir

    class Listed:
        """The folder's entries as listed now, one file removed before they are looked at."""

        def __init__(self, folder: str) -> None:
            with listing(folder) as entries:
                self.entries = list(entries)
            if folder == str(tmp_path):
                (tmp_path / "a").unlink()

        def __enter__(self) -> list[os.DirEntry[str]]:
            return self.entries

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr(trees.os, "scandir", Listed)
    files, folders = trees.walk(str(tmp_path))
    assert sorted(files) == ["b", "sub/c"]
    assert folders == ["sub"]


def test_the_manifest_proves_a_previous_output_without_digesting_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "dist"
    write_tree(out, _site("1"), {})
    digest = hashlib.sha256(b"page 1").digest()
    with cache_folder(tmp_path / "cache", previous_site=out):
        with monkeypatch.context() as patched:
            patched.setattr(output_cache.hashlib, "sha256", _no_digest)
            assert previous_output("index.html", digest) == b"page 1"
        assert previous_output("index.html", hashlib.sha256(b"other").digest()) is None
        # Changed behind the writer's back (same size): its status no longer proves it, and
        # its digest gives it away.
        (out / "index.html").unlink()
        (out / "index.html").write_bytes(b"page 2")
        assert previous_output("index.html", digest) is None
        assert previous_output("index.html", hashlib.sha256(b"page 2").digest()) == b"page 2"


def _no_digest(data: bytes) -> Any:
    raise AssertionError("digested again")


def test_a_large_output_is_digested_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = hashlib.sha256

    def counting(data: bytes) -> Any:
        calls.append(len(data))
        return original(data)

    monkeypatch.setattr(digests.hashlib, "sha256", counting)
    large, small = b"x" * digests.WORTH_KEEPING, b"small"
    assert digests.sha256(large) == digests.sha256(large) == original(large).digest()
    assert trees.digest_of(large) == original(large).hexdigest()
    digests.sha256(small)
    digests.sha256(small)
    assert calls == [len(large), len(small), len(small)]
    # The same bytes in another object are digested again, and forget() lets them all go.
    digests.sha256(bytes(bytearray(large)))
    digests.forget()
    digests.sha256(large)
    assert calls[3:] == [len(large), len(large)]


def test_a_large_file_starts_on_its_way_to_the_disk_as_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []

    def noting(fd: int) -> None:
        started.append(os.fstat(fd).st_size)

    monkeypatch.setattr(syscalls, "start_writeback", noting)
    large = b"x" * trees.WRITEBACK_BYTES
    write_tree(tmp_path / "dist", {**_site("1"), "talks.json": large}, {})
    assert started == [len(large)]
    assert (tmp_path / "dist" / "talks.json").read_bytes() == large
