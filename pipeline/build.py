"""`build(options) -> BuildReport`: read, validate, produce every output, write dist/ atomically."""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from . import compiled_cache, digests, early_search, syscalls
from .cache import cache_dir
from .errors import ContentError, Problem
from .joined import Content
from .model import Program
from .output_cache import cache_folder
from .parallel import Early
from .read_cache import ReadCache
from .records import field, record
from .stage_names import WRITTEN_BY_WORKERS
from .write import Staging, build_lock

Outputs = dict[str, Content]


@record
class BuildOptions:
    """What to build, from where, into where, and how strictly."""

    content_dir: Path = Path("content")
    out_dir: Path = Path("dist")
    config_path: Path | None = None
    strict: bool = False
    keep_going: bool = False


@record
class CheckReport:
    """What validation found; `program` holds everything that was valid."""

    program: Program
    problems: tuple[Problem, ...]
    excluded: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def summary(self) -> str:
        program = self.program
        left_out = len(program.files_left_out)
        built = program.files_read - left_out - len(program.hidden)
        parts = [f"{program.files_read} files read", f"{built} built", f"{left_out} left out"]
        if program.hidden:
            parts.append(f"{len(program.hidden)} hidden")
        if self.excluded:
            parts.append(f"{len(self.excluded)} excluded by config")
        counts = (
            f"{len(program.items)} items, {len(program.papers)} papers, "
            f"{len(program.editions)} editions"
        )
        problems = f"{len(self.errors)} errors, {len(self.warnings)} warnings"
        return f"{', '.join(parts)} ({counts}); {problems}"


@record
class BuildReport:
    """What a build wrote: the check it passed, the files and bytes, each stage's seconds."""

    check: CheckReport
    out_dir: Path
    files_written: int
    bytes_written: int
    stage_seconds: dict[str, float] = field(default_factory=dict)


def check(options: BuildOptions) -> CheckReport:
    """Read and validate the content; write nothing but the read cache. Strict mode makes
    warnings errors."""
    with _few_collections():
        report, cache = _check(options)
        if cache is not None:
            cache.save()
    return report


def _check(
    options: BuildOptions, early: Early | None = None
) -> tuple[CheckReport, ReadCache | None]:
    """check(), and the read cache, unsaved: a build saves it while its heavy stages run.
    An `early` search worker (early_search.py) surveys the content folder meanwhile."""
    # Imported here, not above: a rebuild forks its early search worker first, which needs
    # none of them (PyYAML, markdown-it-py, nh3, tomllib), and imports its own (the search
    # stage's) meanwhile.
    from .config import find_config, load_config
    from .program import assemble
    from .read import read_content

    config_path = options.config_path or find_config(options.content_dir)
    config = load_config(config_path)
    if not options.content_dir.is_dir():
        raise ContentError(
            [Problem(str(options.content_dir), 0, "content folder not found")], "nothing to build"
        )
    # Files unchanged since the last build are taken from .pipeline-cache/ (read_cache.py).
    folder = None if os.environ.get("PIPELINE_NO_CACHE") else cache_dir(options.content_dir)
    with cache_folder(folder):
        cache = ReadCache(options.content_dir.resolve(), config) if folder else None
        surveyed = early_search.survey_of(early) if early is not None and cache else None
        result = read_content(options.content_dir, config, cache, surveyed)
    program, more = assemble(result, config)
    problems = [_prefixed(p, options.content_dir) for p in result.problems + more]
    if config.is_default and program.items:
        problems.append(
            Problem(
                str(options.content_dir),
                0,
                "no pipeline.toml found: times are read as UTC; add [editions.<id>] timezone",
                "warning",
            )
        )
    if options.strict:
        problems = [Problem(p.path, p.line, p.message, "error") for p in problems]
        program = _with_left_out(program, problems, options.content_dir)
    report = CheckReport(program, tuple(sorted(set(problems))), tuple(result.excluded))
    return report, cache


@contextmanager
def _few_collections() -> Iterator[None]:
    """Collect cyclic garbage rarely while a build runs.

    A build makes millions of objects that live until it ends (items, cached outputs, the
    search index) and almost no cycles, yet Python's default thresholds rescan them all again
    and again: at 10,000 items that was a tenth of a rebuild, measured. These are the
    thresholds mypy runs with, for the same reason."""
    before = gc.get_threshold()
    gc.set_threshold(200_000, 30, 30)
    try:
        yield
    finally:
        # What the build made and keeps (its report, caches) goes to the oldest generation
        # as it is: left young, the default thresholds would have it scanned at once (18 ms
        # at 1,000 items, measured, as the command exits). The few cycles among it are
        # found by the next full collection.
        gc.freeze()
        gc.unfreeze()
        gc.set_threshold(*before)


def build(
    options: BuildOptions, stages: list[Callable[[Program], Outputs]] | None = None
) -> BuildReport:
    """Build the site into options.out_dir; raise ContentError (and write nothing) on errors,
    unless keep_going, which builds from the valid files and still reports the errors."""
    # For this process and the workers it forks; a process that builds once exits soon, and
    # one that builds again (`pipeline serve`) reuses what it kept.
    syscalls.keep_freed_memory()
    with _few_collections():
        return _build(options, stages)


