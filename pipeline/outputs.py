"""Run every output stage over the Program and gather the files dist/ will hold."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import calendar, feeds, headers, scratch
from .build import ASSET_VERSION_LENGTH
from .cache import cache_dir
from .digests import sha256
from .joined import Content
from .model import Program
from .output_cache import cache_folder
from .parallel import Early, Sink, run_stages
from .resources import lunr_js, static_dir
from .stage_names import HEAVY_STAGES, SEARCH_STAGE

# The pages' modules (Jinja2 among them) are imported once the workers are forked: they never
# render, and importing Jinja2 first held every worker back by 20 ms on a rebuild (measured).
if TYPE_CHECKING:
    from jinja2 import Environment

    from .build import BuildOptions, Outputs
    from .page_cache import PageCache

Stage = Callable[[Program], "Outputs"]


def static_assets(_program: Program) -> Outputs:
    files: Outputs = {
        f"assets/{p.name}": p.read_bytes() for p in sorted(static_dir().iterdir()) if p.is_file()
    }
    files["assets/lunr.js"] = lunr_js().read_bytes()
    return files


class _ImportedStage:
    """A stage whose module is imported when the stage first runs: the search stage pulls in
    numpy, which a build whose workers run it never needs in its own process."""

    def __init__(self, module: str, name: str) -> None:
        # What parallel.stage_name reads.
        self.__module__ = f"{__package__}.{module}"
        self.__name__ = name

    def __call__(self, program: Program) -> Outputs:
        stage: Stage = getattr(importlib.import_module(self.__module__), self.__name__)
        return stage(program)


DEFAULT_STAGES: tuple[Stage, ...] = (
    static_assets,
    _ImportedStage("search_index", "outputs"),
    feeds.outputs,
    calendar.outputs,
    headers.outputs,
)


def produce(
    program: Program,
    options: BuildOptions,
    stages: list[Stage] | None = None,
    save_also: Callable[[], None] | None = None,
    known_tokens: Iterable[tuple[object, str]] = (),
    write_early: Callable[[Mapping[str, Content]], None] | None = None,
    sink: Sink | None = None,
    early: Early | None = None,
) -> tuple[Outputs, dict[str, Path], dict[str, float], Callable[[], None]]:
    """Every output file (contents, and sources to copy), each stage's seconds, and what
    saves the page and template caches and waits for the others: `save_also` (the read cache)
    is saved by a worker once its files are handed over, and so are the workers' own.
    `known_tokens` are items' cache tokens known already (output_cache.cache_folder).
    `write_early` is given the files this process made while the workers may still run,
    for the caller to start writing them. The workers
    of the stages `sink` takes put their files there themselves, and those files are not
    among the ones returned (parallel.run_stages)."""
    # The search index, the calendars and the feeds are the heavy stages: on a large site they
    # run in forked workers while this process renders the pages.
    chosen = list(stages if stages is not None else DEFAULT_STAGES)
    # The listing pages need the search files' version, which needs the search files; with the
    # bundled templates every page is rendered while the workers run, with a random stand-in
    # for that version, replaced afterwards. The assets' version is known by then (this
    # process makes assets/), and the pages without a listing (the day pages) are written.
    stand_in = scratch.random_hex(16)
    awaiting: dict[str, bytes] = {}
    ready: dict[str, bytes] = {}
    spent: list[float] = []
    writing: list[float] = []
    savers: list[Callable[[], None]] = []
    cached: list[PageCache] = []
    made: list[Environment] = []

    def environment() -> Environment:
        if not made:
            from .render import make_environment
            from .template_cache import SignedBytecodeCache

            compiled = SignedBytecodeCache()
            made.append(make_environment(options.content_dir.parent / "templates", compiled))
            if compiled.enabled:
                savers.append(compiled.save)
        return made[0]

    def meanwhile(own: Outputs) -> None:
        render_early(own)
        write({**own, **ready})
        if cached:
            # All the page cache keeps but the listing pages' digests is known: saved now,
            # while the workers run, not once the search stage is in, at the end of a
            # rebuild's longest path (handling that stage's result at 1,000 items: 9.6 → 4.9
            # ms, medians of 15 timelines).
            cached[0].save()

    def write(files: Mapping[str, Content]) -> None:
        if write_early is not None:
            began = time.perf_counter()
            write_early(files)
            writing.append(time.perf_counter() - began)

    def render_early(own: Outputs) -> None:
        from .page_cache import PageCache
        from .render import version_is_verbatim

        env = environment()
        if not version_is_verbatim(env):
            return
        began = time.perf_counter()
        # Pages whose contexts did not change since the last build come from the cache.
        if folder is not None:
            cached.append(PageCache(stand_in, env))
            env.globals["items_html"] = cached[0].items_html
        versions = (_version_of(own, "assets/"), stand_in)
        pages = _render(program, env, versions, cached[0] if cached else None)
        marker = stand_in.encode()
        for name, html in pages.items():
            data = _utf8(html)
            if marker in data:
                awaiting[name] = data
            else:
                ready.update(_recorded(cached, {name: data}, stand_in, stand_in))
        if cached:
            cached[0].hold(awaiting, ASSET_VERSION_LENGTH)
        spent.append(time.perf_counter() - began)

    # The search files' version, and the pages that await it, once the search stage is in:
    # while the other workers finish, not after (the feeds were last in a 1,000-item rebuild,
    # with this process idle).
    search_versions: list[str] = []

    def arrived(name: str, own: Outputs) -> None:
        if name != SEARCH_STAGE or not awaiting:
            return
        search_versions.append(_version_of(own, "search/", sink))
        recorded = _finished(cached, awaiting, stand_in, search_versions[0])
        awaiting.clear()
        ready.update(recorded)
        write(recorded)
        # The caches can be saved now, before the site is committed: each page the page cache
        # names is checked against dist/ when used, so a build that fails after this leaves
        # it only useless.
        for save in savers:
            save()
        savers.clear()

    # Stages cache each item's output in .pipeline-cache/, so a one-file edit redoes one item.
    folder = None if os.environ.get("PIPELINE_NO_CACHE") else cache_dir(options.content_dir)
    values = (program.site, *program.items)
    with cache_folder(folder, values, known_tokens, options.out_dir):
        files, timings, workers_done = run_stages(
            program,
            chosen,
            HEAVY_STAGES,
            meanwhile=meanwhile,
            sink=sink,
            early=early,
            # The read cache is complete once the content is read: a worker saves it.
            afterwards=[save_also] if save_also is not None else [],
            arrived=arrived,
        )
        try:
            began = time.perf_counter()
            # Only the search stage writes search/ (SEARCH_STAGE).
            search_version = (search_versions or [_version_of(files, "search/", sink)])[0]
            if ready or awaiting:
                files.update(ready)
                files.update(_finished(cached, awaiting, stand_in, search_version))
            else:
                versions = (_version_of(files, "assets/"), search_version)
                pages = _render(program, environment(), versions)
                files.update((name, _utf8(html)) for name, html in pages.items())
        except BaseException:
            workers_done()
            raise
    timings["render.page"] = time.perf_counter() - began + sum(spent)
    timings["write.early"] = sum(writing)
    copies = {asset.target: Path(asset.source) for asset in program.assets}

    def wait() -> None:
        # Once the site is written, while the workers save their caches (which they do once
        # their files are handed over). Saving these in a forked child or a thread cost the
        # end of a rebuild more (forking, copies of the pages the build touched, the
        # interpreter's lock), measured.
        for save in savers:
            save()
        workers_done()

    return files, copies, timings, wait


def _version_of(files: Outputs, prefix: str, sink: Sink | None = None) -> str:
    """The version (build.asset_version) of the files under `prefix`, among these and those
    the sink's workers put."""
    from .build import asset_version

    digests = {name: sha256(data).hex() for name, data in files.items() if name.startswith(prefix)}
    if sink is not None:
        digests.update(sink.digests((prefix,)))
    return asset_version(digests)


