"""A record behaves as the frozen dataclass with slots it stands for: equal, hashed, shown,
made, replaced and pickled as one, and never changed."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from pipeline.records import FrozenRecordError, field, fields, is_record, record, replace


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


@record
class Bag:
    """With a default made for each record."""

    name: str
    tags: list[str] = field(default_factory=list)
    size: int = field(default=3)

    @property
    def shown(self) -> str:
        return f"{self.name}:{self.size}"


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


def test_a_record_is_made_with_positions_keywords_and_defaults() -> None:
    assert Point(x=1, label="a") == Point(1, "a") == Point(1, label="a")
    first, second = Bag("a"), Bag("b")
    assert first.tags == [] and first.tags is not second.tags
    assert first.size == 3 and first.shown == "a:3"
    assert Bag("c", ["t"], 5) == Bag(name="c", tags=["t"], size=5)
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, nonsense=2)  # type: ignore[call-arg]
    assert Point.__match_args__ == ("x", "label", "when")  # type: ignore[attr-defined]
    match Point(4, "m"):
        case Point(x, label):
            assert (x, label) == (4, "m")


def test_a_record_is_frozen_with_slots() -> None:
    point = Point(1, "a")
    with pytest.raises(FrozenRecordError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del point.label  # type: ignore[misc]
    assert not hasattr(point, "__dict__")
    assert fields(point) == fields(Point) == ("x", "label", "when")
    assert is_record(point) and not is_record(Point) and not is_record(PlainPoint(1))
    assert replace(point, x=5) == Point(5, "a")
    assert replace(Bag("a", ["t"]), size=1) == Bag("a", ["t"], 1)
    with pytest.raises(TypeError, match="no field 'y'"):
        replace(point, y=1)


def test_a_field_without_a_default_cannot_follow_one_with() -> None:
    with pytest.raises(TypeError, match="follows a field with a default"):

        @record
        class Wrong:
            first: int = 0
            second: int  # type: ignore[misc]


def test_a_record_pickles_as_a_call_of_its_class() -> None:
    nested = Nested((Point(1, "a"), Point(2, when=datetime(2026, 1, 1))), Single("s"))
    for value in (nested, Single("only"), Empty(), Bag("b", ["x"])):
        back = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        assert back == value and repr(back) == repr(value)
    assert Point(1).__reduce__() == (Point, (1, "", None))
    assert Single("a").__reduce__() == (Single, ("a",))


def test_a_build_defines_its_records_without_dataclasses() -> None:
    """What the build imports before its early worker forks is on the path of every process:
    dataclasses (and inspect, which it imports) are not among it."""
    code = "import sys, pipeline.build; print(sorted({'dataclasses', 'inspect'} & {*sys.modules}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
