"""Headless Chromium measurements of a built site and of Pagefind on the same items."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from .serve import Meter, serve

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TYPED = "energy efficient hardware"
FIRST_QUERY = "energy"

# Runs before the page's own scripts: records when search states and results first appear,
# each keystroke-to-results delay, and every long main-thread task.
_PROBE = """
(() => {
  const marks = { keys: [], longTasks: [] };
  window.__bench = marks;
  let keyAt = null;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) marks.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  document.addEventListener("keydown", (e) => { keyAt = e.timeStamp; }, true);
  const seen = () => {
    const state = document.documentElement.getAttribute("data-search");
    if (state && !(state in marks)) marks[state] = performance.now();
    const list = document.getElementById("result-list");
    if (list && list.querySelector("li.result") && !("firstResult" in marks)) {
      marks.firstResult = performance.now();
      if (window.__firstResult) window.__firstResult();
    }
  };
  new MutationObserver(seen)
    .observe(document, { subtree: true, childList: true, attributes: true });
  const watchResults = () => {
    const status = document.getElementById("search-status");
    if (!status) return requestAnimationFrame(watchResults);
    new MutationObserver(() => {
      if (keyAt !== null) { marks.keys.push(performance.now() - keyAt); keyAt = null; }
    }).observe(document.getElementById("result-list"), { childList: true });
  };
  document.addEventListener("DOMContentLoaded", watchResults);
})();
"""


def _launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


# Loads measured per site, after one unmeasured load: the first navigation of a freshly
# launched browser also pays for starting its renderer, which a reader's browser has done long
# before; the median of several loads, each in a fresh context (nothing cached), is reported.
LOADS = 5


def _first_result(
    browser: Any, meter: Meter, url: str, ready: str
) -> tuple[dict[str, Any], float, int, int]:
    """One load in a fresh context: the probe's marks, the navigation's start, and the bytes
    sent before the first result appeared (all, and without the HTML pages)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(_PROBE)
        moment: list[float] = []
        page.expose_function("__firstResult", lambda: moment.append(time.monotonic()))
        meter.reset()
        page.goto(url, timeout=600_000)
        page.wait_for_function(f"() => window.__bench && {ready}", timeout=300_000)
        marks: dict[str, Any] = page.evaluate("() => window.__bench")
        nav = page.evaluate("() => performance.getEntriesByType('navigation')[0].startTime")
        if not moment:
            return marks, nav, -1, -1
        return marks, nav, meter.sent_before(moment[0]), meter.sent_before(moment[0], pages=False)
    finally:
        context.close()


def _loads(browser: Any, meter: Meter, url: str, ready: str) -> list[dict[str, float]]:
    _first_result(browser, meter, url, ready)
    rows = []
    for _ in range(LOADS):
        marks, nav, sent, search_sent = _first_result(browser, meter, url, ready)
        row = {"first_result_ms": marks["firstResult"] - nav, "bytes": sent, "search": search_sent}
        if "ready" in marks:
            row["ready_ms"] = marks["ready"] - nav
        rows.append(row)
    return rows


def _median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def _range(rows: list[dict[str, float]], key: str) -> list[float]:
    return [min(row[key] for row in rows), max(row[key] for row in rows)]


def _first_result_summary(loads: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "first_result_ms": _median(loads, "first_result_ms"),
        "first_result_ms_range": _range(loads, "first_result_ms"),
        "first_result_bytes": _median(loads, "bytes"),
        "first_result_search_bytes": _median(loads, "search"),
    }


@contextmanager
def _browsing(site: Path) -> Iterator[tuple[str, Meter, Any]]:
    """Serve a site on loopback and open Chromium on it; both end with the block."""
    meter = Meter()
    base, server = serve(site, meter)
    try:
        with sync_playwright() as playwright:
            browser = _launch(playwright)
            try:
                yield base, meter, browser
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


def measure_site(site: Path, typing_rounds: int = 3) -> dict[str, Any]:
    """Navigation to search-ready, to first results, keystroke-to-results, bytes, long tasks."""
    with _browsing(site) as (base, meter, browser):
        loads = _loads(
            browser,
            meter,
            f"{base}?q={FIRST_QUERY}",
            "'firstResult' in window.__bench && 'ready' in window.__bench",
        )
        # Typing on a page whose full index is in, as a reader would after a few seconds.
        delays: list[float] = []
        long_tasks: list[float] = []
        for _ in range(typing_rounds):
            page = browser.new_page()
            page.add_init_script(_PROBE)
            page.goto(base, timeout=600_000)
            page.wait_for_function(
                "() => window.__bench && 'ready' in window.__bench", timeout=300_000
            )
            page.wait_for_timeout(300)
            began = page.evaluate("() => performance.now()")
            page.click("#q")
            for char in TYPED:
                page.keyboard.type(char)
                page.wait_for_timeout(120)
            page.wait_for_timeout(300)
            typed = page.evaluate("() => window.__bench")
            delays += typed["keys"]
            long_tasks += [d for start, d in typed["longTasks"] if start >= began]
            page.close()
    delays.sort()
    return {
        "ready_ms": _median(loads, "ready_ms"),
        "ready_ms_range": _range(loads, "ready_ms"),
        **_first_result_summary(loads),
        "key_median_ms": statistics.median(delays) if delays else float("nan"),
        "key_p95_ms": delays[min(len(delays) - 1, int(0.95 * len(delays)))]
        if delays
        else float("nan"),
        "keys": len(delays),
        "longest_task_typing_ms": max(long_tasks, default=0.0),
    }


_PAGEFIND_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>pagefind</title></head>
<body><ol id="result-list"></ol><script type="module">
const began = performance.now();
const pagefind = await import("./pagefind/pagefind.js");
await pagefind.init();
window.__bench.ready = performance.now();
const search = await pagefind.search(new URLSearchParams(location.search).get("q"));
const first = await search.results[0].data();
const li = document.createElement("li");
li.className = "result";
li.textContent = first.meta.title;
document.getElementById("result-list").appendChild(li);
</script></body></html>
"""


def measure_pagefind(site: Path) -> dict[str, Any]:
    """Pagefind's own JS API: navigation to first result (one query) and the bytes it took."""
    (site / "bench.html").write_text(_PAGEFIND_PAGE, encoding="utf-8")
    with _browsing(site) as (base, meter, browser):
        loads = _loads(
            browser, meter, f"{base}bench.html?q={FIRST_QUERY}", "'firstResult' in window.__bench"
        )
    return _first_result_summary(loads)
