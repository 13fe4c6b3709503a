"""Run output stages on every core: each heavy stage in a forked worker, the rest here.

Stages are pure functions of the frozen Program, so running them in other processes changes
nothing in what they produce; files are merged in stage order and written sorted, so the
output stays byte-identical. Forked workers inherit the Program instead of unpickling it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from .model import Program

Outputs = dict[str, bytes]
Stage = Callable[[Program], Outputs]

# Below this many items a fork costs more than it saves.
MIN_ITEMS = 300
_program: Program | None = None
_sink: Sink | None = None


def stage_name(stage: Stage) -> str:
    return f"{stage.__module__.rsplit('.', 1)[-1]}.{stage.__name__}"


def _timed(stage: Stage) -> tuple[Outputs, float]:
    began = time.perf_counter()
    assert _program is not None
    return stage(_program), time.perf_counter() - began


def run_stages(
    program: Program,
    stages: list[Stage],
    heavy: frozenset[str],
    meanwhile: Callable[[Outputs], None] | None = None,
    sink: Sink | None = None,
) -> tuple[Outputs, dict[str, float]]:
    """Every stage's files (a path written by two stages is an error) and each stage's seconds.

    `meanwhile` runs here once this process's own stages are done, while workers may still
    be busy, and is given those stages' files: work that needs no worker's files overlaps
    the heavy stages. The workers of the stages `sink` takes put their files in the sink
    themselves, and only what the sink says of them comes back (to `sink.merge`): tens of
    megabytes through the pool's pipe would go in pieces, as this process's result thread gets
    its turn beside the rendering, with the worker waiting (half a second at 10,000 items,
    measured). Those files are then not among the ones returned."""
    global _program, _sink
    cores = os.cpu_count() or 1
    parallel = _can_fork(cores, len(program.items))
    offload = [s for s in stages if parallel and stage_name(s) in heavy]
    results: dict[str, tuple[Outputs, float]] = {}
    sunk_names: set[str] = set()
    # Workers inherit the program and the sink when forked, rather than unpickling them.
    _program, _sink = program, sink
    try:
        pool = (
            # One worker per core (this process mostly waits for them): a heavy stage beyond
            # that goes to the first worker free rather than take turns on a core.
            ProcessPoolExecutor(
                min(len(offload), cores),
                mp_context=multiprocessing.get_context("fork"),
                initializer=_die_with_parent,
            )
            if offload
            else None
        )
        if pool is not None:
            with pool:
                futures = {stage_name(s): pool.submit(_timed_in_worker, s) for s in offload}
                for stage in stages:
                    if stage not in offload:
                        results[stage_name(stage)] = _timed(stage)
                if meanwhile is not None:
                    meanwhile(_merged(results.values()))
                names = {future: name for name, future in futures.items()}
                for future in as_completed(futures.values()):
                    made, seconds = future.result()
                    if isinstance(made, Sunk):
                        assert sink is not None
                        sink.merge(made.receipt)
                        sunk_names.update(made.names)
                        made = {}
                    results[names[future]] = (made, seconds)
        else:
            for stage in stages:
                results[stage_name(stage)] = _timed(stage)
            if meanwhile is not None:
                meanwhile(_merged(results.values()))
    finally:
        _program, _sink = None, None
    files: Outputs = {}
    timings: dict[str, float] = {}
    for stage in stages:
        produced, seconds = results[stage_name(stage)]
        overlap = set(produced) & (set(files) | sunk_names)
        if overlap:
            raise RuntimeError(f"two stages write {sorted(overlap)[0]}")
        files.update(produced)
        timings[stage_name(stage)] = seconds
    return files, timings


class Sink(Protocol):
    """Where some stages' workers put their files themselves (write.Staging)."""

    def takes(self, stage: str) -> bool: ...

    def put_elsewhere(self, files: Outputs) -> Any: ...

    def merge(self, receipt: Any) -> None: ...

    def digests(self, prefixes: tuple[str, ...]) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class Sunk:
    """A worker's files, put in the sink: their names, and what the sink said of them."""

    names: frozenset[str]
    receipt: Any


def _timed_in_worker(stage: Stage) -> tuple[Outputs | Sunk, float]:
    """_timed(stage) in a worker: its files, or, for a stage the sink takes, what the sink
    said of them once the worker put them there."""
    files, seconds = _timed(stage)
    sink = _sink
    if sink is not None and sink.takes(stage_name(stage)):
        return Sunk(frozenset(files), sink.put_elsewhere(files)), seconds
    return files, seconds


def _merged(results: Iterable[tuple[Outputs, float]]) -> Outputs:
    return {name: data for files, _seconds in results for name, data in files.items()}


def in_background(work: list[Callable[[], None]], items: int) -> Callable[[], None]:
    """Run the work in a forked child, which inherits all it needs, and return what waits for
    it to end. On a small site, or where forking is not possible, it runs here and now.

    For saving caches while the site is written: the child is the one that pays for pickling
    them. Should it fail, the caches are only older, and the next build slower."""
    if not work:
        return _nothing
    if not _can_fork(os.cpu_count() or 1, items):
        for each in work:
            each()
        return _nothing
    child = multiprocessing.get_context("fork").Process(target=_run_all, args=(work,))
    child.start()
    return child.join


def _run_all(work: list[Callable[[], None]]) -> None:
    _die_with_parent()
    for each in work:
        each()


def _nothing() -> None:
    pass


_state: Any = None
S = TypeVar("S")
R = TypeVar("R")


def map_forked(work: Callable[[S, int, int], R], state: S, count: int) -> list[R]:
    """work(state, first, stop) over contiguous runs covering range(count), in order.

    On a large input with more than one core the runs go to forked workers, which inherit
    `state` rather than unpickling it; only the (smaller) results travel back. Otherwise it is
    one run in this process.
    """
    global _state
    cores = os.cpu_count() or 1
    if not _can_fork(cores, count):
        return [work(state, 0, count)]
    # A few runs per core, so a core that finishes early takes another.
    runs = cores * 4
    bounds = [(count * k // runs, count * (k + 1) // runs) for k in range(runs)]
    _state = state
    try:
        with ProcessPoolExecutor(
            cores, mp_context=multiprocessing.get_context("fork"), initializer=_die_with_parent
        ) as pool:
            futures = [pool.submit(_run, work, first, stop) for first, stop in bounds]
            return [future.result() for future in futures]
    finally:
        _state = None


def _run(work: Callable[[Any, int, int], R], first: int, stop: int) -> R:
    return work(_state, first, stop)


def _die_with_parent() -> None:
    """Ask Linux to end this worker when the build is killed, so no orphan keeps computing."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        pr_set_pdeathsig = 1
        ctypes.CDLL(libc_name).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _can_fork(cores: int, items: int) -> bool:
    return (
        cores > 1
        and items >= MIN_ITEMS
        and "fork" in multiprocessing.get_all_start_methods()
        and not os.environ.get("PIPELINE_NO_PARALLEL")
    )
