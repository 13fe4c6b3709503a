"""The embeddable <talk-search> widget, used from a host page on another origin."""

from __future__ import annotations

import http.server
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from playwright.sync_api import Page, expect

from pipeline.headers import headers_file

HOSTILE_CSS = """
* { color: red !important; display: block; font-size: 7px; letter-spacing: 9px; }
input, ul, li, a, form { display: none !important; }
talk-search {
  font-family: Georgia, serif;
  --talk-search-color: rgb(20, 90, 40);
  --talk-search-accent: rgb(0, 80, 160);
}
"""


def _host_page(folder: Path, site_url: str) -> Path:
    """A host page with a strict CSP of its own: scripts from itself and the schedule's origin."""
    folder.mkdir()
    origin = site_url.rstrip("/")
    (folder / "host.css").write_text(HOSTILE_CSS, encoding="utf-8")
    (folder / "index.html").write_text(
        f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'self'; script-src 'self' {origin}; style-src 'self'">
<title>Host</title>
<link rel="stylesheet" href="host.css">
<script src="{site_url}assets/widget.js" defer></script>
</head><body>
<h1>Another conference</h1>
<talk-search src="{site_url}" label="Search Frugal ML talks"></talk-search>
<p id="after">After the widget</p>
</body></html>""",
        encoding="utf-8",
    )
    return folder


@pytest.mark.browser
def test_widget_searches_another_origin(
    page: Page, serve: Callable[[Path], str], sample_site: Path, tmp_path: Path
) -> None:
    site_url = serve(sample_site)
    host_url = serve(_host_page(tmp_path / "host", site_url))
    assert site_url != host_url
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(host_url)
    page.wait_for_function("() => customElements.get('talk-search') !== undefined")
    box = page.locator("talk-search input")
    expect(box).to_be_visible()
    # Nothing but the widget script comes from the schedule's site until the box is focused.
    page.wait_for_timeout(300)
    assert not [url for url in requests if "search/" in url or "lunr.js" in url]

    box.focus()
    page.wait_for_function("() => document.querySelector('talk-search').dataset.state === 'ready'")
    assert f"{site_url}search/manifest.js" in requests
    box.press_sequentially("quantiz")
    first = page.locator("talk-search li[role=option] a").first
    expect(first).to_be_visible()
    href = first.get_attribute("href") or ""
    assert href.startswith(f"{site_url}index.html#")
    ids = {item["id"] for item in json.loads((sample_site / "talks.json").read_text())["items"]}
    papers = {
        p["id"]
        for i in json.loads((sample_site / "talks.json").read_text())["items"]
        for p in i["papers"]
    }
    assert href.split("#", 1)[1] in ids | papers
    expect(page.locator("talk-search [role=status]")).to_contain_text("result")
    # Each option names its edition as the schedule does, not by its id.
    talks = json.loads((sample_site / "talks.json").read_text())
    names = {e["id"]: e["name"] for e in talks["editions"]}
    edition_of = {i["id"]: i["edition"] for i in talks["items"]}
    edition_of |= {p["id"]: i["edition"] for i in talks["items"] for p in i["papers"]}
    edition = edition_of[href.split("#", 1)[1]]
    meta = page.locator("talk-search li[role=option] .meta").first.inner_text()
    assert names[edition] in meta and names[edition] != edition

    # The host's hostile CSS does not reach inside; its font comes in by inheritance and its
    # colours through the custom properties (`* { color: red !important }` hits the element).
    styles = box.evaluate(
        """input => { const s = getComputedStyle(input);
                      return [s.display, s.fontFamily, s.color, s.letterSpacing]; }"""
    )
    assert styles[0] != "none"
    assert "Georgia" in styles[1]
    assert styles[2] == "rgb(20, 90, 40)"
    assert styles[3] == "normal"
    assert first.evaluate("a => getComputedStyle(a).color") == "rgb(0, 80, 160)"

    # Keyboard: arrow to the first result, Enter opens it on the schedule's site.
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant")
    box.press("Enter")
    page.wait_for_url(f"{site_url}index.html#*")
    assert page.url == href
    assert not errors


@pytest.mark.browser
def test_widget_default_src_and_escape(
    page: Page, serve: Callable[[Path], str], sample_site: Path, tmp_path: Path
) -> None:
    """Without src, the widget searches the site it was loaded from; Escape clears the box.

    The host page declares no encoding (so it is windows-1252): names must still read right.
    """
    site_url = serve(sample_site)
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "index.html").write_text(
        f'<!doctype html><title>Plain</title><script src="{site_url}assets/widget.js"></script>'
        "<talk-search limit='2'></talk-search>",
        encoding="utf-8",
    )
    page.goto(serve(folder))
    box = page.locator("talk-search input")
    box.focus()
    box.press_sequentially("sparsity")
    options = page.locator("talk-search li[role=option]")
    expect(options).to_have_count(2)
    assert (options.first.locator("a").get_attribute("href") or "").startswith(site_url)
    expect(page.locator("talk-search [role=status]")).to_contain_text("showing the first 2")
    box.press("Escape")
    expect(options).to_have_count(0)
    assert box.input_value() == ""
    box.press_sequentially("muller")
    expect(options.first).to_contain_text("Jonas M\u00fcller")
    expect(options.first).to_contain_text("\u00b7")


def test_headers_file_allows_embedding(sample_site: Path) -> None:
    text = (sample_site / "_headers").read_text(encoding="utf-8")
    assert text == headers_file()
    rules: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("/"):
            current = line
            rules[current] = []
        elif line.startswith("  ") and current:
            rules[current].append(line.strip())
    for path in (
        "/search/*",
        "/assets/*",
        "/talks.json",
        "/feed.json",
        "/calendar.ics",
        "/calendar/*",
    ):
        assert "Access-Control-Allow-Origin: *" in rules[path], path
    # One Cache-Control per rule: hosts join repeated headers from overlapping rules.
    for path, headers in rules.items():
        assert sum(h.startswith("Cache-Control:") for h in headers) == 1, path


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a site and remembers every path asked for."""

    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.browser
def test_widget_loads_only_the_ranges_a_query_needs(
    page: Page, serve: Callable[..., str], corpus_site: Path, tmp_path: Path
) -> None:
    """Like the page, the widget fetches the manifest, then the term ranges and cards each query
    needs: never the whole index."""
    _CountingHandler.paths = []
    site_url = serve(corpus_site, _CountingHandler)
    host = tmp_path / "host"
    host.mkdir()
    (host / "index.html").write_text(
        f'<!doctype html><meta charset="utf-8"><script src="{site_url}assets/widget.js"></script>'
        f'<talk-search src="{site_url}"></talk-search>',
        encoding="utf-8",
    )
    page.goto(serve(host))
    box = page.locator("talk-search input")
    box.focus()
    box.press_sequentially("sparsity")
    expect(page.locator("talk-search li[role=option]").first).to_be_visible()
    expect(page.locator("talk-search")).to_have_attribute("data-state", "ready")
    ranges = [p for p in _CountingHandler.paths if p.startswith("/search/terms/")]
    cards = [p for p in _CountingHandler.paths if p.startswith("/search/cards/")]
    assert "/search/manifest.js" in _CountingHandler.paths
    on_disk = len(list((corpus_site / "search" / "terms").iterdir()))
    assert ranges and cards
    assert len(set(ranges)) < on_disk or on_disk == 1
