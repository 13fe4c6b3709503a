"""A rebuild from the caches (per-item output caches, links to the previous dist/)
writes byte for byte what a plain build of the same content writes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench.generate import generate
from pipeline.build import BuildOptions, build, check
from pipeline.cache import CACHE_DIR

from .conftest import REPO


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _sample(tmp_path: Path) -> tuple[Path, Path]:
    site = tmp_path / "sample"
    shutil.copytree(REPO / "content", site / "content")
    shutil.copy(REPO / "pipeline.toml", site / "pipeline.toml")
    return site / "content", site / "pipeline.toml"


def _sample_with_day_pages(tmp_path: Path) -> tuple[Path, Path]:
    """The sample with a page per edition and per day, which the page cache keeps apart."""
    content, config = _sample(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[site]\n", '[site]\ndetails = "day-pages"\n', 1))
    return content, config


def _generated(tmp_path: Path) -> tuple[Path, Path]:
    site = tmp_path / "generated"
    return generate(site, 300), site / "pipeline.toml"


def _counting_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the pages rendered (not taken from the page cache) from now on."""
    from pipeline import page_cache

    rendered: list[str] = []
    original = page_cache.PageCache.page

    def counting(
        self: page_cache.PageCache, name: str, template: str, context: object, render: Any
    ) -> str | bytes:
        def counted() -> str:
            rendered.append(name)
            html: str = render()
            return html

        return original(self, name, template, context, counted)

    monkeypatch.setattr(page_cache.PageCache, "page", counting)
    return rendered


def _assert_a_plain_build_writes_the_same(
    monkeypatch: pytest.MonkeyPatch, content: Path, config: Path, out: Path, plain: Path
) -> None:
    """A build of the same content with no cache at all writes byte for byte what `out` holds."""
    with monkeypatch.context() as patched:
        patched.setenv("PIPELINE_NO_CACHE", "1")
        build(BuildOptions(content_dir=content, out_dir=plain, config_path=config))
    assert _tree(out) == _tree(plain)


def _edit(content: Path) -> None:
    target = sorted(content.rglob("*.md"))[len(list(content.rglob("*.md"))) // 2]
    target.write_text(target.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")


@pytest.mark.parametrize("make", [_sample, _sample_with_day_pages, _generated])
@pytest.mark.parametrize("parallel", [False, True])
def test_rebuild_after_one_edit_equals_plain_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: object, parallel: bool
) -> None:
    from pipeline import read_cache

    content, config = make(tmp_path)  # type: ignore[operator]
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    # Files written a moment ago are kept too, so the rebuild reads all but the edited one
    # from the cache.
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS", 0)
    if not parallel:
        monkeypatch.setenv("PIPELINE_NO_PARALLEL", "1")
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    cache = content.parent / CACHE_DIR
    stages = {"read.pickle", "search.pickle", "feeds.pickle", "calendar.pickle", "pages.pickle"}
    assert stages <= {p.name for p in cache.iterdir()}
    _edit(content)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    _assert_manifest_holds(out)

    _assert_a_plain_build_writes_the_same(monkeypatch, content, config, out, tmp_path / "plain")


def _assert_manifest_holds(out: Path) -> None:
    """Every file of dist/ is in its manifest with the SHA-256 of its bytes, including the ones
    whose digest the rebuild took from a cache (calendar files) rather than computed: the next
    build trusts the manifest to keep them."""
    from pipeline import trees

    key = trees.tree_key(out)
    assert key is not None
    manifest = trees.load(out)[key]
    files = _tree(out)
    assert set(manifest) == set(files)
    for name, data in files.items():
        assert manifest[name].digest == hashlib.sha256(data).hexdigest(), name


def _remove_and_add(content: Path) -> None:
    files = sorted(content.rglob("*.md"))
    moved = files[3].read_text(encoding="utf-8")
    files[3].unlink()
    files[-1].with_name("zz-new-item.md").write_text(
        moved.replace("title: ", "title: Newly added ", 1), encoding="utf-8"
    )


def _damage_a_record(out: Path) -> None:
    """Bytes inside one record of the last talks.json change, its size kept."""
    talks = out / "talks.json"
    data = talks.read_bytes()
    at = data.index(b'"title": "') + len(b'"title": "')
    talks.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])


@pytest.mark.parametrize("change", ["remove and add", "damaged record"])
def test_spliced_documents_equal_a_plain_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """talks.json and feed.json are spliced from the last build's copies (splice.py): items
    gone, new and moved, and a copy that is not what the build wrote, all give plain bytes."""
    from pipeline import read_cache

    content, config = _generated(tmp_path)
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS", 0)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    if change == "remove and add":
        _remove_and_add(content)
    else:
        _damage_a_record(out)
        _edit(content)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    _assert_a_plain_build_writes_the_same(monkeypatch, content, config, out, tmp_path / "plain")


