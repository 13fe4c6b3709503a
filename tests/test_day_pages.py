"""A large site (or one that asks) gets a compact schedule in index.html and a page per day."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Page, expect

from pipeline.build import BuildOptions, build
from pipeline.config import ConfigError, parse_config
from pipeline.layout import DAY_PAGES_ABOVE

from .conftest import REPO


@pytest.fixture(scope="module")
def day_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample, built with `details = "day-pages"`."""
    folder = tmp_path_factory.mktemp("days")
    config = (REPO / "pipeline.toml").read_text(encoding="utf-8")
    config = config.replace("[site]\n", '[site]\ndetails = "day-pages"\n', 1)
    (folder / "pipeline.toml").write_text(config, encoding="utf-8")
    out = folder / "dist"
    build(
        BuildOptions(
            content_dir=REPO / "content", out_dir=out, config_path=folder / "pipeline.toml"
        )
    )
    return out


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_pages_list_every_item_compactly_and_link_its_day_page(
    day_site: Path, sample_site: Path
) -> None:
    full = _soup(sample_site / "index.html")
    index = _soup(day_site / "index.html")
    # index.html lists the newest edition; every other edition has its page, in the same order.
    editions = [str(e["id"]).removeprefix("edition-") for e in full.select("#program .edition")]
    pages = ["index.html", *(f"edition-{e}.html" for e in editions[1:])]
    nav = [str(a["href"]) for a in index.select("nav.edition-nav a")]
    assert nav == ["#edition-" + editions[0]] + [
        f"{page}#edition-{e}" for page, e in zip(pages[1:], editions[1:], strict=True)
    ]
    items = [li for page in pages for li in _soup(day_site / page).select("#program li.item")]
    # The same items in the same order as the one-page schedule, each with time, title, people.
    assert [li["id"] for li in items] == [li["id"] for li in full.select("#program li.item")]
    assert not index.select("#program .abstract") and full.select("#program .abstract")
    assert not index.select('script[type="application/ld+json"]')
    linked = set()
    for li in items:
        link = li.select_one(".item-title a")
        assert link is not None
        page, anchor = str(link["href"]).split("#")
        assert anchor == li["id"]
        day = _soup(day_site / page)
        assert day.find(id=anchor) is not None, f"{page} lacks #{anchor}"
        linked.add(page)
    # Every day page is linked, and no other page was written.
    written = {p.name for p in day_site.glob("*.html")}
    assert written == linked | set(pages)
    assert (day_site / "index.html").stat().st_size < (sample_site / "index.html").stat().st_size


def test_day_pages_show_the_details_with_their_events(day_site: Path, sample_site: Path) -> None:
    full = _soup(sample_site / "index.html")
    for page in sorted(day_site.glob("frugal-ml-*.html")):
        day = _soup(page)
        for li in day.select("li.item"):
            # Each item in full, exactly as the one-page schedule shows it.
            assert str(li) == str(full.find("li", id=li["id"])), li["id"]
        events = json.loads(day.select_one('script[type="application/ld+json"]').string or "")
        scheduled = [li for li in day.select("li.item") if li.select_one("time")]
        assert len(events) <= len(scheduled)
        back = str(day.select_one(".site-title a")["href"])
        assert re.fullmatch(r"(index|edition-frugal-ml-2\d)\.html#day-[\w-]+", back), back
        assert "script-src 'none'" in str(
            day.select_one('meta[http-equiv="Content-Security-Policy"]')
        )


def test_auto_chooses_day_pages_only_for_a_large_site(sample_site: Path) -> None:
    assert not list(sample_site.glob("frugal-ml-*.html"))
    manifest = (sample_site / "search" / "manifest.js").read_text(encoding="utf-8")
    assert '"dayPages":false' in manifest
    assert DAY_PAGES_ABOVE >= 300  # the corpus (157 items) keeps everything on one page


def test_details_setting_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"\[site\] details must be one of"):
        parse_config({"site": {"details": "sometimes"}})
    assert parse_config({"site": {"details": "inline"}}).details == "inline"


@pytest.mark.browser
def test_a_result_leads_to_its_day_page(page: Page, day_site: Path) -> None:
    page.goto((day_site / "index.html").as_uri() + "?q=pruning")
    expect(page.locator("html")).to_have_attribute("data-answered", "true")
    first = page.locator("#result-list .result-title").first
    href = first.get_attribute("href") or ""
    assert re.fullmatch(r"frugal-ml-2\d-(\d{4}-\d\d-\d\d|unscheduled)\.html#[\w-]+", href), href
    first.click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    target = href.split("#")[1]
    expect(page.locator(f"li.item[id='{target}'], li.paper[id='{target}']")).to_be_visible()
