"""Turn one parsed content file into a frozen Item, reporting each problem at its line."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .document import Document
from .errors import Problem
from .model import (
    KNOWN_TYPES,
    SESSION_TYPES,
    Asset,
    Item,
    Link,
    Paper,
    Person,
    SiteConfig,
    Source,
)
from .text import Body, split_body
from .times import TimeValueError, parse_time
from .urls import is_remote, safe_url

_PERSON_KEYS = frozenset({"name", "affiliation", "url", "avatar", "presentation", "order", "bio"})
_PAPER_KEYS = frozenset(
    {"title", "authors", "affiliation", "paper", "presentation", "poster", "url", "video"}
)
_ITEM_KEYS = frozenset(
    {
        "edition", "type", "title", "time_start", "time_end", "speaker", "speakers", "moderator",
        "panelists", "papers", "presentation", "paper", "poster", "video", "slides", "url",
        "location", "hidden",
    }
)  # fmt: skip
# Keys of an item, paper or person that are links, and how the link is labelled.
_LINK_LABELS = {
    "presentation": "Slides",
    "slides": "Slides",
    "paper": "Paper",
    "poster": "Poster",
    "video": "Video",
    "url": "Website",
}
_LINK_ORDER = tuple(_LINK_LABELS)
_AUTHOR_SPLIT = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*|\s*;\s*")
_EDITION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class ReadResult:
    """What reading the content folder gave: items, files to copy, and problems."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.assets: dict[str, Asset] = {}
        self.problems: list[Problem] = []
        self.files: list[str] = []
        self.excluded: list[str] = []
        self.hidden: list[str] = []


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")


def split_authors(authors: str) -> tuple[str, ...]:
    return tuple(name for name in _AUTHOR_SPLIT.split(authors.strip()) if name)