def test_a_damaged_cache_only_makes_a_cold_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content, config = _generated(tmp_path)
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    out = tmp_path / "dist"
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    for path in (content.parent / CACHE_DIR).iterdir():
        data = path.read_bytes()
        path.write_bytes(data[:40] + bytes([data[40] ^ 1]) + data[41:])  # signature fails
    _edit(content)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    _assert_a_plain_build_writes_the_same(monkeypatch, content, config, out, tmp_path / "plain")


def test_a_changed_file_in_the_previous_site_is_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dist/ file of the right size but other bytes is written afresh, not linked, and not
    taken as the page or feed the last build wrote."""
    content, config = _generated(tmp_path)
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    expected = _tree(out)
    for name in ("feed.json", "index.html"):
        changed = out / name
        data = changed.read_bytes()
        changed.write_bytes(data[:-2] + b"X\n")
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    assert _tree(out) == expected


def test_a_site_template_that_reads_the_page_is_rendered_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item.html of the site's own may read more than the item (here the asset version,
    transformed): the page is then rendered whole, after the assets, never from fragments."""
    content, config = _generated(tmp_path)
    templates = content.parent / "templates"
    templates.mkdir()
    item = (REPO / "templates" / "item.html").read_text(encoding="utf-8")
    (templates / "item.html").write_text(
        item + "<!-- {{ page.asset_version|upper }} -->\n", encoding="utf-8"
    )
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    out = tmp_path / "dist"
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    _edit(content)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    _assert_a_plain_build_writes_the_same(monkeypatch, content, config, out, tmp_path / "plain")
    assert b"<!-- " in (out / "index.html").read_bytes()


def test_the_page_cache_renders_again_only_the_pages_an_edit_touches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit to one item's title re-renders its day page and the page that lists its
    edition; every other page comes from the cache, with this build's asset version in it, and
    the site is byte for byte the one a plain build writes."""

    content, config = _sample_with_day_pages(tmp_path)
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    rendered = _counting_renders(monkeypatch)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    assert rendered == []
    target = next(p for p in sorted(content.rglob("*.md")) if p.read_text().count("\ntitle: ") == 1)
    text = target.read_text(encoding="utf-8").replace("\ntitle: ", "\ntitle: Renamed ", 1)
    target.write_text(text, encoding="utf-8")
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    pages = {p.name for p in out.glob("*.html")}
    assert 1 <= len(rendered) <= 2 < len(pages), rendered
    assert all(name.endswith(".html") for name in rendered)

    _assert_a_plain_build_writes_the_same(monkeypatch, content, config, out, tmp_path / "plain")


def test_an_edit_re_renders_its_own_day_page_not_the_other_days_of_its_edition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day page reads of its edition only the name, the infos and the time zone: an edit on
    one day of a two-day edition leaves the other day's page cached."""

    content, config = _sample_with_day_pages(tmp_path)
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    assert (out / "frugal-ml-25-2025-05-13.html").is_file()
    rendered = _counting_renders(monkeypatch)
    target = content / "frugal-ml-25" / "keynote-saito.md"
    assert "2025-05-12" in target.read_text(encoding="utf-8")
    text = target.read_text(encoding="utf-8").replace('\ntitle: "', '\ntitle: "Renamed ', 1)
    target.write_text(text, encoding="utf-8")
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    assert sorted(rendered) == ["edition-frugal-ml-25.html", "frugal-ml-25-2025-05-12.html"]

    _assert_a_plain_build_writes_the_same(monkeypatch, content, config, out, tmp_path / "plain")


