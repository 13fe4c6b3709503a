"""Run one `pipeline build` in this process and print its timings and peak memory as JSON.

Run as a child of bench/run.py so every build starts cold (no warm lru caches, no imports
already paid) and its peak memory is its own.

With `--resident N`, the way `pipeline serve` rebuilds: the site is built once, then N times
one file is edited (bench/run.py's edit_one) and the site built again in the same process, so
with the imports paid and the interpreter warm; the timings are those of the median rebuild,
with every rebuild's time in "runs".
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.build import BuildReport


def main() -> None:
    content, out, config = (Path(a) for a in sys.argv[1:4])
    rebuilds = int(sys.argv[5]) if sys.argv[4:5] == ["--resident"] else 0
    began = time.perf_counter()
    from pipeline.build import BuildOptions, build

    imported = time.perf_counter() - began
    options = BuildOptions(content_dir=content, out_dir=out, config_path=config)
    if not rebuilds:
        report = build(options)
        print(json.dumps(_measured(report, time.perf_counter() - began, imported)))
        return
    from .run import edit_one, median_run

    build(options)
    runs = []
    for _ in range(rebuilds):
        edit_one(content)
        began = time.perf_counter()
        report = build(options)
        runs.append(_measured(report, time.perf_counter() - began, 0.0))
    print(json.dumps(median_run(runs)))


def _measured(report: BuildReport, seconds: float, imported: float) -> dict[str, Any]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": seconds,
        "import": imported,
        "stages": report.stage_seconds,
        # ru_maxrss is in KiB on Linux; forked workers report their own peak.
        "peak_mib": own / 1024,
        "peak_child_mib": children / 1024,
        "items": len(report.check.program.items),
        "papers": len(report.check.program.papers),
    }


if __name__ == "__main__":
    main()
