"""The benchmark machinery on a tiny site (no Chromium, no Node): it generates, builds, measures."""

from __future__ import annotations

from pathlib import Path

from bench.generate import generate
from bench.run import run_size, table


def test_generator_is_deterministic(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", 30)
    second = generate(tmp_path / "b", 30)
    files = sorted(p.relative_to(first) for p in first.rglob("*.md"))
    assert len(files) == 30
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    words = len((first / files[0]).read_text(encoding="utf-8").split())
    assert 180 < words < 320


def test_run_and_table_without_browser_or_references(tmp_path: Path) -> None:
    row = run_size(50, tmp_path, browser=False, refs=False)
    assert row["cold"]["items"] == 50
    assert row["index"]["raw"] > row["index"]["gzip"] > 0
    assert "read.check" in row["cold"]["stages"]
    # The build in a running `pipeline serve` is timed without the imports it already paid.
    assert row["resident"]["items"] == 50 and row["resident"]["import"] == 0
    text = table([row])
    assert "| full build, cold (s), median (range) of 3 |" in text
    assert len(row["cold"]["runs"]) == 3
    assert "| rebuild after a one-file edit (s), median (range) of 9 |" in text
    assert "| rebuild in a running `pipeline serve` (s), median (range) of 9 |" in text
    assert len(row["rebuild"]["runs"]) == len(row["resident"]["runs"]) == 9
    assert "N = 50" in text
