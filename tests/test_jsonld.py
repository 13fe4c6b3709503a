"""schema.org Event JSON-LD in the page: it parses, says the right things, and cannot break out."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from pipeline.build import BuildOptions, build

FIXTURE = Path(__file__).parent / "fixtures" / "feeds_site"
OFFSET_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def json_ld(page: Path) -> list[dict[str, Any]]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    blocks = soup.find_all("script", attrs={"type": "application/ld+json"})
    assert len(blocks) == 1
    data: list[dict[str, Any]] = json.loads(blocks[0].get_text())
    return data


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("jsonld") / "dist"
    build(BuildOptions(FIXTURE / "content", out, FIXTURE / "pipeline.toml"))
    return out


def test_one_event_per_scheduled_talk_session_and_panel(site: Path) -> None:
    events = {e["@id"].split("#")[1]: e for e in json_ld(site / "index.html")}
    assert sorted(events) == [
        "desert-19-keynote-qiu",
        "desert-19-panel",
        "desert-19-papers-morning",
        "rhine-24-two-speakers",
    ]
    for event in events.values():
        assert event["@context"] == "https://schema.org"
        assert event["@type"] == "Event"
        assert OFFSET_TIME.match(event["startDate"]) and OFFSET_TIME.match(event["endDate"])
        assert event["url"].startswith("https://example.org/tiny/#")
        assert event["location"]["@type"] == "Place"


def test_event_fields(site: Path) -> None:
    events = {e["@id"].split("#")[1]: e for e in json_ld(site / "index.html")}
    qiu = events["desert-19-keynote-qiu"]
    assert qiu["name"] == "Counting joules: <measuring> energy on tiny devices"
    assert qiu["startDate"] == "2019-06-23T15:30:00-07:00"
    assert qiu["endDate"] == "2019-06-23T16:30:00-07:00"
    assert qiu["location"] == {"@type": "Place", "name": "Phoenix, AZ"}
    assert qiu["performer"] == [
        {
            "@type": "Person",
            "name": "Lán Qiū",
            "affiliation": {"@type": "Organization", "name": "Université de Montréal"},
            "url": "https://example.org/people/qiu",
            "image": "https://example.org/tiny/media/desert-19/qiu.png",
        }
    ]
    assert qiu["description"].startswith("Energy numbers in papers")
    assert qiu["superEvent"]["name"] == "Tiny Systems Day 2019"
    panel = events["desert-19-panel"]
    assert [p["name"] for p in panel["performer"]] == [
        "Zoë Adébáyọ̀",
        "Mateo García",
        "Ingrid Øvergaard",
    ]
    room = events["desert-19-papers-morning"]["location"]
    assert room == {"@type": "Place", "name": "Room 101", "address": "Phoenix, AZ"}


def test_hostile_titles_cannot_end_the_script_element(tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(FIXTURE, copy)
    hostile = "</script><script>alert(1)</script><!-- \u2028 & done"
    talk = copy / "content" / "desert-19" / "keynote-qiu.md"
    text = talk.read_text(encoding="utf-8")
    talk.write_text(
        text.replace(
            'title: "Counting joules: <measuring> energy on tiny devices"',
            f"title: {json.dumps(hostile)}",
        ),
        encoding="utf-8",
    )
    out = tmp_path / "dist"
    build(BuildOptions(copy / "content", out, copy / "pipeline.toml"))
    page = (out / "index.html").read_text(encoding="utf-8")
    script = page.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script and "\u2028" not in script
    names = [e["name"] for e in json_ld(out / "index.html")]
    assert " ".join(hostile.split()) in names  # the reader folds the line separator to a space
    soup = BeautifulSoup(page, "html.parser")
    assert not any("alert(1)" in s.get_text() for s in soup.find_all("script") if not s.get("type"))


def test_corpus_json_ld_parses_with_offsets(corpus_site: Path) -> None:
    events = json_ld(corpus_site / "index.html")
    talks = json.loads((corpus_site / "talks.json").read_text(encoding="utf-8"))
    expected = [i for i in talks["items"] if i["start"] and i["kind"] != "slot"]
    assert len(events) == len(expected) > 50
    starts = {i["url"]: i["start"] for i in expected}
    for event in events:
        assert OFFSET_TIME.match(event["startDate"])
        assert starts[event["url"]] == event["startDate"]
        assert event["name"]
        assert "location" in event
        assert len(event.get("description", "")) <= 301  # a summary: the page has the full text
    online = [e for e in events if e["superEvent"]["name"].startswith("Virtual")]
    assert online and all(e["location"]["@type"] == "VirtualLocation" for e in online)
