"""Golden files for dist/: every generated file of a small site, byte for byte.

Regenerate after an intended change with:

    PIPELINE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden.py

then read the diff (git diff tests/golden) before committing it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

SITE = REPO / "tests" / "fixtures" / "golden_site"
GOLDEN = REPO / "tests" / "golden" / "mini"
# Copied unchanged from static/ and node_modules/: checked against their sources instead.
COPIED_ASSETS = "assets/"
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z, a fixed build time


def build_in_subprocess(out: Path, content: Path = SITE / "content", **env: str) -> None:
    """Build in a fresh interpreter, so locale, time zone and hash seed come from `env` alone."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "build",
            "--content",
            str(content),
            "--out",
            str(out),
        ],
        env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith(COPIED_ASSETS)
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden") / "dist"
    build_in_subprocess(out, LANG="C.UTF-8", TZ="UTC", PYTHONHASHSEED="1")
    return out


def test_dist_matches_the_golden_files(built: Path) -> None:
    actual = tree(built)
    if os.environ.get("PIPELINE_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in actual.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    expected = tree(GOLDEN)
    assert sorted(actual) == sorted(expected), "files added or removed: regenerate and review"
    changed = [name for name in expected if actual[name] != expected[name]]
    assert not changed, f"changed outputs (see the module docstring to regenerate): {changed}"


def test_build_is_byte_identical_under_another_locale_time_zone_and_hash_seed(
    built: Path, tmp_path: Path
) -> None:
    other = tmp_path / "dist"
    build_in_subprocess(
        other, LANG="de_DE.UTF-8", LC_ALL="C", TZ="Asia/Kolkata", PYTHONHASHSEED="977"
    )
    assert tree(other) == tree(built)


def test_copied_assets_are_the_sources(built: Path) -> None:
    for source in sorted((REPO / "static").iterdir()):
        assert (built / "assets" / source.name).read_bytes() == source.read_bytes()
    lunr = REPO / "node_modules" / "lunr" / "lunr.js"
    assert (built / "assets" / "lunr.js").read_bytes() == lunr.read_bytes()


def test_building_the_sample_twice_gives_identical_trees(tmp_path: Path) -> None:
    for name in ("first", "second"):
        build_in_subprocess(tmp_path / name, REPO / "content", PYTHONHASHSEED="random")
    first, second = tree(tmp_path / "first"), tree(tmp_path / "second")
    assert first == second
    assert "index.html" in first and "search/manifest.js" in first
