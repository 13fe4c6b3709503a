"""Run one `pipeline build` in this process and print its timings and peak memory as JSON.

Run as a child of bench/run.py so every build starts cold (no warm lru caches, no imports
already paid) and its peak memory is its own.

With `--resident`, the way `pipeline serve` rebuilds: the site is built once, one file is
edited (bench/run.py's edit_one), and the timings are those of the second build, in the same
process, so with the imports paid and the interpreter warm.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    content, out, config = (Path(a) for a in sys.argv[1:4])
    resident = "--resident" in sys.argv[4:]
    began = time.perf_counter()
    from pipeline.build import BuildOptions, build

    imported = time.perf_counter() - began
    options = BuildOptions(content_dir=content, out_dir=out, config_path=config)
    if resident:
        from .run import edit_one

        build(options)
        edit_one(content)
        began, imported = time.perf_counter(), 0.0
    report = build(options)
    total = time.perf_counter() - began
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": total,
                "import": imported,
                "stages": report.stage_seconds,
                # ru_maxrss is in KiB on Linux; forked workers report their own peak.
                "peak_mib": own / 1024,
                "peak_child_mib": children / 1024,
                "items": len(report.check.program.items),
                "papers": len(report.check.program.papers),
            }
        )
    )


if __name__ == "__main__":
    main()
