"""The schedule page as a reader sees it, in Chromium: complete without JavaScript, usable on a
phone, legible in light and dark, printable, and silent in the console.

Screenshots land in test-results/screenshots/ (gitignored) for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-results" / "screenshots"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """Replaces pytest-playwright 0.10's fallback `base_url`, a fixture defined as an instance
    method, which pytest 9 deprecates (an error here, as warnings are errors). Belongs in
    conftest.py."""
    return None


@pytest.fixture
def sample_url(sample_site: Path, serve: Any) -> str:
    return str(serve(sample_site)) + "index.html"


@pytest.fixture
def no_js(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(java_script_enabled=False)
    yield context
    context.close()


def _items(site: Path) -> list[dict[str, Any]]:
    """What the built HTML promises for each item: id, title, times, speaker names."""
    soup = BeautifulSoup((site / "index.html").read_text(encoding="utf-8"), "html.parser")
    items = []
    for li in soup.select("#program li.item"):
        items.append(
            {
                "id": li["id"],
                "title": li.select_one(".item-title").get_text(" ", strip=True),
                "times": [t.get_text(strip=True) for t in li.select(".item-time time")],
                "people": [p.get_text(" ", strip=True) for p in li.select(".person-name")],
            }
        )
    return items


def _shoot(page: Page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def test_without_javascript_every_item_shows_title_time_and_speakers(
    no_js: BrowserContext, sample_site: Path, sample_url: str
) -> None:
    items = _items(sample_site)
    assert len(items) >= 30
    page = no_js.new_page()
    page.goto(sample_url)
    for item in items:
        li = page.locator(f"[id='{item['id']}']")
        expect(li).to_be_visible()
        expect(li.locator(".item-title")).to_have_text(item["title"])
        expect(li.locator(".item-title")).to_be_visible()
        assert item["times"], f"{item['id']} has no time"
        for index, text in enumerate(item["times"]):
            expect(li.locator(".item-time time").nth(index)).to_have_text(text)
            expect(li.locator(".item-time time").nth(index)).to_be_visible()
        for index, name in enumerate(item["people"]):
            expect(li.locator(".person-name").nth(index)).to_have_text(name)
            expect(li.locator(".person-name").nth(index)).to_be_visible()
    # Controls that need JavaScript are out of the way; the item count is still said.
    expect(page.locator("#q")).to_be_hidden()
    expect(page.locator("#filter-edition")).to_be_hidden()
    expect(page.locator("#local-time")).to_be_hidden()
    expect(page.locator("#search-status")).to_contain_text("35 items")
    expect(page.locator("#results")).to_be_hidden()


def test_landmarks_and_headings(page: Page, sample_site: Path, sample_url: str) -> None:
    page.goto(sample_url)
    for role in ("banner", "main", "contentinfo", "search"):
        expect(page.get_by_role(role)).to_have_count(1)
    expect(page.get_by_role("navigation", name="Editions")).to_be_visible()
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("Frugal ML workshop")
    editions = page.locator("#program section.edition")
    expect(editions).to_have_count(3)
    for index in range(3):
        expect(editions.nth(index).locator(":scope > h2")).to_have_count(1)
    expect(page.locator("#program h2")).to_have_text(
        ["Frugal ML 2026", "Frugal ML 2025", "Frugal ML 2024"]
    )
    # Every navigation link leads to an edition heading on the page.
    for link in page.locator(".edition-nav a").all():
        target = (link.get_attribute("href") or "").lstrip("#")
        expect(page.locator(f"[id='{target}'] h2")).to_be_visible()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_no_horizontal_scrolling_at_360px(browser: Browser, sample_url: str, js: bool) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=js)
    page = context.new_page()
    page.goto(sample_url)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide at {PHONE['width']}px"
    if js:
        page.locator("#q").fill("quantization")
        expect(page.locator("#result-list .result").first).to_be_visible()
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_corpus_fits_a_phone(browser: Browser, corpus_site: Path, serve: Any) -> None:
    """Real content has long titles, URLs and names; none may push the page sideways."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(serve(corpus_site) + "index.html")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    _shoot(page, "corpus-375-light-top", full_page=False)
    context.close()


