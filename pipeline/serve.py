"""`pipeline serve`: build, serve dist/ on 127.0.0.1, rebuild on every change, reload the page.

A polling thread watches the content, the templates, the static assets and the config (polling
needs no extra package and behaves the same on every file system, network mounts included).
The page's CSP allows only same-origin scripts, so live reload is a small script file served
by this server, inserted into HTML responses as they are sent (dist/ itself is not changed).
It polls /__pipeline/status: a new generation reloads the page, an error shows an overlay.
A build that fails leaves the last good dist/ in place, so the server keeps serving it.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .build import BuildOptions, BuildReport, build
from .config import CONFIG_NAME
from .errors import PipelineError
from .records import replace
from .resources import static_dir, templates_dir

Log = Callable[[str], None]
Snapshot = dict[str, tuple[int, int]]

ENDPOINT = "/__pipeline/"
_POLL_MS = 500

_RELOAD_JS = """\
/* Live reload for `pipeline serve`: poll the server, reload on a new build, show errors. */
(function () {
  "use strict";
  var script = document.currentScript;
  var seen = new URL(script.src).searchParams.get("g");
  var overlay = null;

  function show(error) {
    if (!error) { if (overlay) { overlay.remove(); overlay = null; } return; }
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "pipeline-serve-error";
      overlay.setAttribute("role", "alert");
      var heading = document.createElement("strong");
      heading.textContent = "pipeline serve: the build has problems";
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "Hide";
      close.addEventListener("click", function () { overlay.hidden = true; });
      overlay.append(heading, close, document.createElement("pre"));
      document.body.appendChild(overlay);
    }
    var pre = overlay.querySelector("pre");
    if (pre.textContent !== error) { pre.textContent = error; overlay.hidden = false; }
  }

  function poll() {
    fetch("/__pipeline/status", { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        if (String(status.generation) !== seen) { location.reload(); return; }
        show(status.error);
        setTimeout(poll, POLL_MS);
      })
      // The server is restarting or gone: keep trying, more slowly.
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
""".replace("POLL_MS", str(_POLL_MS))

_RELOAD_CSS = """\
#pipeline-serve-error { position: fixed; inset: auto 1rem 1rem 1rem; z-index: 2147483647;
  max-height: 60vh; overflow: auto; padding: 1rem 1.25rem; border-radius: 0.5rem;
  background: #fff4f4; color: #5c0000; border: 2px solid #b00020;
  box-shadow: 0 0.5rem 2rem rgb(0 0 0 / 0.3); font: 14px/1.45 system-ui, sans-serif; }
#pipeline-serve-error pre { margin: 0.75rem 0 0; white-space: pre-wrap;
  font: 13px/1.45 ui-monospace, monospace; }
