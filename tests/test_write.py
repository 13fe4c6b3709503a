"""Nothing lost: a build killed at any moment leaves the previous dist/ complete, two builds at
once never mix their trees, and the writer never replaces a folder it did not make."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.errors import PipelineError
from pipeline.write import build_lock, lock_path, write_tree

REPO = Path(__file__).resolve().parents[1]
ITEMS = 300
ASSETS = 40  # 40 × 256 kB to copy and fsync: the write phase is long enough to land kills in


def _make_site(root: Path, version: str) -> Path:
    """300 items and 40 slide files; `version` changes every title and every asset."""
    content = root / "content"
    for index in range(ITEMS):
        edition = f"conf-{20 + index % 3}"
        folder = content / edition
        folder.mkdir(parents=True, exist_ok=True)
        hour, minute = 8 + (index // 6) % 10, (index % 6) * 10
        slides = f"presentation: slides-{index % ASSETS}.pdf\n" if index < ASSETS * 3 else ""
        (folder / f"talk-{index:03d}.md").write_text(
            f"---\nedition: {edition}\ntype: talk\n"
            f"time_start: 2024-06-{10 + index // 60} {hour:02d}:{minute:02d}:00\n"
            f"time_end: 2024-06-{10 + index // 60} {hour:02d}:{minute + 5:02d}:00\n"
            f"title: Talk {index} on sparse models, {version}\n"
            f"speaker:\n    name: Speaker {index}\n    affiliation: University {index % 17}\n"
            f"{slides}---\nAbstract {index} of {version}: pruning, quantization and energy.\n"
        )
    for edition in ("conf-20", "conf-21", "conf-22"):
        for number in range(ASSETS):
            data = (f"{version} {edition} {number} ".encode() * 20_000)[: 256 * 1024]
            (content / edition / f"slides-{number}.pdf").write_bytes(data)
    return content


def _build_command(content: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "pipeline", "build", "--content", str(content), "--out", str(out)]


_FROZEN: list[Path] = []


def _env() -> dict[str, str]:
    return {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "PYTHONPATH": str(_FROZEN[0])}


def _freeze(root: Path) -> Path:
    """A copy of the package, templates, static files and lunr.js, so every build in this module
    runs the same code even while someone edits the checkout (the trees are compared byte for
    byte)."""
    ignore = shutil.ignore_patterns("__pycache__")
    for part in ("pipeline", "templates", "static"):
        shutil.copytree(REPO / part, root / part, ignore=ignore)
    (root / "node_modules" / "lunr").mkdir(parents=True)
    shutil.copy2(REPO / "node_modules" / "lunr" / "lunr.js", root / "node_modules" / "lunr")
    return root


def _run(content: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _build_command(content, out), env=_env(), capture_output=True, text=True, timeout=300
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Sites A and B, and their reference builds (complete trees as path -> bytes)."""
    root = tmp_path_factory.mktemp("sites")
    _FROZEN[:] = [_freeze(tmp_path_factory.mktemp("frozen"))]
    made: dict[str, object] = {}
    for version in ("A", "B"):
        content = _make_site(root / version, version)
        out = root / version / "reference"
        result = _run(content, out)
        assert result.returncode == 0, result.stderr
        made[version] = content
        made[f"tree-{version}"] = _snapshot(out)
    assert made["tree-A"] != made["tree-B"]
    return made


def _which(tree: dict[str, bytes], sites: dict[str, object]) -> str:
    if tree == sites["tree-A"]:
        return "A"
    if tree == sites["tree-B"]:
        return "B"
    a = sites["tree-A"]
    assert isinstance(a, dict)
    missing = sorted(set(a) - set(tree))[:5]
    extra = sorted(set(tree) - set(a))[:5]
    raise AssertionError(
        f"dist/ is neither tree: {len(tree)} files, missing {missing}, extra {extra}"
    )


