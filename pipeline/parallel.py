"""Run output stages on every core: each heavy stage in a forked worker, the rest here.

Stages are pure functions of the frozen Program, so running them in other processes changes
nothing in what they produce; files are merged in stage order and written sorted, so the
output stays byte-identical. Forked workers inherit the Program instead of unpickling it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from .forks import Channel, Child, die_with_parent, one_way, ready, two_way
from .joined import Content
from .model import Program
from .records import record

Outputs = dict[str, Content]
Stage = Callable[[Program], Outputs]
T = TypeVar("T")

# Below this many items a fork costs more than it saves.
MIN_ITEMS = 300
_program: Program | None = None
_sink: Sink | None = None
# In a worker, the work its stages left for after their results (after_result).
_after: list[Callable[[], None]] | None = None


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
    early: Early | None = None,
    afterwards: Sequence[Callable[[], None]] = (),
    arrived: Callable[[str, Outputs], None] | None = None,
) -> tuple[Outputs, dict[str, float], Callable[[], None]]:
    """Every stage's files (a path written by two stages is an error), each stage's seconds,
    and what waits for the workers' work left for after their files (after_result), and for
    `afterwards`: work that needs nothing the stages make (saving the read cache, say), which
    the first worker does once its results are sent, or this process as it waits.

    The heavy stages go to forked workers, which take them one at a time in `stages` order;
    this process runs the others, then `meanwhile`, given those stages' files (work that
    needs no worker's files overlaps the heavy stages), then takes any heavy stage no worker
    has started yet. The stages `sink` takes put their files in the sink as they end, and
    only what the sink says of them comes back (to `sink.merge`): tens of megabytes through a
    pipe would go in pieces, as this process gets its turn beside the rendering, with the
    worker waiting (half a second at 10,000 items, measured). Those files are then not among
    the ones returned. The stage an `early` worker runs (start_early) is held: queued only
    should that worker decline it, which it is asked (Early.settle) once this process's own
    stages and `meanwhile` are done, or as the workers start if it has spoken already; else
    its result is awaited with the workers'. `arrived(name, files)` is told of each heavy stage
    as its result comes in (its files; none for one the sink took, which has merged them), to
    start on what needs only that stage while the others are awaited."""
    global _program, _sink
    cores = os.cpu_count() or 1
    parallel = _can_fork(cores, len(program.items))
    begun = {early.name} if early is not None else set()
    offload = [
        s for s in stages if parallel and stage_name(s) in heavy and stage_name(s) not in begun
    ]
    # The early worker's stage, queued only should that worker decline it (Early.settle).
    held = [s for s in stages if stage_name(s) in begun]
    results: dict[str, tuple[Outputs, float]] = {}
    sunk_names: dict[str, frozenset[str]] = {}
    workers: list[_Worker] = []

    def receive(name: str, made: Outputs | Sunk, seconds: float) -> None:
        if isinstance(made, Sunk):
            assert sink is not None
            sink.merge(made.receipt)
            sunk_names[name] = made.names
            made = {}
        results[name] = (made, seconds)
        if arrived is not None:
            arrived(name, made)

    def settled(wait: bool) -> None:
        """Once the early worker says whether it runs its stage: if it declined, that stage is
        queued like the other heavy stages."""
        nonlocal early
        if early is None or queue.released:
            return
        assert early.settle is not None, "the build tells an early worker what it needs"
        accepted = early.settle(wait)
        if accepted is None:
            return
        if not accepted:
            early.close()
            early = None
        queue.release(() if accepted else held)

    # Workers inherit the program and the sink when forked, rather than unpickling them.
    _program, _sink = program, sink
    queue = _Queue([*offload, *held], held=len(held))
    try:
        # One worker per core, the early one among them: this process mostly waits for them,
        # or takes the last stage. Beside an early worker, whose stage is the longest path
        # (a rebuild's search stage), the others yield the cores to it and to this process:
        # their stages have time to spare. Alternated 1,000-item rebuilds were 0 to 17 ms
        # faster (0.185 → 0.168 s twice, then 0.176 → 0.176 and 0.174 → 0.170 s), never slower.
        spare_cores = max(cores - len(begun), 1)
        workers = [
            _Worker.start(queue, afterwards if not number else (), yield_cpu=early is not None)
            for number in range(min(len(offload), spare_cores))
        ]
        settled(wait=False)
        for stage in stages:
            if stage not in offload and stage_name(stage) not in begun:
                results[stage_name(stage)] = _timed(stage)
        if meanwhile is not None:
            meanwhile(_merged(results.values()))
        settled(wait=True)
        while (taken := queue.take()) is not None:
            receive(stage_name(taken), *_timed_in_worker(taken))
        if early is not None:
            workers.append(early.worker)
            early.taken = True
        expected = [stage_name(s) for s in queue.stages if stage_name(s) not in results]
        if early is not None:
            expected = [name for name in expected if name != early.name] + [early.name]
        _receive_all(workers, expected, receive, early)
    except BaseException:
        # Nothing may write into the staging folder once the caller abandons it.
        for worker in workers:
            worker.stop()
        raise
    finally:
        _program, _sink = None, None
        queue.close()
    files: Outputs = {}
    timings: dict[str, float] = {}
    written: set[str] = set()
    for stage in stages:
        name = stage_name(stage)
        produced, seconds = results[name]
        names = sunk_names.get(name) or frozenset(produced)
        overlap = names & written
        if overlap:
            raise RuntimeError(f"two stages write {sorted(overlap)[0]}")
        written.update(names)
        files.update(produced)
        timings[name] = seconds
    if workers:
        return files, timings, lambda: _finish(workers)
    return files, timings, partial(_run_all, [*afterwards, partial(_finish, workers)])


# How far a worker beside an early worker lowers its priority: at 10, Linux gives it about a
# tenth of a core the others want (nice 5 gained a quarter as much, measured).
YIELDING_NICENESS = 10


def after_result(work: Callable[[], None]) -> None:
    """Run `work` (saving a cache, say) once the stage's files are handed over: in a worker,
    after all its stages' results have gone back, while the build goes on without waiting;
    in this process, now."""
    if _after is None:
        work()
    else:
        _after.append(work)


class _Queue(Generic[T]):
    """The heavy stages (or any other work), each taken by one process (a worker or this one),
    in order.

    The last `held` stages are taken only once released: the early worker's stage, should it
    decline it. Until the queue is released a worker done with the others waits for it."""

    def __init__(self, stages: list[T], held: int = 0) -> None:
        self.stages = stages
        # A pipe holding one byte per stage, made before the workers fork: reading a byte
        # takes a stage, atomically, in whichever process reads it; once its write end is
        # closed, an empty pipe reads as end of file: no stage is left.
        assert len(stages) < 256
        self.taking, self.adding = os.pipe()
        self.held = len(stages) - held
        os.write(self.adding, bytes(range(self.held)))
        self.released = False
        if not held:
            self.release(())

    def release(self, stages: Iterable[T]) -> None:
        """Queue these held stages (none, or all); no more stages come."""
        numbers = [self.stages.index(stage) for stage in stages]
        assert all(number >= self.held for number in numbers)
        os.write(self.adding, bytes(numbers))
        self._stop_adding()

    def forked(self) -> None:
        """In a worker: close its copy of the write end, which only the build writes to (the
        pipe reads as ended once every copy is closed)."""
        self._stop_adding()

    def _stop_adding(self) -> None:
        if not self.released:
            os.close(self.adding)
            self.released = True

    def take(self) -> T | None:
        taken = os.read(self.taking, 1)
        return self.stages[taken[0]] if taken else None

    def close(self) -> None:
        self._stop_adding()
        os.close(self.taking)


class _Worker:
    """A forked process taking heavy stages and sending back each one's result."""

    def __init__(self, process: Child, results: Channel) -> None:
        self.process = process
        self.results = results

    @classmethod
    def start(
        cls,
        queue: _Queue[Stage],
        afterwards: Sequence[Callable[[], None]] = (),
        yield_cpu: bool = False,
    ) -> _Worker:
        """A worker taking stages from the queue, which then does `afterwards`; at a lower
        priority when `yield_cpu`."""
        receiving, sending = one_way()
        process = Child(_serve, (queue, sending, afterwards, yield_cpu), drop=(receiving,))
        sending.close()
        return cls(process, receiving)

    def stop(self) -> None:
        self.process.terminate()
        self.process.join()
        self.results.close()


