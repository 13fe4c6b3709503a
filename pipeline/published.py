"""How items look to other sites: their URLs on the page, absolute links, and ISO 8601 times.

talks.json, feed.json, the calendars and the page's JSON-LD all publish the same facts; they
take them from here so the four can never disagree about an item's URL or time.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from urllib.parse import urljoin

from .model import Item, Person, SiteConfig
from .urls import is_remote

TALKS_VERSION = "1.0"
SCHEMA_NAME = "talks.schema.json"


def site_root(site: SiteConfig) -> str:
    """The site's base URL ending in '/', or "" when the config gives none."""
    return _root(site.base_url)


def _root(base_url: str) -> str:
    base = base_url.strip()
    if not base:
        return ""
    return base if base.endswith("/") else base + "/"


def absolute(site: SiteConfig, path: str, depth: int = 0) -> str:
    """A dist-relative path as a URL: absolute with a base_url, else relative to a file
    `depth` folders below dist/ (so editions/x/talks.json links with '../../')."""
    if not path or is_remote(path) or path.lower().startswith("mailto:"):
        return path
    root = site_root(site)
    if root:
        return urljoin(root, path)
    return "../" * depth + path


def page_url(site: SiteConfig, anchor: str, depth: int = 0) -> str:
    """Where an item or paper is shown: the page with the id as fragment."""
    return _page(site.base_url, depth) + anchor


@lru_cache(maxsize=64)
def _page(base_url: str, depth: int) -> str:
    # What every item's URL starts with, worked out once: the feeds ask for tens of thousands.
    root = _root(base_url)
    return f"{root}#" if root else f"{'../' * depth}index.html#"


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the venue's UTC offset (2019-06-23T15:30:00-07:00), or None."""
    return value.isoformat() if value else None


def uid_host(site: SiteConfig) -> str:
    """The right-hand side of calendar UIDs: the site's host, or 'pipeline' without one."""
    root = site_root(site)
    host = root.split("://", 1)[-1].split("/", 1)[0].split("@")[-1].split(":")[0] if root else ""
    return host.lower() or "pipeline"


def person_record(site: SiteConfig, person: Person, depth: int = 0) -> dict[str, str]:
    return {
        "name": person.name,
        "affiliation": person.affiliation,
        "url": person.url,
        "avatar": absolute(site, person.avatar, depth),
    }


def location(item: Item, venue: str) -> str:
    """The room if the content names one, else the edition's venue."""
    return item.location or venue
