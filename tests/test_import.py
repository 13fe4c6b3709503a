"""`pipeline import`: every source format, over HTTP from 127.0.0.1, safely, without overwriting."""

from __future__ import annotations

import http.server
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.build import BuildOptions, build
from pipeline.cli import main
from pipeline.errors import PipelineError
from pipeline.fetch import FetchError, fetch_url
from pipeline.htmlmd import html_to_markdown, text_to_markdown
from pipeline.importer import ImportReport, import_schedule, owned_by_import
from pipeline.text import html_to_text, markdown_to_html

FIXTURE = Path(__file__).parent / "fixtures" / "feeds_site"
Serve = Callable[..., str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("import") / "dist"
    build(BuildOptions(FIXTURE / "content", out, FIXTURE / "pipeline.toml"))
    return out


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def rebuild(report: ImportReport, root: Path) -> Path:
    """Save the printed config advice as the site config and build the imported content."""
    (root / "pipeline.toml").write_text(report.advice, encoding="utf-8")
    out = root / "dist"
    build(BuildOptions(root / "content", out))
    return out


def frontmatter(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n", 1)[0])
    return data


# -- round trip ---------------------------------------------------------------------------


def test_round_trip_over_http_gives_the_same_talks_json(
    site: Path, serve: Serve, tmp_path: Path
) -> None:
    url = serve(site) + "talks.json"
    report = import_schedule(url, tmp_path / "content")
    assert report.format == "talks.json"
    assert report.count("created") == 8 and not report.conflicts
    assert (
        "[editions.desert-19]" in report.advice and 'timezone = "America/Phoenix"' in report.advice
    )
    out = rebuild(report, tmp_path)
    before, after = load(site / "talks.json"), load(out / "talks.json")
    assert [i["id"] for i in after["items"]] == [i["id"] for i in before["items"]]
    assert [(i["start"], i["end"]) for i in after["items"]] == [
        (i["start"], i["end"]) for i in before["items"]
    ]
    assert after == before
    assert (out / "talks.json").read_bytes() == (site / "talks.json").read_bytes()


def test_round_trip_of_the_whole_corpus_is_exact(corpus_site: Path, tmp_path: Path) -> None:
    report = import_schedule(str(corpus_site / "talks.json"), tmp_path / "content")
    assert report.count("created") == len(load(corpus_site / "talks.json")["items"])
    out = rebuild(report, tmp_path)
    assert (out / "talks.json").read_bytes() == (corpus_site / "talks.json").read_bytes()


def test_one_edition_can_be_imported_under_another_id(site: Path, tmp_path: Path) -> None:
    source = site / "editions" / "desert-19" / "talks.json"
    report = import_schedule(str(source), tmp_path / "content", edition="desert-2019")
    names = sorted(p.name for p in (tmp_path / "content" / "desert-2019").iterdir())
    assert names == sorted(
        f"{stem}.md"
        for stem in ("break", "keynote-qiu", "panel", "papers-morning", "poster-tba", "welcome")
    )
    assert "[editions.desert-2019]" in report.advice
    out = rebuild(report, tmp_path)
    ids = [i["id"] for i in load(out / "talks.json")["items"]]
    assert "desert-2019-keynote-qiu" in ids
    times = {i["id"]: i["start"] for i in load(out / "talks.json")["items"]}
    assert times["desert-2019-keynote-qiu"] == "2019-06-23T15:30:00-07:00"


def test_a_configured_zone_wins_and_times_stay_the_same_instants(
    site: Path, tmp_path: Path
) -> None:
    (tmp_path / "pipeline.toml").write_text(
        '[editions.desert-19]\ntimezone = "America/Denver"\n', encoding="utf-8"
    )
    report = import_schedule(
        str(site / "editions" / "desert-19" / "talks.json"), tmp_path / "content"
    )
    assert "desert-19" not in report.advice
    data = frontmatter(tmp_path / "content" / "desert-19" / "keynote-qiu.md")
    assert data["time_start"] == "2019-06-23 16:30:00"  # 15:30 MST is 16:30 MDT


# -- other formats ------------------------------------------------------------------------


def test_own_json_feed_keeps_ids_times_and_people(site: Path, serve: Serve, tmp_path: Path) -> None:
    report = import_schedule(serve(site) + "feed.json", tmp_path / "content")
    assert report.format == "JSON Feed"
    out = rebuild(report, tmp_path)
    before = {i["id"]: i for i in load(site / "talks.json")["items"]}
    after = {i["id"]: i for i in load(out / "talks.json")["items"]}
    assert set(after) == set(before)
    for item_id, item in after.items():
        assert (item["start"], item["end"], item["title"]) == (
            before[item_id]["start"],
            before[item_id]["end"],
            before[item_id]["title"],
        )
    qiu = after["desert-19-keynote-qiu"]
    assert qiu["speakers"][0]["name"] == "Lán Qiū"
    assert qiu["abstract_text"].startswith("Energy numbers in papers")


def test_foreign_json_feed_needs_an_edition_and_is_sanitised(serve: Serve, tmp_path: Path) -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Someone else's talks",
        "feed_url": "https://other.example/feed.json",
        "items": [
            {
                "id": "https://other.example/2024/01/talk-one.html",
                "url": "/2024/01/talk-one.html",
                "title": "Talk one\nedition: evil\n---",
                "content_html": '<p onclick="x()">Hello <script>alert(1)</script>'
                '<a href="javascript:alert(2)">bad</a> <a href="/ok">ok</a></p>',
                "authors": [{"name": "Ada", "url": "javascript:alert(3)", "avatar": "/a.png"}],
            },
            {"id": "2", "content_text": "Plain *text* with <tags>"},
        ],
    }
    served = tmp_path / "www"
    served.mkdir()
    (served / "feed.json").write_text(json.dumps(feed), encoding="utf-8")
    url = serve(served) + "feed.json"
    with pytest.raises(PipelineError, match="--edition"):
        import_schedule(url, tmp_path / "content")
    report = import_schedule(url, tmp_path / "content", edition="other-24")
    assert report.count("created") == 2
    assert any("not scheduled" in w for w in report.warnings)
    written = sorted((tmp_path / "content" / "other-24").glob("*.md"))
    assert [p.name for p in written] == ["plain-text-with-tags.md", "talk-one-edition-evil.md"]
    talk = (tmp_path / "content" / "other-24" / "talk-one-edition-evil.md").read_text(
        encoding="utf-8"
    )
    data = frontmatter(tmp_path / "content" / "other-24" / "talk-one-edition-evil.md")
    assert data["edition"] == "other-24" and data["title"] == "Talk one edition: evil ---"
    assert data["speaker"] == {
        "name": "Ada",
        "avatar": "http://127.0.0.1:" + url.split(":")[2].split("/")[0] + "/a.png",
    }
    assert "script" not in talk and "javascript" not in talk and "onclick" not in talk
    assert "https://other.example/2024/01/talk-one.html" not in data.values()
    out = rebuild(report, tmp_path)
    items = {i["id"]: i for i in load(out / "talks.json")["items"]}
    assert items["other-24-plain-text-with-tags"]["abstract_text"] == "Plain *text* with <tags>"
    assert items["other-24-talk-one-edition-evil"]["abstract_text"] == "Hello bad ok"


def test_frab_schedule_json(serve: Serve, tmp_path: Path) -> None:
    schedule = {
        "schedule": {
            "version": "1.0",
            "conference": {
                "acronym": "tinyconf24",
                "title": "TinyConf 2024",
                "time_zone_name": "Europe/Lisbon",
                "days": [
                    {
                        "index": 1,
                        "date": "2024-09-23",
                        "rooms": {
                            "Sala 1": [
                                {
                                    "guid": "a1",
                                    "id": 11,
                                    "date": "2024-09-23T10:00:00+01:00",
                                    "start": "10:00",
                                    "duration": "00:45",
                                    "title": "Cheap inference on old phones",
                                    "type": "Talk",
                                    "abstract": "We **measure** things. <img src=x onerror=f()>",
                                    "persons": [
                                        {
                                            "public_name": "João Sá",
                                            "biography": "Works on *phones*.",
                                        }
                                    ],
                                    "links": [
                                        {"title": "Slides", "url": "https://tiny.example/s.pdf"}
                                    ],
                                },
                                {
                                    "guid": "a2",
                                    "date": "2024-09-23T11:00:00+01:00",
                                    "duration": "1:00",
                                    "title": "Panel: is tiny enough?",
                                    "type": "Panel discussion",
                                    "persons": [{"name": "Rita"}, {"name": "Rui"}],
                                },
                            ]
                        },
                    }
                ],
            },
        }
    }
    served = tmp_path / "www"
    served.mkdir()
    (served / "schedule.json").write_text(json.dumps(schedule), encoding="utf-8")
    report = import_schedule(serve(served) + "schedule.json", tmp_path / "content")
    assert report.format == "frab schedule.json" and report.count("created") == 2
    assert 'timezone = "Europe/Lisbon"' in report.advice
    talk = frontmatter(tmp_path / "content" / "tinyconf24" / "cheap-inference-on-old-phones.md")
    assert talk["time_start"] == "2024-09-23 10:00:00" and talk["time_end"] == "2024-09-23 10:45:00"
    assert talk["location"] == "Sala 1" and talk["presentation"] == "https://tiny.example/s.pdf"
    out = rebuild(report, tmp_path)
    items = {i["id"]: i for i in load(out / "talks.json")["items"]}
    cheap = items["tinyconf24-cheap-inference-on-old-phones"]
    assert cheap["start"] == "2024-09-23T10:00:00+01:00"
    assert cheap["abstract_html"] == "<p>We <strong>measure</strong> things.</p>"
    assert cheap["bio_text"] == "João Sá Works on phones."
    panel = items["tinyconf24-panel-is-tiny-enough"]
    assert panel["type"] == "panel" and panel["end"] == "2024-09-23T12:00:00+01:00"
    assert [s["name"] for s in panel["speakers"]] == ["Rita", "Rui"]


def test_html_page_with_json_ld(site: Path, serve: Serve, tmp_path: Path) -> None:
    url = serve(site) + "index.html"
    with pytest.raises(PipelineError, match="--edition"):
        import_schedule(url, tmp_path / "content")
    report = import_schedule(url, tmp_path / "content", edition="desert-19")
    assert report.format == "schema.org JSON-LD" and report.count("created") == 4
    # Two editions' offsets went into one: no single zone fits, so the advice asks for one.
    assert "# timezone = " in report.advice and "UTC-07:00" in report.advice
    (tmp_path / "pipeline.toml").write_text('[editions.desert-19]\ntimezone = "America/Phoenix"\n')
    out = tmp_path / "dist"
    build(BuildOptions(tmp_path / "content", out))
    items = {i["title"]: i for i in load(out / "talks.json")["items"]}
    qiu = items["Counting joules: <measuring> energy on tiny devices"]
    assert qiu["start"] == "2019-06-23T15:30:00-07:00"
    assert qiu["speakers"][0]["affiliation"] == "Université de Montréal"
    assert qiu["abstract_text"].startswith("Energy numbers in papers")
    assert items["Is on-device learning worth it?"]["end"] == "2019-06-23T17:30:00-07:00"


def test_html_page_with_graph_and_sub_events(serve: Serve, tmp_path: Path) -> None:
    page = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Organization", "name": "Not an event"},
            {
                "@type": "Event",
                "name": "The whole conference",
                "subEvent": [
                    {
                        "@type": "EducationEvent",
                        "name": "Opening talk",
                        "startDate": "2025-05-12T09:00:00+09:00",
                        "endDate": "2025-05-12T10:00:00+09:00",
                        "location": {"@type": "Place", "name": "Hall A"},
                        "performer": {"@type": "Person", "name": "Saito Hana"},
                        "description": "<p>First <em>talk</em></p>",
                    },
                    {"@type": "Event", "name": "Date only", "startDate": "2025-05-13"},
                ],
            },
        ],
    }
    served = tmp_path / "www"
    served.mkdir()
    script = json.dumps(page).replace("</", "<\\/")
    (served / "p.html").write_text(
        f'<html><head><script type="application/ld+json">{script}</script>'
        '<script type="application/ld+json">{not json</script></head></html>',
        encoding="utf-8",
    )
    report = import_schedule(serve(served) + "p.html", tmp_path / "content", edition="kyoto-25")
    assert report.count("created") == 2
    assert any("not valid JSON" in w for w in report.warnings)
    assert any("no time of day" in w for w in report.warnings)
    assert 'timezone = "Etc/GMT-9"' in report.advice
    opening = frontmatter(tmp_path / "content" / "kyoto-25" / "opening-talk.md")
    assert opening["time_start"] == "2025-05-12 09:00:00" and opening["location"] == "Hall A"
    out = rebuild(report, tmp_path)
    items = {i["title"]: i for i in load(out / "talks.json")["items"]}
    assert items["Opening talk"]["start"] == "2025-05-12T09:00:00+09:00"
    assert items["Opening talk"]["abstract_html"] == "<p>First <em>talk</em></p>"


