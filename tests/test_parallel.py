"""Heavy stages run in forked workers; those a sink takes put their files there themselves,
and only what the sink says of them comes back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.generate import generate
from pipeline import forks
from pipeline.build import BuildOptions, build
from pipeline.config import load_config
from pipeline.model import Program
from pipeline.parallel import MIN_ITEMS, after_result, map_forked, run_stages
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


_TEST_PROCESS = os.getpid()


def _dying(program: Program) -> dict[str, bytes]:
    assert os.getpid() != _TEST_PROCESS, "meant for a worker"
    os._exit(3)


def _slow_a(program: Program) -> dict[str, bytes]:
    time.sleep(1.5)
    return {"a.pid": str(os.getpid()).encode()}


def _slow_b(program: Program) -> dict[str, bytes]:
    time.sleep(1.5)
    return {"b.pid": str(os.getpid()).encode()}


def _fast(program: Program) -> dict[str, bytes]:
    return {"fast.pid": str(os.getpid()).encode()}


def _pause(_files: dict[str, bytes]) -> None:
    """A `meanwhile` long enough for a worker to take the heavy stage before this process
    would (it takes a stage no worker has started once it is done)."""
    time.sleep(0.5)


# Where _leaving's work looks for the sign that the run's results are in, and writes what it saw.
_SIGNS: list[Path] = []


def _leaving(program: Program) -> dict[str, bytes]:
    results_in, report = _SIGNS

    def work() -> None:
        deadline = time.monotonic() + 20
        while not results_in.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        report.write_text("after the results" if results_in.exists() else "before them")

    after_result(work)
    return {"left.txt": b"x"}


@two_cores
def test_a_worker_puts_the_files_of_a_stage_the_sink_takes(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    out = tmp_path / "dist"
    staging = Staging(out, taken=frozenset({"test_parallel._big"}))
    try:
        files, _seconds, finish = run_stages(
            program, [_small, _big], frozenset({"test_parallel._big"}), sink=staging
        )
        finish()
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
    files, _seconds, finish = run_stages(program, [_small, _big], frozenset({"test_parallel._big"}))
    finish()
    assert files == {**_small(program), **_big(program)}


@two_cores
def test_a_failed_stage_fails_the_run(program: Program, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    heavy = frozenset({"test_parallel._big", "test_parallel._failing"})
    with pytest.raises(ValueError, match="this stage fails"):
        run_stages(program, [_big, _failing], heavy)


@two_cores
def test_a_worker_does_the_work_a_stage_leaves_once_its_results_are_in(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stage's cache is saved after its files went back: the build does not wait for it."""
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    _SIGNS[:] = [tmp_path / "results-in", tmp_path / "report"]
    heavy = frozenset({"test_parallel._leaving"})
    files, _seconds, finish = run_stages(program, [_leaving], heavy, meanwhile=_pause)
    assert files == {"left.txt": b"x"}
    _SIGNS[0].touch()
    finish()
    assert _SIGNS[1].read_text() == "after the results"


def _noting_pid(path: Path) -> None:
    path.write_text(str(os.getpid()))


