"""Run output stages on every core: each heavy stage in a forked worker, the rest here.

Stages are pure functions of the frozen Program, so running them in other processes changes
nothing in what they produce; files are merged in stage order and written sorted, so the
output stays byte-identical. Forked workers inherit the Program instead of unpickling it.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

from .model import Program

Outputs = dict[str, bytes]
Stage = Callable[[Program], Outputs]

# Below this many items a fork costs more than it saves.
MIN_ITEMS = 300
_program: Program | None = None


def stage_name(stage: Stage) -> str:
    return f"{stage.__module__.rsplit('.', 1)[-1]}.{stage.__name__}"


def _timed(stage: Stage) -> tuple[Outputs, float]:
    began = time.perf_counter()
    assert _program is not None
    return stage(_program), time.perf_counter() - began


def run_stages(
    program: Program, stages: list[Stage], heavy: frozenset[str]
) -> tuple[Outputs, dict[str, float]]:
    """Every stage's files (a path written by two stages is an error) and each stage's seconds."""
    global _program
    cores = os.cpu_count() or 1
    parallel = (
        cores > 1
        and len(program.items) >= MIN_ITEMS
        and "fork" in multiprocessing.get_all_start_methods()
        and not os.environ.get("PIPELINE_NO_PARALLEL")
    )
    offload = [s for s in stages if parallel and stage_name(s) in heavy]
    results: dict[str, tuple[Outputs, float]] = {}
    _program = program
    try:
        pool = (
            ProcessPoolExecutor(len(offload), mp_context=multiprocessing.get_context("fork"))
            if offload
            else None
        )
        futures: dict[str, Future[tuple[Outputs, float]]] = {}
        if pool is not None:
            with pool:
                futures = {stage_name(s): pool.submit(_timed, s) for s in offload}
                for stage in stages:
                    if stage not in offload:
                        results[stage_name(stage)] = _timed(stage)
                for name, future in futures.items():
                    results[name] = future.result()
        else:
            for stage in stages:
                results[stage_name(stage)] = _timed(stage)
    finally:
        _program = None
    files: Outputs = {}
    timings: dict[str, float] = {}
    for stage in stages:
        produced, seconds = results[stage_name(stage)]
        overlap = set(produced) & set(files)
        if overlap:
            raise RuntimeError(f"two stages write {sorted(overlap)[0]}")
        files.update(produced)
        timings[stage_name(stage)] = seconds
    return files, timings