def test_a_page_taken_whole_from_the_last_build_is_not_digested_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its digest is the one the last build recorded for it."""
    from pipeline import digests

    content, config = _sample_with_day_pages(tmp_path)
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    monkeypatch.setenv("PIPELINE_NO_PARALLEL", "1")
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    digested: list[bytes] = []

    def counting(data: bytes) -> Any:
        digested.append(bytes(data))
        return hashlib.sha256(data)

    monkeypatch.setattr(digests, "hashlib", SimpleNamespace(sha256=counting))
    rendered = _counting_renders(monkeypatch)
    target = content / "frugal-ml-25" / "keynote-saito.md"
    text = target.read_text(encoding="utf-8").replace('\ntitle: "', '\ntitle: "Renamed ', 1)
    target.write_text(text, encoding="utf-8")
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    other_day = "frugal-ml-25-2025-05-13.html"
    assert other_day not in rendered
    assert (out / other_day).read_bytes() not in digested
    assert (out / "frugal-ml-25-2025-05-12.html").read_bytes() in digested  # rendered: digested


def test_page_digests_follow_what_a_context_holds() -> None:
    from datetime import date

    from pipeline.page_cache import PageCache
    from pipeline.records import record

    @record
    class Context:
        title: str
        when: date
        tags: tuple[str, ...]
        asset_version: str
        search_version: str

    cache = PageCache("stand-in")
    first = cache.digest(Context("A", date(2026, 1, 1), ("x",), "a1", "s1"))
    # The search files' version stands in the page at known places, not in its key.
    assert first == cache.digest(Context("A", date(2026, 1, 1), ("x",), "a1", "s2"))
    for other in (
        Context("B", date(2026, 1, 1), ("x",), "a1", "s1"),
        Context("A", date(2026, 1, 2), ("x",), "a1", "s1"),
        Context("A", date(2026, 1, 1), ("x", "y"), "a1", "s1"),
        Context("A", date(2026, 1, 1), ("x",), "a2", "s1"),
    ):
        assert cache.digest(other) != first


@pytest.mark.parametrize("shown", [0, 1, 2])
def test_items_are_spliced_into_the_page_where_the_template_shows_them(
    tmp_path: Path, shown: int
) -> None:
    """items_html leaves a mark in the page, replaced by the items' HTML once it is rendered:
    what the template shows of them (once, twice, not at all) and where each lies come out as
    if the HTML had been in the page all along."""
    from jinja2 import DictLoader, Environment

    from pipeline.page_cache import BAND_TYPES, PageCache

    program = check(BuildOptions(content_dir=_sample(tmp_path)[0])).program
    items = program.items[:3]
    env = Environment(
        loader=DictLoader({"item.html": "<li>{{ item.title }}{{ '!' if before_band }}</li>\n"}),
        autoescape=True,
    )
    cache = PageCache("stand-in", env)

    def render() -> str:
        listed = cache.items_html("item.html", items)
        return "<ul>\n" + "".join([listed] * shown) + "</ul>é\n"

    data = cache.page("page.html", "index.html", "context", render)
    assert isinstance(data, bytes)
    bands = [n < 2 and items[n + 1].type in BAND_TYPES for n in range(3)]
    template = env.get_template("item.html")
    expected = "".join(
        template.render(item=i, before_band=b) for i, b in zip(items, bands, strict=True)
    )
    assert data.decode() == "<ul>\n" + expected * shown + "</ul>é\n"
    spans = cache.spans["page.html"]
    assert len(spans) == (3 if shown else 0)
    for key, (start, end) in spans.items():
        assert data[start:end].decode().startswith("<li>")
        assert key.split("\0")[1] in {cache.digest(i) for i in items}


def test_an_edit_changes_the_search_version_only_and_only_on_listing_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Browsers keep the scripts and the style sheet across an edit (their ?v= stays), and the
    day pages hold no search version: an edit changes its own day page and the listing pages,
    whose search/manifest.js tag gets the new search files' version."""
    import re

    content, config = _sample_with_day_pages(tmp_path)
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    before = {name: data for name, data in _tree(out).items() if name.endswith(".html")}
    target = content / "frugal-ml-25" / "keynote-saito.md"
    text = target.read_text(encoding="utf-8").replace('\ntitle: "', '\ntitle: "Renamed ', 1)
    target.write_text(text, encoding="utf-8")
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    after = {name: data for name, data in _tree(out).items() if name.endswith(".html")}

    def tags(page: bytes) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for path, version in re.findall(rb'"((?:assets|search)/[^"?]+)\?v=([0-9a-f]+)"', page):
            found.setdefault(path.decode().split("/")[0], set()).add(version.decode())
        return found

    listings = {name for name, page in before.items() if b"search/manifest.js" in page}
    assert "index.html" in listings and len(listings) < len(before)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == listings | {"frugal-ml-25-2025-05-12.html"}
    for name in before:
        old, new = tags(before[name]), tags(after[name])
        assert len(old["assets"]) == 1 and old["assets"] == new["assets"], name
        if name in listings:
            assert len(old["search"]) == 1 and old["search"] != new["search"], name
        else:
            assert "search" not in old, name


def _counting_item_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The templates rendered for an item because the last build's page did not hold it."""
    from pipeline import page_cache

    rendered: list[str] = []
    original = page_cache.PageCache._template

    def counting(self: page_cache.PageCache, name: str) -> Any:
        rendered.append(name)
        return original(self, name)

    monkeypatch.setattr(page_cache.PageCache, "_template", counting)
    return rendered