def _receive_all(
    workers: list[_Worker],
    expected: list[str],
    receive: Callable[[str, Outputs | Sunk, float], None],
    early: Early | None = None,
) -> None:
    """receive(name, files, seconds) of each expected stage, as the workers send them; a
    stage's failure is raised here, and so is a worker's end with a stage unfinished."""
    missing = set(expected)
    running: dict[Channel, str | None] = {worker.results: None for worker in workers}
    if early is not None:
        running[early.worker.results] = early.name
    by_pipe = {worker.results: worker for worker in workers}
    while missing and running:
        for pipe in ready(running):
            try:
                kind, name, outcome = pipe.recv()
            except EOFError:
                name = running.pop(pipe)
                if name is not None:
                    worker = by_pipe[pipe]
                    worker.process.join()
                    code = worker.process.exitcode
                    raise RuntimeError(
                        f"the worker running {name} ended (exit code {code})"
                    ) from None
                continue
            if kind == "failed":
                raise outcome
            running[pipe] = name if kind == "started" else None
            if kind == "done":
                missing.discard(name)
                receive(name, *outcome)
    if missing:
        raise RuntimeError(f"no worker ran {sorted(missing)[0]}")


class Early:
    """A heavy stage's worker forked before the Program is read: it makes ready what needs no
    Program (imports, its cache) on the core the reading leaves idle, is then told what it
    needs of the Program (`ask`, `tell`), and run_stages awaits its result with the other
    workers'. `stop` ends it, unless run_stages took it in (then the build waits for it)."""

    def __init__(self, name: str, worker: _Worker) -> None:
        self.name = name
        self.worker = worker
        # Whether run_stages awaits it (and the build then waits for it to end).
        self.taken = False
        # settle(wait): whether the worker runs its stage, once it has said so (None while it
        # has not, unless `wait`), telling it what more it needs. Set by the build before
        # run_stages.
        self.settle: Callable[[bool], bool | None] | None = None

    def speaking(self) -> bool:
        """Whether the worker has said something not yet received."""
        return bool(ready([self.worker.results], wait=False))

    def tell(self, message: Any) -> None:
        # The worker may have ended (its stage failed, say): what it said last, or its end,
        # is read where its result is awaited, and raised there.
        with contextlib.suppress(BrokenPipeError):
            self.worker.results.send(message)

    def ask(self, message: Any) -> Any:
        """Send the message; the worker's reply."""
        self.tell(message)
        return self.receive()

    def receive(self) -> Any:
        """What the worker says next (Talk.reply)."""
        try:
            kind, _name, reply = self.worker.results.recv()
        except EOFError:
            self.worker.process.join()
            code = self.worker.process.exitcode
            raise RuntimeError(f"the worker running {self.name} ended (exit code {code})") from None
        if kind == "failed":
            raise reply
        return reply

    def close(self) -> None:
        """Wait for the worker to end once run_stages took it in; else end it now."""
        if self.taken:
            self.worker.process.join()
            self.worker.results.close()
        else:
            self.worker.stop()


