"""Run every output stage over the Program and gather the files dist/ will hold."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment

from . import calendar, feeds, headers, jsonld, search_index
from .cache import CACHE_DIR
from .layout import edition_page, uses_day_pages, uses_edition_pages
from .model import Program
from .output_cache import cache_folder
from .parallel import run_stages
from .render import (
    DAY_TEMPLATE,
    PageSpec,
    day_page_contexts,
    make_environment,
    page_context,
    render_pages,
    version_is_verbatim,
)
from .resources import lunr_js, static_dir

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


HEAVY_STAGES = frozenset({"search_index.outputs", "calendar.outputs"})


def produce(
    program: Program, options: BuildOptions, stages: list[Stage] | None = None
) -> tuple[Outputs, dict[str, Path], dict[str, float]]:
    from .build import asset_version

    # The search index and the calendars are the heavy stages: on a large site they run in
    # forked workers while this process makes the rest.
    chosen = list(stages if stages is not None else DEFAULT_STAGES)
    env = make_environment(options.content_dir.parent / "templates")
    # The page needs the assets' version, which needs the search files; with the bundled
    # index.html it is rendered while the workers run, with a random stand-in version that
    # is replaced afterwards.
    stand_in = secrets.token_hex(16)
    early: list[dict[str, str]] = []
    spent: list[float] = []

    def render_early() -> None:
        if version_is_verbatim(env):
            began = time.perf_counter()
            early.append(_render(program, env, stand_in))
            spent.append(time.perf_counter() - began)

    # Stages cache each item's output in .pipeline-cache/, so a one-file edit redoes one item.
    folder = None if os.environ.get("PIPELINE_NO_CACHE") else _cache_dir(options)
    with cache_folder(folder, (program.site, *program.items)):
        files, timings = run_stages(program, chosen, HEAVY_STAGES, meanwhile=render_early)
        began = time.perf_counter()
        version = asset_version(
            {k: v for k, v in files.items() if k.startswith(("assets/", "search/"))}
        )
        if early and early[0]["index.html"].count(stand_in) > 0:
            pages = {name: html.replace(stand_in, version) for name, html in early[0].items()}
        else:
            pages = _render(program, env, version)
        files.update((name, html.encode("utf-8")) for name, html in pages.items())
    timings["render.page"] = time.perf_counter() - began + sum(spent)
    copies = {asset.target: Path(asset.source) for asset in program.assets}
    return files, copies, timings


def _render(program: Program, env: Environment, version: str) -> dict[str, str]:
    """index.html; with day pages (layout.py) one page per edition and day, and on a site of
    several editions a page per edition but the newest, which index.html lists."""
    day_pages = uses_day_pages(program)
    # With day pages, each day's events go on its own page: none are needed for index.html.
    events = [] if day_pages else jsonld.events(program)
    pages: list[PageSpec] = [("index.html", "index.html", page_context(program, events, version))]
    if uses_edition_pages(program):
        newest = program.editions[0].id
        for edition in program.editions[1:]:
            context = page_context(program, [], version, shown=edition.id)
            pages.append((edition_page(edition.id, newest), "index.html", context))
    if day_pages:
        pages += [(name, DAY_TEMPLATE, day) for name, day in day_page_contexts(program, version)]
    return render_pages(env, pages)


def _cache_dir(options: BuildOptions) -> Path:
    return options.content_dir.resolve().parent / CACHE_DIR
