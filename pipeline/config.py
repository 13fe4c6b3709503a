"""Read `pipeline.toml`: the site's title and URL, and each edition's name, venue and time zone."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .model import EditionInfo, SiteConfig
from .urls import safe_url

CONFIG_NAME = "pipeline.toml"
_SITE_KEYS = {"title", "base_url", "timezone", "description", "exclude", "details"}
DETAILS = ("auto", "inline", "day-pages")
_EDITION_KEYS = {"name", "venue", "date", "timezone", "url"}


def find_config(content_dir: Path) -> Path | None:
    """The config a build uses when none is named: `pipeline.toml` beside or inside content/."""
    for candidate in (content_dir.parent / CONFIG_NAME, content_dir / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None) -> SiteConfig:
    """Parse and check a config file; with no file, a default config that says so."""
    if path is None:
        return SiteConfig(is_default=True)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_config(data, str(path))


def parse_config(data: dict[str, Any], where: str = CONFIG_NAME) -> SiteConfig:
    problems: list[str] = []
    unknown = set(data) - {"site", "editions"}
    if unknown:
        problems.append(f"unknown section(s): {', '.join(sorted(unknown))}")
    site = _table(data.get("site", {}), "[site]", problems)
    _unknown_keys(site, _SITE_KEYS, "[site]", problems)
    site_tz = _zone(site.get("timezone", "UTC"), "[site] timezone", problems)
    editions = []
    for edition_id, raw in sorted(_table(data.get("editions", {}), "[editions]", problems).items()):
        table = _table(raw, f"[editions.{edition_id}]", problems)
        _unknown_keys(table, _EDITION_KEYS, f"[editions.{edition_id}]", problems)
        editions.append(
            EditionInfo(
                id=edition_id,
                name=_text(table.get("name", edition_id), f"editions.{edition_id}.name", problems),
                venue=_text(table.get("venue", ""), f"editions.{edition_id}.venue", problems),
                date=_text(table.get("date", ""), f"editions.{edition_id}.date", problems),
                timezone=_zone(
                    table.get("timezone", site_tz), f"editions.{edition_id}.timezone", problems
                ),
                url=_checked_url(table.get("url", ""), f"editions.{edition_id}.url", problems),
            )
        )
    exclude = site.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(p, str) for p in exclude):
        problems.append("[site] exclude must be a list of glob patterns")
        exclude = []
    details = site.get("details", "auto")
    if details not in DETAILS:
        problems.append(f"[site] details must be one of {', '.join(map(repr, DETAILS))}")
        details = "auto"
    config = SiteConfig(
        title=_text(site.get("title", "Schedule"), "site.title", problems),
        base_url=_checked_url(site.get("base_url", ""), "site.base_url", problems),
        timezone=site_tz,
        description=_text(site.get("description", ""), "site.description", problems),
        editions=tuple(editions),
        exclude=tuple(exclude),
        details=details,
    )
    if problems:
        raise ConfigError("\n".join(f"{where}: {p}" for p in problems))
    return config


def _table(value: Any, name: str, problems: list[str]) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    problems.append(f"{name} must be a table")
    return {}


def _unknown_keys(table: dict[str, Any], allowed: set[str], name: str, problems: list[str]) -> None:
    for key in sorted(set(table) - allowed):
        problems.append(f"{name}: unknown key {key!r} (known: {', '.join(sorted(allowed))})")


def _text(value: Any, name: str, problems: list[str]) -> str:
    if isinstance(value, str):
        return value.strip()
    problems.append(f"{name} must be a string, not {type(value).__name__}")
    return ""


def _zone(value: Any, name: str, problems: list[str]) -> str:
    if not isinstance(value, str):
        problems.append(f"{name} must be an IANA time zone name such as 'Europe/Berlin'")
        return "UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"{name}: unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin')"
        )
        return "UTC"
    return value


def _checked_url(value: Any, name: str, problems: list[str]) -> str:
    text = _text(value, name, problems)
    if text and not safe_url(text):
        problems.append(f"{name}: {text!r} is not an http(s) URL")
        return ""
    return text
