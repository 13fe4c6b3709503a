"""Search in Chromium: ranked exactly as `pipeline search`, and behaving as a user expects."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline.build import BuildOptions, build
from pipeline.search import SearchIndex

from .search_queries import CORPUS_QUERIES, FIXTURE_QUERIES
from .test_search import FIXTURE

pytestmark = pytest.mark.browser
SHOWN = 10  # the page's first page of results


@pytest.fixture(scope="module")
def fixture_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("search-browser") / "dist"
    build(BuildOptions(content_dir=FIXTURE / "content", out_dir=out, strict=True))
    return out


@pytest.fixture
def console_errors(page: Page) -> Iterator[list[str]]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield errors


def open_site(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("data-search", "ready")


# Result cards are laid out only near the viewport (`content-visibility: auto`), and until
# Chromium has decided which are, a card's innerText may read empty: the tests read text
# content, which is what the page shows once it is drawn.


def shown_ids(page: Page) -> list[str]:
    # Searching loads files, so results come after the keystroke: wait for the latest answer.
    expect(page.locator("html")).to_have_attribute("data-answered", "true")
    return page.eval_on_selector_all("#result-list li.result", "els => els.map(e => e.dataset.id)")


def type_query(page: Page, query: str) -> list[str]:
    page.fill("#q", query)
    return shown_ids(page)


def cross_check(page: Page, site: Path, queries: list[str]) -> None:
    index = SearchIndex.from_site(site)
    mismatches = []
    for query in queries:
        expected = [hit.id for hit in index.search(query, limit=SHOWN)]
        got = type_query(page, query)
        if got != expected:
            mismatches.append((query, expected[:5], got[:5]))
    assert not mismatches, mismatches


def test_page_and_python_rank_the_same_on_the_corpus(
    page: Page, corpus_site: Path, console_errors: list[str]
) -> None:
    assert len(CORPUS_QUERIES) >= 40
    open_site(page, (corpus_site / "index.html").as_uri())
    cross_check(page, corpus_site, CORPUS_QUERIES)
    assert console_errors == []


def test_page_and_python_rank_the_same_on_every_lunr_difference(
    page: Page, fixture_dist: Path, console_errors: list[str]
) -> None:
    open_site(page, (fixture_dist / "index.html").as_uri())
    cross_check(page, fixture_dist, FIXTURE_QUERIES)
    assert console_errors == []


def test_done_when_queries_on_the_corpus(
    page: Page, corpus_site: Path, console_errors: list[str]
) -> None:
    open_site(page, (corpus_site / "index.html").as_uri())
    pruning = type_query(page, "pruning")
    assert len(pruning) >= 5
    titles = page.locator("#result-list .result-title").all_text_contents()
    assert sum("prun" in t.lower() for t in titles) >= 3
    assert "isca-19-qian-talk" in type_query(page, "qian")[:3]
    quant = (
        page.locator("#result-list .result-title").all_text_contents()
        if type_query(page, "quant")
        else []
    )
    assert any("quantiz" in t.lower() for t in quant)
    assert type_query(page, "sparsty"), "one typo must be forgiven"
    assert any("sparsity" in t.lower() for t in page.locator("#result-list li").all_text_contents())
    type_query(page, "10:30")
    expect(page.locator("#search-status")).not_to_contain_text("unavailable")
    assert console_errors == []


def test_matched_words_are_highlighted(page: Page, fixture_dist: Path) -> None:
    open_site(page, (fixture_dist / "index.html").as_uri())
    type_query(page, "quant")
    marks = page.locator("#result-list mark").all_text_contents()
    assert "Quantization" in marks
    type_query(page, "rocket")
    # The title starts with an emoji (two UTF-16 units): the right word is still marked.
    assert page.locator("#result-list .result-title mark").all_text_contents() == ["Rocket"]
    type_query(page, "garcia")
    assert "García" in page.locator("#result-list mark").all_text_contents()


def test_count_is_announced_and_empty_state_helps(page: Page, fixture_dist: Path) -> None:
    open_site(page, (fixture_dist / "index.html").as_uri())
    status = page.locator("#search-status")
    expect(status).to_have_attribute("role", "status")
    type_query(page, "pruning")
    expect(status).to_have_text("1 result for ‘pruning’")
    type_query(page, "zebra")
    expect(status).to_contain_text("No results for ‘zebra’")
    expect(page.locator(".results-empty")).to_contain_text("Try fewer words")


def test_query_and_filters_live_in_the_url(page: Page, corpus_site: Path) -> None:
    open_site(page, (corpus_site / "index.html").as_uri())
    all_hits = type_query(page, "quantization")
    page.select_option("#filter-edition", "isca-19")
    filtered = shown_ids(page)
    assert filtered and len(filtered) < len(all_hits)
    assert all(i.startswith("isca-19-") for i in filtered)
    assert "q=quantization" in page.url and "edition=isca-19" in page.url
    # A shared link reproduces the same results.
    open_site(page, page.url)
    assert page.input_value("#q") == "quantization"
    assert shown_ids(page) == filtered


def test_filters_without_a_query_list_matching_items(page: Page, corpus_site: Path) -> None:
    open_site(page, (corpus_site / "index.html").as_uri() + "?type=panel")
    found = shown_ids(page)
    assert len(found) == 6
    expect(page.locator("#program")).to_be_hidden()


def test_slash_focuses_and_escape_clears(page: Page, fixture_dist: Path) -> None:
    open_site(page, (fixture_dist / "index.html").as_uri())
    page.locator("body").press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("pruning")
    expect(page.locator("#result-list li.result")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#q")).to_have_value("")
    expect(page.locator("#results")).to_be_hidden()
    expect(page.locator("#program")).to_be_visible()


def test_works_from_a_sub_path(
    page: Page, fixture_dist: Path, tmp_path: Path, serve: Callable[[Path], str]
) -> None:
    root = tmp_path / "www"
    shutil.copytree(fixture_dist, root / "conference" / "schedule")
    base = serve(root)
    open_site(page, base + "conference/schedule/")
    assert type_query(page, "garcia") == ["demo-25-garcia-keynote"]


def test_clicking_a_result_shows_the_item(page: Page, fixture_dist: Path) -> None:
    open_site(page, (fixture_dist / "index.html").as_uri())
    type_query(page, "loffler")
    page.click("#result-list .result-title")
    expect(page.locator("#demo-25-loffler-talk")).to_be_in_viewport()


def test_typed_query_reaches_the_url_once_typing_pauses(page: Page, fixture_dist: Path) -> None:
    open_site(page, (fixture_dist / "index.html").as_uri())
    page.locator("#q").press_sequentially("rocket")
    expect(page).to_have_url(re.compile(r"\?q=rocket$"))


def test_a_large_site_searches_in_a_worker_and_ranks_the_same(
    page: Page,
    tmp_path: Path,
    serve: Callable[[Path], str],
    monkeypatch: pytest.MonkeyPatch,
    console_errors: list[str],
) -> None:
    """A site whose manifest asks for a worker answers from assets/search-worker.js, over
    http, with the same rankings as Python; any document count can be made to ask."""
    from pipeline import search_files

    from .conftest import CORPUS, REPO

    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    monkeypatch.setattr(search_files, "WORKER_MIN_DOCUMENTS", 1)
    site = tmp_path / "dist"
    config = REPO / "examples" / "emc2.toml"
    build(BuildOptions(content_dir=CORPUS, out_dir=site, config_path=config, keep_going=True))
    workers: list[str] = []
    page.on("worker", lambda worker: workers.append(worker.url))
    open_site(page, serve(site))
    cross_check(page, site, [*CORPUS_QUERIES[:25], "sparsty", "quant"])
    assert [url for url in workers if "assets/search-worker.js" in url]
    assert not console_errors
