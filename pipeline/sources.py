"""Recognise an import source's format and read it: this project's talks.json and JSON Feed 1.1
here, frab/pretalx and schema.org JSON-LD in foreign.py. All of it is untrusted input."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from .foreign import frab, html_jsonld
from .htmlmd import html_to_markdown, text_to_markdown
from .incoming import Cleaner, Incoming, PaperIn, Parsed, SourceError, as_dict
from .model import join_names
from .urls import is_remote


def parse_source(data: bytes, base: str = "") -> Parsed:
    """Recognise the format of `data` and read its items."""
    text = data.decode("utf-8-sig", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            document = json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            raise SourceError(f"the source looks like JSON but cannot be parsed: {exc}") from None
        if isinstance(document, dict):
            version = document.get("version")
            if isinstance(version, str) and version.startswith("https://jsonfeed.org/version/"):
                return _json_feed(document, base)
            if isinstance(document.get("schedule"), dict):
                return frab(document["schedule"], base)
            if isinstance(document.get("items"), list) and isinstance(
                document.get("editions"), list
            ):
                return _talks_json(document, base)
        raise SourceError(
            "unknown JSON: expected a talks.json from this tool, a JSON Feed 1.1, "
            "or a frab/pretalx schedule.json"
        )
    if "<" in stripped[:2000]:
        return html_jsonld(text, base)
    raise SourceError("the source is neither JSON nor HTML")


def _talks_json(document: dict[str, Any], base: str) -> Parsed:
    from .feeds import schema

    errors = sorted(
        Draft202012Validator(schema()).iter_errors(document), key=lambda e: list(e.path)
    )
    if errors:
        where = "/".join(map(str, errors[0].absolute_path)) or "(top)"
        raise SourceError(
            f"talks.json does not match its schema ({len(errors)} problems); "
            f"first at {where}: {errors[0].message[:200]}"
        )
    parsed = Parsed("talks.json", [])
    site = document["site"]
    clean = Cleaner(site["url"] if is_remote(site["url"]) else base, parsed.warnings)
    parsed.site = {k: clean.text(site[k]) for k in ("title", "description")}
    parsed.site["base_url"] = clean.url(site["url"], "site url") if site["url"] else ""
    for info in document["editions"]:
        parsed.editions[info["id"]] = {
            k: clean.text(info[k]) for k in ("name", "venue", "date", "timezone")
        }
        parsed.editions[info["id"]]["url"] = (
            clean.url(info["url"], "edition url") if info["url"] else ""
        )
    for raw in document["items"]:
        edition = raw["edition"]
        key = raw["id"][len(edition) + 1 :] if raw["id"].startswith(edition + "-") else raw["id"]
        bio = html_to_markdown(raw["bio_html"])
        body = "\n\n".join(part for part in (html_to_markdown(raw["abstract_html"]), bio) if part)
        parsed.items.append(
            Incoming(
                key=key,
                edition=edition,
                type=clean.text(raw["type"]),
                title=clean.text(raw["title"]),
                start=clean.time(raw["start"], raw["id"]),
                end=clean.time(raw["end"], raw["id"]),
                location=clean.text(raw["location"]),
                speakers=clean.people(raw["speakers"]),
                moderator=clean.person(raw["moderator"]),
                panelists=clean.people(raw["panelists"]),
                body=body,
                links=clean.links(raw["links"]),
                papers=[
                    PaperIn(
                        clean.text(p["title"]),
                        join_names([clean.text(a) for a in p["authors"] if clean.text(a)]),
                        clean.text(p["affiliation"]),
                        clean.links(p["links"]),
                    )
                    for p in raw["papers"]
                ],
            )
        )
    return parsed


def _json_feed(document: dict[str, Any], base: str) -> Parsed:
    parsed = Parsed("JSON Feed", [])
    clean = Cleaner(base or clean_feed_url(document), parsed.warnings)
    parsed.site = {"title": Cleaner("", []).text(document.get("title")), "description": ""}
    items = document.get("items")
    if not isinstance(items, list):
        raise SourceError("the JSON Feed has no items list")
    unscheduled = 0
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            continue
        schedule = as_dict(raw.get("_schedule"))
        edition = clean.text(schedule.get("edition"))
        item_id = clean.text(raw.get("id"))
        if raw.get("content_html"):
            body = html_to_markdown(clean.long(raw["content_html"]))
        else:
            body = text_to_markdown(clean.long(raw.get("content_text")))
        start = clean.time(schedule.get("start"), f"item {index + 1}")
        unscheduled += start is None
        links = [] if schedule else [("Website", clean.url(raw.get("url"), "url"))]
        links.append(("Website", clean.url(raw.get("external_url"), "external_url")))
        authors = raw.get("authors") or raw.get("author")
        zone = clean.text(schedule.get("timezone"))
        if edition and zone:
            parsed.editions.setdefault(edition, {"timezone": zone})
        parsed.items.append(
            Incoming(
                key=item_id[len(edition) + 1 :]
                if edition and item_id.startswith(edition + "-")
                else "",
                edition=edition,
                type=clean.text(schedule.get("type")) or "talk",
                title=clean.text(raw.get("title"))
                or clean.text(raw.get("summary"), 120)
                or clean.text(raw.get("content_text"), 80)  # a title-less, microblog-style post
                or item_id,
                start=start,
                end=clean.time(schedule.get("end"), f"item {index + 1}"),
                location=clean.text(schedule.get("location")),
                speakers=clean.people(schedule.get("speakers") if schedule else authors),
                body=body,
                links=[(label, url) for label, url in links if url],
            )
        )
    if unscheduled:
        parsed.warnings.append(
            f"{unscheduled} feed item(s) carry no _schedule start time; listed as not scheduled"
        )
    return parsed


def clean_feed_url(document: dict[str, Any]) -> str:
    url = document.get("feed_url") or document.get("home_page_url") or ""
    return url if isinstance(url, str) and is_remote(url) else ""