def test_console_is_clean(page: Page, sample_url: str) -> None:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.goto(sample_url)
    page.wait_for_load_state("networkidle")
    page.locator("#q").fill("müller")
    page.locator("#q").fill("")
    # Lazy avatars far down the page load too.
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_load_state("networkidle")
    assert problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots(page: Page, sample_url: str, width: int, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(sample_url)
    # Eager-load every avatar so the full-page picture shows them.
    page.evaluate(
        "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
    )
    page.wait_for_load_state("networkidle")
    _shoot(page, f"sample-{width}-{scheme}")
    _shoot(page, f"sample-{width}-{scheme}-top", full_page=False)
    page.locator("#q").fill("quantization")
    expect(page.locator("#result-list .result").first).to_be_visible()
    expect(page.locator("#program")).to_be_hidden()
    _shoot(page, f"search-{width}-{scheme}", full_page=False)
    page.locator("#q").fill("zzzzqqq")
    expect(page.locator(".results-empty")).to_be_visible()
    _shoot(page, f"search-empty-{width}-{scheme}", full_page=False)


def _rgb(css: str) -> tuple[float, float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    if css.startswith("color(srgb"):
        numbers = [n * 255 for n in numbers[:3]] + numbers[3:]
    red, green, blue = numbers[:3]
    alpha = numbers[3] if len(numbers) > 3 else 1.0
    return red, green, blue, alpha


def _luminance(rgb: tuple[float, float, float, float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue, _ = rgb
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted(
        (_luminance(_rgb(foreground)), _luminance(_rgb(background))), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


# The text/background pairs a reader meets; each selector's first match is measured.
TEXT_SAMPLES = [
    "body",
    ".site-title",
    ".site-description",
    ".search-status",
    ".edition-meta",
    ".day-title",
    ".item--talk .item-title a",
    ".item--talk .item-type",
    ".item[data-type='keynote'] .item-type",
    ".abstract",
    ".person-name",
    ".person .affiliation",
    ".paper-authors .affiliation",
    ".item[data-type='break'] .item-title a",
    ".item[data-type='break'] .time-end",
    ".time-end",
    ".links a",
    ".add-calendar",
    ".avatar--placeholder",
    ".bio summary",
    ".edition-nav-venue",
    ".site-footer",
]

_COLOURS_JS = """(selector) => {
  const element = document.querySelector(selector);
  if (!element) return null;
  let node = element, background = 'rgba(0, 0, 0, 0)';
  while (node) {
    const value = getComputedStyle(node).backgroundColor;
    if (!/rgba\\(0, 0, 0, 0\\)|transparent/.test(value)) { background = value; break; }
    node = node.parentElement;
  }
  return [getComputedStyle(element).color, background];
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(page: Page, sample_url: str, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    page.goto(sample_url)
    failures = []
    for selector in TEXT_SAMPLES:
        colours = page.evaluate(_COLOURS_JS, selector)
        assert colours, f"{selector} is not on the page"
        foreground, background = colours
        assert _rgb(background)[3] == 1, f"{selector}: no opaque background found"
        ratio = contrast(foreground, background)
        if ratio < 4.5:
            failures.append(f"{selector}: {foreground} on {background} is {ratio:.2f}:1")
    assert failures == []
    # The two themes really differ.
    body_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    is_dark = _luminance(_rgb(body_bg)) < 0.2
    assert is_dark == (scheme == "dark")


def test_search_results_are_legible_in_both_schemes(page: Page, sample_url: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        page.goto(sample_url + "?q=pruning")
        expect(page.locator("#result-list mark").first).to_be_visible()
        for selector in ("mark", ".result-title", ".result-meta", ".result-snippet"):
            foreground, background = page.evaluate(_COLOURS_JS, f"#result-list {selector}")
            ratio = contrast(foreground, background)
            assert ratio >= 4.5, f"{scheme} {selector}: {ratio:.2f}:1"


def test_print_shows_the_schedule_without_controls(page: Page, sample_url: str) -> None:
    page.goto(sample_url + "?q=pruning")
    expect(page.locator("#result-list .result").first).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("#search-form")).to_be_hidden()
    expect(page.locator(".edition-nav")).to_be_hidden()
    expect(page.locator("#results")).to_be_hidden()
    # A search in progress does not hide the schedule on paper, and bios are unfolded.
    expect(page.locator("#program")).to_be_visible()
    bio = page.locator("#frugal-ml-25-keynote-saito .bio-text")
    expect(bio).to_be_visible()
    expect(bio).to_contain_text("Haruka Saito is a professor")
    backgrounds = page.evaluate(
        """() => [...document.querySelectorAll('body, .site-header, .item, .day-title')]
             .map(e => getComputedStyle(e).backgroundColor)
             .filter(c => !/rgba\\(0, 0, 0, 0\\)|rgb\\(255, 255, 255\\)/.test(c))"""
    )
    assert backgrounds == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SCREENSHOTS / "sample-print.pdf"))


def test_local_time_toggle_says_which_clock_is_shown(browser: Browser, sample_url: str) -> None:
    context = browser.new_context(timezone_id="Pacific/Auckland", locale="en-US")
    page = context.new_page()
    page.goto(sample_url)
    meta = page.locator("#edition-frugal-ml-25 .edition-meta")
    expect(meta.locator(".edition-zone")).to_have_text("Times in Asia/Tokyo")
    expect(meta.locator(".edition-zone-local")).to_be_hidden()
    keynote = page.locator("[id='frugal-ml-25-keynote-saito'] .item-time time").first
    expect(keynote).to_have_text("09:30")
    page.locator("#local-time").check()
    expect(meta.locator(".edition-zone")).to_be_hidden()
    expect(meta.locator(".edition-zone-local")).to_be_visible()
    # 09:30 in Kyoto is 12:30 in Auckland (NZST), written the reader's way.
    expect(keynote).to_have_text(re.compile(r"^12:30\s*PM$"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("[id='frugal-ml-25-keynote-saito']").scroll_into_view_if_needed()
    _shoot(page, "local-time-1280-light", full_page=False)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.locator("[id='frugal-ml-25-keynote-saito']").scroll_into_view_if_needed()
    _shoot(page, "local-time-360-light", full_page=False)
    context.close()