def _recorded(
    cached: list[PageCache], pages: dict[str, bytes], stand_in: str, version: str
) -> dict[str, bytes]:
    """The pages with the stand-in replaced by `version`, noted in the page cache if any."""
    if cached:
        return cached[0].record(pages, version)
    old, new = stand_in.encode(), version.encode()
    return {name: data.replace(old, new) for name, data in pages.items()}


def _finished(
    cached: list[PageCache], pages: dict[str, bytes], stand_in: str, version: str
) -> dict[str, bytes]:
    """The pages that awaited the search files' version, which replaces the stand-in; the
    page cache, if any, noted them already (PageCache.hold) and adds their digests."""
    if cached:
        return cached[0].finish(pages, version)
    return _recorded(cached, pages, stand_in, version)


def _utf8(page: str | bytes) -> bytes:
    return page.encode("utf-8") if isinstance(page, str) else page


def _render(
    program: Program,
    env: Environment,
    versions: tuple[str, str],
    cache: PageCache | None = None,
) -> dict[str, str | bytes]:
    """index.html; with day pages (layout.py) one page per edition and day, and on a site of
    several editions a page per edition but the newest, which index.html lists."""
    from . import jsonld
    from .layout import uses_day_pages
    from .render import (
        DAY_TEMPLATE,
        PageSpec,
        day_page_inputs,
        edition_views,
        listing_contexts,
        render_pages,
    )

    day_pages = uses_day_pages(program)
    views = edition_views(program)
    # With day pages, each day's events go on its own page: none are needed for index.html.
    events = [] if day_pages else jsonld.events(program)
    asset_version, search_version = versions
    listings = listing_contexts(program, events, asset_version, search_version, views)
    pages: list[PageSpec] = [(name, "index.html", context) for name, context in listings]
    if day_pages:
        days = day_page_inputs(program, asset_version, views)
        pages += [(name, DAY_TEMPLATE, inputs) for name, inputs in days]
    return render_pages(env, pages, cache)
