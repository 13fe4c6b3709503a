"""Heavy stages run in forked workers and hand their files back through temporary files,
which never outlive the build, whether it succeeds, fails, or is killed."""

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
from pipeline.write import shipping_prefix, write_tree


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Program:
    site = tmp_path_factory.mktemp("site")
    content = generate(site, MIN_ITEMS + 20)
    config = load_config(site / "pipeline.toml")
    made, _problems = assemble(read_content(content, config), config)
    return made


def _big(program: Program) -> dict[str, bytes]:
    return {f"big/{item.id}.txt": item.title.encode() * 2000 for item in program.items}


def _small(program: Program) -> dict[str, bytes]:
    return {"small.txt": str(len(program.items)).encode()}


def _failing(program: Program) -> dict[str, bytes]:
    raise ValueError("this stage fails")


HEAVY = frozenset({"test_parallel._big", "test_parallel._failing"})


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="workers need two cores")
def test_a_workers_files_come_back_whole_and_its_file_is_removed(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    arrived: list[str] = []
    ship_to = tmp_path / ".dist.shipped-"
    files, _seconds = run_stages(
        program,
        [_small, _big],
        frozenset({"test_parallel._big"}),
        arrived=lambda made: arrived.extend(made),
        ship_to=ship_to,
    )
    assert files == {**_small(program), **_big(program)}
    assert sorted(arrived) == sorted(_big(program))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="workers need two cores")
def test_a_failed_stage_leaves_no_file_of_another_worker(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    with pytest.raises(ValueError, match="this stage fails"):
        run_stages(program, [_big, _failing], HEAVY, ship_to=tmp_path / ".dist.shipped-")
    assert list(tmp_path.iterdir()) == []


def test_files_a_killed_build_left_are_removed_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    left = Path(f"{shipping_prefix(out)}killed")
    left.write_bytes(b"half of a stage's files")
    write_tree(out, {"index.html": b"ok"}, {})
    assert not left.exists()


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