class Talk:
    """An early worker's side of the talk with the build (Early.ask and tell)."""

    def __init__(self, name: str, pipe: Channel) -> None:
        self.name = name
        self.pipe = pipe
        # When the build first spoke: the stage's time runs from then.
        self.began: float | None = None

    def receive(self) -> Any:
        message = self.pipe.recv()
        if self.began is None:
            self.began = time.perf_counter()
        return message

    def reply(self, message: Any) -> None:
        self.pipe.send(("reply", self.name, message))


def start_early(name: str, serve: Callable[[Talk], Outputs | Sunk | None]) -> Early | None:
    """A worker running serve(talk) for the stage `name`, whose result is that stage's (None:
    it declined, having said so in the talk); None where workers cannot be forked."""
    if not _can_fork(os.cpu_count() or 1, MIN_ITEMS):
        return None
    here, there = two_way()
    process = Child(_serve_early, (name, serve, there), drop=(here,))
    there.close()
    return Early(name, _Worker(process, here))


def _serve_early(name: str, serve: Callable[[Talk], Outputs | Sunk | None], pipe: Channel) -> None:
    def outcome() -> tuple[Outputs | Sunk, float] | None:
        talk = Talk(name, pipe)
        made = serve(talk)
        ended = time.perf_counter()
        return None if made is None else (made, ended - (talk.began or ended))

    _live(pipe, lambda: _sent(pipe, name, outcome))


def _serve(
    queue: _Queue[Stage],
    results: Channel,
    afterwards: Sequence[Callable[[], None]] = (),
    yield_cpu: bool = False,
) -> None:
    """A worker taking heavy stages and sending each one's result, then doing `afterwards`
    with the work its stages left (after_result); at a lower priority when `yield_cpu`."""

    queue.forked()
    if yield_cpu:
        # Lowering one's own priority is allowed everywhere; where it is not, nothing is lost.
        with contextlib.suppress(OSError):
            os.nice(YIELDING_NICENESS)

    def all_sent() -> bool:
        while (stage := queue.take()) is not None:
            name = stage_name(stage)
            results.send(("started", name, None))
            if not _sent(results, name, partial(_timed_in_worker, stage)):
                return False
        return True

    _live(results, all_sent, afterwards)


def _live(
    pipe: Channel, sent: Callable[[], bool], afterwards: Sequence[Callable[[], None]] = ()
) -> None:
    """A worker's life: its results sent (`sent`, False once one failed), then, unless one
    failed, `afterwards` and the work its stages left (after_result)."""
    global _after
    die_with_parent()
    _after = list(afterwards)
    if not sent():
        return
    pipe.close()
    for work in _after:
        work()


