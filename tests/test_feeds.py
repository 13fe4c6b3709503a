"""talks.json against its JSON Schema, and feed.json against the JSON Feed 1.1 rules."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from pipeline.build import BuildOptions, build
from pipeline.feeds import schema

FIXTURE = Path(__file__).parent / "fixtures" / "feeds_site"
OFFSET_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def build_site(site: Path, out: Path) -> Path:
    build(
        BuildOptions(content_dir=site / "content", out_dir=out, config_path=site / "pipeline.toml")
    )
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(FIXTURE, tmp_path_factory.mktemp("feeds") / "dist")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def validate_talks(document: dict[str, Any]) -> None:
    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


# -- talks.json ---------------------------------------------------------------------------


def test_the_schema_is_a_valid_draft_2020_12_schema_and_is_published(site: Path) -> None:
    Draft202012Validator.check_schema(schema())
    assert load(site / "talks.schema.json") == schema()


def test_talks_json_validates_against_its_schema(site: Path) -> None:
    talks = load(site / "talks.json")
    validate_talks(talks)
    assert talks["version"] == "1.0"
    assert talks["$schema"] == "https://example.org/tiny/talks.schema.json"
    assert [e["id"] for e in talks["editions"]] == ["rhine-24", "desert-19"]


def test_per_edition_files_validate_and_hold_only_their_edition(site: Path) -> None:
    whole = load(site / "talks.json")
    for edition in ("desert-19", "rhine-24"):
        part = load(site / "editions" / edition / "talks.json")
        validate_talks(part)
        assert {item["edition"] for item in part["items"]} == {edition}
        assert part["items"] == [i for i in whole["items"] if i["edition"] == edition]


def test_items_carry_ids_times_with_offsets_people_text_links_and_urls(site: Path) -> None:
    items = {item["id"]: item for item in load(site / "talks.json")["items"]}
    qiu = items["desert-19-keynote-qiu"]
    assert qiu["start"] == "2019-06-23T15:30:00-07:00"
    assert qiu["end"] == "2019-06-23T16:30:00-07:00"
    assert qiu["url"] == "https://example.org/tiny/#desert-19-keynote-qiu"
    assert qiu["speakers"] == [
        {
            "name": "Lán Qiū",
            "affiliation": "Université de Montréal",
            "url": "https://example.org/people/qiu",
            "avatar": "https://example.org/tiny/media/desert-19/qiu.png",
        }
    ]
    assert qiu["title"] == "Counting joules: <measuring> energy on tiny devices"
    assert "<em>estimates</em>" in qiu["abstract_html"]
    assert qiu["abstract_text"].startswith("Energy numbers in papers are often estimates")
    assert qiu["bio_text"].startswith("Lán Qiū is a professor")
    assert qiu["links"] == [
        {"label": "Slides", "url": "https://example.org/slides/qiu.pdf"},
        {"label": "Video", "url": "https://example.org/video/qiu"},
    ]
    papers = items["desert-19-papers-morning"]["papers"]
    assert [p["id"] for p in papers] == [f"desert-19-papers-morning-p{n}" for n in (1, 2, 3)]
    assert papers[0]["authors"] == ["Ana Núñez", "Björn Åström", "Chidi Okeke"]
    assert papers[2]["url"] == "https://example.org/tiny/#desert-19-papers-morning-p3"
    panel = items["desert-19-panel"]
    assert panel["moderator"]["name"] == "Zoë Adébáyọ̀"
    assert [p["name"] for p in panel["panelists"]] == ["Mateo García", "Ingrid Øvergaard"]
    # The night the clocks go back: the offset is the one in force at that instant.
    talk = items["rhine-24-two-speakers"]
    assert (talk["start"], talk["end"]) == (
        "2024-10-27T02:30:00+02:00",
        "2024-10-27T03:30:00+01:00",
    )
    assert items["rhine-24-lunch"]["start"] == "2024-10-27T12:00:00+01:00"


def test_unscheduled_items_have_null_times(site: Path) -> None:
    items = {item["id"]: item for item in load(site / "talks.json")["items"]}
    assert items["desert-19-poster-tba"]["start"] is None
    assert items["desert-19-poster-tba"]["end"] is None


def test_ids_do_not_change_when_an_unrelated_file_changes(site: Path, tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(FIXTURE, copy)
    (copy / "content" / "desert-19" / "aaa-first.md").write_text(
        "---\nedition: desert-19\ntype: talk\ntime_start: 2019-06-23 08:00:00\n"
        "time_end: 2019-06-23 08:30:00\ntitle: An early extra talk\n---\n",
        encoding="utf-8",
    )
    (copy / "content" / "desert-19" / "break.md").unlink()
    before = {i["id"]: i for i in load(site / "talks.json")["items"]}
    after = {i["id"]: i for i in load(build_site(copy, tmp_path / "dist") / "talks.json")["items"]}
    assert set(after) == set(before) - {"desert-19-break"} | {"desert-19-aaa-first"}
    for item_id, item in after.items():
        if item_id != "desert-19-aaa-first":
            assert item == before[item_id]


def test_identical_input_gives_byte_identical_feeds_and_calendars(
    site: Path, tmp_path: Path
) -> None:
    again = build_site(FIXTURE, tmp_path / "again")
    names = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*")
        if p.suffix in {".json", ".ics"} and p.is_file()
    )
    assert len(names) > 10
    for name in names:
        assert (again / name).read_bytes() == (site / name).read_bytes(), name


def test_without_base_url_every_url_is_relative_to_its_file(tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(FIXTURE, copy)
    config = copy / "pipeline.toml"
    config.write_text(
        "\n".join(x for x in config.read_text().splitlines() if not x.startswith("base_url")),
        encoding="utf-8",
    )
    out = build_site(copy, tmp_path / "dist")
    talks = load(out / "talks.json")
    validate_talks(talks)
    assert talks["$schema"] == "talks.schema.json"
    qiu = next(i for i in talks["items"] if i["id"] == "desert-19-keynote-qiu")
    assert qiu["url"] == "index.html#desert-19-keynote-qiu"
    assert qiu["speakers"][0]["avatar"] == "media/desert-19/qiu.png"
    part = load(out / "editions" / "desert-19" / "talks.json")
    assert part["$schema"] == "../../talks.schema.json"
    assert part["items"][0]["url"].startswith("../../index.html#desert-19-")
    feed = load(out / "feed.json")
    check_json_feed(feed)
    assert "home_page_url" not in feed
    assert "feed_url" not in feed


def test_corpus_talks_json_validates_and_every_time_has_an_offset(corpus_site: Path) -> None:
    talks = load(corpus_site / "talks.json")
    validate_talks(talks)
    assert len(talks["items"]) > 150
    ids = [i["id"] for i in talks["items"]] + [p["id"] for i in talks["items"] for p in i["papers"]]
    assert len(ids) == len(set(ids))
    for item in talks["items"]:
        for key in ("start", "end"):
            assert item[key] is None or OFFSET_TIME.match(item[key]), item["id"]
    isca = [i for i in talks["items"] if i["edition"] == "isca-19" and i["start"]]
    assert isca
    assert all(i["start"].endswith("-07:00") for i in isca)  # Phoenix keeps MST all year


# -- feed.json ----------------------------------------------------------------------------

_FEED_KEYS = {
    "version", "title", "home_page_url", "feed_url", "description", "user_comment", "next_url",
    "icon", "favicon", "authors", "language", "expired", "hubs", "items",
}  # fmt: skip
_ITEM_KEYS = {
    "id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
    "banner_image", "date_published", "date_modified", "authors", "tags", "language", "attachments",
}  # fmt: skip
_URL_KEYS = ("home_page_url", "feed_url", "next_url", "icon", "favicon")
_ITEM_URL_KEYS = ("url", "external_url", "image", "banner_image")


def _absolute_url(value: Any) -> bool:
    return isinstance(value, str) and re.match(r"^https?://[^\s/]+", value) is not None


def _rfc3339(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
    return re.match(pattern, value) is not None and datetime.fromisoformat(value).tzinfo is not None


def _extension_or_known(key: str, known: set[str]) -> bool:
    return key in known or re.match(r"^_[A-Za-z]", key) is not None


def check_json_feed(feed: dict[str, Any]) -> None:
    """The rules of https://www.jsonfeed.org/version/1.1/ that a document can break."""
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    assert all(_extension_or_known(k, _FEED_KEYS) for k in feed), set(feed) - _FEED_KEYS
    for key in _URL_KEYS:
        assert key not in feed or _absolute_url(feed[key]), key
    assert isinstance(feed["items"], list)
    ids = [item["id"] for item in feed["items"]]
    assert len(ids) == len(set(ids)), "item ids must be unique"
    for item in feed["items"]:
        assert all(_extension_or_known(k, _ITEM_KEYS) for k in item), set(item) - _ITEM_KEYS
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_html"), str) or isinstance(
            item.get("content_text"), str
        )
        for key in ("title", "summary", "content_html", "content_text", "language"):
            assert key not in item or isinstance(item[key], str), key
        for key in _ITEM_URL_KEYS:
            assert key not in item or _absolute_url(item[key]), (item["id"], key)
        for key in ("date_published", "date_modified"):
            assert key not in item or _rfc3339(item[key]), (item["id"], key)
        assert "tags" not in item or all(isinstance(t, str) for t in item["tags"])
        for author in item.get("authors", []):
            assert set(author) <= {"name", "url", "avatar"} and author, author
            assert all(isinstance(v, str) and v for v in author.values())
            assert "avatar" not in author or _absolute_url(author["avatar"])


