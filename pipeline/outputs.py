"""Run every output stage over the Program and gather the files dist/ will hold."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import calendar, feeds, headers, jsonld, search_index
from .model import Program
from .parallel import run_stages
from .render import make_environment, page_context, render_page
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
    files, timings = run_stages(program, chosen, HEAVY_STAGES)
    began = time.perf_counter()
    version = asset_version(
        {k: v for k, v in files.items() if k.startswith(("assets/", "search/"))}
    )
    env = make_environment(options.content_dir.parent / "templates")
    context = page_context(program, jsonld.events(program), version)
    files["index.html"] = render_page(env, context).encode("utf-8")
    timings["render.page"] = time.perf_counter() - began
    copies = {asset.target: Path(asset.source) for asset in program.assets}
    return files, copies, timings
