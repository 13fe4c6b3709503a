"""`pipeline serve`: rebuilds on change, reloads the page, shows errors and keeps serving."""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pipeline.build import BuildOptions
from pipeline.serve import Preview

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 30.0
BROKEN = "---\nedition: frugal-ml-26\ntype: talk\ntime_start: not a time\ntime_end: 10:00\n---\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A private copy of the sample content and config, free to edit."""
    shutil.copytree(REPO / "content", tmp_path / "content")
    shutil.copy(REPO / "pipeline.toml", tmp_path / "pipeline.toml")
    return tmp_path


@pytest.fixture
def preview(site: Path) -> Iterator[Preview]:
    logged: list[str] = []
    running = Preview(
        BuildOptions(site / "content", site / "dist"), port=0, log=logged.append, interval=0.1
    )
    running.start()
    yield running
    running.stop()


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {TIMEOUT}s waiting for {what}")


def retitle(path: Path, title: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^title: .*$", f"title: {title}", text, count=1), encoding="utf-8")


def test_cli_serve_picks_up_an_edit(site: Path) -> None:
    """The real command in a subprocess: edit a file, and the served page changes."""
    command = [sys.executable, "-m", "pipeline", "serve", "--port", "0"]
    command += ["--content", str(site / "content"), "--out", str(site / "dist")]
    process = subprocess.Popen(command, cwd=site, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr
    threading.Thread(target=lambda: [lines.put(line) for line in stderr], daemon=True).start()
    try:
        url = ""
        deadline = time.monotonic() + TIMEOUT
        while not url and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert process.poll() is None, "serve exited"
                continue
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            url = found.group(0) if found else ""
        assert url, "serve never printed its URL"
        status, page = fetch(url)
        assert status == 200
        assert "Structured Sparsity That Hardware Actually Likes" in page
        assert "/__pipeline/reload.js?g=1" in page

        retitle(site / "content/frugal-ml-25/invited-muller.md", "Edited While Serving")
        wait_for(lambda: "Edited While Serving" in fetch(url)[1], "the edit to be served")
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=10)
        stderr.close()
    # dist/ holds exactly what `pipeline build` writes: the reload script is added in flight.
    assert "__pipeline" not in (site / "dist/index.html").read_text(encoding="utf-8")


def test_broken_file_shows_error_and_server_keeps_running(preview: Preview, site: Path) -> None:
    url = preview.url
    broken = site / "content/frugal-ml-26/broken-talk.md"
    broken.write_text(BROKEN, encoding="utf-8")
    wait_for(lambda: preview.status()["error"] is not None, "the error to be reported")
    status = json.loads(fetch(url + "__pipeline/status")[1])
    assert "broken-talk.md:4:" in status["error"]
    assert "not a time" in status["error"]
    # The rest of the site is still served, and still changes.
    code, page = fetch(url)
    assert code == 200
    assert "Structured Sparsity" in page
    retitle(site / "content/frugal-ml-25/invited-muller.md", "Still Rebuilding")
    wait_for(lambda: "Still Rebuilding" in fetch(url)[1], "an edit beside a broken file")

    broken.unlink()
    wait_for(lambda: preview.status()["error"] is None, "the error to clear")


def test_failed_build_keeps_the_last_good_site(preview: Preview, site: Path) -> None:
    """A config error stops the whole build: the last good dist/ stays and the error shows."""
    config = site / "pipeline.toml"
    good = config.read_text(encoding="utf-8")
    generation = preview.status()["generation"]
    config.write_text(good.replace('timezone = "Asia/Tokyo"', 'timezone = "Mars/Olympus"'))
    wait_for(lambda: preview.status()["error"] is not None, "the config error")
    assert "Mars/Olympus" in (preview.status()["error"] or "")
    assert preview.status()["generation"] == generation
    code, page = fetch(preview.url)
    assert code == 200 and "Structured Sparsity" in page
    config.write_text(good, encoding="utf-8")
    wait_for(lambda: preview.status()["error"] is None, "the config fix")
    assert preview.status()["generation"] == generation + 1


def test_first_build_failing_serves_an_error_page(site: Path) -> None:
    (site / "pipeline.toml").write_text("[site\n", encoding="utf-8")
    running = Preview(
        BuildOptions(site / "content", site / "dist"), port=0, log=lambda _: None, interval=0.1
    )
    running.start()
    try:
        code, page = fetch(running.url)
        assert code == 503
        assert "pipeline.toml" in page and "/__pipeline/reload.js?g=0" in page
        shutil.copy(REPO / "pipeline.toml", site / "pipeline.toml")
        wait_for(lambda: fetch(running.url)[0] == 200, "the site after the fix")
    finally:
        running.stop()


@pytest.mark.browser
def test_page_reloads_and_shows_errors(page: Page, preview: Preview, site: Path) -> None:
    """In Chromium, under the page's own CSP: an edit reloads the page, an error overlays it."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(preview.url)
    expect(page.locator("body")).to_contain_text("Structured Sparsity That Hardware Actually Likes")
    retitle(site / "content/frugal-ml-25/invited-muller.md", "Reloaded In The Browser")
    expect(page.locator("body")).to_contain_text("Reloaded In The Browser", timeout=TIMEOUT * 1000)

    (site / "content/frugal-ml-26/broken-talk.md").write_text(BROKEN, encoding="utf-8")
    overlay = page.locator("#pipeline-serve-error")
    expect(overlay).to_be_visible(timeout=TIMEOUT * 1000)
    expect(overlay).to_contain_text("broken-talk.md:4:")
    assert not [e for e in errors if "Content Security Policy" in e]