def _sent(
    pipe: Channel, name: str, outcome: Callable[[], tuple[Outputs | Sunk, float] | None]
) -> bool:
    """Send a stage's result (none when `outcome` gives None), or its failure, which the
    process waiting for it raises again; whether it succeeded."""
    try:
        made = outcome()
        if made is not None:
            pipe.send(("done", name, made))
        return True
    except BaseException as exc:
        pipe.send(("failed", name, _portable(exc)))
        return False


def _portable(exc: BaseException) -> BaseException:
    """The exception, with the worker's traceback as a note, or a RuntimeError that tells
    it when it does not pickle."""
    import traceback

    where = "".join(traceback.format_exception(exc))
    try:
        pickle.dumps(exc)
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    exc.add_note(f"in a worker:\n{where}")
    return exc


def _finish(workers: list[_Worker]) -> None:
    for worker in workers:
        worker.process.join()
        worker.results.close()


class Sink(Protocol):
    """Where some stages' workers put their files themselves (write.Staging)."""

    def takes(self, stage: str) -> bool: ...

    def put_elsewhere(self, files: Outputs) -> Any: ...

    def merge(self, receipt: Any) -> None: ...

    def digests(self, prefixes: tuple[str, ...]) -> dict[str, str]: ...


@record
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


def _run_all(work: Sequence[Callable[[], None]]) -> None:
    for each in work:
        each()


S = TypeVar("S")
R = TypeVar("R")


def map_forked(work: Callable[[S, int, int], R], state: S, count: int) -> list[R]:
    """work(state, first, stop) over contiguous runs covering range(count), in order.

    On a large input with more than one core, forked workers, which inherit `state` rather
    than unpickling it, take runs, and so does this process: only the workers' results
    travel back (pickling them and loading them again was 0.7 s of reading 10,000 files,
    measured). Otherwise it is one run in this process.
    """
    cores = os.cpu_count() or 1
    if not _can_fork(cores, count):
        return [work(state, 0, count)]
    # A few runs per core, so a process that finishes early takes another (a byte each).
    runs = min(cores * 4, 255)
    bounds = [(count * k // runs, count * (k + 1) // runs) for k in range(runs)]
    queue = _Queue(list(range(runs)))
    made: dict[int, R] = {}
    receivers: list[tuple[Child, threading.Thread]] = []
    failures: list[BaseException] = []
    forked: list[tuple[Child, Channel]] = []
    try:
        for _ in range(cores - 1):
            receiving, sending = one_way()
            process = Child(_map_runs, (work, state, bounds, queue, sending), drop=(receiving,))
            sending.close()
            forked.append((process, receiving))
        # Received as they come, so a worker never waits on a full pipe for this process to
        # be done with its own runs. Started once every worker is forked: none inherits them.
        for process, receiving in forked:
            thread = threading.Thread(target=_received, args=(receiving, made, failures))
            thread.start()
            receivers.append((process, thread))
        while (run := queue.take()) is not None:
            made[run] = work(state, *bounds[run])
        for process, thread in receivers:
            thread.join()
            process.join()
    except BaseException:
        for process, _receiving in forked:
            process.terminate()
            process.join()
        for _process, thread in receivers:
            thread.join()
        raise
    finally:
        queue.close()
    if failures:
        raise failures[0]
    if len(made) < runs:
        codes = sorted(str(process.exitcode) for process, _thread in receivers)
        raise RuntimeError(f"a worker ended with runs undone (exit codes {', '.join(codes)})")
    return [made[run] for run in range(runs)]


def _map_runs(
    work: Callable[[S, int, int], R],
    state: S,
    bounds: list[tuple[int, int]],
    queue: _Queue[int],
    results: Channel,
) -> None:
    """A map_forked worker: the runs it takes, each sent back with its number."""
    die_with_parent()
    queue.forked()
    try:
        while (run := queue.take()) is not None:
            results.send((run, work(state, *bounds[run])))
    except BaseException as exc:
        results.send((None, _portable(exc)))
    results.close()


def _received(pipe: Channel, made: dict[int, Any], failures: list[BaseException]) -> None:
    """In a thread of map_forked's process: a worker's results, until it ends."""
    try:
        while True:
            try:
                run, outcome = pipe.recv()
            except EOFError:
                return
            if run is None:
                failures.append(outcome)
            else:
                made[run] = outcome
    except BaseException as exc:
        failures.append(exc)
    finally:
        pipe.close()


def _can_fork(cores: int, items: int) -> bool:
    return (
        cores > 1
        and items >= MIN_ITEMS
        and hasattr(os, "fork")
        and not os.environ.get("PIPELINE_NO_PARALLEL")
    )