#pipeline-serve-error button { float: right; font: inherit; }
"""


class Preview:
    """A live preview: one HTTP server thread, one watcher thread, builds into options.out_dir."""

    def __init__(
        self,
        options: BuildOptions,
        port: int = 8000,
        log: Log = print,
        interval: float = 0.3,
    ) -> None:
        # Keep going: one broken file should not hide every other edit; its error is shown.
        self.options = replace(options, keep_going=True)
        self.log = log
        self.interval = interval
        self.generation = 0
        self.error: str | None = None
        self.built = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        handler = functools.partial(_Handler, preview=self)
        try:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:
            raise PipelineError(
                f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; "
                "try another --port (0 picks a free one)"
            ) from None
        self.server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def start(self) -> None:
        """Build once, then serve and watch in background threads."""
        snapshot = self.snapshot()
        self.rebuild()
        for target, name in (
            (self.server.serve_forever, "serve"),
            (lambda: self._watch(snapshot), "watch"),
        ):
            thread = threading.Thread(target=target, name=f"pipeline-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def watched(self) -> list[Path]:
        """Folders and files whose change means a rebuild."""
        content = self.options.content_dir
        paths = [content, content.parent / "templates", templates_dir(), static_dir()]
        if self.options.config_path is not None:
            paths.append(self.options.config_path)
        else:
            # Both places a config is looked for, so creating one is noticed too.
            paths += [content.parent / CONFIG_NAME, content / CONFIG_NAME]
        unique: dict[Path, None] = {}
        for path in paths:
            unique.setdefault(path.resolve(), None)
        return list(unique)

    def snapshot(self) -> Snapshot:
        out = self.options.out_dir.resolve()
        state: Snapshot = {}
        for root in self.watched():
            if root.is_file():
                _stat_into(state, root)
                continue
            for folder, dirs, names in os.walk(root):
                # The output folder may sit inside a watched one; writing it must not retrigger.
                dirs[:] = [d for d in dirs if not d.startswith(".") and Path(folder, d) != out]
                for name in names:
                    if not name.startswith(".") and not name.endswith("~"):
                        _stat_into(state, Path(folder, name))
        return state

    def rebuild(self) -> bool:
        """Build; on failure keep the last good site and remember the error. True if it built."""
        began = time.perf_counter()
        try:
            report = build(self.options)
        except Exception as exc:  # any failure is shown; the server must live on
            message = _describe(exc)
            with self._lock:
                self.error = message
            kept = "still serving the last good build" if self.built else "nothing built yet"
            self.log(f"Build failed ({kept}):\n{message}")
            return False
        problems = "\n".join(str(p) for p in report.check.problems)
        with self._lock:
            self.built = True
            self.error = _content_error(report)
            self.generation += 1
        seconds = time.perf_counter() - began
        if problems:
            self.log(problems)
        self.log(f"Built in {seconds:.2f}s: {report.check.summary()}")
        return True

    def _watch(self, snapshot: Snapshot) -> None:
        while not self._stop.wait(self.interval):
            current = self.snapshot()
            if current == snapshot:
                continue
            # Editors save in several steps; wait until the files stop changing.
            while not self._stop.wait(self.interval):
                settled = self.snapshot()
                if settled == current:
                    break
                current = settled
            changed = sorted(set(current.items()) ^ set(snapshot.items()))
            names = sorted({Path(path).name for path, _ in changed})
            self.log(f"Changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}")
            snapshot = current
            self.rebuild()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"generation": self.generation, "error": self.error}

    def error_page(self) -> bytes:
        """What / shows when no build has succeeded yet."""
        status = self.status()
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Build failed: pipeline serve</title>"
            f"<link rel='stylesheet' href='{ENDPOINT}reload.css'></head><body>"
            "<h1>The site has not built yet</h1>"
            "<p>Fix the problem below and save; this page reloads by itself.</p>"
            f"<pre id='pipeline-serve-build-error'>{escape(status['error'] or '')}</pre>"
            f"<script src='{ENDPOINT}reload.js?g={status['generation']}' defer></script>"
            "</body></html>"
        ).encode()


def serve(
    options: BuildOptions, port: int = 8000, open_browser: bool = False, log: Log = print
) -> None:
    """Run a live preview until interrupted (Ctrl-C)."""
    preview = Preview(options, port, log)
    preview.start()
    log(f"Serving {options.out_dir} at {preview.url} (Ctrl-C to stop)")
    if open_browser:
        webbrowser.open(preview.url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        log("Stopped.")
    finally:
        preview.stop()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, preview: Preview, **kwargs: Any) -> None:
        self.preview = preview
        super().__init__(*args, directory=str(preview.options.out_dir), **kwargs)

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path.startswith(ENDPOINT):
            self._endpoint(path[len(ENDPOINT) :], send_body)
            return
        local = Path(self.translate_path(self.path))
        if local.is_dir():
            local = local / "index.html"
        if local.suffix == ".html" and local.is_file():
            self._send(
                200, "text/html; charset=utf-8", self._with_reload(local.read_bytes()), send_body
            )
        elif not self.preview.built and path in ("/", "/index.html"):
            self._send(503, "text/html; charset=utf-8", self.preview.error_page(), send_body)
        elif send_body:
            super().do_GET()
        else:
            super().do_HEAD()

    def _endpoint(self, name: str, send_body: bool) -> None:
        if name == "status":
            body = json.dumps(self.preview.status()).encode("utf-8")
            self._send(200, "application/json", body, send_body)
        elif name == "reload.js":
            self._send(200, "text/javascript; charset=utf-8", _RELOAD_JS.encode("utf-8"), send_body)
        elif name == "reload.css":
            self._send(200, "text/css; charset=utf-8", _RELOAD_CSS.encode("utf-8"), send_body)
        else:
            self.send_error(404)

    def _with_reload(self, page: bytes) -> bytes:
        generation = self.preview.status()["generation"]
        tags = (
            f'<link rel="stylesheet" href="{ENDPOINT}reload.css">'
            f'<script src="{ENDPOINT}reload.js?g={generation}" defer></script>\n'
        ).encode()
        at = page.rfind(b"</body>")
        return page[:at] + tags + page[at:] if at >= 0 else page + tags

    def _send(self, code: int, content_type: str, body: bytes, send_body: bool) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def end_headers(self) -> None:
        # A preview must never show a stale file from the browser's cache.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal shows builds and errors, not every request


def _stat_into(state: Snapshot, path: Path) -> None:
    try:
        info = path.stat()
    except OSError:
        return
    state[str(path)] = (info.st_mtime_ns, info.st_size)


def _content_error(report: BuildReport) -> str | None:
    errors = report.check.errors
    if not errors:
        return None
    left_out = ", ".join(report.check.program.files_left_out)
    lines = [str(p) for p in errors]
    lines.append(f"{len(errors)} error(s); left out of the page: {left_out or 'nothing'}")
    return "\n".join(lines)


def _describe(exc: Exception) -> str:
    if isinstance(exc, PipelineError):
        return exc.format_message()
    from jinja2 import TemplateSyntaxError

    if isinstance(exc, TemplateSyntaxError):
        return f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}"
    # An unexpected failure: the last frames say where, without flooding the page.
    return "".join(traceback.format_exception(exc, limit=-3)).rstrip()
