"""`pipeline import`: another site's schedule into content files, never overwriting an author's.

A file written here opens with a marker comment holding the SHA-256 of the rest of the file.
A later import replaces a file only when that marker is there and the hash still matches, so a
file an author wrote, or an imported file an author has since edited, is reported and left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .config import CONFIG_NAME, find_config, load_config
from .errors import PipelineError
from .fetch import MAX_BYTES, TIMEOUT_SECONDS, read_source
from .incoming import Incoming, PaperIn, Parsed, PersonIn
from .model import SiteConfig
from .read import slugify
from .records import record
from .sources import parse_source

Status = Literal["created", "updated", "unchanged", "conflict"]
_EDITION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_MARKER = re.compile(r"# imported by pipeline from (.*) \(sha256 ([0-9a-f]{64})\)")
_MARKER_SOURCE = re.compile(r"[^\x20-\x7e\u00a0-\uffff]|[()]")
# Link keys of an item and of a paper, in the order the reader lists their links.
_ITEM_LINK_KEYS = ("presentation", "slides", "paper", "poster", "video", "url")
_PAPER_LINK_KEYS = ("presentation", "paper", "poster", "video", "url")
_LABEL_KEYS = {"slides": ("presentation", "slides"), "paper": ("paper",), "poster": ("poster",),
               "video": ("video",), "website": ("url",)}  # fmt: skip
# Words in other sites' link labels, and the label they stand for.
_LABEL_WORDS = (("slide", "slides"), ("paper", "paper"), ("pdf", "paper"), ("poster", "poster"),
                ("video", "video"), ("recording", "video"), ("youtube", "video"))  # fmt: skip


@record
class FileResult:
    path: str
    status: Status
    reason: str = ""


@record
class ImportReport:
    source: str
    format: str
    files: tuple[FileResult, ...]
    warnings: tuple[str, ...] = ()
    advice: str = ""

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def conflicts(self) -> tuple[FileResult, ...]:
        return tuple(f for f in self.files if f.status == "conflict")

    def summary(self) -> str:
        counts = ", ".join(
            f"{self.count(s)} {s}" for s in ("created", "updated", "unchanged", "conflict")
        )
        return f"Imported {len(self.files)} items from {self.source} ({self.format}): {counts}"


@dataclass
class _EditionSeen:
    source_id: str
    zone: str = ""  # the IANA zone times were written in, or "" when only offsets were known
    offsets: set[str] = field(default_factory=set)


def import_schedule(
    source: str,
    content_dir: Path,
    edition: str | None = None,
    config_path: Path | None = None,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_BYTES,
) -> ImportReport:
    """Read SOURCE (file or http(s) URL) and write one Markdown file per item into
    content_dir/<edition>/; files it did not write itself are reported as conflicts."""
    if edition is not None and not _EDITION_ID.fullmatch(edition):
        raise PipelineError(f"--edition {edition!r} may use only letters, digits, '.', '_' and '-'")
    fetched = read_source(source, timeout, max_bytes)
    parsed = parse_source(fetched.data, fetched.url)
    found = config_path or find_config(content_dir)
    config = load_config(found)
    label = _MARKER_SOURCE.sub("", source)[:300]
    results: list[FileResult] = []
    seen: dict[str, _EditionSeen] = {}
    used: set[tuple[str, str]] = set()
    warnings = list(parsed.warnings)
    for item in parsed.items:
        target = _edition(edition or item.edition)
        info = seen.setdefault(target, _EditionSeen(item.edition))
        zone = _zone(target, item.edition, config, parsed, info)
        stem = _unique(_stem(item), target, used)
        data, body = _frontmatter(item, target, zone, info, warnings)
        path = content_dir / target / f"{stem}.md"
        results.append(_write(path, render_file(label, data, body), content_dir))
    if not parsed.items:
        warnings.append("the source holds no items; nothing was written")
    advice = _advice(config, found, seen, parsed, content_dir)
    return ImportReport(source, parsed.format, tuple(results), tuple(warnings), advice)


def render_file(source_label: str, data: dict[str, Any], body: str) -> str:
    """The content file: a marker comment, YAML frontmatter (safe_dump: no value can add a
    key or end the frontmatter), then the Markdown body."""
    frontmatter = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    rest = frontmatter + "---\n" + (body.strip() + "\n" if body.strip() else "")
    digest = hashlib.sha256(rest.encode("utf-8")).hexdigest()
    return f"---\n# imported by pipeline from {source_label} (sha256 {digest})\n{rest}"


def owned_by_import(text: str) -> bool:
    """True when `text` is a file this importer wrote and nobody has edited since."""
    parts = text.split("\n", 2)
    if len(parts) < 3 or parts[0] != "---":
        return False
    marker = _MARKER.fullmatch(parts[1])
    if marker is None:
        return False
    return hashlib.sha256(parts[2].encode("utf-8")).hexdigest() == marker.group(2)


def _write(path: Path, text: str, content_dir: Path) -> FileResult:
    shown = str(path)
    root = content_dir.resolve()
    folder = path.parent
    if folder.is_symlink() or (folder.exists() and not folder.resolve().is_relative_to(root)):
        return FileResult(
            shown, "conflict", "its folder is a link; nothing is written through links"
        )
    if path.is_symlink():
        return FileResult(shown, "conflict", "is a symbolic link, not a file this import wrote")
    status: Status = "created"
    if path.exists():
        try:
            existing = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return FileResult(shown, "conflict", "exists and cannot be read as UTF-8; left alone")
        if not owned_by_import(existing):
            lines = existing.split("\n", 2)
            edited = len(lines) > 1 and _MARKER.fullmatch(lines[1]) is not None
            why = (
                "was edited after it was imported"
                if edited
                else "was not written by pipeline import"
            )
            return FileResult(shown, "conflict", f"{why}; left alone")
        if existing == text:
            return FileResult(shown, "unchanged")
        status = "updated"
    folder.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: a crash never leaves half a content file.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        if status == "created":
            # link() refuses an existing name, so a file an author saved a moment ago survives.
            try:
                os.link(temporary, path)
            except FileExistsError:
                return FileResult(shown, "conflict", "appeared while importing; left alone")
            finally:
                Path(temporary).unlink(missing_ok=True)
        else:
            os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return FileResult(shown, status)


def _edition(value: str) -> str:
    if _EDITION_ID.fullmatch(value):
        return value
    slug = slugify(value)
    if not slug:
        raise PipelineError(
            "the source does not say which edition its items belong to; pass --edition ID"
        )
    return slug


def _zone(
    target: str, source_id: str, config: SiteConfig, parsed: Parsed, seen: _EditionSeen
) -> ZoneInfo | None:
    """The zone to write wall-clock times in: the site config's for this edition, else the
    source's own, else None (keep each time's local time at its UTC offset)."""
    name = ""
    configured = None if config.is_default else config.edition(target)
    if configured:
        name = configured.timezone
    else:
        name = parsed.editions.get(source_id, {}).get("timezone", "")
    try:
        zone = ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    seen.zone = name if zone else ""
    return zone


def _stem(item: Incoming) -> str:
    # The item id is "<edition>-<slug of file stem>": keeping the source id's stem keeps the id.
    return (slugify(item.key)[:80].strip("-") or slugify(item.title)[:60].strip("-")) or "item"


def _unique(stem: str, edition: str, used: set[tuple[str, str]]) -> str:
    candidate, number = stem, 1
    while (edition, candidate) in used:
        number += 1
        candidate = f"{stem}-{number}"
    used.add((edition, candidate))
    return candidate


def _frontmatter(
    item: Incoming, edition: str, zone: ZoneInfo | None, seen: _EditionSeen, warnings: list[str]
) -> tuple[dict[str, Any], str]:
    data: dict[str, Any] = {"edition": edition, "type": _type(item.type)}
    if item.title:
        data["title"] = item.title
    if item.start and item.end:
        data["time_start"] = _wall_clock(item.start, zone, seen)
        data["time_end"] = _wall_clock(item.end, zone, seen)
    elif item.start or item.end:
        warnings.append(
            f"{item.title!r}: has a start or an end but not both; listed as not scheduled"
        )
    if item.location:
        data["location"] = item.location
    speakers = [_person(p) for p in item.speakers]
    panelists = [_person(p) for p in item.panelists]
    if len(speakers) == 1:
        data["speaker"] = speakers[0]
    elif speakers:
        data["speakers"] = speakers
    if item.moderator:
        data["moderator"] = _person(item.moderator)
    if panelists:
        data["panelists"] = panelists
    papers = [_paper(p, warnings) for p in item.papers if p.title]
    if papers:
        data["papers"] = papers
    spare = _place_links(item.links, _ITEM_LINK_KEYS, data.__setitem__)
    # The reader lists speakers' and panelists' `presentation` after the item's own links.
    people = [*speakers, *panelists]
    for (label, url), person in zip(spare, people, strict=False):
        if _keys_for(label) == ("presentation", "slides"):
            person["presentation"] = url
        else:
            warnings.append(_no_place(item.title, label, url))
    warnings.extend(_no_place(item.title, label, url) for label, url in spare[len(people) :])
    return data, item.body


def _paper(paper: PaperIn, warnings: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"title": paper.title}
    if paper.authors:
        data["authors"] = paper.authors
    if paper.affiliation:
        data["affiliation"] = paper.affiliation
    for label, url in _place_links(paper.links, _PAPER_LINK_KEYS, data.__setitem__):
        warnings.append(_no_place(f"paper {paper.title}", label, url))
    return data


def _no_place(where: str, label: str, url: str) -> str:
    return f"{where!r}: link {label!r} {url} has no place in the content format; left out"


def _place_links(
    links: list[tuple[str, str]], order: tuple[str, ...], put: Callable[[str, str], None]
) -> list[tuple[str, str]]:
    """Give each link a key so the reader lists them in the same order again; return the rest."""
    position = -1
    spare: list[tuple[str, str]] = []
    for label, url in links:
        key = next((k for k in _keys_for(label) if k in order and order.index(k) > position), None)
        if key is None or spare:
            spare.append((label, url))
            continue
        position = order.index(key)
        put(key, url)
    return spare


def _keys_for(label: str) -> tuple[str, ...]:
    lowered = label.casefold()
    if lowered in _LABEL_KEYS:
        return _LABEL_KEYS[lowered]
    for word, keys in _LABEL_WORDS:
        if word in lowered:
            return _LABEL_KEYS[keys]
    return _LABEL_KEYS["website"]


def _person(person: PersonIn) -> dict[str, Any]:
    record = {
        "name": person.name,
        "affiliation": person.affiliation,
        "url": person.url,
        "avatar": person.avatar,
    }
    return {k: v for k, v in record.items() if v}


def _type(value: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", value.casefold()).strip("_") or "talk"


def _wall_clock(value: datetime, zone: ZoneInfo | None, seen: _EditionSeen) -> str:
    offset = value.utcoffset() or timedelta()
    seen.offsets.add(_offset_text(offset))
    local = value.astimezone(zone) if zone else value
    return local.strftime("%Y-%m-%d %H:%M:%S")


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _advice(
    config: SiteConfig,
    found: Path | None,
    seen: dict[str, _EditionSeen],
    parsed: Parsed,
    content_dir: Path,
) -> str:
    """What to put in pipeline.toml so the imported wall-clock times read back as the right
    instants. Printed, never written: the config belongs to the site's author."""
    missing = [e for e in sorted(seen) if config.is_default or config.edition(e) is None]
    if not missing:
        return ""
    lines = []
    if found is None:
        where = content_dir.parent / CONFIG_NAME
        lines += [f"# No {CONFIG_NAME} found: save this as {where} (times are venue wall-clock)"]
        lines.append("[site]")
        for key in ("title", "base_url", "description"):
            if parsed.site.get(key):
                lines.append(f"{key} = {_toml(parsed.site[key])}")
    else:
        lines.append(f"# Add to {found}: the times were written as venue wall-clock in these zones")
    for edition in missing:
        info = seen[edition]
        source = parsed.editions.get(info.source_id, {})
        lines += ["", f"[editions.{_toml_key(edition)}]"]
        for key in ("name", "venue", "date", "url"):
            if source.get(key):
                lines.append(f"{key} = {_toml(source[key])}")
        lines.append(_zone_line(info))
    return "\n".join(lines) + "\n"


def _zone_line(info: _EditionSeen) -> str:
    if info.zone:
        return f"timezone = {_toml(info.zone)}"
    if len(info.offsets) == 1:
        offset = next(iter(info.offsets))
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if not minutes:
            # Etc/GMT zones count the other way round: UTC-07:00 is Etc/GMT+7.
            name = "UTC" if hours == 0 else f"Etc/GMT{'+' if offset[0] == '-' else '-'}{hours}"
            why = f"the source gave only UTC{offset}; better: the venue's zone"
            return f"timezone = {_toml(name)}  # {why}"
    seen_offsets = ", UTC".join(sorted(info.offsets)) or " offsets: none"
    return f'# timezone = "..."  # the venue\'s IANA zone; the source has UTC{seen_offsets}'


def _toml(text: str) -> str:
    # A JSON string is a valid TOML basic string once DEL is escaped too.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml(key)