class ItemReader:
    """Turns one Document into an Item; every problem it meets goes into the shared result."""

    def __init__(
        self,
        doc: Document,
        root: Path,
        config: SiteConfig,
        result: ReadResult,
        body_of: Callable[[str, list[str]], Body] = split_body,
    ) -> None:
        self.body_of = body_of
        self.doc = doc
        self.root = root
        self.config = config
        self.result = result
        self.errors = 0
        # Whether reading looked at other files (read_cache.py keeps only files that did not).
        self.consulted_files = False

    def problem(self, key: tuple[str | int, ...], message: str, severity: str = "error") -> None:
        if severity == "error":
            self.errors += 1
            self.result.problems.append(Problem(self.doc.path, self.doc.line(*key), message))
        else:
            self.result.problems.append(
                Problem(self.doc.path, self.doc.line(*key), message, "warning")
            )

    def read(self) -> Item | None:
        data = self.doc.data
        for key in sorted(set(map(str, data)) - _ITEM_KEYS):
            self.problem((key,), f"unknown key {key!r} is ignored", "warning")
        edition = self.text(("edition",), required=True)
        item_type = self.text(("type",), required=True)
        if edition and not _EDITION.fullmatch(edition):
            self.problem(
                ("edition",), f"edition {edition!r} may use only letters, digits, '.', '_' and '-'"
            )
        if item_type and item_type not in KNOWN_TYPES:
            self.problem(("type",), f"unknown type {item_type!r}: shown as it is", "warning")
        zone = self.zone(edition)
        start, end = self.times(zone)
        slug = slugify(_stem(self.doc.path))
        if not slug:
            self.problem(
                (), "the file name has no letters or digits to make the item's id from; rename it"
            )
        item_id = f"{edition}-{slug}"
        speakers = self.people("speaker", many=False) + self.people("speakers", many=True)
        moderator_list = self.people("moderator", many=False)
        panelists = self.people("panelists", many=True)
        papers = self.papers(item_id)
        people_names = [p.name for p in (*speakers, *moderator_list, *panelists)]
        body = self.body_of(self.doc.body, people_names)
        title = self.text(("title",)) or (
            item_type.replace("_", " ").capitalize() if item_type else ""
        )
        if item_type in SESSION_TYPES and "papers" in data and not papers and self.errors == 0:
            self.problem(("papers",), "session lists no papers", "warning")
        links = self.links((), {"presentation", "slides", "paper", "poster", "video", "url"})
        links += tuple(
            link for person in self.person_tables() for link in self.links(person, {"presentation"})
        )
        location = self.text(("location",))
        hidden = data.get("hidden", False)
        if not isinstance(hidden, bool):
            self.problem(("hidden",), "hidden must be true or false")
        if self.errors:
            return None
        return Item(
            id=item_id,
            edition=edition,
            type=item_type,
            title=title,
            start=start,
            end=end,
            speakers=speakers,
            moderator=moderator_list[0] if moderator_list else None,
            panelists=panelists,
            abstract_html=body.abstract_html,
            abstract_text=body.abstract_text,
            bio_html=body.bio_html,
            bio_text=body.bio_text,
            papers=papers,
            links=links,
            location=location,
            source=Source(self.doc.path, 1),
        )

    # -- values -------------------------------------------------------------------------

    def text(self, key: tuple[str | int, ...], required: bool = False) -> str:
        value = self.value(key)
        if value is not None:
            # Sets, binary and the like are YAML features no schedule needs; str() shows junk.
            if isinstance(value, bool) or not isinstance(value, str | int | float | date):
                self.problem(key, f"{key[-1]!r} must be text, not {_kind(value)}")
                return ""
            # One space for any run of white space, line separators included.
            text = " ".join(str(value).split())
            if text:
                return text
        if required:
            self.problem(key, f"missing required key {key[-1]!r}")
        return ""

    def value(self, key: tuple[str | int, ...]) -> Any:
        node: Any = self.doc.data
        for part in key:
            if isinstance(part, int):
                node = node[part] if isinstance(node, list) and part < len(node) else None
            else:
                node = node.get(part) if isinstance(node, dict) else None
        return node

    def zone(self, edition: str) -> ZoneInfo:
        info = self.config.edition(edition) if edition else None
        if info is None and edition and not self.config.is_default:
            self.problem(
                ("edition",),
                f"edition {edition!r} is not in the site config; "
                f"times are read as {self.config.timezone}",
                "warning",
            )
        return ZoneInfo(info.timezone if info else self.config.timezone)

    def times(self, zone: ZoneInfo) -> tuple[Any, Any]:
        parsed = {}
        for key in ("time_start", "time_end"):
            if key not in self.doc.data:
                continue
            try:
                parsed[key] = parse_time(self.doc.data[key], zone, self.doc.written.get((key,), ""))
            except TimeValueError as exc:
                self.problem((key,), f"{key} {exc}")
        present = [k for k in ("time_start", "time_end") if k in self.doc.data]
        if len(present) == 1:
            missing = "time_end" if present == ["time_start"] else "time_start"
            self.problem((present[0],), f"{present[0]} is given but {missing} is missing")
        if not present:
            self.problem(("type",), "no time_start or time_end: listed as not scheduled", "warning")
        start, end = parsed.get("time_start"), parsed.get("time_end")
        if start and end and end < start:
            self.problem(("time_end",), f"time_end {end:%H:%M} is before time_start {start:%H:%M}")
        return start, end

    def person_tables(self) -> list[tuple[str | int, ...]]:
        tables: list[tuple[str | int, ...]] = []
        for key in ("speaker", "moderator"):
            if isinstance(self.doc.data.get(key), dict):
                tables.append((key,))
        for key in ("speakers", "panelists"):
            value = self.doc.data.get(key)
            if isinstance(value, list):
                tables += [(key, i) for i, v in enumerate(value) if isinstance(v, dict)]
        return tables

    def people(self, key: str, many: bool) -> tuple[Person, ...]:
        value = self.doc.data.get(key)
        if value is None or value == "":
            return ()
        if isinstance(value, dict):
            paths: list[tuple[str | int, ...]] = [(key,)]
        elif isinstance(value, list) and (many or key == "speaker"):
            paths = [(key, i) for i in range(len(value))]
        elif isinstance(value, str):
            name = " ".join(value.split())
            return (Person(name=name),) if name else ()
        else:
            self.problem(
                (key,), f"{key!r} must be a mapping with name and affiliation, not {_kind(value)}"
            )
            return ()
        people = []
        for path in paths:
            table = self.value(path)
            if isinstance(table, str):
                if " ".join(table.split()):
                    people.append(Person(name=" ".join(table.split())))
                else:
                    self.problem(path, f"{key} has no name")
                continue
            if not isinstance(table, dict):
                self.problem(
                    path, f"each entry of {key!r} must be a mapping with a name, not {_kind(table)}"
                )
                continue
            for extra in sorted(set(map(str, table)) - _PERSON_KEYS):
                self.problem(
                    (*path, extra), f"unknown key {extra!r} in {key} is ignored", "warning"
                )
            name = self.text((*path, "name"))
            if not name:
                self.problem(path, f"{key} has no name")
                continue
            people.append(
                Person(
                    name=name,
                    affiliation=self.text((*path, "affiliation")),
                    url=self.url((*path, "url")),
                    avatar=self.file_ref((*path, "avatar"), "avatar", image=True),
                )
            )
        return tuple(people)

    def papers(self, item_id: str) -> tuple[Paper, ...]:
        value = self.doc.data.get("papers")
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(("papers",), f"'papers' must be a list, not {_kind(value)}")
            return ()
        papers = []
        for index, entry in enumerate(value):
            path: tuple[str | int, ...] = ("papers", index)
            if not isinstance(entry, dict):
                self.problem(
                    path, f"paper {index + 1} must be a mapping with a title, not {_kind(entry)}"
                )
                continue
            for extra in sorted(set(map(str, entry)) - _PAPER_KEYS):
                self.problem(
                    (*path, extra), f"unknown key {extra!r} in a paper is ignored", "warning"
                )
            title = self.text((*path, "title"))
            if not title:
                self.problem(path, f"paper {index + 1} has no title")
                continue
            papers.append(
                Paper(
                    id=f"{item_id}-p{index + 1}",
                    title=title,
                    authors=split_authors(self.text((*path, "authors"))),
                    affiliation=self.text((*path, "affiliation")),
                    links=self.links(path, {"paper", "presentation", "poster", "video", "url"}),
                    source=Source(self.doc.path, self.doc.line(*path)),
                )
            )
        return tuple(papers)

    def links(self, path: tuple[str | int, ...], keys: set[str]) -> tuple[Link, ...]:
        table = self.value(path)
        if not isinstance(table, dict):
            return ()  # no link keys to read, so nothing to report either
        links = []
        for key in _LINK_ORDER:
            if key in keys and key in table:
                target = self.file_ref((*path, key), key, image=False)
                if target:
                    links.append(Link(_LINK_LABELS[key], target))
        return tuple(links)

    def url(self, key: tuple[str | int, ...]) -> str:
        text = self.text(key)
        if text and not safe_url(text):
            self.problem(
                key,
                f"{key[-1]} {text!r} is not an http(s) or mailto URL; it is left out",
                "warning",
            )
            return ""
        return text

    def file_ref(self, key: tuple[str | int, ...], what: str, image: bool) -> str:
        """A URL kept as it is, or a local file checked and registered for copying: its dist URL."""
        text = self.text(key)
        if not text:
            return ""
        if is_remote(text) or (not image and text.lower().startswith("mailto:")):
            return text if safe_url(text) else ""
        if not safe_url(text) or ":" in text.split("/", 1)[0]:
            self.problem(
                key, f"{what} {text!r} is not an http(s) URL or a file; it is left out", "warning"
            )
            return ""
        return self.local_file(key, what, text, image)

    def local_file(self, key: tuple[str | int, ...], what: str, text: str, image: bool) -> str:
        self.consulted_files = True
        reference = text.split("#", 1)[0].split("?", 1)[0]
        if reference.startswith(("/", "\\", "~")) or re.match(r"^[A-Za-z]:", reference):
            self.problem(
                key, f"{what} {text!r} is an absolute path; use a path inside the content folder"
            )
            return ""
        if "\x00" in reference:
            self.problem(key, f"{what} {text!r} holds a NUL character; it is not a file name")
            return ""
        folder = (self.root / self.doc.path).parent
        for base in (folder, self.root):
            try:
                resolved = (base / reference).resolve()
                inside = resolved.is_relative_to(self.root)
                is_file = inside and resolved.is_file()
            except (OSError, RuntimeError):  # a link loop, or a name the system refuses
                self.problem(
                    key, f"{what} {text!r} cannot be resolved (a link loop?); it is not copied"
                )
                return ""
            if not inside:
                self.problem(
                    key, f"{what} {text!r} points outside the content folder; it is not copied"
                )
                return ""
            if is_file:
                relative = resolved.relative_to(self.root)
                if any(part.startswith(".") for part in relative.parts):
                    # .git/, .env and the like hold secrets, never slides or photos.
                    self.problem(
                        key, f"{what} {text!r} is a hidden file or folder; it is not copied"
                    )
                    return ""
                target = "media/" + relative.as_posix()
                self.result.assets[target] = Asset(str(resolved), target)
                # The link is a URL: a file named 'a#1.pdf' or 'slides?.pdf' must be escaped.
                return quote(target, safe="/")
        kind = "a placeholder is shown" if image else "the link is left out"
        self.problem(
            key,
            f"{what} file {text!r} not found next to the file or in the content folder; {kind}",
            "warning",
        )
        return ""


def _stem(path: str) -> str:
    """Path(path).stem, without making a Path for each file."""
    name = path.rpartition("/")[2]
    if not name or name in (".", ".."):
        return Path(path).stem  # a path that pathlib normalises first
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "empty"
    shown = repr(value)
    return f"{type(value).__name__} {shown if len(shown) <= 40 else shown[:40] + '…'}"


Reader = Callable[[Path, SiteConfig], ReadResult]