# -- never overwrite ----------------------------------------------------------------------


def test_an_authors_file_is_a_conflict_and_left_alone(site: Path, tmp_path: Path) -> None:
    mine = tmp_path / "content" / "desert-19" / "panel.md"
    mine.parent.mkdir(parents=True)
    mine.write_text(
        "---\nedition: desert-19\ntype: panel\ntitle: My own panel\n---\n", encoding="utf-8"
    )
    before = mine.read_bytes()
    report = import_schedule(str(site / "talks.json"), tmp_path / "content")
    assert [(c.path, c.reason) for c in report.conflicts] == [
        (str(mine), "was not written by pipeline import; left alone")
    ]
    assert mine.read_bytes() == before
    assert report.count("created") == 7


def test_reimport_updates_only_untouched_imported_files(site: Path, tmp_path: Path) -> None:
    source = tmp_path / "talks.json"
    source.write_bytes((site / "talks.json").read_bytes())
    content = tmp_path / "content"
    import_schedule(str(source), content)
    again = import_schedule(str(source), content)
    assert again.count("unchanged") == 8
    edited = content / "desert-19" / "break.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "An author's note.\n", encoding="utf-8")
    assert not owned_by_import(edited.read_text(encoding="utf-8"))
    talks = load(source)
    for item in talks["items"]:
        item["title"] += " (updated)"
    source.write_text(json.dumps(talks), encoding="utf-8")
    third = import_schedule(str(source), content)
    assert third.count("updated") == 7
    assert [(c.path, c.reason) for c in third.conflicts] == [
        (str(edited), "was edited after it was imported; left alone")
    ]
    assert edited.read_text(encoding="utf-8").endswith("An author's note.\n")
    assert frontmatter(content / "desert-19" / "panel.md")["title"].endswith("(updated)")


