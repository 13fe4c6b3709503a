"""What a build's processes compile as they start, kept from one build to the next: regular
expressions, and the records' __init__ functions (records.py).

Python compiles a regular expression in Python code (re._parser, re._compiler) the first time
a process uses it, and a build's process compiles about fifty as it imports PyYAML, Jinja2 and
tomllib: 25 ms of a 1,000-item rebuild's main process, measured, a sixth of it, and 7 ms of
that for one character class of PyYAML's. The compiler's output is a list of integers that
the C engine (_sre) takes as it is. A build records that output for each expression it
compiles; the next build hands it to the engine before anything is imported, so its imports
find every expression compiled already (the re module's own cache, re._cache).

A record compiles its __init__ the first time one is made, 0.14 ms each: 4 ms of the same
process for the 26 it makes. Their code objects are kept too (marshal), by source.

This leans on CPython's internals (re._cache, re._compiler, _sre.compile, marshal's format),
which the package's Python (3.11, pyproject.toml) has. What is saved is tied to the exact
interpreter and to the engine's version (_sre.MAGIC), signed like every cache (cache.py), and
the engine checks any code it is given; where an internal is missing, no expression is
recorded or restored.
"""

from __future__ import annotations

import marshal
import re
import sys
import threading
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from . import records
from .cache import Store

# The C engine, which the re module has imported already, and the module that compiles for it.
_sre: Any = sys.modules.get("_sre")
_compiler: Any = getattr(re, "_compiler", None)

# (pattern, flags as given to re.compile) -> the arguments _sre.compile was called with.
Expressions = dict[tuple[str | bytes, int], tuple[Any, ...]]
CACHE_NAME = "compiled.pickle"
# The caches whose __init__ code and expressions this process took in already (`pipeline
# serve` builds again).
_learned: set[Path] = set()
_restored: set[Path] = set()


def _expressions_available() -> bool:
    return (
        _sre is not None
        and isinstance(getattr(re, "_cache", None), dict)
        and isinstance(getattr(re, "_MAXCACHE", None), int)
        and callable(getattr(_compiler, "compile", None))
        and getattr(_compiler, "_sre", None) is _sre
    )


def _version() -> bytes:
    engine = getattr(_sre, "MAGIC", "")
    return f"{sys.implementation.cache_tag};{sys.version};{engine}".encode()


class _Engine:
    """Stands in for the _sre module inside re._compiler while a build records: passes
    everything through, and hands what compile() was called with to the thread's recorder."""

    def __init__(self, real: ModuleType, calls: threading.local) -> None:
        self._real = real
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def compile(self, pattern: Any, flags: int, code: list[int], *rest: Any) -> Any:
        compiled = self._real.compile(pattern, flags, code, *rest)
        # The code holds the compiler's named constants, which pickle refuses: ints as they are.
        self._calls.arguments = (pattern, flags, list(map(int, code)), *rest)
        return compiled


class Recorder:
    """Records the expressions this process compiles while a build runs, from `start` to
    `stop`, for `save` to keep them, and the records' __init__ code, beside what the cache
    held."""

    def __init__(self, store: Store, expressions: Expressions, inits: dict[str, bytes]) -> None:
        self.store = store
        self.expressions = expressions
        self.inits = inits
        self.fresh: Expressions = {}
        self._calls = threading.local()
        self._recording = _expressions_available()
        if self._recording:
            self._compile = _compiler.compile
            self._engine = _Engine(_sre, self._calls)

    def start(self) -> None:
        """Put the expressions the cache held in the re module's cache (once per process and
        folder), and record those compiled from now on."""
        if not self._recording:
            return
        if self.store.path not in _restored:
            _restored.add(self.store.path)
            restore(self.expressions)
        real_compile, calls, fresh = self._compile, self._calls, self.fresh

        def compile_recorded(pattern: Any, flags: int = 0) -> Any:
            calls.arguments = None
            compiled = real_compile(pattern, flags)
            arguments = calls.arguments
            # Only what re.compile is given (a str or bytes and int flags) is what its cache
            # is keyed by; the arguments must be this very pattern's.
            if (
                type(pattern) in (str, bytes)
                and type(flags) is int
                and arguments is not None
                and arguments[0] is pattern
            ):
                fresh[pattern, flags] = arguments
            return compiled

        _compiler.compile = compile_recorded
        _compiler._sre = self._engine

    def stop(self) -> None:
        if self._recording:
            _compiler.compile = self._compile
            _compiler._sre = _sre

    def save(self) -> None:
        """Keep what was compiled since `start`, when the cache lacked any of it."""
        inits = records.init_code()
        if self.fresh.keys() - self.expressions.keys() or inits.keys() - self.inits.keys():
            # marshal, not pickle: pickle cannot hold code.
            kept = {source: marshal.dumps(code) for source, code in inits.items()}
            expressions = {**self.expressions, **self.fresh}
            # An expression made from a set differs from process to process (markdown-it-py
            # has one): past what re's cache holds, the store starts again from this build's.
            if len(expressions) > re._MAXCACHE:  # type: ignore[attr-defined]
                expressions = dict(self.fresh)
            self.store.replace({"expressions": expressions, "inits": {**self.inits, **kept}})


def load(folder: Path) -> Recorder:
    """What the cache in `folder` holds: the records' __init__ code is taken in at once (once
    per process and folder), the expressions when the recorder starts."""
    store = Store(folder / CACHE_NAME, _version())
    found = store.load()
    expressions = found.get("expressions")
    expressions = expressions if isinstance(expressions, dict) else {}
    inits = found.get("inits")
    inits = inits if isinstance(inits, dict) else {}
    if store.path not in _learned:
        _learned.add(store.path)
        records.learn_init_code(_unmarshalled(inits))
    return Recorder(store, expressions, inits)


def start(folder: Path) -> Recorder:
    """load(), and the recorder started."""
    recorder = load(folder)
    recorder.start()
    return recorder


def restore(saved: Expressions) -> int:
    """Put these compiled expressions in the re module's cache; how many were put."""
    cache: dict[Any, Any] = re._cache  # type: ignore[attr-defined]
    room = re._MAXCACHE - len(cache)  # type: ignore[attr-defined]
    put = 0
    for (pattern, flags), arguments in saved.items():
        key = (type(pattern), pattern, flags)
        if put >= room or key in cache:
            continue
        try:
            compiled = _sre.compile(*arguments)
        except Exception:  # code the engine refuses: compiled afresh when used
            continue
        if compiled.pattern == pattern:
            cache[key] = compiled
            put += 1
    return put


def _unmarshalled(inits: dict[str, bytes]) -> dict[str, CodeType]:
    out: dict[str, CodeType] = {}
    for source, data in inits.items():
        try:
            code = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            continue
        if isinstance(source, str) and isinstance(code, CodeType):
            out[source] = code
    return out
