"""`record`: the frozen dataclass with slots that every stage hands on, cheaper to define and
to unpickle than the plain one."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

R = TypeVar("R")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[R]) -> type[R]:
    """`dataclass(frozen=True, slots=True)`, with the same equality, hash and repr.

    Those three are written once here for every record, not generated for each: dataclasses
    compiles each method it generates, which was half the cost of defining a record, and a
    build defines forty before it reads a file (20 ms of a 0.5 s rebuild, measured).

    A record pickles as a call of its class with its field values: a frozen slots dataclass
    otherwise unpickles through a __setstate__ that looks its fields up again for every
    object, and a rebuild unpickles tens of thousands of them from the read cache. Records
    have no __post_init__, so the call rebuilds them as they were.
    """
    made: Any = dataclass(frozen=True, slots=True, eq=False, repr=False)(cls)
    names = tuple(f.name for f in fields(made))
    # A tuple of the field values, as dataclasses compares and hashes them.
    values = attrgetter(*names) if len(names) > 1 else _single(names)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(values(self) == values(other))

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __repr__(self: Any) -> str:
        shown = ", ".join(
            f"{name}={value!r}" for name, value in zip(names, values(self), strict=True)
        )
        return f"{self.__class__.__qualname__}({shown})"

    def __reduce__(self: Any) -> tuple[type[R], tuple[Any, ...]]:
        return made, values(self)

    made.__eq__ = __eq__
    made.__hash__ = __hash__
    made.__repr__ = __repr__
    made.__reduce__ = __reduce__
    return made  # type: ignore[no-any-return]


def _single(names: tuple[str, ...]) -> Any:
    """What attrgetter gives for several names (a tuple), for one name or none."""
    if not names:
        return lambda value: ()
    get = attrgetter(names[0])
    return lambda value: (get(value),)
