"""Run output stages on every core: each heavy stage in a forked worker, the rest here.

Stages are pure functions of the frozen Program, so running them in other processes changes
nothing in what they produce; files are merged in stage order and written sorted, so the
output stays byte-identical. Forked workers inherit the Program instead of unpickling it, and
write their own files into the build's staging folder (write.Staging), so tens of megabytes
never travel back through a pipe and the writing overlaps the rest of the build.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from .model import Program

Outputs = dict[str, bytes]
Stage = Callable[[Program], Outputs]
# What a worker reports of each file it placed: its SHA-256 and its size.
Placed = dict[str, tuple[bytes, int]]

# Below this many items a fork costs more than it saves.
MIN_ITEMS = 300
_program: Program | None = None
_place: Callable[[Outputs], None] | None = None


def stage_name(stage: Stage) -> str:
    return f"{stage.__module__.rsplit('.', 1)[-1]}.{stage.__name__}"


def _timed(stage: Stage) -> tuple[Outputs, float]:
    began = time.perf_counter()
    assert _program is not None
    return stage(_program), time.perf_counter() - began


def _timed_and_placed(stage: Stage) -> tuple[Placed, float, float]:
    """In a worker: the stage, its files placed in staging; what was placed, and the seconds
    of each step."""
    produced, seconds = _timed(stage)
    began = time.perf_counter()
    assert _place is not None
    _place(produced)
    placed = {name: (hashlib.sha256(data).digest(), len(data)) for name, data in produced.items()}
    return placed, seconds, time.perf_counter() - began


def run_stages(
    program: Program,
    stages: list[Stage],
    heavy: frozenset[str],
    meanwhile: Callable[[], None] | None = None,
    place: Callable[[Outputs], None] | None = None,
) -> tuple[Outputs, Placed, dict[str, float]]:
    """Every stage's files (a path written by two stages is an error) and each stage's seconds.

    `meanwhile` runs here once this process's own stages are done, while workers may still
    be busy: work that needs no stage's files overlaps the heavy stages. With `place`, a
    heavy stage run in a worker places its files itself; they are reported, not returned.
    Timings gain "write.workers", the longest a worker spent placing files."""
    global _program, _place
    cores = os.cpu_count() or 1
    parallel = _can_fork(cores, len(program.items))
    offload = [s for s in stages if parallel and stage_name(s) in heavy]
    results: dict[str, tuple[Outputs, float]] = {}
    reported: dict[str, tuple[Placed, float, float]] = {}
    _program, _place = program, place
    try:
        pool = (
            ProcessPoolExecutor(
                len(offload),
                mp_context=multiprocessing.get_context("fork"),
                initializer=_die_with_parent,
            )
            if offload
            else None
        )
        if pool is not None:
            with pool:
                if place is not None:
                    placing = {stage_name(s): pool.submit(_timed_and_placed, s) for s in offload}
                else:
                    returning = {stage_name(s): pool.submit(_timed, s) for s in offload}
                for stage in stages:
                    if stage not in offload:
                        results[stage_name(stage)] = _timed(stage)
                if meanwhile is not None:
                    meanwhile()
                if place is not None:
                    reported = {name: future.result() for name, future in placing.items()}
                else:
                    results.update((name, future.result()) for name, future in returning.items())
        else:
            for stage in stages:
                results[stage_name(stage)] = _timed(stage)
            if meanwhile is not None:
                meanwhile()
    finally:
        _program, _place = None, None
    files: Outputs = {}
    placed: Placed = {}
    timings: dict[str, float] = {}
    for stage in stages:
        name = stage_name(stage)
        made: Outputs | Placed
        if name in reported:
            made, seconds, _ = reported[name]
        else:
            made, seconds = results[name]
        overlap = set(made) & (set(files) | set(placed))
        if overlap:
            raise RuntimeError(f"two stages write {sorted(overlap)[0]}")
        if name in reported:
            placed.update(reported[name][0])
        else:
            files.update(results[name][0])
        timings[name] = seconds
    timings["write.workers"] = max((r[2] for r in reported.values()), default=0.0)
    return files, placed, timings


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
