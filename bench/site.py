"""Measure one real site (for example the workshop corpus) the way bench.run measures
generated ones: build time, search bytes per searchable item, and the page in Chromium.

    .venv/bin/python -m bench.site ../shared/corpus/emc2 examples/emc2.toml
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from .browser import measure_site
from .run import cold_build, sizes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("content", type=Path)
    parser.add_argument("config", type=Path)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "dist"
        build = cold_build(args.content.resolve(), out, args.config.resolve())
        data = (out / "search" / "index.js").read_text(encoding="utf-8")
        searchable = len(json.loads(data[data.index("=") + 1 : data.rindex(";")])["docs"])
        rows = {
            "searchable items (items + papers)": searchable,
            "cold build (s)": round(build["seconds"], 2),
        }
        for name in ("index.js", "quick.js"):
            measured = sizes(out / "search" / name)
            for kind, value in measured.items():
                if value >= 0:
                    rows[f"search/{name} {kind} bytes per item"] = round(value / searchable)
                    rows[f"search/{name} {kind} bytes"] = value
        if not args.no_browser:
            for key, value in measure_site(out).items():
                rows[f"page: {key}"] = round(value, 1) if isinstance(value, float) else value
    width = max(map(len, rows))
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
