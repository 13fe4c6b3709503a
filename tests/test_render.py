"""The schedule page's HTML, read without a browser: order, structure, people, papers, safety."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from pipeline.model import SLOT_TYPES, TALK_TYPES


@pytest.fixture(scope="module")
def soup(sample_site: Path) -> BeautifulSoup:
    return BeautifulSoup((sample_site / "index.html").read_text(encoding="utf-8"), "html.parser")


def _item(soup: BeautifulSoup, item_id: str) -> Tag:
    found = soup.find("li", id=item_id)
    assert isinstance(found, Tag), f"no item {item_id}"
    return found


def _start(item: Tag) -> datetime:
    time = item.select_one(".item-time time")
    assert time is not None, f"{item['id']} has no time"
    return datetime.fromisoformat(str(time["datetime"]))


def _text(tag: Tag | None) -> str:
    assert tag is not None
    return " ".join(tag.get_text(" ").split())


def test_editions_newest_first_and_items_in_time_order(soup: BeautifulSoup) -> None:
    editions = soup.select("#program section.edition")
    assert [e["id"] for e in editions] == [
        "edition-frugal-ml-26",
        "edition-frugal-ml-25",
        "edition-frugal-ml-24",
    ]
    firsts = []
    for edition in editions:
        starts = [_start(item) for item in edition.select("li.item")]
        assert starts == sorted(starts), f"{edition['id']} is not in time order"
        firsts.append(starts[0])
    assert firsts == sorted(firsts, reverse=True)
    # The navigation lists the editions in the same order.
    nav = [a["href"] for a in soup.select("nav.edition-nav a")]
    assert nav == [f"#{e['id']}" for e in editions]


def test_days_group_items_with_venue_times(soup: BeautifulSoup) -> None:
    kyoto = soup.select("#edition-frugal-ml-25 section.day")
    assert [_text(day.select_one(".day-title")) for day in kyoto] == [
        "Monday 12 May 2025",
        "Tuesday 13 May 2025",
    ]
    for day in kyoto:
        for item in day.select("li.item"):
            assert item["data-day"] == _start(item).date().isoformat()
            assert _start(item).utcoffset() is not None
    # One-digit hours in the content are shown as venue wall-clock time, zero-padded.
    keynote = _item(soup, "frugal-ml-25-keynote-saito")
    assert [t.get_text() for t in keynote.select(".item-time time")] == ["09:30", "10:30"]
    assert keynote.select_one(".item-time time")["datetime"] == "2025-05-12T09:30:00+09:00"  # type: ignore[index]
    meta = _text(soup.select_one("#edition-frugal-ml-25 .edition-meta"))
    assert "Kyoto, Japan" in meta
    assert "Times in Asia/Tokyo" in meta


def test_every_item_has_its_hooks(soup: BeautifulSoup) -> None:
    items = soup.select("#program li.item")
    assert len(items) == 35
    for item in items:
        assert item["id"]
        assert item.get("data-edition") and item.get("data-type") and item.get("data-day")
        kind = next(c for c in item["class"] if c.startswith("item--"))
        assert kind in {"item--talk", "item--session", "item--panel", "item--slot"}
        assert item.select_one(f"#{item['id']}-title a")["href"] == f"#{item['id']}"  # type: ignore[index]
    for hook in ("search-form", "q", "filter-edition", "filter-type", "filter-day", "local-time"):
        assert soup.find(id=hook) is not None, hook
    assert soup.select_one("#results[hidden] > ol#result-list") is not None
    assert soup.select_one("#search-status[role=status]") is not None


def test_breaks_and_other_slots_are_compact(soup: BeautifulSoup) -> None:
    for item in soup.select("#program li.item"):
        is_slot = "item--slot" in item["class"]
        assert is_slot == (item["data-type"] in SLOT_TYPES), item["id"]
        if item["data-type"] in TALK_TYPES:
            assert "item--talk" in item["class"]
    coffee = _item(soup, "frugal-ml-26-break-morning")
    assert _text(coffee.select_one(".item-title")) == "Coffee break"
    assert coffee.select_one(".people") is None
    assert coffee.select_one(".abstract") is None


def test_panels_show_moderator_and_panelists(soup: BeautifulSoup) -> None:
    panel = _item(soup, "frugal-ml-26-panel")
    assert "item--panel" in panel["class"]
    roles = {_text(div.dt): div.select(".person") for div in panel.select("dl.panel > div")}
    assert list(roles) == ["Moderator", "Panelists"]
    assert [_text(p.select_one(".person-name")) for p in roles["Moderator"]] == ["Sigrid Løkke"]
    assert [_text(p.select_one(".person-name")) for p in roles["Panelists"]] == [
        "Amélie Tremblay-Okafor",
        "王晓明 (Wang Xiaoming)",
        "Emre Çelik",
        "Daniela García",
    ]
    assert (
        _text(roles["Panelists"][3].select_one(".affiliation"))
        == "Universidad de los Andes del Sur"
    )


def test_sessions_list_papers_with_authors(soup: BeautifulSoup) -> None:
    session = _item(soup, "frugal-ml-26-paper-session-1")
    papers = session.select("ol.papers > li.paper")
    assert [p["id"] for p in papers] == [f"frugal-ml-26-paper-session-1-p{n}" for n in (1, 2, 3)]
    first = papers[0]
    assert _text(first.select_one(".paper-title")) == (
        "Two Bits Are Enough: Ternary Adapters for Frozen Language Models"
    )
    assert _text(first.select_one(".paper-authors")) == (
        "Priya Raghunathan, Jonas Müller and Elif Ayd\u0131n (Nordlicht University)"
    )
    assert [a.get_text() for a in first.select(".links a")] == ["Slides", "Paper"]
    # Empty affiliation and paper link: the paper still shows, without empty brackets or links.
    last = papers[2]
    assert _text(last.select_one(".paper-authors")) == "Marcus Oyelaran"
    assert last.select_one(".links") is None
    for item in soup.select("li.item--session"):
        assert item.select("li.paper"), f"{item['id']} lists no papers"
        for paper in item.select("li.paper"):
            assert _text(paper.select_one(".paper-title"))
            assert _text(paper.select_one(".paper-authors"))


def test_people_have_a_photo_or_a_tidy_placeholder(soup: BeautifulSoup, sample_site: Path) -> None:
    talk = _item(soup, "frugal-ml-26-sparse-attention-talk")
    dvorak, nguyen = talk.select(".people > .person")
    photo = dvorak.select_one("img.avatar")
    assert photo is not None
    assert photo["alt"] == ""  # the name is right next to it
    assert (sample_site / str(photo["src"])).is_file()
    placeholder = nguyen.select_one(".avatar--placeholder")
    assert placeholder is not None
    assert placeholder.get_text() == "N"
    assert placeholder["aria-hidden"] == "true"
    assert nguyen.select_one("img") is None
    assert nguyen.select_one("a.person-name")["href"] == "https://example.org/people/nguyen-thi-lan"  # type: ignore[index]
    # Every person has exactly one avatar of one kind.
    for person in soup.select("li.person"):
        assert len(person.select(".avatar")) == 1
    assert soup.select("img.avatar") and soup.select(".avatar--placeholder")


def test_speakers_bios_and_links(soup: BeautifulSoup) -> None:
    talk = _item(soup, "frugal-ml-26-sparse-attention-talk")
    assert _text(talk.select_one(".bio summary")) == "About the speakers"
    bio = talk.select_one(".bio .bio-text")
    assert bio is not None and bio.strong is not None
    assert bio.strong.get_text() == "Tomáš Dvořák"
    assert "About" not in _text(talk.select_one(".abstract"))
    links = talk.select("article > p.links a")
    assert [a.get_text() for a in links] == ["Slides", "Add to calendar"]
    # Inline HTML in the body survives sanitising.
    assert talk.select_one('.abstract a[href="https://example.org/slides"]') is not None
    packed = _item(soup, "frugal-ml-25-talk-celik-garcia")
    assert [_text(n) for n in packed.select(".person-name")] == ["Emre Çelik and Daniela García"]


def test_page_obeys_its_content_security_policy(soup: BeautifulSoup) -> None:
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert csp is not None and "style-src 'self'" in str(csp["content"])
    assert soup.find("style") is None
    assert soup.find(attrs={"style": True}) is None
    for script in soup.find_all("script"):
        assert script.get("src") or script.get("type") == "application/ld+json"
    sources = [s["src"].split("?")[0] for s in soup.find_all("script", src=True)]
    needed = ["assets/lunr.js", "assets/search.js", "assets/app.js"]
    assert [src for src in sources if src in needed] == needed  # in this order
    assert all(src.startswith(("assets/", "search/")) for src in sources)  # nothing remote
    assert soup.find("link", rel="icon")["href"] == "data:,"  # type: ignore[index]
    assert soup.find("link", rel="stylesheet")["href"].startswith("assets/style.css?v=")  # type: ignore[index]
    for tag in soup.find_all(True):
        assert not any(name.startswith("on") for name in tag.attrs), tag.name


def test_landmarks_and_heading_outline(soup: BeautifulSoup) -> None:
    assert len(soup.find_all("h1")) == 1
    assert soup.find("header") and soup.find("main") and soup.find("footer")
    assert soup.find("nav", attrs={"aria-label": "Editions"})
    for edition in soup.select("section.edition"):
        assert len(edition.find_all("h2")) == 1
        for day in edition.select("section.day"):
            assert day.find("h3") is not None
            assert all(item.find("h4") for item in day.select("li.item"))


def test_stylesheet_is_shipped(sample_site: Path) -> None:
    css = (sample_site / "assets" / "style.css").read_text(encoding="utf-8")
    assert "prefers-color-scheme: dark" in css
    assert "@media print" in css
    assert "body.searching #program" in css


def test_a_site_copy_of_an_earlier_bundled_template_still_renders(tmp_path: Path) -> None:
    """Earlier bundled templates asked for `item_html` around each item; a site's own copy of
    one (never given the page cache) takes the include path, as the bundled ones do now."""
    from pipeline.render import make_environment

    (tmp_path / "index.html").write_text(
        "{% for item in items %}{% if item_html %}{{ item_html('item.html', item, False) }}"
        "{% else %}[{{ item }}]{% endif %}{% endfor %}"
        "{% if items_html %}cached{% else %}.{% endif %}",
        encoding="utf-8",
    )
    env = make_environment(tmp_path)
    assert env.get_template("index.html").render(items=["a", "b"]) == "[a][b]."
