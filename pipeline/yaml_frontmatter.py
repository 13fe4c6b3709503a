"""Frontmatter read with PyYAML: libyaml's parser alone where it can vouch for the text, and
PyYAML's composer, checked, elsewhere; with the line of every key, and limits on depth and size.

Apart from document.py so that a build imports PyYAML (its dozen modules, 13 ms) only when
it reads frontmatter it has not read before (read_cache.FrontmatterStore).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor

# The limits are read from document.py at each use: where they are set, and a test may lower them.
from . import document
from .document import Frontmatter, KeyPath

# libyaml follows the YAML spec on tabs between a key and its value, which pure PyYAML rejects.
_CLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_frontmatter(
    frontmatter: str, offset: int, fail: Callable[[int, str], NoReturn]
) -> Frontmatter:
    """The frontmatter's data, the line of each key path, and each scalar as written;
    `offset` is the file's line of the frontmatter's first. `fail(line, message)` raises for
    whatever cannot be read."""
    fast = _parse_fast(frontmatter, offset)
    if fast is not None:
        return fast.data, fast.lines, fast.written
    node = _compose(frontmatter, offset, fail)
    if node is None:
        fail(1, "frontmatter is empty; it needs at least 'edition' and 'type'")
    if not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        fail(node.start_mark.line + offset, f"frontmatter must be key: value pairs, not {kind}")
    walk = _Walk(offset, fail)
    walk.node(node, (), 1)
    # A merge key (<<) chain can recurse in PyYAML's constructor; depth was capped already.
    data = _with_loader(
        "", frontmatter, offset, fail, lambda loader: loader.construct_document(node)
    )
    return data, walk.lines, walk.written


class _Constructor(SafeConstructor):
    """PyYAML's safe constructor; a value it cannot build is a YAML error at its line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML's constructors let ValueError and friends escape on values such as
        # 2019-02-30, `!!int 0b` or `!!bool x`; turn them into YAML errors that carry the
        # node's line.
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, LookupError, OverflowError) as exc:
            shown = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            reason = (
                f"{str(shown)[:60]!r} cannot be read as {_tag_name(node.tag)} ({str(exc)[:80]})"
            )
            raise ConstructorError(None, None, reason, node.start_mark) from None


class _Loader(Composer, _Constructor, _CLoader):  # type: ignore[misc]
    """libyaml's fast parser with PyYAML's Python composer, limited in depth and size.

    Composing in Python costs about a second on a 10,000-paper file, but it turns a
    hostile nesting into a clear error instead of a segfault.
    """

    def __init__(self, text: str) -> None:
        _CLoader.__init__(self, text)
        Composer.__init__(self)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.nodes += 1
        if self.nodes > document.MAX_NODES:
            mark = self.peek_event().start_mark
            raise _Limit(
                mark, f"frontmatter has more than {document.MAX_NODES:,} values; split the file"
            )
        self.depth += 1
        try:
            if self.depth > document.MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Limit(
                    mark, f"frontmatter is nested more than {document.MAX_DEPTH} levels deep"
                )
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self.depth -= 1


class _Limit(yaml.YAMLError):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.problem_mark = mark
        self.problem = message
        self.context = None


class _Slow(Exception):
    """The fast path met something it does not vouch for; the checked path decides."""


def _parse_fast(text: str, offset: int) -> _Read | None:
    """The frontmatter read by libyaml alone, or None to take the checked path.

    libyaml composes a typical file in a tenth of the time PyYAML's composer takes, but it
    has no depth limit. Every nested value needs its own indicator ('[', '{', '-', '?' or
    ':'), so counting those bounds its recursion far below what crashes. Without a '*' there
    is no alias, so the nodes form a tree that one pass can index and build. Whatever is not
    plainly valid (a YAML error, a limit, a duplicate key, a tag the shortcut does not build)
    goes to the checked path, which reports it exactly as before.
    """
    if not _FAST or "*" in text or sum(map(text.count, "[{-?:")) > _FAST_INDICATORS:
        return None
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
    except Exception:
        return None
    finally:
        loader.dispose()
    if not isinstance(node, yaml.MappingNode):
        return None
    read = _Read(offset)
    try:
        read.data = read.value(node, (), 1)
    except Exception:  # _Slow, or an error the checked path reports (or raises) its own way
        return None
    return read


