"""Split a content file into YAML frontmatter (with the line of every key) and a Markdown body.

PyYAML parses (yaml_frontmatter.py, imported only when a frontmatter is not known already); the
split is our own because python-frontmatter returns no line numbers, and every error and
warning here must name the line an author has to fix.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn, Protocol

from .errors import DocumentError, Problem
from .records import record
from .scan import MAX_FILE_BYTES

# Deeper YAML than this is not a schedule item. libyaml's C composer recurses without a
# limit and crashes the interpreter on a few thousand nested '[', so depth is checked while
# composing, before any recursion can run away.
MAX_DEPTH = 20
# Real bodies (an abstract and a bio) are a few thousand characters. Markdown rendering has
# inputs that cost seconds per 100 kB ('[' * n, nested '<div>'), so the limit keeps a build fast.
MAX_BODY_CHARS = 100_000
# A 10,000-paper session is about 130,000 values; far more is a mistake or an attack.
MAX_NODES = 400_000

# Path of a value inside the frontmatter, e.g. ("papers", 2, "title").
KeyPath = tuple[str | int, ...]
# What a frontmatter reads as: its data, the line of each key path, each scalar as written.
Frontmatter = tuple[dict[str, Any], dict[KeyPath, int], dict[KeyPath, str]]

# The expressions are compiled where they are first used (re's own cache), not as this module
# is imported: a rebuild imports it before the compiled-code cache is restored
# (compiled_cache.py), and the character class below alone took 5 ms to compile.
# A line that opens or closes frontmatter (Jekyll's rule: three or more dashes, or '...').
_OPEN = r"-{3,}[ \t]*"
_CLOSE_LINE = r"(?m)^(?:-{3,}|\.\.\.)[ \t]*$"
# Characters YAML refuses anywhere in a stream (YAML 1.1, 5.1): found up front to name them.
_UNPRINTABLE = "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@record
class Document:
    """A parsed file: frontmatter data, the line of each key path, and the body."""

    path: str
    data: dict[str, Any]
    lines: dict[KeyPath, int]
    body: str
    body_line: int
    # Each scalar as written, before YAML typed it: '9:00' for a value YAML read as 540.
    written: dict[KeyPath, str]

    def line(self, *key: str | int) -> int:
        """The line of a key path, falling back to its nearest parent, then to line 1."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return 1


class FrontmatterMemo(Protocol):
    """Frontmatter read before, by its text (read_cache.FrontmatterStore)."""

    def get(self, frontmatter: str) -> Frontmatter | None: ...

    def keep(self, frontmatter: str, read: Frontmatter) -> None: ...


def parse_document(path: str, raw: bytes, memo: FrontmatterMemo | None = None) -> Document:
    """Decode and split one file; raise DocumentError naming the line for anything unreadable.
    A frontmatter the memo knows is not parsed again; one parsed is handed to it."""

    def fail(line: int, message: str) -> NoReturn:
        raise DocumentError(Problem(path, line, message))

    if len(raw) > MAX_FILE_BYTES:
        fail(
            0,
            f"file is {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,} (is it a schedule item?)",
        )
    text = _decode(raw, fail)
    # One line ending everywhere, so line numbers match what an editor shows.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        fail(1, "file is empty; a schedule item starts with '---' and YAML frontmatter")
    first_end = text.find("\n")
    if not re.fullmatch(_OPEN, text if first_end < 0 else text[:first_end]):
        lines = text.split("\n")
        opener = next((n for n, line in enumerate(lines[:20], 1) if re.fullmatch(_OPEN, line)), 0)
        hint = f" (found '---' on line {opener}; nothing may come before it)" if opener else ""
        fail(
            1, f"no frontmatter: the file must start with a line '---', then YAML, then '---'{hint}"
        )
    # The first closing line after the opener, found without splitting the body into lines.
    closer = re.compile(_CLOSE_LINE).search(text, first_end + 1) if first_end >= 0 else None
    if closer is None:
        fail(1, "frontmatter is not closed: add a line '---' after the YAML")
    close = text.count("\n", 0, closer.start())
    frontmatter = text[first_end + 1 : closer.start() - 1]
    body = text[closer.end() + 1 :]
    if len(body) > MAX_BODY_CHARS:
        fail(
            close + 2,
            f"the body is {len(body):,} characters; the limit is {MAX_BODY_CHARS:,} "
            "(an abstract and a bio are a few thousand)",
        )
    offset = 2  # YAML's line 0 is the file's line 2, just after the opening '---'
    bad = re.search(_UNPRINTABLE, frontmatter)
    if bad:
        line = frontmatter.count("\n", 0, bad.start()) + offset
        fail(line, f"control character U+{ord(bad.group()):04X} is not allowed in YAML; delete it")
    read = memo.get(frontmatter) if memo is not None else None
    if read is None:
        from .yaml_frontmatter import read_frontmatter

        read = read_frontmatter(frontmatter, offset, fail)
        if memo is not None:
            memo.keep(frontmatter, read)
    data, key_lines, written = read
    return Document(path, data, key_lines, body, close + 2, written)


def _decode(raw: bytes, fail: Any) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        fail(1, "file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8")
    try:
        # A UTF-8 byte-order mark occurs in real files and is dropped silently.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        fail(
            line,
            f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {column}); "
            "save the file as UTF-8 (it may be Latin-1 or Windows-1252)",
        )
    raise AssertionError("unreachable")