def test_links_are_never_followed(site: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    content = tmp_path / "content"
    content.mkdir()
    (content / "desert-19").symlink_to(outside, target_is_directory=True)
    report = import_schedule(str(site / "talks.json"), content)
    assert len(report.conflicts) == 6
    assert list(outside.iterdir()) == []


def test_cli_reports_conflicts_with_exit_status_1(site: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    content = tmp_path / "content"
    args = ["import", str(site / "talks.json"), "--content", str(content)]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "8 created" in first.output and "[site]" in first.output
    (content / "rhine-24" / "lunch.md").write_text("---\nedition: rhine-24\ntype: lunch\n---\n")
    second = runner.invoke(main, args)
    assert second.exit_code == 1
    lunch = content / "rhine-24" / "lunch.md"
    assert f"conflict: {lunch}: was not written by pipeline import; left alone" in second.output
    assert "1 file(s) left alone" in second.output


def test_cli_help_says_what_it_does_with_an_example() -> None:
    result = CliRunner().invoke(main, ["import", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "pipeline import https://" in result.output
    assert "--edition" in result.output and "--content" in result.output


# -- bad sources --------------------------------------------------------------------------


class _Stall(http.server.BaseHTTPRequestHandler):
    """Sends headers, then nothing."""

    def __init__(self, *args: Any, directory: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            time.sleep(2)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Trickle(_Stall):
    """Sends a byte every 50 ms for ever: each read is quick, the whole answer never ends."""

    def do_GET(self) -> None:
        try:
            self.send_response(200)
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass


class _Flood(_Stall):
    """Streams megabytes with no Content-Length."""

    def do_GET(self) -> None:
        try:
            self.send_response(200)
            self.end_headers()
            for _ in range(100):
                self.wfile.write(b"x" * 65536)
        except OSError:
            pass


class _Declared(_Stall):
    """Announces 200,000 bytes up front."""

    def do_GET(self) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Length", "200000")
            self.end_headers()
            self.wfile.write(b" " * 1000)
        except OSError:
            pass


def test_a_stalled_server_times_out_with_a_clear_message(serve: Serve) -> None:
    url = serve(Path("."), _Stall)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"no complete answer within 0\.3 s"):
        fetch_url(url, timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_a_trickling_server_is_cut_off_at_the_total_time_limit(serve: Serve) -> None:
    url = serve(Path("."), _Trickle)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"no complete answer within 0\.5 s"):
        fetch_url(url, timeout=0.5)
    assert time.monotonic() - started < 2


def test_too_much_data_is_refused(serve: Serve, tmp_path: Path) -> None:
    with pytest.raises(
        FetchError, match=r"more than 100,000 bytes; the import limit is 100,000 bytes"
    ):
        fetch_url(serve(Path("."), _Flood), max_bytes=100_000)
    with pytest.raises(FetchError, match=r"the server says 200,000 bytes"):
        fetch_url(serve(Path("."), _Declared), max_bytes=100_000)
    (tmp_path / "big.json").write_bytes(b" " * 200_000)
    with pytest.raises(FetchError, match=r"200,000 bytes is over the import limit"):
        import_schedule(str(tmp_path / "big.json"), tmp_path / "content", max_bytes=100_000)


def test_clear_messages_for_missing_and_unknown_sources(serve: Serve, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="answered 404"):
        import_schedule(serve(tmp_path) + "nothing.json", tmp_path / "content")
    with pytest.raises(FetchError, match="no such file"):
        import_schedule(str(tmp_path / "nothing.json"), tmp_path / "content")
    with pytest.raises(FetchError, match="only http"):
        import_schedule("file:///etc/passwd", tmp_path / "content")
    with pytest.raises(FetchError, match="cannot connect"):
        fetch_url("http://127.0.0.1:9/", timeout=2)
    (tmp_path / "x.json").write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(PipelineError, match="unknown JSON"):
        import_schedule(str(tmp_path / "x.json"), tmp_path / "content")
    (tmp_path / "bad.json").write_text('{"version": "1.0", "items": [{}], "editions": []}')
    with pytest.raises(PipelineError, match="does not match its schema"):
        import_schedule(str(tmp_path / "bad.json"), tmp_path / "content")
    result = CliRunner().invoke(main, ["import", str(tmp_path / "nothing.json")])
    assert (
        result.exit_code == 1
        and "no such file" in result.output
        and "Traceback" not in result.output
    )


# -- the Markdown the importer writes -----------------------------------------------------

# Characters and line starts that are Markdown syntax, among plain letters and spaces.
_SYNTAX = ["http://x.org", "&amp;", "&lt;", "1. ", "# ", "- ", "> ", "==="]
_WORDS = st.sampled_from([*"ab*_#-+=.1)[]()!&;|~:/\"'\u00a0é漢", " ", "  ", *_SYNTAX])
_TEXT = st.lists(_WORDS, min_size=1, max_size=8).map("".join)
_LINK = _TEXT.map(lambda x: f'<a href="http://x.org/?a=1&amp;b=2">{x}</a>')
_INLINE = st.recursive(
    _TEXT,
    lambda inner: (
        st.tuples(st.sampled_from(["b", "em", "code", "strong", "i"]), inner).map(
            lambda t: f"<{t[0]}>{t[1]}</{t[0]}>"
        )
        | st.tuples(inner, inner).map("".join)
        | inner.map(lambda x: f"**{x}**")
        | _LINK
    ),
    max_leaves=6,
)
_PARAGRAPH = st.lists(_INLINE, min_size=1, max_size=3).map(lambda xs: "\n".join(xs).strip())
_BLOCK = (
    _PARAGRAPH
    | st.lists(_PARAGRAPH, min_size=1, max_size=3).map(
        lambda xs: "\n".join("- " + x.replace("\n", " ") for x in xs)
    )
    | _PARAGRAPH.map(lambda x: "> " + x.replace("\n", " "))
    | _PARAGRAPH.map(lambda x: "<ul><li>" + x.replace("\n", " ") + "</li></ul>")
)
_MARKDOWN = st.lists(_BLOCK, min_size=1, max_size=4).map("\n\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_MARKDOWN)
def test_written_markdown_renders_to_the_same_html(source: str) -> None:
    """What makes the round trip exact: sanitised HTML -> Markdown -> the same HTML, even when
    the text is full of characters that are Markdown syntax."""
    html = markdown_to_html(source)
    assert markdown_to_html(html_to_markdown(html)) == html


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60))
def test_plain_text_stays_plain_text(source: str) -> None:
    shown = html_to_text(markdown_to_html(text_to_markdown(source)))
    assert shown == " ".join(source.split())