_FAST = bool(getattr(yaml, "__with_libyaml__", False))
# libyaml's composer crashes the interpreter some tens of thousands of levels deep (8 MB stack).
_FAST_INDICATORS = 1000
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Scalars PyYAML builds in one step. The constructors of other tags (such as !!map on a
# scalar) are generators whose errors only surface when construct_document finishes them.
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp")
)


class _FastLoader(_CLoader):  # type: ignore[misc]
    """libyaml's composer, remembering the tags its resolver gave.

    A tag depends only on the kind of node, its text and how it was quoted (there are no
    path resolvers), and keys and many values recur from file to file.
    """

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: Any) -> str:
        key = (kind, value, implicit)
        tag = _TAGS.get(key)
        if tag is None:
            if len(_TAGS) >= 10_000:
                _TAGS.clear()
            tag = _TAGS[key] = super().resolve(kind, value, implicit)
        return tag


_TAGS: dict[tuple[type[yaml.Node], str | None, Any], str] = {}


class _Read:
    """_Walk's index and PyYAML's safe construction of an alias-free tree, in one pass.

    Maps with string keys, lists and strings are built here (as PyYAML builds them), dates,
    numbers, booleans and nulls by PyYAML's constructor. Anything the checked path
    would report (depth, size, a repeated key) or that needs PyYAML's full constructor
    (merge keys, sets, other tags) raises _Slow.
    """

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.lines: dict[KeyPath, int] = {}
        self.written: dict[KeyPath, str] = {}
        self.data: Any = None
        # Values PyYAML's composer counts (keys too), for its MAX_NODES limit (document.py).
        self.count = 0
        self.scalars = _Constructor()

    def value(self, node: yaml.Node, path: KeyPath, depth: int) -> Any:
        self.count += 1
        if depth > document.MAX_DEPTH or self.count > document.MAX_NODES:
            raise _Slow
        self.lines[path] = node.start_mark.line + self.offset
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            self.written[path] = node.value
            if tag == _STR:
                return node.value
            if tag in _SCALAR_TAGS:
                return self.scalars.construct_object(node)
            raise _Slow
        if tag == _MAP and isinstance(node, yaml.MappingNode):
            mapping: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key_node.tag != _STR or not isinstance(key_node, yaml.ScalarNode):
                    raise _Slow
                if key in mapping:
                    raise _Slow
                self.count += 1
                child = (*path, key)
                mapping[key] = self.value(value_node, child, depth + 1)
                self.lines[child] = key_node.start_mark.line + self.offset
            return mapping
        if tag == _SEQ and isinstance(node, yaml.SequenceNode):
            return [
                self.value(child, (*path, index), depth + 1)
                for index, child in enumerate(node.value)
            ]
        raise _Slow


def _compose(text: str, offset: int, fail: Any) -> yaml.Node | None:
    node: yaml.Node | None = _with_loader(
        text, text, offset, fail, lambda loader: loader.get_single_node()
    )
    return node


def _with_loader(
    stream: str, frontmatter: str, offset: int, fail: Any, work: Callable[[_Loader], Any]
) -> Any:
    """work(a loader of `stream`), PyYAML's errors and a runaway recursion reported through
    `fail` at their line in `frontmatter`."""
    loader = _Loader(stream)
    try:
        return work(loader)
    except yaml.YAMLError as exc:
        fail(_yaml_line(exc, offset, frontmatter.count("\n")), _yaml_message(exc, frontmatter))
    except RecursionError:
        fail(offset, "frontmatter is nested too deeply")
    finally:
        loader.dispose()


