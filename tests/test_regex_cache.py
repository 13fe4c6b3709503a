"""Compiled regular expressions kept from one build to the next (pipeline/regex_cache.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import regex_cache

REPO = Path(__file__).resolve().parent.parent

# Unicode classes, named groups, flags given inline and as arguments, bytes, a verbose one.
PATTERNS: list[tuple[Any, int]] = [
    ("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", 0),
    (r"(?P<year>\d{4})-(?P<month>\d\d)(?:-(?P<day>\d\d))?", 0),
    (r"(?i)colour|color", 0),
    (r"^\s*talk\b", re.IGNORECASE | re.MULTILINE),
    (rb"[\x00-\x1f]+(?=x)", 0),
    (
        r"""
        (?P<scheme>https?://)   # scheme
        (?P<host>[\w.-]+)       # host
        """,
        re.VERBOSE,
    ),
]
SAMPLES = [
    "2024-06-01 and 2025-12",
    "Colour\ncolor\n  Talk about talks\nTALK",
    "see https://example.org/x and http://a-b.c",
    "\x01\ufffe\uffff \U0001f600 \x7f plain",
]


@pytest.fixture
def clean() -> Iterator[None]:
    """Each test starts and ends with the re module's cache empty and its compiler its own."""
    compile_before = re._compiler.compile  # type: ignore[attr-defined]
    re.purge()
    regex_cache._done.clear()
    yield
    re._compiler.compile = compile_before  # type: ignore[attr-defined]
    re._compiler._sre = regex_cache._sre  # type: ignore[attr-defined]
    re.purge()
    regex_cache._done.clear()


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every pattern the re module compiles from now on, in order."""
    compiled: list[Any] = []
    real = re._compiler.compile  # type: ignore[attr-defined]

    def counted(pattern: Any, flags: int = 0) -> Any:
        compiled.append(pattern)
        return real(pattern, flags)

    monkeypatch.setattr(re._compiler, "compile", counted)  # type: ignore[attr-defined]
    return compiled


def _behaviour(pattern: re.Pattern[Any]) -> list[Any]:
    out: list[Any] = [pattern.pattern, pattern.flags, pattern.groups, dict(pattern.groupindex)]
    for sample in SAMPLES:
        text: Any = sample.encode("utf-8") if isinstance(pattern.pattern, bytes) else sample
        out.append([(m.span(), m.groups()) for m in pattern.finditer(text)])
    return out


def _record(folder: Path) -> None:
    recorder = regex_cache.start(folder)
    assert recorder is not None
    try:
        for pattern, flags in PATTERNS:
            re.compile(pattern, flags)
        recorder.save()
    finally:
        recorder.stop()


def test_what_one_build_compiled_the_next_finds_compiled_and_the_same(
    tmp_path: Path, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = [_behaviour(re.compile(p, f)) for p, f in PATTERNS]
    re.purge()
    _record(tmp_path)
    assert (tmp_path / regex_cache.CACHE_NAME).is_file()
    re.purge()  # as in a new process
    regex_cache._done.clear()
    compiled = _counting(monkeypatch)
    recorder = regex_cache.start(tmp_path)
    assert recorder is not None
    try:
        restored = [_behaviour(re.compile(p, f)) for p, f in PATTERNS]
    finally:
        recorder.stop()
    assert compiled == []
    assert restored == fresh


def test_the_compiler_is_given_back_when_a_build_ends(tmp_path: Path, clean: None) -> None:
    compile_before = re._compiler.compile  # type: ignore[attr-defined]
    recorder = regex_cache.start(tmp_path)
    assert recorder is not None
    assert re._compiler.compile is not compile_before  # type: ignore[attr-defined]
    recorder.stop()
    assert re._compiler.compile is compile_before  # type: ignore[attr-defined]
    assert re._compiler._sre is regex_cache._sre  # type: ignore[attr-defined]
    assert re.compile("a(b)c").match("abc") is not None


@pytest.mark.parametrize("damage", ["garbage", "another_interpreter"])
def test_a_cache_it_cannot_trust_is_compiled_afresh(
    tmp_path: Path, clean: None, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    _record(tmp_path)
    re.purge()
    regex_cache._done.clear()
    saved = tmp_path / regex_cache.CACHE_NAME
    if damage == "garbage":
        data = bytearray(saved.read_bytes())
        data[-10] ^= 0xFF
        saved.write_bytes(bytes(data))
    else:
        monkeypatch.setattr(regex_cache, "_version", lambda: b"cpython-99;another")
    compiled = _counting(monkeypatch)
    recorder = regex_cache.start(tmp_path)
    assert recorder is not None
    try:
        behaviour = [_behaviour(re.compile(p, f)) for p, f in PATTERNS]
    finally:
        recorder.stop()
    assert len(compiled) == len(PATTERNS)
    re.purge()
    assert behaviour == [_behaviour(re.compile(p, f)) for p, f in PATTERNS]


_REBUILD_COUNTING = """
import os, re, sys
from pathlib import Path
from pipeline.build import BuildOptions, build
site = Path(sys.argv[1])
main, compiled = os.getpid(), []
real = re._compiler.compile
def counted(pattern, flags=0):
    if os.getpid() == main:
        compiled.append(pattern)
    return real(pattern, flags)
re._compiler.compile = counted
build(BuildOptions(content_dir=site / "content", out_dir=site / "dist"))
print(len(compiled))
"""


def test_a_rebuild_in_a_new_process_compiles_no_expression_the_last_build_did(
    tmp_path: Path,
) -> None:
    """PyYAML's, Jinja2's and tomllib's expressions, which a rebuild's main process compiled
    for a sixth of its time, come compiled from the cache."""
    shutil.copytree(REPO / "content", tmp_path / "content")
    # One of markdown-it-py's expressions is made from a set, in the order of the process's
    # string hashes: a fixed seed keeps it one expression from process to process.
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0"}
    env.pop("PIPELINE_NO_CACHE", None)
    counts = []
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", _REBUILD_COUNTING, str(tmp_path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        counts.append(int(done.stdout.split()[-1]))
        with (tmp_path / "content" / "frugal-ml-26" / "close.md").open(
            "a", encoding="utf-8"
        ) as handle:
            handle.write("\nOne more sentence.\n")
    assert counts[0] > 20  # the first build compiles them all
    assert counts[2] == 0
