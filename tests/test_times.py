"""Times: every value YAML can hand over is a venue time or a message saying how to fix it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline.times import TimeValueError, parse_time

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 6, 10, 9, 30), datetime(2024, 6, 10, 9, 30, tzinfo=PARIS)),
        ("2024-06-10 9:30", datetime(2024, 6, 10, 9, 30, tzinfo=PARIS)),
        ("2024-06-10T09:30:15", datetime(2024, 6, 10, 9, 30, 15, tzinfo=PARIS)),
        (
            datetime(2024, 6, 10, 7, 30, tzinfo=UTC),
            datetime(2024, 6, 10, 9, 30, tzinfo=PARIS),
        ),
    ],
)
def test_times_are_venue_times(value: object, expected: datetime) -> None:
    parsed = parse_time(value, PARIS)
    assert parsed == expected and parsed.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "written", "message"),
    [
        (540, "9:00", "'9:00' has no date (YAML read it as the number 540)"),
        (32400, "9:00:00", "'9:00:00' has no date (YAML read it as the number 32400)"),
        (5, "5", "is the number 5, not a time"),
        ("06-10-2024 09:00", "", "puts the year last"),
        ("10.06.2024 09:00", "", "puts the year last"),
        ("9:00", "", "has no date"),
        (date(2024, 6, 10), "", "has a date but no time"),
        ("2024-06-10 25:00", "", "is not a real time"),
        ("2024-02-30 10:00", "", "is not a real time"),
        ("0024-06-10 10:00", "", "has the year 24"),
        (datetime(1, 1, 1, tzinfo=UTC), "", "has the year 1"),
        (None, "", "is empty or not a time"),
        (True, "", "is empty or not a time"),
        (["2024-06-10 09:00"], "", "is not a time"),
        ("after lunch", "", "'after lunch' is not a time"),
        ("x" * 500, "", "…' is not a time"),
    ],
)
def test_not_times_say_how_to_write_one(value: object, written: str, message: str) -> None:
    with pytest.raises(TimeValueError) as caught:
        parse_time(value, PARIS, written)
    assert message in str(caught.value)
