"""The iCalendar files parse back with the right absolute times, stable UIDs and VTIMEZONEs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, Timezone

from pipeline import calendar
from pipeline.build import BuildOptions, build, check
from pipeline.errors import PipelineError
from pipeline.model import Edition, EditionInfo, Item, Person, Program, SiteConfig
from pipeline.published import location, page_url, uid_host
from pipeline.records import replace

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "feeds_site"
OPTIONS = BuildOptions(content_dir=FIXTURE / "content", config_path=FIXTURE / "pipeline.toml")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("calendar") / "dist"
    build(BuildOptions(OPTIONS.content_dir, out, OPTIONS.config_path))
    return out


def parse(path: Path) -> Calendar:
    return Calendar.from_ical(path.read_bytes())


def events(cal: Calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in cal.walk("VEVENT")}


def utc(event: Any, key: str) -> datetime:
    value: datetime = event.decoded(key)
    return value.astimezone(UTC)


def test_whole_calendar_has_one_event_per_scheduled_item(site: Path) -> None:
    found = events(parse(site / "calendar.ics"))
    talks = json.loads((site / "talks.json").read_text(encoding="utf-8"))
    scheduled = [i["id"] for i in talks["items"] if i["start"]]
    assert sorted(found) == sorted(f"{item_id}@example.org" for item_id in scheduled)
    assert "desert-19-poster-tba@example.org" not in found


def test_phoenix_1530_is_2230_utc(site: Path) -> None:
    event = events(parse(site / "calendar.ics"))["desert-19-keynote-qiu@example.org"]
    assert event["DTSTART"].params["TZID"] == "America/Phoenix"
    assert utc(event, "DTSTART") == datetime(2019, 6, 23, 22, 30, tzinfo=UTC)
    assert utc(event, "DTEND") == datetime(2019, 6, 23, 23, 30, tzinfo=UTC)


def test_the_vtimezone_itself_gives_the_right_instants(site: Path) -> None:
    """Rename the zone so the parser cannot fall back on its own tz database: the times must
    then come from the VTIMEZONE in the file, across a daylight-saving change too."""
    text = (site / "calendar.ics").read_text(encoding="utf-8")
    text = text.replace("America/Phoenix", "Custom/Desert").replace("Europe/Berlin", "Custom/Rhine")
    found = events(Calendar.from_ical(text))
    qiu = found["desert-19-keynote-qiu@example.org"]
    assert qiu["DTSTART"].params["TZID"] == "Custom/Desert"
    assert utc(qiu, "DTSTART") == datetime(2019, 6, 23, 22, 30, tzinfo=UTC)
    lunch = found["rhine-24-lunch@example.org"]  # 12:00 on the day CEST ends: CET, UTC+1
    assert utc(lunch, "DTSTART") == datetime(2024, 10, 27, 11, 0, tzinfo=UTC)


def test_every_event_has_the_required_and_promised_properties(site: Path) -> None:
    cal = parse(site / "calendar.ics")
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"])
    zones = {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")}
    assert zones == {"America/Phoenix", "Europe/Berlin"}
    for event in cal.walk("VEVENT"):
        for key in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "LOCATION", "URL"):
            assert key in event, (event["UID"], key)
        assert event["DTSTART"].params["TZID"] in zones
        assert str(event["URL"]) == "https://example.org/tiny/#" + str(event["UID"]).split("@")[0]
    qiu = events(cal)["desert-19-keynote-qiu@example.org"]
    assert str(qiu["SUMMARY"]) == "Counting joules: <measuring> energy on tiny devices"
    assert str(qiu["LOCATION"]) == "Phoenix, AZ"
    assert "Lán Qiū (Université de Montréal)" in str(qiu["DESCRIPTION"])
    session = events(cal)["desert-19-papers-morning@example.org"]
    assert str(session["LOCATION"]) == "Room 101, Phoenix, AZ"
    assert "Pruning for microcontrollers (Ana Núñez, Björn Åström and Chidi Okeke)" in str(
        session["DESCRIPTION"]
    )


def test_lines_are_crlf_and_folded_to_75_octets(site: Path) -> None:
    raw = (site / "calendar.ics").read_bytes()
    assert raw.endswith(b"\r\n")
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_edition_and_item_calendars(site: Path) -> None:
    whole = events(parse(site / "calendar.ics"))
    desert = events(parse(site / "calendar" / "desert-19.ics"))
    assert desert and all(uid.startswith("desert-19-") for uid in desert)
    assert {uid for uid in whole if uid.startswith("desert-19-")} == set(desert)
    for uid, event in whole.items():
        item_id = uid.split("@")[0]
        single = parse(site / "calendar" / "items" / f"{item_id}.ics")
        assert list(events(single)) == [uid]
        assert utc(events(single)[uid], "DTSTART") == utc(event, "DTSTART")
        assert len(single.walk("VTIMEZONE")) == 1
    assert not (site / "calendar" / "items" / "desert-19-poster-tba.ics").exists()


def test_dtstamp_is_the_latest_end_or_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    program = check(OPTIONS).program
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert calendar.dtstamp(program) == datetime(2024, 10, 27, 12, 0, tzinfo=UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = calendar_files(program)
    stamps = {
        str(e["DTSTAMP"].to_ical(), "ascii")
        for e in Calendar.from_ical(files["calendar.ics"]).walk("VEVENT")
    }
    assert stamps == {"20231114T221320Z"}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(PipelineError, match="SOURCE_DATE_EPOCH"):
        calendar.outputs(program)


def test_a_site_in_utc_writes_utc_times_without_vtimezone(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "talk.md").write_text(
        "---\nedition: e1\ntype: talk\ntime_start: 2020-01-02 10:00:00\n"
        "time_end: 2020-01-02 11:00:00\ntitle: A talk\n---\n",
        encoding="utf-8",
    )
    files = calendar_files(check(BuildOptions(content_dir=content)).program)
    cal = Calendar.from_ical(files["calendar.ics"])
    assert cal.walk("VTIMEZONE") == []
    assert b"DTSTART:20200102T100000Z" in files["calendar.ics"]
    assert b"UID:e1-talk@pipeline" in files["calendar.ics"]


def test_corpus_isca_19_afternoon_in_phoenix_is_seven_hours_later_in_utc(corpus_site: Path) -> None:
    """The corpus has no 15:30 talk at isca-19; its 15:00 and 15:10 slots prove the same rule."""
    talks = json.loads((corpus_site / "talks.json").read_text(encoding="utf-8"))
    starts = {i["id"]: i["start"] for i in talks["items"] if i["start"]}
    found = events(parse(corpus_site / "calendar" / "isca-19.ics"))
    assert found
    afternoon = 0
    for uid, event in found.items():
        local = datetime.fromisoformat(starts[uid.split("@")[0]])
        assert event["DTSTART"].params["TZID"] == "America/Phoenix"
        assert utc(event, "DTSTART") == local.astimezone(UTC)
        assert utc(event, "DTSTART").hour == (local.hour + 7) % 24
        afternoon += local.strftime("%H:%M") in {"15:00", "15:10"}
    assert afternoon == 2
    whole = events(parse(corpus_site / "calendar.ics"))
    assert len(whole) == len(starts)
    for uid, event in whole.items():
        assert utc(event, "DTSTART") == datetime.fromisoformat(
            starts[uid.split("@")[0]]
        ).astimezone(UTC)


# calendar.py writes the VEVENT lines itself for speed; icalendar stays the reference. These
# build every calendar the way the stage used to, through icalendar's Calendar and Event
# objects serialised (and folded) by icalendar, and demand the same bytes.


def calendar_files(program: Program) -> dict[str, bytes]:
    """The calendar stage's files as bytes (it gives the whole calendars as pieces)."""
    return {name: bytes(data) for name, data in calendar.outputs(program).items()}


