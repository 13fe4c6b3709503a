"""Shared fixtures: Debian's Chromium for Playwright, a local HTTP server, built sites."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Builds in tests must leave nothing beside the content they read (the corpus folder is shared
# and read-only in CI); tests that test the caches turn them back on.
os.environ.setdefault("PIPELINE_NO_CACHE", "1")

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "emc2"
CHROMIUM = Path(os.environ.get("PIPELINE_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Any]:
    """Serve a folder on 127.0.0.1; returns a function dir -> base URL (ending in '/')."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(
        folder: Path, handler: type[http.server.BaseHTTPRequestHandler] = _QuietHandler
    ) -> str:
        bound = functools.partial(handler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), bound)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample content built once per test session."""
    from pipeline.build import BuildOptions, build

    out = tmp_path_factory.mktemp("sample") / "dist"
    build(BuildOptions(content_dir=REPO / "content", out_dir=out))
    return out


@pytest.fixture(scope="session")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real workshop corpus built once per test session (keep-going: it has a non-item file)."""
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    from pipeline.build import BuildOptions, build

    out = tmp_path_factory.mktemp("corpus") / "dist"
    build(
        BuildOptions(
            content_dir=CORPUS,
            out_dir=out,
            config_path=REPO / "examples" / "emc2.toml",
            keep_going=True,
        )
    )
    return out


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
