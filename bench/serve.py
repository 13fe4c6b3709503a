"""A static file server for the browser measurements that counts the bytes it sends, and when.

It negotiates compression the way a static host or CDN does: a precompressed `.br` or `.gz`
sibling when the site ships one, else gzip for text (compressed once per file and kept), else
the file as it is. Both
our site and Pagefind's are served by the same rules.
"""

from __future__ import annotations

import gzip
import http.server
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

_TEXT = (".html", ".js", ".css", ".json", ".svg", ".ics", ".txt")
_CHUNK = 16 * 1024


class Meter:
    """(monotonic time, bytes) for every chunk written, across all connections."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.chunks: list[tuple[float, int, str]] = []
        self.requests: list[str] = []

    def reset(self) -> None:
        with self.lock:
            self.chunks.clear()
            self.requests.clear()

    def sent_before(self, moment: float, pages: bool = True) -> int:
        """Bytes sent up to `moment`; without the HTML pages themselves when pages=False."""
        with self.lock:
            return sum(
                size
                for at, size, path in self.chunks
                if at <= moment and (pages or not path.split("?")[0].endswith((".html", "/")))
            )


class _Handler(http.server.SimpleHTTPRequestHandler):
    meter: Meter

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            self.send_error(404)
            return
        accept = self.headers.get("Accept-Encoding", "")
        body, encoding = path.read_bytes(), ""
        for suffix, name in ((".br", "br"), (".gz", "gzip")):
            sibling = path.with_name(path.name + suffix)
            if name in accept and sibling.is_file():
                body, encoding = sibling.read_bytes(), name
                break
        else:
            if "gzip" in accept and path.suffix in _TEXT and len(body) > 1024:
                body, encoding = _gzipped(path, body), "gzip"
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(len(body)))
        # Cacheable like a real host's files: a worker's importScripts of a script the page
        # already loaded comes from the cache. Every measurement opens a fresh browser context
        # (Browser.new_page), so nothing is cached across measurements.
        self.send_header("Cache-Control", "public, max-age=3600")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        self.meter.requests.append(self.path)
        for start in range(0, len(body), _CHUNK):
            chunk = body[start : start + _CHUNK]
            try:
                self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                # The page went on without the rest (a prefetch cut short when a
                # measurement closes it): what was sent is what was downloaded.
                return
            with self.meter.lock:
                self.meter.chunks.append((time.monotonic(), len(chunk), self.path))


# Compressed once per file, as a CDN or a host with gzip_static serves a file it has sent
# before: compressing on every request made this one-process server's CPU, not the page, part
# of what was measured.
_GZIPPED: dict[tuple[Path, int, int], bytes] = {}
_GZIP_LOCK = threading.Lock()


def _gzipped(path: Path, body: bytes) -> bytes:
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    with _GZIP_LOCK:
        known = _GZIPPED.get(key)
    if known is None:
        known = gzip.compress(body, 6)
        with _GZIP_LOCK:
            _GZIPPED[key] = known
    return known


def serve(folder: Path, meter: Meter) -> tuple[str, http.server.ThreadingHTTPServer]:
    handler = type("Handler", (_Handler,), {"meter": meter})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server
