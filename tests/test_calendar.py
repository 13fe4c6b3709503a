"""The iCalendar files parse back with the right absolute times, stable UIDs and VTIMEZONEs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from pipeline import calendar
from pipeline.build import BuildOptions, build, check
from pipeline.errors import PipelineError

FIXTURE = Path(__file__).parent / "fixtures" / "feeds_site"
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
    files = calendar.outputs(program)
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
    files = calendar.outputs(check(BuildOptions(content_dir=content)).program)
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