def _staging(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.staging-*"))


def test_a_build_killed_at_any_moment_leaves_a_complete_tree(
    sites: dict[str, object], tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    content_a, content_b = sites["A"], sites["B"]
    assert isinstance(content_a, Path) and isinstance(content_b, Path)
    moments: list[float | str] = [0.05, 0.2, 0.5, 1.0, "staging", "staging+0.02", "staging+0.1"]
    landed_in_write = 0
    for moment in moments:
        if not out.exists() or _which(_snapshot(out), sites) != "A":
            assert _run(content_a, out).returncode == 0
        process = subprocess.Popen(
            _build_command(content_b, out),
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            if isinstance(moment, float):
                time.sleep(moment)
            else:
                deadline = time.monotonic() + 120
                while not _staging(out) and process.poll() is None:
                    assert time.monotonic() < deadline
                    time.sleep(0.001)
                if "+" in moment:
                    time.sleep(float(moment.split("+")[1]))
            writing = bool(_staging(out))
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=60)
        landed_in_write += writing and process.returncode == -signal.SIGKILL
        # Whatever the moment, dist/ is the whole old tree or the whole new one.
        _which(_snapshot(out), sites)
    assert landed_in_write >= 2, "no kill landed while the staging folder existed"
    # The next build succeeds, and leaves no staging or backup folder behind.
    result = _run(content_b, out)
    assert result.returncode == 0, result.stderr
    assert _which(_snapshot(out), sites) == "B"
    assert _staging(out) == []
    assert not (tmp_path / ".dist.previous").exists()


def test_two_builds_at_once_never_mix_trees(sites: dict[str, object], tmp_path: Path) -> None:
    content_a, content_b = sites["A"], sites["B"]
    assert isinstance(content_a, Path) and isinstance(content_b, Path)
    out = tmp_path / "dist"
    losers = 0
    for _round in range(3):
        processes = [
            subprocess.Popen(
                _build_command(content, out),
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for content in (content_a, content_b)
        ]
        results = [(p.wait(timeout=300), p.communicate()[1]) for p in processes]
        for code, stderr in results:
            if code != 0:
                # The only acceptable failure is the lock, and it says so.
                assert "another build is writing" in stderr, stderr
                losers += 1
        assert any(code == 0 for code, _ in results)
        _which(_snapshot(out), sites)
        assert _staging(out) == []
    print(f"builds that lost the lock: {losers} of 6")


def test_a_second_build_fails_at_once_with_the_lock_message(
    sites: dict[str, object], tmp_path: Path
) -> None:
    content_b = sites["B"]
    assert isinstance(content_b, Path)
    out = tmp_path / "dist"
    with build_lock(out):
        result = _run(content_b, out)
    assert result.returncode == 1
    assert f"another build is writing {out} (pid {os.getpid()}" in result.stderr
    assert "wait for it to finish" in result.stderr
    assert not out.exists()
    assert lock_path(out) == tmp_path / ".dist.lock"


# -- the writer on its own ---------------------------------------------------------------------


def test_write_tree_replaces_exactly(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    write_tree(out, {"index.html": b"1", "old.txt": b"x"}, {})
    source = tmp_path / "photo.jpg"
    source.write_bytes(b"jpg")
    write_tree(out, {"index.html": b"2", "a/b.json": b"{}"}, {"media/photo.jpg": source})
    assert _snapshot(out) == {"index.html": b"2", "a/b.json": b"{}", "media/photo.jpg": b"jpg"}
    assert _staging(out) == []


def test_stale_staging_folders_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    stale = tmp_path / ".dist.staging-killed"
    (stale / "sub").mkdir(parents=True)
    (stale / "sub" / "f").write_text("left by a killed build")
    link = tmp_path / ".dist.staging-link"
    link.symlink_to(tmp_path / "elsewhere")
    write_tree(out, {"index.html": b"ok"}, {})
    assert _staging(out) == []


def test_replaced_files_are_deleted_and_a_killed_builds_trash_too(tmp_path: Path) -> None:
    """A file a build replaces is moved aside and deleted once the site is in; a killed
    build's trash folder is removed by the next build."""
    out = tmp_path / "dist"
    for version in "1234":
        write_tree(out, {"index.html": version.encode(), "big.json": version.encode() * 1000}, {})
    stale = tmp_path / ".dist.trash-killed"
    stale.mkdir()
    (stale / "1-0").write_text("left by a killed build")
    write_tree(out, {"index.html": b"5", "big.json": b"5"}, {})
    assert _snapshot(out) == {"index.html": b"5", "big.json": b"5"}
    beside = sorted(p.name for p in tmp_path.iterdir())
    assert beside == [".dist.manifest.json", ".dist.spare", "dist"]


def test_a_backup_left_between_two_renames_is_restored(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    backup = tmp_path / ".dist.previous"
    backup.mkdir()
    (backup / "index.html").write_text("old")
    write_tree(out, {"index.html": b"new"}, {})
    assert (out / "index.html").read_bytes() == b"new"
    assert not backup.exists()


def test_a_folder_that_is_not_a_site_is_never_replaced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(PipelineError, match=r"not empty and holds no index\.html"):
        write_tree(home, {"index.html": b"x"}, {})
    assert (home / "thesis.tex").read_text() == "years of work"


def test_the_content_folder_is_never_replaced(tmp_path: Path) -> None:
    content = tmp_path / "site" / "content"
    content.mkdir(parents=True)
    (content / "index.html").write_text("an author's page")
    for out in (content, tmp_path / "site", tmp_path):
        with pytest.raises(PipelineError, match="holds the content folder"):
            write_tree(out, {"index.html": b"x"}, {}, protect=[content])
    assert (content / "index.html").read_text() == "an author's page"


def test_a_file_in_the_way_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    out.write_text("a file")
    with pytest.raises(PipelineError, match="is not a folder"):
        write_tree(out, {"index.html": b"x"}, {})


def test_a_linked_dist_is_updated_where_it_points(tmp_path: Path) -> None:
    target = tmp_path / "www" / "site"
    write_tree(target, {"index.html": b"1"}, {})
    link = tmp_path / "dist"
    link.symlink_to(target, target_is_directory=True)
    write_tree(link, {"index.html": b"2"}, {})
    assert link.is_symlink()
    assert (target / "index.html").read_bytes() == b"2"


def test_paths_outside_the_output_are_refused(tmp_path: Path) -> None:
    for bad in ("../escape.txt", "/etc/x", "a/../../b"):
        with pytest.raises(PipelineError, match="outside the output folder"):
            write_tree(tmp_path / "dist", {bad: b"x"}, {})
    assert not (tmp_path / "escape.txt").exists()


def test_a_vanished_source_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    write_tree(out, {"index.html": b"old"}, {})
    with pytest.raises(PipelineError, match="disappeared during the build"):
        write_tree(out, {"index.html": b"new"}, {"media/x.pdf": tmp_path / "gone.pdf"})
    assert (out / "index.html").read_bytes() == b"old"
    assert _staging(out) == []
