"""Records an import reads into, and the cleaning every untrusted value goes through.

Each value is checked for its type and stripped of control characters; every URL is made
absolute against the source and passed through the scheme allow-list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from .errors import PipelineError
from .urls import is_remote, safe_url

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_MAX_TEXT = 100_000
_MAX_LINE = 1_000


class SourceError(PipelineError):
    """The source is not in a format the importer reads."""


@dataclass
class PersonIn:
    name: str
    affiliation: str = ""
    url: str = ""
    avatar: str = ""


@dataclass
class PaperIn:
    title: str
    authors: str = ""
    affiliation: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Incoming:
    """One schedule item as read from a source, before it becomes a content file."""

    key: str  # the preferred file name stem, or "" to derive one from the title
    edition: str
    type: str
    title: str
    start: datetime | None = None
    end: datetime | None = None
    location: str = ""
    speakers: list[PersonIn] = field(default_factory=list)
    moderator: PersonIn | None = None
    panelists: list[PersonIn] = field(default_factory=list)
    body: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)
    papers: list[PaperIn] = field(default_factory=list)


@dataclass
class Parsed:
    format: str
    items: list[Incoming]
    site: dict[str, str] = field(default_factory=dict)
    editions: dict[str, dict[str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class Cleaner:
    """Typed, cleaned access to untrusted values; URLs resolved against `base`."""

    def __init__(self, base: str, warnings: list[str]) -> None:
        self.base = base
        self.warnings = warnings

    def text(self, value: Any, limit: int = _MAX_LINE) -> str:
        """One line of text: control characters dropped, white space collapsed."""
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            return ""
        return " ".join(_CONTROL.sub("", str(value)).split())[:limit]

    def long(self, value: Any) -> str:
        return _CONTROL.sub("", value)[:_MAX_TEXT] if isinstance(value, str) else ""

    def url(self, value: Any, what: str = "link") -> str:
        text = self.text(value, 2000)
        if not text:
            return ""
        if self.base and not is_remote(text) and not text.lower().startswith("mailto:"):
            text = urljoin(self.base, text)
        if (is_remote(text) or text.lower().startswith("mailto:")) and safe_url(text):
            return text
        self.warnings.append(f"{what} {text[:100]!r} is not an absolute http(s) URL; left out")
        return ""

    def time(self, value: Any, what: str) -> datetime | None:
        text = self.text(value, 64)
        if not text:
            return None
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.warnings.append(f"{what}: {text!r} is not an ISO 8601 time; left unscheduled")
            return None
        if parsed.tzinfo is None or ("T" not in text and " " not in text):
            self.warnings.append(
                f"{what}: {text!r} has no time of day or UTC offset; left unscheduled"
            )
            return None
        return parsed

    def person(self, value: Any) -> PersonIn | None:
        if isinstance(value, str):
            name = self.text(value)
            return PersonIn(name) if name else None
        if not isinstance(value, dict):
            return None
        name = self.text(value.get("name") or value.get("public_name"))
        if not name:
            return None
        affiliation = value.get("affiliation", "")
        if isinstance(affiliation, dict):  # schema.org Organization
            affiliation = affiliation.get("name", "")
        avatar = value.get("avatar") or value.get("image") or ""
        if isinstance(avatar, dict):  # schema.org ImageObject
            avatar = avatar.get("url", "")
        return PersonIn(
            name,
            self.text(affiliation),
            self.url(value.get("url"), "url"),
            self.url(avatar, "avatar"),
        )

    def people(self, value: Any) -> list[PersonIn]:
        values = value if isinstance(value, list) else [value] if value else []
        return [p for p in map(self.person, values) if p]

    def links(self, value: Any) -> list[tuple[str, str]]:
        links = []
        for entry in value if isinstance(value, list) else []:
            if isinstance(entry, dict):
                url = self.url(entry.get("url") or entry.get("href"), "link")
                if url:
                    links.append((self.text(entry.get("label") or entry.get("title")), url))
        return links


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
