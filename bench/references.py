"""The references the benchmark compares against, run on the same items in the same run:
lunr.js building the same index in Node, and Pagefind indexing the items as pages."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from pipeline.search_index import SearchDoc, to_ref

NODE_DIR = Path(__file__).resolve().parent / "node"


def install() -> str | None:
    """`npm ci` in bench/node (pinned lunr and pagefind); None when it worked, else why not."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        return "node/npm not found"
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True, text=True
    )
    if done.returncode:
        return f"npm ci failed: {done.stderr.strip()[-400:]}"
    return None


def lunr_docs(docs: list[SearchDoc], source: Path) -> None:
    """The documents lunr.js indexes: the same four fields, as a JSON file for Node."""
    rows = [
        {"ref": to_ref(i), **{name: " ".join(words) for name, words in d.fields.items()}}
        for i, d in enumerate(docs)
    ]
    source.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def lunr_js(source: Path) -> dict[str, Any]:
    """lunr.js's own build of the documents in `source` (its default pipeline), timed inside
    Node."""
    done = subprocess.run(
        ["node", str(NODE_DIR / "reference_index_build.js"), str(source)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def pagefind_pages(docs: list[SearchDoc], site: Path) -> None:
    """One HTML page per searchable item (talks and papers), with the same text we index."""
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    for i, doc in enumerate(docs):
        f = {name: html.escape(" ".join(words)) for name, words in doc.fields.items()}
        page = (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{f["title"]}'
            f"</title></head><body><main><h1>{f['title']}</h1><p>{f['names']}</p>"
            f"<p>{f['affiliation']}</p><p>{f['text']}</p></main></body></html>"
        )
        (site / f"{to_ref(i)}.html").write_text(page, encoding="utf-8")


def pagefind(site: Path) -> dict[str, Any]:
    """Time `pagefind --site`, the whole indexing run, and the bytes of what it wrote."""
    binary = NODE_DIR / "node_modules" / ".bin" / "pagefind"
    began = time.perf_counter()
    subprocess.run(
        [str(binary), "--site", str(site), "--silent"], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - began
    out = site / "pagefind"
    files = [p for p in out.rglob("*") if p.is_file()]
    return {"seconds": seconds, "bytes": sum(p.stat().st_size for p in files), "files": len(files)}


def main(argv: list[str]) -> None:
    """`python -m bench.references CONTENT OUT CONFIG SOURCE`: write lunr_docs of the site to
    SOURCE. In a child process: the benchmark's own process stays small, and a child it starts
    counts the memory it held when forked in its own peak (Linux keeps it across exec)."""
    from pipeline.build import BuildOptions, check
    from pipeline.search_index import search_docs

    content, out, config, source = (Path(a) for a in argv)
    lunr_docs(search_docs(check(BuildOptions(content, out, config)).program), source)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