def test_a_page_rendered_again_renders_only_the_edited_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit re-renders its day page and its listing page, but of all the items on them only
    the edited one: the others are the last build's HTML of them, and the pages are still byte
    for byte what a plain build writes."""
    content, config = _sample_with_day_pages(tmp_path)
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    pages = _counting_renders(monkeypatch)
    items = _counting_item_renders(monkeypatch)
    target = content / "frugal-ml-25" / "keynote-saito.md"
    # The second edit takes its items from pages that were themselves rendered from items.
    for edit in range(2):
        pages.clear()
        items.clear()
        text = target.read_text(encoding="utf-8").replace('\ntitle: "', '\ntitle: "Renamed ', 1)
        target.write_text(text, encoding="utf-8")
        build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
        assert sorted(pages) == ["edition-frugal-ml-25.html", "frugal-ml-25-2025-05-12.html"]
        # The listing shows it compactly, its day page in full.
        assert sorted(items) == ["item.html", "item_compact.html"]
        day = (out / "frugal-ml-25-2025-05-12.html").read_bytes()
        assert b"Renamed " * (edit + 1) in day and b"Renamed " * (edit + 2) not in day

        _assert_a_plain_build_writes_the_same(
            monkeypatch, content, config, out, tmp_path / f"plain-{edit}"
        )


def test_items_are_not_taken_from_a_page_changed_since_the_last_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day page changed by hand in dist/ (its size kept) gives no item HTML: the next build
    that renders it renders every item afresh, and writes the page a plain build writes."""
    content, config = _sample_with_day_pages(tmp_path)
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    page = out / "frugal-ml-25-2025-05-12.html"
    data = page.read_bytes()
    at = data.index(b'<h4 class="item-title"') + len(b'<h4 class="item-title"')
    page.write_bytes(data[:at] + b"X" + data[at + 1 :])
    items = _counting_item_renders(monkeypatch)
    target = content / "frugal-ml-25" / "keynote-saito.md"
    text = target.read_text(encoding="utf-8").replace('\ntitle: "', '\ntitle: "Renamed ', 1)
    target.write_text(text, encoding="utf-8")
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    assert items.count("item.html") > 1

    _assert_a_plain_build_writes_the_same(monkeypatch, content, config, out, tmp_path / "plain")


@pytest.mark.parametrize("make", [_sample, _generated])
@pytest.mark.parametrize("parallel", [False, True])
def test_the_page_cache_is_saved_before_the_search_files_are_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: object, parallel: bool
) -> None:
    """The page cache is written while the search stage runs, its listing pages' digests
    waiting for the search files' version; only those go in its journal, once it is in."""
    from pipeline import cache, outputs

    content, config = make(tmp_path)  # type: ignore[operator]
    options = BuildOptions(content_dir=content, out_dir=tmp_path / "dist", config_path=config)
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    if not parallel:
        monkeypatch.setenv("PIPELINE_NO_PARALLEL", "1")
    else:
        monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    build(options)
    happened: list[str] = []
    write_signed, version_of = cache._write_signed, outputs._version_of

    def writing(path: Path, *args: Any) -> bytes:
        happened.append(path.name)
        return write_signed(path, *args)

    def versioning(files: Any, prefix: str, *args: Any) -> str:
        happened.append(prefix)
        return version_of(files, prefix, *args)

    monkeypatch.setattr(cache, "_write_signed", writing)
    monkeypatch.setattr(outputs, "_version_of", versioning)
    _edit(content)
    build(options)
    order = [event for event in happened if event.startswith(("pages.", "search/"))]
    assert order == ["pages.pickle", "search/", "pages.pickle.journal"]


def test_a_listing_page_whose_digest_never_came_is_rendered_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that ends between saving the page cache and adding its listing pages' digests
    (here: the journal lost) leaves those pages out of the cache: the next build renders
    every item of them again, and writes what a plain build writes."""
    content, config = _sample_with_day_pages(tmp_path)
    out = tmp_path / "dist"
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    journal = content.parent / CACHE_DIR / "pages.pickle.journal"
    assert journal.exists()
    journal.unlink()
    items = _counting_item_renders(monkeypatch)
    _edit(content)
    build(BuildOptions(content_dir=content, out_dir=out, config_path=config))
    # The listing shows its items compactly: all of them are rendered again.
    assert items.count("item_compact.html") > 1

    _assert_a_plain_build_writes_the_same(monkeypatch, content, config, out, tmp_path / "plain")