@two_cores
def test_the_first_worker_does_the_work_handed_to_it_after_its_results(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Work that needs nothing the stages make (saving the read cache) is done by a worker
    once its results are sent, not by this process at the end of the build."""
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    note = tmp_path / "done-by"
    files, _seconds, finish = run_stages(
        program,
        [_small, _big],
        frozenset({"test_parallel._big"}),
        meanwhile=_pause,
        afterwards=[lambda: _noting_pid(note)],
    )
    assert files["small.txt"]
    finish()
    assert int(note.read_text()) != _TEST_PROCESS


def test_without_workers_the_work_handed_over_is_done_by_the_time_the_run_is_finished(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_NO_PARALLEL", "1")
    note = tmp_path / "done-by"
    _files, _seconds, finish = run_stages(
        program,
        [_small, _big],
        frozenset({"test_parallel._big"}),
        afterwards=[lambda: _noting_pid(note)],
    )
    finish()
    assert int(note.read_text()) == _TEST_PROCESS


def test_without_workers_the_work_a_stage_leaves_is_done_at_once(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_NO_PARALLEL", "1")
    done: list[str] = []
    after_result(lambda: done.append("saved"))
    assert done == ["saved"]


@two_cores
def test_a_worker_that_dies_fails_the_run_and_names_its_stage(
    program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    heavy = frozenset({"test_parallel._dying"})
    with pytest.raises(RuntimeError, match=r"test_parallel\._dying ended \(exit code 3\)"):
        run_stages(program, [_small, _dying], heavy, meanwhile=_pause)


@two_cores
def test_this_process_takes_a_heavy_stage_no_worker_has_started(
    program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once done with its own stages, this process takes the next heavy stage itself rather
    than wait for a worker to be free (here the one worker is busy with the first)."""
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    stages = [_slow_a, _slow_b, _fast, _small]
    heavy = frozenset(f"test_parallel.{s.__name__}" for s in stages[:3])
    files, _seconds, finish = run_stages(program, stages, heavy, meanwhile=_pause)
    finish()
    ran_in = {name: int(pid) for name, pid in files.items() if name.endswith(".pid")}
    assert ran_in["fast.pid"] == _TEST_PROCESS
    assert _TEST_PROCESS not in (ran_in["a.pid"], ran_in["b.pid"])


# Where _waiting looks for the sign that this process heard of _fast's result.
_HEARD: list[Path] = []


def _waiting(program: Program) -> dict[str, bytes]:
    deadline = time.monotonic() + 20
    while not _HEARD[0].exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"waited.txt": b"heard" if _HEARD[0].exists() else b"not heard"}


@two_cores
def test_each_heavy_stage_arrives_while_the_others_still_run(
    program: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`arrived` hears of a stage as soon as its result is in, not once every stage is: the
    waiting stage ends only once this process has heard of the fast one."""
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    monkeypatch.setattr(sys.modules[__name__], "_HEARD", [tmp_path / "heard"])
    heard: list[tuple[str, dict[str, bytes]]] = []

    def arrived(name: str, files: dict[str, bytes]) -> None:
        heard.append((name, files))
        (tmp_path / "heard").touch()

    stages = [_waiting, _fast, _small]
    heavy = frozenset({"test_parallel._waiting", "test_parallel._fast"})
    files, _seconds, finish = run_stages(program, stages, heavy, meanwhile=_pause, arrived=arrived)
    finish()
    assert files["waited.txt"] == b"heard"
    assert [name for name, _files in heard] == ["test_parallel._fast", "test_parallel._waiting"]
    assert heard[0][1] == {"fast.pid": files["fast.pid"]}


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


def test_the_search_stage_imports_numpy_without_starting_threads() -> None:
    # OpenBLAS starts a spinning thread per core as numpy loads: on two cores it took 95 ms
    # of the core the other stages run on. The package asks it for none.
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    count = "import os, pipeline.search_full; print(len(os.listdir('/proc/self/task')))"
    done = subprocess.run(
        [sys.executable, "-c", count], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "1"


def _pids(state: float, first: int, stop: int) -> list[tuple[int, int]]:
    time.sleep(state)  # long enough that every process gets runs
    return [(number, os.getpid()) for number in range(first, stop)]


def _failing_at(state: int, first: int, stop: int) -> list[int]:
    if first <= state < stop:
        raise ValueError(f"item {state} broke")
    time.sleep(0.02)
    return list(range(first, stop))


@two_cores
def test_map_forked_runs_in_order_in_the_workers_and_in_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    parts = map_forked(_pids, 0.05, MIN_ITEMS)
    made = [pair for part in parts for pair in part]
    assert [number for number, _pid in made] == list(range(MIN_ITEMS))
    pids = {pid for _number, pid in made}
    assert os.getpid() in pids
    assert len(pids) >= 2
    assert forks.unreaped() == frozenset()


@two_cores
@pytest.mark.parametrize("broken", [0, MIN_ITEMS - 1])
def test_map_forked_raises_a_runs_failure_wherever_it_ran(
    broken: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first run is this process's or a worker's, the last most likely a worker's.
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    with pytest.raises(ValueError, match=f"item {broken} broke"):
        map_forked(_failing_at, broken, MIN_ITEMS)
    assert forks.unreaped() == frozenset()
