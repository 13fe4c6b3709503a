"""Read an import source, a file or an http(s) URL, with a time limit and a size limit."""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from .errors import PipelineError
from .records import record

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 20 * 1024 * 1024
_USER_AGENT = "pipeline-import/0.1 (+https://jsonfeed.org; schedule importer)"


class FetchError(PipelineError):
    """The source could not be read; the message says what to try."""


@record
class Fetched:
    data: bytes
    # The URL the bytes came from (after redirects), or "" for a local file.
    url: str
    content_type: str = ""


def is_url(source: str) -> bool:
    return urlsplit(source).scheme.lower() in {"http", "https"}


def read_source(
    source: str, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES
) -> Fetched:
    """The bytes of a local file or an http(s) URL; any other scheme is refused."""
    scheme = urlsplit(source).scheme.lower()
    if is_url(source):
        return fetch_url(source, timeout, max_bytes)
    if len(scheme) > 1:  # "C:" is a Windows drive, not a scheme
        raise FetchError(
            f"{source}: only http(s) URLs and file paths can be imported, not {scheme}:"
        )
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError(f"{source}: {size:,} bytes is over the import limit of {max_bytes:,}")
        return Fetched(path.read_bytes(), "")
    except FileNotFoundError:
        raise FetchError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise FetchError(
            f"{source}: is a folder; name the talks.json, feed.json or page inside it"
        ) from None
    except OSError as exc:
        raise FetchError(f"{source}: cannot be read ({exc.strerror})") from None


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s); urllib alone would also follow one to ftp:."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not is_url(newurl):
            raise FetchError(
                f"{req.full_url}: redirected to {newurl!r}, which is not an http(s) URL"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_url(url: str, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET a URL; fail with a clear message on HTTP errors, on going over `timeout` seconds in
    total (not just per read, so a server that trickles bytes is cut off too) or `max_bytes`."""
    opener = urllib.request.build_opener(_HttpOnlyRedirects())
    request = urllib.request.Request(
        url,
        headers={
            "User-Agent": _USER_AGENT,
            "Accept": "application/json, application/feed+json, text/html;q=0.9, */*;q=0.5",
        },
    )
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_big(url, f"the server says {int(declared):,} bytes", max_bytes)
            chunks: list[bytes] = []
            received = 0
            while True:
                if time.monotonic() > deadline:
                    raise _too_slow(url, timeout)
                chunk = response.read1(65536)
                if not chunk:
                    break
                received += len(chunk)
                if received > max_bytes:
                    raise _too_big(url, f"more than {max_bytes:,} bytes", max_bytes)
                chunks.append(chunk)
            return Fetched(
                b"".join(chunks), response.geturl(), response.headers.get("Content-Type", "")
            )
    except urllib.error.HTTPError as exc:
        exc.close()
        raise FetchError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _too_slow(url, timeout) from None
        raise FetchError(f"{url}: cannot connect ({reason})") from None
    except TimeoutError:
        raise _too_slow(url, timeout) from None
    except (http.client.HTTPException, OSError) as exc:
        raise FetchError(f"{url}: the connection failed ({exc})") from None


def _too_slow(url: str, timeout: float) -> FetchError:
    return FetchError(
        f"{url}: no complete answer within {timeout:g} s; try again later or download it"
    )


def _too_big(url: str, what: str, limit: int) -> FetchError:
    return FetchError(f"{url}: {what}; the import limit is {limit:,} bytes")
