"""Split a content file into YAML frontmatter (with the line of every key) and a Markdown body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from .errors import Problem

# libyaml follows the YAML spec on tabs between a key and its value, which pure PyYAML rejects.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_FILE_BYTES = 2 * 1024 * 1024
# Deeper YAML than this is not a schedule item; refusing it keeps recursion bounded.
MAX_DEPTH = 20

# Path of a value inside the frontmatter, e.g. ("papers", 2, "title").
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed file: frontmatter data, the line of each key path, and the body."""

    path: str
    data: dict[str, Any]
    lines: dict[KeyPath, int]
    body: str
    body_line: int

    def line(self, *key: str | int) -> int:
        """The line of a key path, falling back to its nearest parent, then to line 1."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return 1


class DocumentError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def parse_document(path: str, raw: bytes) -> Document:
    """Decode and split one file; raise DocumentError naming the line for anything unreadable."""

    def fail(line: int, message: str) -> DocumentError:
        return DocumentError(Problem(path, line, message))

    if len(raw) > MAX_FILE_BYTES:
        raise fail(0, f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise fail(line, f"not UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise fail(1, "file is empty; a schedule item starts with '---' and YAML frontmatter")
    handler = YAMLHandler()
    if not handler.detect(text):
        raise fail(1, "no frontmatter: the file must start with a line '---', then YAML, then '---'")
    try:
        frontmatter_text, body = handler.split(text)
    except ValueError:
        raise fail(1, "frontmatter is not closed: add a line '---' after the YAML") from None
    frontmatter_line = 2  # the line after the opening '---'
    body_line = frontmatter_line + frontmatter_text.count("\n") + 2
    node = _compose(frontmatter_text, frontmatter_line, fail)
    if node is None:
        raise fail(1, "frontmatter is empty; it needs at least 'edition' and 'type'")
    if not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        raise fail(frontmatter_line, f"frontmatter must be key: value pairs, not {kind}")
    lines: dict[KeyPath, int] = {}
    _index_lines(node, (), frontmatter_line, lines, fail, 0)
    try:
        data = _Loader(frontmatter_text).construct_document(node)
    except yaml.YAMLError as exc:
        raise fail(_yaml_line(exc, frontmatter_line), _yaml_message(exc)) from None
    return Document(path, data, lines, body, body_line)


def _compose(text: str, offset: int, fail: Any) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError as exc:
        raise fail(_yaml_line(exc, offset), _yaml_message(exc)) from None
    except RecursionError:
        raise fail(offset, "frontmatter is nested too deeply") from None
    finally:
        loader.dispose()


def _index_lines(
    node: yaml.Node, path: KeyPath, offset: int, lines: dict[KeyPath, int], fail: Any, depth: int
) -> None:
    if depth > MAX_DEPTH:
        raise fail(node.start_mark.line + offset, f"frontmatter is nested more than {MAX_DEPTH} levels deep")
    lines[path] = node.start_mark.line + offset
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + offset
            if key in seen:
                raise fail(line, f"key {key!r} appears twice; YAML would silently keep the last one")
            seen.add(key)
            lines[(*path, key)] = line
            _index_lines(value_node, (*path, key), offset, lines, fail, depth + 1)
            lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _index_lines(child, (*path, index), offset, lines, fail, depth + 1)


def _yaml_line(exc: yaml.YAMLError, offset: int) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return (mark.line + offset) if mark is not None else offset


def _yaml_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"YAML: {problem}" + (f" ({context})" if context else "")
    if "\\t" in message or "'\\t'" in message or "tab" in message.lower():
        message += "; YAML does not allow tabs for indentation, use spaces"
    elif "mapping values are not allowed" in message:
        message += "; a value that contains ': ' must be quoted"
    return message
