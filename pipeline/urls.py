"""Which URLs content may link to: http, https, mailto and relative paths, nothing else."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
# Control characters and white space that browsers strip before reading a scheme.
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")


def safe_url(url: str) -> str:
    """Return the URL when its scheme is allowed, else "" (so `javascript:` can never be a link)."""
    url = url.strip()
    if not url:
        return ""
    probe = _INVISIBLE.sub("", url)
    try:
        parts = urlsplit(probe)
    except ValueError:
        return ""
    if parts.scheme:
        return url if parts.scheme.lower() in _ALLOWED_SCHEMES else ""
    # No scheme: a relative reference. A colon before the first slash would be read as a scheme.
    first = probe.split("/", 1)[0]
    return "" if ":" in first else url


def is_remote(url: str) -> bool:
    return urlsplit(url.strip()).scheme.lower() in {"http", "https"}
