"""Measure one real site (for example the workshop corpus) the way bench.run measures
generated ones: build time, search bytes per searchable item, and the page in Chromium.

    .venv/bin/python -m bench.site ../shared/corpus/emc2 examples/emc2.toml
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from pipeline.search_files import read_shards

from .browser import measure_site
from .run import cold_build, folder_sizes, sizes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("config", type=Path)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "dist"
        build = cold_build(args.content.resolve(), out, args.config.resolve())
        searchable = read_shards(out)[0].document_count
        rows = {
            "searchable items (items + papers)": searchable,
            "cold build (s)": round(build["seconds"], 2),
        }
        for name, measured in (
            ("search/ (all files)", folder_sizes(out / "search")),
            ("search/manifest.js", sizes(out / "search" / "manifest.js")),
        ):
            for kind, value in measured.items():
                if kind != "files" and value >= 0:
                    rows[f"{name} {kind} bytes per item"] = round(value / searchable)
                    rows[f"{name} {kind} bytes"] = value
        if not args.no_browser:
            for key, value in measure_site(out).items():
                rows[f"page: {key}"] = round(value, 1) if isinstance(value, float) else value
    width = max(map(len, rows))
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
