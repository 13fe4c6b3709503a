"""A record is a frozen dataclass with slots: equal, hashed, shown and pickled as one."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import UTC, datetime

import pytest

from pipeline.records import record


@record
class Point:
    x: int
    label: str = ""
    when: datetime | None = None


@record
class Single:
    name: str


@record
class Empty:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class PlainPoint:
    x: int
    label: str = ""
    when: datetime | None = None


@record
class Nested:
    points: tuple[Point, ...]
    single: Single


def test_a_record_is_equal_hashed_and_shown_as_the_dataclass_it_stands_for() -> None:
    when = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    for values in [(1,), (2, "two"), (3, "it's", when)]:
        mine, plain = Point(*values), PlainPoint(*values)  # type: ignore[arg-type]
        assert repr(mine) == repr(plain).replace("PlainPoint", "Point")
        assert hash(mine) == hash(plain)
        assert mine == Point(*values)  # type: ignore[arg-type]
        assert hash(mine) == hash(Point(*values))  # type: ignore[arg-type]
    assert Point(1) != Point(2) and Point(1, "a") != Point(1, "b")
    # Another class never compares equal, even with the same values.
    assert Point(1) != PlainPoint(1)
    assert (Point(1) == (1, "", None)) is False
    assert repr(Single("a")) == "Single(name='a')" and Single("a") == Single("a")
    assert repr(Empty()) == "Empty()" and Empty() == Empty()
    assert len({Point(1), Point(1), Point(2)}) == 2


def test_a_record_is_frozen_with_slots_and_a_dataclass() -> None:
    point = Point(1, "a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    assert not hasattr(point, "__dict__")
    assert [f.name for f in dataclasses.fields(point)] == ["x", "label", "when"]
    assert dataclasses.replace(point, x=5) == Point(5, "a")


def test_a_record_pickles_as_a_call_of_its_class() -> None:
    nested = Nested((Point(1, "a"), Point(2, when=datetime(2026, 1, 1))), Single("s"))
    for value in (nested, Single("only"), Empty()):
        back = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        assert back == value and repr(back) == repr(value)
    assert Point(1).__reduce__() == (Point, (1, "", None))
    assert Single("a").__reduce__() == (Single, ("a",))