def test_feed_json_follows_json_feed_1_1(site: Path) -> None:
    feed = load(site / "feed.json")
    check_json_feed(feed)
    assert feed["home_page_url"] == "https://example.org/tiny/"
    assert feed["feed_url"] == "https://example.org/tiny/feed.json"
    assert len(feed["items"]) == 8


def test_feed_items_carry_schedule_data_in_the_extension(site: Path) -> None:
    items = {item["id"]: item for item in load(site / "feed.json")["items"]}
    qiu = items["desert-19-keynote-qiu"]
    assert qiu["url"] == "https://example.org/tiny/#desert-19-keynote-qiu"
    assert qiu["date_published"] == "2019-06-23T15:30:00-07:00"
    assert qiu["authors"] == [
        {
            "name": "Lán Qiū",
            "url": "https://example.org/people/qiu",
            "avatar": "https://example.org/tiny/media/desert-19/qiu.png",
        }
    ]
    assert qiu["tags"] == ["invited_talk", "desert-19"]
    schedule = qiu["_schedule"]
    assert schedule["start"] == "2019-06-23T15:30:00-07:00"
    assert schedule["end"] == "2019-06-23T16:30:00-07:00"
    assert (schedule["edition"], schedule["type"]) == ("desert-19", "invited_talk")
    assert schedule["timezone"] == "America/Phoenix"
    assert [s["name"] for s in schedule["speakers"]] == ["Lán Qiū"]
    Draft202012Validator(
        schema()["$defs"]["schedule_extension"] | {"$defs": schema()["$defs"]}
    ).validate(schedule)
    session = items["desert-19-papers-morning"]["content_html"]
    assert "Pruning for microcontrollers" in session and "量子化された小さなモデル" in session
    tba = items["desert-19-poster-tba"]
    assert "date_published" not in tba and tba["_schedule"]["start"] is None


def test_corpus_feed_follows_json_feed_1_1(corpus_site: Path) -> None:
    feed = load(corpus_site / "feed.json")
    check_json_feed(feed)
    assert len(feed["items"]) == len(load(corpus_site / "talks.json")["items"])
