"""Run every output stage over the Program and gather the files dist/ will hold."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment

from . import calendar, feeds, headers, jsonld, search_index
from .cache import cache_dir
from .layout import uses_day_pages
from .model import Program
from .output_cache import cache_folder
from .page_cache import PageCache
from .parallel import Sink, in_background, run_stages
from .render import (
    DAY_TEMPLATE,
    PageSpec,
    day_page_inputs,
    edition_views,
    listing_contexts,
    make_environment,
    render_pages,
    version_is_verbatim,
)
from .resources import lunr_js, static_dir
from .template_cache import SignedBytecodeCache

if TYPE_CHECKING:
    from .build import BuildOptions, Outputs

Stage = Callable[[Program], "Outputs"]


def static_assets(_program: Program) -> Outputs:
    files = {
        f"assets/{p.name}": p.read_bytes() for p in sorted(static_dir().iterdir()) if p.is_file()
    }
    files["assets/lunr.js"] = lunr_js().read_bytes()
    return files


DEFAULT_STAGES: tuple[Stage, ...] = (
    static_assets,
    search_index.outputs,
    feeds.outputs,
    calendar.outputs,
    headers.outputs,
)


# Run in forked workers on a large site, in DEFAULT_STAGES order: the longest, the search
# index, first.
HEAVY_STAGES = frozenset({"search_index.outputs", "calendar.outputs", "feeds.outputs"})
# Heavy stages whose workers write their files into the staging folder themselves: nothing
# here needs their bytes (the assets' version takes the search files' digests, which the
# staging folder records).
WRITTEN_BY_WORKERS = HEAVY_STAGES


def produce(
    program: Program,
    options: BuildOptions,
    stages: list[Stage] | None = None,
    save_also: Callable[[], None] | None = None,
    known_tokens: Iterable[tuple[object, str]] = (),
    write_early: Callable[[Outputs], None] | None = None,
    sink: Sink | None = None,
) -> tuple[Outputs, dict[str, Path], dict[str, float], Callable[[], None]]:
    """Every output file (contents, and sources to copy), each stage's seconds, and what
    waits for the caches to be saved. The page cache and `save_also` (the read cache) are
    saved in the background (parallel.in_background) while the caller writes the site.
    `known_tokens` are items' cache tokens known already (output_cache.cache_folder).
    `write_early` is given the files this process made while the workers may still run,
    for the caller to start writing them. The workers
    of the stages `sink` takes put their files there themselves, and those files are not
    among the ones returned (parallel.run_stages)."""
    from .build import asset_version

    # The search index, the calendars and the feeds are the heavy stages: on a large site they
    # run in forked workers while this process renders the pages.
    chosen = list(stages if stages is not None else DEFAULT_STAGES)
    # The page needs the assets' version, which needs the search files; with the bundled
    # index.html it is rendered while the workers run, with a random stand-in version that
    # is replaced afterwards.
    stand_in = secrets.token_hex(16)
    early: list[dict[str, str | bytes]] = []
    spent: list[float] = []
    writing: list[float] = []
    savers: list[Callable[[], None]] = [save_also] if save_also is not None else []
    cached: list[PageCache] = []

    def meanwhile(own: Outputs) -> None:
        render_early()
        write(own)

    def write(files: Outputs) -> None:
        if write_early is not None:
            began = time.perf_counter()
            write_early(files)
            writing.append(time.perf_counter() - began)

    def render_early() -> None:
        if version_is_verbatim(env):
            began = time.perf_counter()
            # Pages whose contexts did not change since the last build come from the cache.
            if folder is not None:
                cached.append(PageCache(stand_in))
                savers.append(cached[0].save)
            early.append(_render(program, env, stand_in, cached[0] if cached else None))
            spent.append(time.perf_counter() - began)

    # Stages cache each item's output in .pipeline-cache/, so a one-file edit redoes one item.
    folder = None if os.environ.get("PIPELINE_NO_CACHE") else cache_dir(options.content_dir)
    values = (program.site, *program.items)
    with cache_folder(folder, values, known_tokens, options.out_dir):
        compiled = SignedBytecodeCache()
        env = make_environment(options.content_dir.parent / "templates", compiled)
        if compiled.enabled:
            savers.append(compiled.save)
        files, timings = run_stages(
            program,
            chosen,
            HEAVY_STAGES,
            meanwhile=meanwhile,
            sink=sink,
        )
        began = time.perf_counter()
        versioned = ("assets/", "search/")
        digests = {
            name: hashlib.sha256(data).hexdigest()
            for name, data in files.items()
            if name.startswith(versioned)
        }
        if sink is not None:
            digests.update(sink.digests(versioned))
        version = asset_version(digests)
        if early and _utf8(early[0]["index.html"]).count(stand_in.encode()) > 0:
            if cached:
                files.update(cached[0].record(early[0], version))
            else:
                files.update(
                    (name, _utf8(html).replace(stand_in.encode(), version.encode()))
                    for name, html in early[0].items()
                )
        else:
            pages = _render(program, env, version)
            files.update((name, _utf8(html)) for name, html in pages.items())
    timings["render.page"] = time.perf_counter() - began + sum(spent)
    timings["write.early"] = sum(writing)
    copies = {asset.target: Path(asset.source) for asset in program.assets}
    # No worker is left by now, so the fork copies a process with one thread.
    wait = in_background(savers, len(program.items))
    return files, copies, timings, wait


def _utf8(page: str | bytes) -> bytes:
    return page.encode("utf-8") if isinstance(page, str) else page


def _render(
    program: Program, env: Environment, version: str, cache: PageCache | None = None
) -> dict[str, str | bytes]:
    """index.html; with day pages (layout.py) one page per edition and day, and on a site of
    several editions a page per edition but the newest, which index.html lists."""
    day_pages = uses_day_pages(program)
    views = edition_views(program)
    # With day pages, each day's events go on its own page: none are needed for index.html.
    events = [] if day_pages else jsonld.events(program)
    listings = listing_contexts(program, events, version, views)
    pages: list[PageSpec] = [(name, "index.html", context) for name, context in listings]
    if day_pages:
        days = day_page_inputs(program, version, views)
        pages += [(name, DAY_TEMPLATE, inputs) for name, inputs in days]
    return render_pages(env, pages, cache)
