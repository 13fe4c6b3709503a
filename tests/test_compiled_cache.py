"""Compiled regular expressions and record __init__s kept from one build to the next
(pipeline/compiled_cache.py)."""

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

from pipeline import compiled_cache, records

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
    _forget_taken_in()
    yield
    re._compiler.compile = compile_before  # type: ignore[attr-defined]
    re._compiler._sre = compiled_cache._sre  # type: ignore[attr-defined]
    re.purge()
    _forget_taken_in()


def _forget_taken_in() -> None:
    compiled_cache._learned.clear()
    compiled_cache._restored.clear()


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


def _behaviour_while_recording(folder: Path) -> list[list[Any]]:
    """Each pattern's behaviour, compiled while a build's recorder (on `folder`) runs."""
    recorder = compiled_cache.start(folder)
    try:
        return [_behaviour(re.compile(p, f)) for p, f in PATTERNS]
    finally:
        recorder.stop()


def _record(folder: Path) -> None:
    recorder = compiled_cache.start(folder)
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
    assert (tmp_path / compiled_cache.CACHE_NAME).is_file()
    re.purge()  # as in a new process
    _forget_taken_in()
    compiled = _counting(monkeypatch)
    restored = _behaviour_while_recording(tmp_path)
    assert compiled == []
    assert restored == fresh


def test_the_compiler_is_given_back_when_a_build_ends(tmp_path: Path, clean: None) -> None:
    compile_before = re._compiler.compile  # type: ignore[attr-defined]
    recorder = compiled_cache.start(tmp_path)
    assert recorder is not None
    assert re._compiler.compile is not compile_before  # type: ignore[attr-defined]
    recorder.stop()
    assert re._compiler.compile is compile_before  # type: ignore[attr-defined]
    assert re._compiler._sre is compiled_cache._sre  # type: ignore[attr-defined]
    assert re.compile("a(b)c").match("abc") is not None


@pytest.mark.parametrize("damage", ["garbage", "another_interpreter"])
def test_a_cache_it_cannot_trust_is_compiled_afresh(
    tmp_path: Path, clean: None, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    _record(tmp_path)
    re.purge()
    _forget_taken_in()
    saved = tmp_path / compiled_cache.CACHE_NAME
    if damage == "garbage":
        data = bytearray(saved.read_bytes())
        data[-10] ^= 0xFF
        saved.write_bytes(bytes(data))
    else:
        monkeypatch.setattr(compiled_cache, "_version", lambda: b"cpython-99;another")
    compiled = _counting(monkeypatch)
    behaviour = _behaviour_while_recording(tmp_path)
    assert len(compiled) == len(PATTERNS)
    re.purge()
    assert behaviour == [_behaviour(re.compile(p, f)) for p, f in PATTERNS]


_REBUILD_COUNTING = """
import os, re, sys
from pathlib import Path
from pipeline import records
from pipeline.build import BuildOptions, build
site = Path(sys.argv[1])
options = BuildOptions(content_dir=site / "content", out_dir=site / "dist")
main, expressions, inits = os.getpid(), [], []
real = re._compiler.compile
def counted(pattern, flags=0):
    if os.getpid() == main:
        expressions.append(pattern)
    return real(pattern, flags)
def counted_init(source, *rest):
    if os.getpid() == main:
        inits.append(source)
    return compile(source, *rest)
re._compiler.compile = counted
records.compile = counted_init
build(options)
print(len(expressions), len(inits))
"""


def test_a_rebuild_in_a_new_process_compiles_nothing_the_last_build_did(
    tmp_path: Path,
) -> None:
    """PyYAML's, Jinja2's and tomllib's expressions, which a rebuild's main process compiled
    for a sixth of its time, and the records' __init__s come compiled from the cache."""
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
        expressions, inits = done.stdout.split()[-2:]
        counts.append((int(expressions), int(inits)))
        with (tmp_path / "content" / "frugal-ml-26" / "close.md").open(
            "a", encoding="utf-8"
        ) as handle:
            handle.write("\nOne more sentence.\n")
    assert counts[0][0] > 20 and counts[0][1] > 10  # the first build compiles them all
    assert counts[2] == (0, 0)


def test_a_records_init_compiled_once_is_taken_in_not_compiled_again(
    tmp_path: Path, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "_init_code", {})

    def new_class() -> Any:
        @records.record
        class Unusual:
            """A record no module defines."""

            first_unusual_field: int
            second_unusual_field: str = "x"

        return Unusual

    recorder = compiled_cache.start(tmp_path)
    made = new_class()(1)
    recorder.save()
    recorder.stop()
    # As in a new process: nothing compiled, the cache not yet taken in.
    monkeypatch.setattr(records, "_init_code", {})
    _forget_taken_in()
    compiles: list[str] = []

    def counted(source: str, *rest: Any) -> Any:
        compiles.append(source)
        return compile(source, *rest)

    monkeypatch.setattr(records, "compile", counted, raising=False)
    recorder = compiled_cache.start(tmp_path)
    try:
        again = new_class()(1)
        keyword = new_class()(second_unusual_field="y", first_unusual_field=2)
    finally:
        recorder.stop()
    assert compiles == []
    assert (again.first_unusual_field, again.second_unusual_field) == (1, "x")
    assert (keyword.first_unusual_field, keyword.second_unusual_field) == (2, "y")
    assert repr(again) == repr(made).replace(
        made.__class__.__qualname__, again.__class__.__qualname__
    )


def test_the_expressions_kept_stay_within_what_res_cache_holds(
    tmp_path: Path, clean: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An expression made from a set differs from process to process: each build would add
    one more for good."""
    monkeypatch.setattr(re, "_MAXCACHE", 8)
    for number in range(12):
        _forget_taken_in()
        re.purge()
        recorder = compiled_cache.start(tmp_path)
        try:
            re.compile(f"different-{number}")
            recorder.save()
        finally:
            recorder.stop()
        kept = compiled_cache.load(tmp_path).expressions
        assert 0 < len(kept) <= 8
        assert ("different-" + str(number), 0) in kept


_IMPORT_COUNTING = """
import re, sys, traceback
real = re._compiler.compile
ours = []
def counted(pattern, flags=0):
    callers = [f for f in traceback.extract_stack()[:-1] if "/re/" not in f.filename]
    if "/pipeline/" in callers[-1].filename:
        ours.append(repr(pattern))
    return real(pattern, flags)
re._compiler.compile = counted
from pipeline.build import build
from pipeline.output_cache import code_version
code_version()
print(len(ours), ours)
"""


def test_what_a_build_does_before_the_cache_is_restored_compiles_no_expression_of_ours() -> None:
    """A rebuild imports the build and computes the code version before it can restore the
    compiled expressions: an expression the package compiled then was compiled at every build
    (one character class alone took 5 ms)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_COUNTING],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("0 "), done.stdout
