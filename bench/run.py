"""The benchmark: `python -m bench.run` (see bench/README.md).

For each N it generates N synthetic talks, builds the site cold (in a child process, for honest
time and peak memory), rebuilds after editing one file, measures the index bytes and the page in
headless Chromium, and runs the references (lunr.js in Node, Pagefind) on the same items.
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import brotli

from pipeline.cache import CACHE_DIR

from . import references
from .generate import generate

SIZES = (100, 1000, 10_000)
# Cold builds, each followed by lunr.js's build of the same index when references run: the two
# sides of the build ratio see the same host, and a median of three each steadies it (one
# day's single runs of lunr.js took 14.9-18.4 s for the same index).
COLD_BUILDS = 3
# Rebuilds after each cold build (before its lunr.js), each after an edit of its own: the two
# sides of the rebuild ratio see the same host too. A rebuild takes a tenth of a second at
# 1,000 items and the shared host's slow spells last seconds: five rebuilds made in a row,
# after the cold builds, once fell all in one spell (0.152-0.179 s, 25.4% of the cold builds
# made half a minute before), and a median of three once was two of them in one spell. Three
# after each: an odd count, whose median is one of them.
REBUILDS_AFTER_COLD = 3
REBUILDS = COLD_BUILDS * REBUILDS_AFTER_COLD


def cold_build(content: Path, out: Path, config: Path, *how: str) -> dict[str, Any]:
    done = _in_child("bench.build_once", content, out, config, *how)
    result: dict[str, Any] = json.loads(done.strip().splitlines()[-1])
    return result


def _in_child(module: str, *args: object) -> str:
    """What `python -m module args` prints. Its peak memory (ru_maxrss) starts at what this
    process held when it forked the child, so this process stays small until the builds are
    measured."""
    done = subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    return done.stdout


def _start_cold(root: Path, out: Path) -> None:
    """No cache, no output, no tree kept from a build before: what a first build finds.

    What an earlier build left is moved aside, into the work folder's `discarded/`, and
    deleted only once every size is measured (`_discard_all`). Deleted now, it would slow the
    build it prepares: on an ext4 file system without a journal (this project's benchmark
    machines) a new file's inode skips every inode freed in the last minute (five minutes
    while its inode table block is unsynced), so creating the 10,000-item site's files right after
    deleting the last build's 23,000 took 8-10 s of system time that a first build on the same
    disk does not pay (measured with perf: `recently_deleted` in `__ext4_new_inode`)."""
    from pipeline.trees import manifest_path, spare_path

    aside = Path(tempfile.mkdtemp(prefix="cold-", dir=_discarded(root)))
    for number, path in enumerate((root / CACHE_DIR, out, spare_path(out), manifest_path(out))):
        if path.exists() or path.is_symlink():
            path.rename(aside / str(number))


def _discarded(root: Path) -> Path:
    """Where _start_cold moves the trees of the builds before; one folder for every size."""
    folder = root.parent / "discarded"
    folder.mkdir(exist_ok=True)
    return folder


def _discard_all(work: Path) -> None:
    shutil.rmtree(work / "discarded", ignore_errors=True)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median time (of an even number, the slower middle one), with every run's
    time beside it."""
    ordered = sorted(runs, key=lambda run: float(run["seconds"]))
    return {**ordered[len(ordered) // 2], "runs": [run["seconds"] for run in runs]}


def edit_one(content: Path) -> None:
    """Change one word of one item's abstract, the commonest edit."""
    target = sorted(content.rglob("*.md"))[len(list(content.rglob("*.md"))) // 2]
    text = target.read_text(encoding="utf-8")
    target.write_text(text.rstrip("\n") + " Revised.\n", encoding="utf-8")


def sizes(path: Path) -> dict[str, int]:
    data = path.read_bytes() if path.is_file() else b""
    return {
        "raw": len(data),
        "gzip": len(gzip.compress(data, 9, mtime=0)),
        "br": len(brotli.compress(data, quality=11)) if len(data) < 8_000_000 else -1,
    }


def folder_sizes(folder: Path) -> dict[str, int]:
    """Every file of a folder, raw and compressed one by one as a server would send them."""
    total = {"raw": 0, "gzip": 0, "br": 0, "files": 0}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        for key, value in sizes(path).items():
            total[key] += value
        total["files"] += 1
    return total


def run_size(count: int, work: Path, browser: bool, refs: bool) -> dict[str, Any]:
    from pipeline.build import BuildOptions, check
    from pipeline.search_index import search_docs

    root = work / f"n{count}"
    content = generate(root, count)
    config = root / "pipeline.toml"
    out = root / "dist"
    row: dict[str, Any] = {"n": count}
    source = root / "lunr-docs.json"
    if refs:
        _in_child("bench.references", content, out, config, source)
    colds, rebuilds, references_built = [], [], []
    for _ in range(COLD_BUILDS):
        _start_cold(root, out)
        colds.append(cold_build(content, out, config))
        for _ in range(REBUILDS_AFTER_COLD):
            edit_one(content)
            rebuilds.append(cold_build(content, out, config))
        if refs:
            built = references.lunr_js(source)
            references_built.append({**built, "seconds": built["build"]})
    row["cold"] = median_run(colds)
    row["rebuild"] = median_run(rebuilds)
    if refs:
        row["lunr_js"] = median_run(references_built)
    row["resident"] = cold_build(content, out, config, "--resident", str(REBUILDS))
    row["index"] = folder_sizes(out / "search")
    row["manifest"] = sizes(out / "search" / "manifest.js")
    if browser:
        from .browser import measure_site

        try:
            row["page"] = measure_site(out)
        except Exception as error:  # one failed measurement must not lose the whole table
            print(f"N = {count:,}: page measurement failed: {error}", file=sys.stderr)
    if refs:
        docs = search_docs(check(BuildOptions(content, out, config)).program)
        pages = root / "pagefind-site"
        references.pagefind_pages(docs, pages)
        row["pagefind"] = references.pagefind(pages)
        if browser:
            from .browser import measure_pagefind

            try:
                row["pagefind"].update(measure_pagefind(pages))
            except Exception as error:
                print(f"N = {count:,}: Pagefind page failed: {error}", file=sys.stderr)
    return row


def _mb(n: int) -> str:
    return "n/a" if n < 0 else f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def _spread(measured: dict[str, Any], key: str) -> str:
    low, high = measured[f"{key}_range"]
    return f"{measured[key]:.0f} ({low:.0f}–{high:.0f})"


def _runs(measured: dict[str, Any]) -> str:
    runs = measured["runs"]
    return f"{measured['seconds']:.2f} ({min(runs):.2f}–{max(runs):.2f})"


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table, one column per N."""
    head = "| | " + " | ".join(f"N = {r['n']:,}" for r in rows) + " |"
    lines = [head, "|---" * (len(rows) + 1) + "|"]

    def line(label: str, fn: Any) -> None:
        cells = []
        for r in rows:
            try:
                cells.append(fn(r))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    line("items + papers indexed", lambda r: f"{r['cold']['items']:,} + {r['cold']['papers']:,}")
    line(f"full build, cold (s), median (range) of {COLD_BUILDS}", lambda r: _runs(r["cold"]))
    line("peak memory, cold (MiB)", lambda r: f"{r['cold']['peak_mib']:.0f}")
    stages = list(rows[0]["cold"]["stages"]) if rows else []
    for stage in stages:
        line(f"  stage {stage} (s)", lambda r, s=stage: f"{r['cold']['stages'][s]:.2f}")
    line(
        f"rebuild after a one-file edit (s), median (range) of {REBUILDS}",
        lambda r: _runs(r["rebuild"]),
    )
    line("  rebuild / cold", lambda r: f"{r['rebuild']['seconds'] / r['cold']['seconds']:.0%}")
    line("  of it, importing pipeline (s)", lambda r: f"{r['rebuild']['import']:.2f}")
    for stage in stages:
        line(f"  rebuild stage {stage} (s)", lambda r, s=stage: f"{r['rebuild']['stages'][s]:.2f}")
    served = f"rebuild in a running `pipeline serve` (s), median (range) of {REBUILDS}"
    line(served, lambda r: _runs(r["resident"]))
    line("  / cold", lambda r: f"{r['resident']['seconds'] / r['cold']['seconds']:.0%}")
    line("search/ (all files) raw / gzip / br", lambda r: " / ".join(
        _mb(r["index"][k]) for k in ("raw", "gzip", "br")))  # fmt: skip
    line("  files in search/", lambda r: f"{r['index']['files']:,}")
    line("search/manifest.js raw / gzip / br", lambda r: " / ".join(
        _mb(r["manifest"][k]) for k in ("raw", "gzip", "br")))  # fmt: skip
    line(
        f"lunr.js in Node: index build (s), median (range) of {COLD_BUILDS}",
        lambda r: _runs(r["lunr_js"]),
    )
    line(
        "  our full build / lunr.js index",
        lambda r: f"{r['cold']['seconds'] / r['lunr_js']['build']:.2f}×",
    )
    line("Pagefind: index (s)", lambda r: f"{r['pagefind']['seconds']:.2f}")
    line(
        "  our full build / Pagefind",
        lambda r: f"{r['cold']['seconds'] / r['pagefind']['seconds']:.2f}×",
    )
    line("page: navigation → search ready (ms), median (range) of 5 loads",
         lambda r: _spread(r["page"], "ready_ms"))  # fmt: skip
    line("page: navigation → first results (ms), median (range)",
         lambda r: _spread(r["page"], "first_result_ms"))  # fmt: skip
    line("Pagefind: navigation → first result (ms), median (range)",
         lambda r: _spread(r["pagefind"], "first_result_ms"))  # fmt: skip
    line("bytes before first result: ours / Pagefind",
         lambda r: f"{_mb(r['page']['first_result_bytes'])} / "
                   f"{_mb(r['pagefind']['first_result_bytes'])}")  # fmt: skip
    line(
        "  ours / Pagefind",
        lambda r: f"{r['page']['first_result_bytes'] / r['pagefind']['first_result_bytes']:.2f}×",
    )
    line("  of which search files (not the page's HTML): ours / Pagefind",
         lambda r: f"{_mb(r['page']['first_result_search_bytes'])} / "
                   f"{_mb(r['pagefind']['first_result_search_bytes'])}")  # fmt: skip
    line("keystroke → results, median / p95 (ms)",
         lambda r: f"{r['page']['key_median_ms']:.1f} / {r['page']['key_p95_ms']:.1f}")  # fmt: skip
    line(
        "longest main-thread task while typing (ms)",
        lambda r: f"{r['page']['longest_task_typing_ms']:.0f}",
    )
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    system = f"{platform.system()} {platform.machine()}"
    return f"{system}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated N")
    parser.add_argument(
        "--work", type=Path, help="folder for generated sites (default: a temp dir)"
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measurements")
    parser.add_argument("--no-references", action="store_true", help="skip lunr.js and Pagefind")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args(argv)
    refs = not args.no_references
    if refs:
        problem = references.install()
        if problem:
            print(f"references skipped: {problem}", file=sys.stderr)
            refs = False
    work = args.work or Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    # As pip does on install: else, with PYTHONDONTWRITEBYTECODE set, every child compiles
    # the package again, a tenth of a second that no installed `pipeline` pays.
    compileall.compile_dir(Path(__file__).resolve().parents[1] / "pipeline", quiet=1)
    rows = []
    for count in (int(n) for n in args.sizes.split(",")):
        print(f"N = {count:,} …", file=sys.stderr, flush=True)
        rows.append(run_size(count, work, not args.no_browser, refs))
    _discard_all(work)
    print(f"Machine: {machine()}\n")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