def reference_outputs(program: Program) -> dict[str, bytes]:
    stamp = calendar.dtstamp(program)
    site = program.site
    files = {"calendar.ics": reference_calendar(site, site.title, _pairs(program.editions), stamp)}
    for edition in program.editions:
        pairs = _pairs([edition])
        name = f"{site.title}: {edition.info.name}"
        files[f"calendar/{edition.id}.ics"] = reference_calendar(site, name, pairs, stamp)
        for info, item in pairs:
            if item.start is not None:
                files[f"calendar/items/{item.id}.ics"] = reference_calendar(
                    site, item.title, [(info, item)], stamp
                )
    return files


def _pairs(editions: Iterable[Edition]) -> list[tuple[EditionInfo, Item]]:
    return [(edition.info, item) for edition in editions for item in edition.items]


def reference_calendar(
    site: SiteConfig, name: str, pairs: list[tuple[EditionInfo, Item]], stamp: datetime
) -> bytes:
    cal = Calendar()
    cal.add("prodid", calendar.PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    years: dict[str, set[int]] = {}
    for info, item in pairs:
        if item.start is not None and info.timezone != "UTC":
            years.setdefault(info.timezone, set()).update(
                {item.start.year, (item.end or item.start).year}
            )
    for tzid in sorted(years):
        first, last = min(years[tzid]), max(years[tzid])
        cal.add_component(
            Timezone.from_tzid(tzid, first_date=date(first, 1, 1), last_date=date(last + 1, 1, 1))
        )
    for info, item in pairs:
        if item.start is not None:
            cal.add_component(reference_event(site, info, item, stamp))
    data: bytes = cal.to_ical()
    return data


def reference_event(site: SiteConfig, info: EditionInfo, item: Item, stamp: datetime) -> Event:
    assert item.start is not None
    zone = UTC if info.timezone == "UTC" else ZoneInfo(info.timezone)
    event = Event()
    event.add("uid", f"{item.id}@{uid_host(site)}")
    event.add("dtstamp", stamp)
    event.add("dtstart", item.start.astimezone(zone))
    if item.end is not None:
        event.add("dtend", item.end.astimezone(zone))
    event.add("summary", item.title)
    where = location(item, info.venue)
    if item.location and info.venue:
        where = f"{item.location}, {info.venue}"
    if where:
        event.add("location", where)
    description = calendar._description(item)
    if description:
        event.add("description", description)
    url = page_url(site, item.id)
    if "://" in url:
        event.add("url", url)
    event.add("categories", [item.type_label])
    return event


def assert_same_as_icalendar(program: Program) -> dict[str, bytes]:
    files = calendar_files(program)
    expected = reference_outputs(program)
    assert sorted(files) == sorted(expected)
    for name, data in expected.items():
        assert files[name] == data, name
    return files


SITES = [REPO, *sorted(p for p in FIXTURES.iterdir() if (p / "content").is_dir())]


@pytest.mark.parametrize("root", SITES, ids=lambda p: p.name)
@pytest.mark.parametrize("epoch", ["", "1700000000"])
def test_every_site_gives_what_icalendar_gives(
    root: Path, epoch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    program = check(BuildOptions(root / "content", config_path=root / "pipeline.toml")).program
    assert any(item.start for item in program.items)
    files = assert_same_as_icalendar(program)
    scheduled = [item for item in program.items if item.start]
    assert len(events(Calendar.from_ical(files["calendar.ics"]))) == len(scheduled)


# Text the reader never produces (it collapses white space in titles) but an Item can hold:
# every TEXT escape, icalendar's quirks (a literal backslash-N is a newline to it, a lone CR
# too, one leading byte order mark is dropped), and UTF-8 of 2, 3 and 4 octets placed so that
# a fold falls inside a character or right after a backslash or caret.
HOSTILE = [
    "Commas, semicolons; colons: backslashes \\ \\\\ and \\N, \\n, \\; \\,",
    'line\nbreaks\r\nof\revery\n\nkind, "quotes" and <angle> & ^carets^',
    "\ufeffA leading byte order mark, and a \ufeff inner one",
    "Emoji 🎉🧪🏳️‍🌈👩🏽‍💻 and flags 🇩🇪🇺🇸, then combining e\u0301 and CJK 日本語の講演",
    "tab\tand\x0bcontrol\x1fcharacters\u2028with\u0085separators",
    "",
]
for shift in range(6):
    for unit in ("é", "語", "🎉", "\\", "^", ",", ";", "\n", "a\\", "é\\", "語^"):
        HOSTILE.append("x" * shift + unit * (160 // len(unit.encode())))
HOSTILE += ["y" * n + "\\" + "z" * 80 for n in range(60, 80)]
HOSTILE += ["ü" * n + ";" + "🎉" * 30 for n in range(25, 40)]


def _one_line(text: str) -> str:
    # Titles and names become X-WR-CALNAME, written verbatim, where a line break cannot go; the
    # reader collapses white space in titles like this.
    return " ".join(text.split())


def hostile_program() -> Program:
    program = check(OPTIONS).program
    template = next(item for item in program.items if item.start and item.end)
    zones = ["Europe/Berlin", "America/Phoenix", "Asia/Kolkata", "Etc/UTC", "UTC"]
    editions = []
    for z, zone in enumerate(zones):
        items = []
        for i, text in enumerate(HOSTILE[z :: len(zones)]):
            other = HOSTILE[(i * 7 + z) % len(HOSTILE)]
            assert template.start is not None and template.end is not None
            items.append(
                replace(
                    template,
                    id=f"e{z}-item-{i}",
                    edition=f"e{z}",
                    type=["talk", "invited_talk", "a,b;c\\d", "poster_session"][i % 4],
                    title=_one_line(text),
                    # microseconds are dropped; some items end in another year (both VTIMEZONE
                    # years), some have no end, one has no time at all
                    start=template.start.replace(year=2020 + i % 3, microsecond=123456 * (i % 2)),
                    end=None if i % 5 == 4 else template.end.replace(year=2021 + i % 3),
                    location=other if i % 3 else "",
                    abstract_text=text + "\n\n" + other,
                    speakers=(Person(other, text), Person("Ana Núñez, PhD; \\o/", "")),
                    moderator=Person(text) if i % 2 else None,
                    panelists=(Person(other, other),) if i % 3 == 1 else (),
                )
            )
        items.append(replace(items[0], id=f"e{z}-untimed", start=None, end=None))
        venue = HOSTILE[z] if z % 2 else ""
        info = EditionInfo(f"e{z}", _one_line(HOSTILE[-z - 1]), venue, timezone=zone)
        editions.append(Edition(info, tuple(items)))
    site = replace(
        program.site,
        title="\ufeffSite, with; escapes\\N and a title long enough to fold: " + "語" * 30,
        base_url="https://example.org/a,b;c^d/",
    )
    return replace(program, site=site, editions=tuple(editions))


def test_hostile_text_gives_what_icalendar_gives_and_reads_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    program = hostile_program()
    files = assert_same_as_icalendar(program)
    found = events(Calendar.from_ical(files["calendar.ics"]))
    scheduled = [(e.info, item) for e in program.editions for item in e.items if item.start]
    assert len(found) == len(scheduled)
    for _info, item in scheduled:
        assert item.start is not None
        event = found[f"{item.id}@example.org"]
        # what a reader gets back: icalendar's normalisations, then the TEXT unescaped
        assert str(event["SUMMARY"]) == _as_read(item.title)
        assert str(event.get("DESCRIPTION", "")) == _as_read(calendar._description(item))
        assert [str(c) for c in event["CATEGORIES"].cats] == [_as_read(item.type_label)]
        assert utc(event, "DTSTART") == item.start.replace(microsecond=0).astimezone(UTC)
        if item.end is None:
            assert "DTEND" not in event
        single = Calendar.from_ical(files[f"calendar/items/{item.id}.ics"])
        assert [str(uid) for uid in events(single)] == [f"{item.id}@example.org"]
    for line in files["calendar.ics"].split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # never split inside a character


def _as_read(text: str) -> str:
    text = text.replace("\\N", "\n").replace("\r\n", "\n").replace("\r", "\n")
    return text[1:] if text.startswith("\ufeff") else text


@pytest.mark.parametrize("where", ["site title", "edition name", "base_url", "base_url CR"])
def test_a_line_break_icalendar_cannot_write_is_refused(where: str) -> None:
    program = check(OPTIONS).program
    if where == "site title":
        program = replace(program, site=replace(program.site, title="Tiny\nSystems"))
    elif where.startswith("base_url"):
        base_url = "https://x.org/a\rb/" if where.endswith("CR") else "https://x.org/a\nb/"
        program = replace(program, site=replace(program.site, base_url=base_url))
    else:
        first = program.editions[0]
        bad = replace(first, info=replace(first.info, name="Day\none"))
        program = replace(program, editions=(bad, *program.editions[1:]))
    with pytest.raises((AssertionError, ValueError)):
        reference_outputs(program)
    with pytest.raises(PipelineError, match="line break"):
        calendar.outputs(program)
