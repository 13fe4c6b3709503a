"""Heavy stages run in forked workers; those a sink takes put their files there themselves,
and only what the sink says of them comes back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.generate import generate
from pipeline.build import BuildOptions, build
from pipeline.config import load_config
from pipeline.model import Program
from pipeline.parallel import MIN_ITEMS, run_stages
from pipeline.program import assemble
from pipeline.read import read_content
from pipeline.write import Staging

two_cores = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="workers need two cores")


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Program:
    site = tmp_path_factory.mktemp("site")
    content = generate(site, MIN_ITEMS + 20)
    config = load_config(site / "pipeline.toml")
    made, _problems = assemble(read_content(content, config), config)
    return made


def _big(program: Program) -> dict[str, bytes]:
    return {f"big/{item.id}.txt": item.title.encode() * 200 for item in program.items}


def _small(program: Program) -> dict[str, bytes]:
    return {"small.txt": str(len(program.items)).encode()}


def _failing(program: Program) -> dict[str, bytes]:
    raise ValueError("this stage fails")


@two_cores
def test_a_worker_puts_the_files_of_a_stage_the_sink_takes(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    out = tmp_path / "dist"
    staging = Staging(out, taken=frozenset({"test_parallel._big"}))
    try:
        files, _seconds = run_stages(
            program, [_small, _big], frozenset({"test_parallel._big"}), sink=staging
        )
        assert files == _small(program)
        staging.put(files)
        staging.commit()
    finally:
        staging.abandon()
    # The big files never came back, yet the site holds them: the worker wrote them.
    expected = {**_small(program), **_big(program)}
    tree = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert tree == expected
    assert set(staging.manifest) == set(expected)


@two_cores
def test_a_stage_no_sink_takes_hands_its_files_back(
    program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    files, _seconds = run_stages(program, [_small, _big], frozenset({"test_parallel._big"}))
    assert files == {**_small(program), **_big(program)}


@two_cores
def test_a_failed_stage_fails_the_run(program: Program, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    heavy = frozenset({"test_parallel._big", "test_parallel._failing"})
    with pytest.raises(ValueError, match="this stage fails"):
        run_stages(program, [_big, _failing], heavy)


def test_a_build_leaves_nothing_beside_the_site_but_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    content = generate(tmp_path / "site", MIN_ITEMS + 20)
    options = BuildOptions(content, tmp_path / "site" / "dist", tmp_path / "site" / "pipeline.toml")
    for _ in range(2):
        build(options)
    beside = sorted(p.name for p in (tmp_path / "site").iterdir())
    assert beside == [
        ".dist.lock",
        ".dist.manifest.json",
        ".dist.spare",
        ".pipeline-cache",
        "content",
        "dist",
        "pipeline.toml",
    ]
