"""`record`: the frozen class with slots that every stage hands on, equal, hashed, shown and
pickled by its fields' values, as a frozen dataclass with slots is.

Written here rather than made by dataclasses, which took half a millisecond to define each
record (it compiles three methods for each and makes each class twice to give it slots): a
1,000-item rebuild spent 18 ms of CPU defining its records, twenty of them before its early
worker can fork, on the path of every process (the rebuild took 0.178 s, 0.170 s without,
measured). A record compiles only its __init__, the first time one is made; the rest is
shared by all records.

A record pickles as a call of its class with its field values: records have no
__post_init__, so the call rebuilds them as they were, and a rebuild unpickles tens of
thousands of them from the read cache.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from types import CodeType
from typing import Any, TypeVar, dataclass_transform, overload

R = TypeVar("R")
T = TypeVar("T")


class FrozenRecordError(AttributeError):
    """A record's field was assigned to or deleted: records never change."""


class _Field:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None) -> None:
        self.default = default
        self.default_factory = default_factory


_MISSING: Any = object()


@overload
def field(*, default: T) -> T: ...
@overload
def field(*, default_factory: Callable[[], T]) -> T: ...
def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None) -> Any:
    """A field's default (`default`) or the function that makes one for each record
    (`default_factory`, for a mutable default)."""
    if (default is _MISSING) == (default_factory is None):
        raise TypeError("a field takes either default or default_factory")
    return _Field(default, default_factory)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[R]) -> type[R]:
    """The class, made a record of the fields its body annotates, in that order: a field given
    a value (or a field()) has a default, and those must follow the ones without."""
    namespace = dict(cls.__dict__)
    names = tuple(namespace.get("__annotations__", {}))
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name in names:
        if name not in namespace:
            if defaults or factories:
                raise TypeError(f"{cls.__qualname__}.{name}: follows a field with a default")
            continue
        value = namespace.pop(name)
        if isinstance(value, _Field) and value.default_factory is not None:
            factories[name] = value.default_factory
        else:
            defaults[name] = value.default if isinstance(value, _Field) else value
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace["__slots__"] = names
    namespace["__match_args__"] = names
    namespace["__record_fields__"] = names
    kind: Any = type(cls)
    made: Any = kind(cls.__name__, cls.__bases__, namespace)
    made.__init__ = _first_init(made, names, defaults, factories)
    # A tuple of the field values, which records compare, hash and show.
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
    made.__setattr__ = _refuse_assignment
    made.__delattr__ = _refuse_deletion
    return made  # type: ignore[no-any-return]


def fields(value: object) -> tuple[str, ...]:
    """The names of a record's fields (of a record class's), in order."""
    names: tuple[str, ...] = value.__record_fields__  # type: ignore[attr-defined]
    return names


def is_record(value: object) -> bool:
    """Whether the value is a record (not a record class)."""
    return hasattr(type(value), "__record_fields__")


def replace(value: R, **changes: Any) -> R:
    """The record with these fields changed."""
    current = {name: getattr(value, name) for name in fields(value)}
    unknown = changes.keys() - current.keys()
    if unknown:
        raise TypeError(f"{type(value).__qualname__} has no field {sorted(unknown)[0]!r}")
    made: R = type(value)(**{**current, **changes})
    return made


def _refuse_assignment(self: object, name: str, value: object) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r}")


def _refuse_deletion(self: object, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r}")


# Each compiled __init__'s code, by its source: compiling is most of what making the first
# record of a class costs (0.14 ms), and a build takes in what an earlier one compiled
# (compiled_cache.py).
_init_code: dict[str, CodeType] = {}


def init_code() -> dict[str, CodeType]:
    """The __init__ code this process compiled or took in, by source."""
    return dict(_init_code)


def learn_init_code(known: Mapping[str, CodeType]) -> None:
    """Take in __init__ code that init_code() of this same interpreter gave."""
    for source, code in known.items():
        _init_code.setdefault(source, code)


def _first_init(
    made: Any,
    names: tuple[str, ...],
    defaults: dict[str, Any],
    factories: dict[str, Callable[[], Any]],
) -> Callable[..., None]:
    """An __init__ that compiles the record's own and puts it in its place: a build makes
    only some of the records it defines in each process."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        compiled = _compiled_init(made, names, defaults, factories)
        made.__init__ = compiled
        compiled(self, *args, **kwargs)

    return __init__


def _compiled_init(
    made: Any,
    names: tuple[str, ...],
    defaults: dict[str, Any],
    factories: dict[str, Callable[[], Any]],
) -> Callable[..., None]:
    # Each parameter's default is a name in the function's globals, as dataclasses does.
    # Each field is set through its slot's own descriptor, which the frozen __setattr__ does
    # not stand in front of: three times as fast as object.__setattr__, which dataclasses
    # calls (a rebuild makes ten thousand records loading the read cache).
    scope: dict[str, Any] = {"_missing": _MISSING}
    parameters, lines = [], []
    for name in names:
        scope[f"_set_{name}"] = made.__dict__[name].__set__
        value = name
        if name in defaults:
            scope[f"_default_{name}"] = defaults[name]
            parameters.append(f"{name}=_default_{name}")
        elif name in factories:
            scope[f"_factory_{name}"] = factories[name]
            parameters.append(f"{name}=_missing")
            value = f"_factory_{name}() if {name} is _missing else {name}"
        else:
            parameters.append(name)
        lines.append(f"    _set_{name}(self, {value})")
    source = f"def __init__({', '.join(['self', *parameters])}):\n" + (
        "\n".join(lines) or "    pass"
    )
    # Made of the class's own field names, as dataclasses makes the __init__ it compiles.
    code = _init_code.get(source)
    if code is None:
        code = _init_code[source] = compile(source, "<string>", "exec")
    exec(code, scope)
    compiled: Callable[..., None] = scope["__init__"]
    compiled.__qualname__ = f"{made.__qualname__}.__init__"
    return compiled


def _single(names: tuple[str, ...]) -> Any:
    """What attrgetter gives for several names (a tuple), for one name or none."""
    if not names:
        return lambda value: ()
    get = attrgetter(names[0])
    return lambda value: (get(value),)
