"""Write `_headers` (Netlify and Cloudflare Pages format): CORS for embedders, and caching.

Other sites load the search files and read the feeds across origins, so those paths allow any
origin. Hosts that do not read `_headers` ignore it; docs/embedding.md says what to set there.
"""

from __future__ import annotations

from .joined import Content
from .model import Program

# Asset URLs carry no content hash when the embeddable widget loads them (it cannot know the
# page's ?v= version), so they are cached for an hour rather than forever.
_ASSETS = "public, max-age=3600, stale-while-revalidate=86400"
# Pages and feeds change with every build; a revalidation costs one small conditional request.
_FRESH = "public, max-age=0, must-revalidate"
_MEDIA = "public, max-age=86400"
_CORS = ("Access-Control-Allow-Origin", "*")

# One rule per path and no overlapping patterns: both hosts apply every matching rule and join
# repeated header names with commas, which would garble Cache-Control.
_RULES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("/", (("Cache-Control", _FRESH),)),
    ("/index.html", (("Cache-Control", _FRESH),)),
    ("/assets/*", (_CORS, ("Cache-Control", _ASSETS))),
    ("/search/*", (_CORS, ("Cache-Control", _ASSETS))),
    ("/talks.json", (_CORS, ("Cache-Control", _FRESH))),
    ("/talks.schema.json", (_CORS, ("Cache-Control", _FRESH))),
    ("/feed.json", (_CORS, ("Cache-Control", _FRESH))),
    ("/editions/*", (_CORS, ("Cache-Control", _FRESH))),
    ("/calendar.ics", (_CORS, ("Cache-Control", _FRESH))),
    ("/calendar/*", (_CORS, ("Cache-Control", _FRESH))),
    ("/media/*", (("Cache-Control", _MEDIA),)),
)


def headers_file() -> str:
    """The text of `_headers`; the same for every site, so identical input stays identical."""
    lines = [
        "# Response headers for Netlify and Cloudflare Pages (other hosts ignore this file).",
        "# Written by `pipeline build`; see docs/embedding.md. Edits are lost on the next build.",
    ]
    for path, headers in _RULES:
        lines.append("")
        lines.append(path)
        lines.extend(f"  {name}: {value}" for name, value in headers)
    return "\n".join(lines) + "\n"


def outputs(_program: Program) -> dict[str, Content]:
    return {"_headers": headers_file().encode("utf-8")}
