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
    # Entities decoded too: a consumer that puts the URL into HTML unescaped (a feed reader,
    # someone's JavaScript) would otherwise turn 'javascript&colon;' back into a scheme.
    from html import unescape  # see text.html_to_text

    probe = _INVISIBLE.sub("", unescape(url))
    try:
        parts = urlsplit(probe)
    except ValueError:
        return ""
    if parts.scheme:
        return url if parts.scheme.lower() in _ALLOWED_SCHEMES else ""
    # No scheme: a relative reference. A colon before the first slash would be read as a scheme.
    first = re.split(r"[/?#]", probe, maxsplit=1)[0]
    return "" if ":" in first else url


def is_remote(url: str) -> bool:
    """True for an http(s) URL (which is then not a file in the content folder)."""
    try:
        return urlsplit(url.strip()).scheme.lower() in {"http", "https"}
    except ValueError:  # e.g. 'http://[' : an unbalanced IPv6 bracket
        return False