def _build(options: BuildOptions, stages: list[Callable[[Program], Outputs]] | None) -> BuildReport:
    began = time.perf_counter()
    with build_lock(options.out_dir):
        # On a rebuild, the search stage makes ready in a worker while the content is read.
        folder = None if os.environ.get("PIPELINE_NO_CACHE") else cache_dir(options.content_dir)
        # The records' __init__ code before the early worker forks, which makes records too;
        # the expressions after: it compiles none.
        compiled = compiled_cache.load(folder) if folder is not None else None
        early = early_search.start(options.content_dir, folder) if stages is None else None
        if compiled is not None:
            compiled.start()
        try:
            built = _locked_build(options, stages, began, early)
            if compiled is not None:
                compiled.save()
            return built
        finally:
            if compiled is not None:
                compiled.stop()
            if early is not None:
                early.close()
            digests.forget()


def _locked_build(
    options: BuildOptions,
    stages: list[Callable[[Program], Outputs]] | None,
    began: float,
    early: Early | None,
) -> BuildReport:
    report, cache = _check(options, early)
    read_seconds = time.perf_counter() - began
    if report.errors and not options.keep_going:
        if cache is not None:
            cache.save()
        raise ContentError(report.problems, _failure_summary(report))
    if early is not None:
        # The early search worker starts on the Program now; it compares the items with its
        # state while this process goes on, and says what it decided when asked (settle).
        assert cache is not None
        folder = cache_dir(options.content_dir)
        if not early_search.offer(early, report.program, folder, cache.tokens, cache.afresh):
            early.close()
            early = None
    from .outputs import produce  # late: it pulls in the stages

    # The site is written into a staging folder as its files are made: this process's own
    # stages' files while the workers still run, the workers' by themselves, the pages last.
    # Opened before the workers start, which inherit it.
    staging = Staging(options.out_dir, taken=WRITTEN_BY_WORKERS)
    written: set[str] = set()
    saved = None

    def write_early(files: Mapping[str, Content]) -> None:
        staging.put(files)
        written.update(files)

    try:
        if early is not None:
            early_search.tell_where(early, staging)
            early.settle = partial(early_search.settle, early, report.program)
        # The read cache is saved in the background while the site is written, off the
        # critical path; the items' tokens it kept spare the stages digesting them again.
        files, copies, timings, saved = produce(
            report.program,
            options,
            stages,
            cache.save if cache else None,
            cache.tokens if cache else (),
            write_early,
            staging,
            early,
        )
        began = time.perf_counter()
        staging.empty_trash()
        staging.put({k: v for k, v in files.items() if k not in written}, copies)
        staging.commit()
    except BaseException:
        # The early worker writes into the staging folder from the moment it is told where:
        # it must have ended before the folder is abandoned.
        if early is not None:
            early.close()
        raise
    finally:
        try:
            if saved is not None:
                saved()
        finally:
            # Waits for what the commit left to threads (the spare tree's links, the replaced
            # files' removal), which ran while the caches were saved.
            staging.abandon()
    # Every stage in the order it ran, so a benchmark can show where a build spends its time.
    timings = {"read.check": read_seconds, **timings, "write.tree": time.perf_counter() - began}
    size = sum(entry.size for entry in staging.manifest.values())
    return BuildReport(report, options.out_dir, len(staging.manifest), size, timings)


# How many hex digits an asset version has: pages are rendered before the search files' version
# is known, with a stand-in for it, and where it will stand is worked out meanwhile.
ASSET_VERSION_LENGTH = 10


def asset_version(digests: Mapping[str, str]) -> str:
    """A short content hash, so browsers refetch assets exactly when they change: of each
    asset's name and SHA-256 (hex), which a worker that wrote its files itself reports."""
    digest = hashlib.sha256()
    for name in sorted(digests):
        digest.update(f"{name}\0{digests[name]}\n".encode())
    return digest.hexdigest()[:ASSET_VERSION_LENGTH]


def _failure_summary(report: CheckReport) -> str:
    return (
        f"build failed: {report.summary()}; nothing was written "
        "(use --keep-going to build the valid files)"
    )


def _prefixed(problem: Problem, content_dir: Path) -> Problem:
    return Problem(str(content_dir / problem.path), problem.line, problem.message, problem.severity)


def _with_left_out(program: Program, problems: list[Problem], content_dir: Path) -> Program:
    from .records import replace

    left = {
        Path(p.path).relative_to(content_dir).as_posix()
        for p in problems
        if p.path != str(content_dir)
    }
    kept = tuple(
        replace(e, items=tuple(i for i in e.items if i.source.path not in left))
        for e in program.editions
    )
    return replace(
        program, editions=tuple(e for e in kept if e.items), files_left_out=tuple(sorted(left))
    )