class _Walk:
    """Index the line of every key path and measure the frontmatter as aliases expand it."""

    def __init__(self, offset: int, fail: Any) -> None:
        self.offset = offset
        self.fail = fail
        self.lines: dict[KeyPath, int] = {}
        self.written: dict[KeyPath, str] = {}
        # id(node) -> (values, levels) once measured; an alias reuses a node, and walking it
        # again for every use is how "billion laughs" hangs a reader.
        self.measured: dict[int, tuple[int, int]] = {}
        self.open: set[int] = set()
        self.total = 0

    def node(self, node: yaml.Node, path: KeyPath | None, depth: int) -> tuple[int, int]:
        """Walk a node at `depth`; `path` is None under an alias already indexed elsewhere."""
        line = node.start_mark.line + self.offset
        if depth > document.MAX_DEPTH:
            self.fail(line, f"frontmatter is nested more than {document.MAX_DEPTH} levels deep")
        if path is not None:
            self.lines[path] = line
        if isinstance(node, yaml.ScalarNode):
            if path is not None:
                self.written[path] = node.value
            return 1, 1
        if id(node) in self.open:
            self.fail(line, "an alias (*name) refers to the value that contains it")
        known = self.measured.get(id(node))
        if known is not None:
            size, height = known
            if depth + height - 1 > document.MAX_DEPTH:
                self.fail(line, f"frontmatter is nested more than {document.MAX_DEPTH} levels deep")
            self.count(size, line)
            return known
        self.open.add(id(node))
        size, height = 1, 1
        self.count(1, line)
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                key_line = key_node.start_mark.line + self.offset
                if key in keys and key != "<<":
                    self.fail(
                        key_line,
                        f"key {key!r} appears twice; YAML would silently keep the last one",
                    )
                keys.add(key)
                child = None if path is None else (*path, key)
                child_size, child_height = self.node(value_node, child, depth + 1)
                size, height = size + child_size, max(height, child_height + 1)
                if child is not None:
                    self.lines[child] = key_line  # a key's line, not its value's
        elif isinstance(node, yaml.SequenceNode):
            for index, child_node in enumerate(node.value):
                child = None if path is None else (*path, index)
                child_size, child_height = self.node(child_node, child, depth + 1)
                size, height = size + child_size, max(height, child_height + 1)
        self.open.discard(id(node))
        self.measured[id(node)] = (size, height)
        return size, height

    def count(self, values: int, line: int) -> None:
        self.total += values
        most = document.MAX_NODES
        if self.total > most:
            self.fail(
                line, f"frontmatter (with its aliases expanded) has more than {most:,} values"
            )


_OPENED_AT = (
    "while scanning a quoted scalar",
    "while parsing a flow sequence",
    "while parsing a flow mapping",
)


def _tag_name(tag: str) -> str:
    short = tag.rsplit(":", 1)[-1]
    names = {
        "timestamp": "a date or time",
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
    }
    return names.get(short, f"!!{short}")


def _yaml_line(exc: yaml.YAMLError, offset: int, last_line: int) -> int:
    context = getattr(exc, "context", None) or ""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    # An unclosed quote or bracket is found far below; where it opened is what to fix.
    if context_mark is not None and context.startswith(_OPENED_AT):
        return int(context_mark.line) + offset
    mark = problem_mark or context_mark
    if mark is None:
        return offset
    # A problem found at the end of the text belongs to its last line, not the closing '---'.
    return min(int(mark.line), last_line) + offset


def _yaml_message(exc: yaml.YAMLError, text: str) -> str:
    problem = str(getattr(exc, "problem", None) or exc).strip()
    context = getattr(exc, "context", None) or ""
    if isinstance(exc, _Limit):
        return problem
    if context.startswith(_OPENED_AT):
        if context.endswith("quoted scalar"):
            return "YAML: the quote opened on this line is never closed; add the closing quote"
        bracket = "'['" if context.endswith("sequence") else "'{'"
        return (
            f"YAML: the {bracket} opened on this line is never closed; "
            "close it, or quote the value if the bracket is text"
        )
    message = f"YAML: {problem}" + (f" ({context})" if context else "")
    if "'\\t'" in problem or "tab character" in problem or _tab_at(exc, text):
        message += "; YAML does not allow tabs for indentation, use spaces"
    elif "mapping values are not allowed" in problem:
        message += "; a value that contains ': ' must be quoted"
    elif "expected <block end>" in problem or "did not find expected key" in problem:
        message += "; check this line's indentation against the lines above"
    elif "could not find expected ':'" in problem:
        message += "; each line must be 'key: value' (or continue a quoted value)"
    elif "alias" in problem or "alias" in context or "anchor" in context:
        message += "; a value starting with '*' or '&' must be quoted"
    elif "could not determine a constructor" in problem:
        message += "; a value starting with '!' must be quoted"
    elif "cannot start any token" in problem:
        message += "; a value starting with '@', '`' or '%' must be quoted"
    return message


def _tab_at(exc: yaml.YAMLError, text: str) -> bool:
    """Whether the line YAML stopped at is indented with a tab (libyaml often does not say)."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return False
    lines = text.split("\n")
    line = lines[mark.line] if 0 <= mark.line < len(lines) else ""
    return "\t" in line[: len(line) - len(line.lstrip(" \t"))]
