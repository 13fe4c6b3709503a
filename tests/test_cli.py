"""The build and check commands as CI and authors use them (Click's CliRunner on tmp_path)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import main

from .conftest import REPO

GOLDEN_SITE = REPO / "tests" / "fixtures" / "golden_site"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A writable copy of a small valid site (content/ + pipeline.toml)."""
    shutil.copytree(GOLDEN_SITE, tmp_path / "site")
    return tmp_path / "site"


def break_file(site: Path) -> Path:
    bad = site / "content" / "mini-26" / "06-broken.md"
    bad.write_text(
        "---\nedition: mini-26\ntype: talk\ntime_start: 9:00\ntime_end: 2026-03-02 10:00:00\n---\n"
    )
    return bad


def test_build_writes_the_site_and_summarises(site: Path) -> None:
    result = run("build", "--content", str(site / "content"), "--out", str(site / "dist"))
    assert result.exit_code == 0, result.output
    assert (site / "dist" / "index.html").is_file()
    assert "5 files read, 5 built, 0 left out" in result.output


def test_config_beside_content_is_found(site: Path) -> None:
    run("build", "--content", str(site / "content"), "--out", str(site / "dist"))
    assert "Mini Workshop" in (site / "dist" / "index.html").read_text()


def test_broken_file_fails_with_file_line_and_hint_and_writes_nothing(site: Path) -> None:
    bad = break_file(site)
    result = run("build", "--content", str(site / "content"), "--out", str(site / "dist"))
    assert result.exit_code == 1
    assert (
        f"{bad}:4: time_start '9:00' has no date (YAML read it as the number 540)" in result.output
    )
    assert "Traceback" not in result.output
    assert not (site / "dist").exists()


def test_failed_build_leaves_previous_dist_untouched(site: Path) -> None:
    run("build", "--content", str(site / "content"), "--out", str(site / "dist"))
    before = (site / "dist" / "index.html").read_bytes()
    break_file(site)
    result = run("build", "--content", str(site / "content"), "--out", str(site / "dist"))
    assert result.exit_code == 1
    assert (site / "dist" / "index.html").read_bytes() == before


def test_keep_going_builds_valid_files_lists_the_rest_and_fails(site: Path) -> None:
    break_file(site)
    result = run(
        "build", "--content", str(site / "content"), "--out", str(site / "dist"), "--keep-going"
    )
    assert result.exit_code == 1
    assert "left out: mini-26/06-broken.md" in result.output
    page = (site / "dist" / "index.html").read_text()
    assert "mini-26-02-sigrun-keynote" in page and "mini-26-06-broken" not in page


def test_strict_turns_warnings_into_errors(site: Path) -> None:
    (site / "content" / "mini-26" / "07-odd.md").write_text(
        "---\nedition: mini-26\ntype: hackathon\ntime_start: 2026-03-02 13:00:00\n"
        "time_end: 2026-03-02 14:00:00\ntitle: Hack\n---\n"
    )
    lenient = run("build", "--content", str(site / "content"), "--out", str(site / "dist"))
    assert lenient.exit_code == 0
    assert "warning: unknown type 'hackathon'" in lenient.output
    strict = run("build", "--content", str(site / "content"), "--out", str(site / "d2"), "--strict")
    assert strict.exit_code == 1
    assert "unknown type 'hackathon'" in strict.output


def test_no_config_builds_with_a_visible_time_zone_warning(site: Path) -> None:
    (site / "pipeline.toml").unlink()
    result = run("build", "--content", str(site / "content"), "--out", str(site / "dist"))
    assert result.exit_code == 0, result.output
    assert "no pipeline.toml found: times are read as UTC" in result.output


def test_check_writes_nothing_and_reports_in_each_format(site: Path) -> None:
    bad = break_file(site)
    text = run("check", "--content", str(site / "content"))
    assert text.exit_code == 1 and f"{bad}:4:" in text.output
    report = json.loads(run("check", "--content", str(site / "content"), "--format", "json").stdout)
    assert report["ok"] is False
    assert {"path": str(bad), "line": 4, "severity": "error"}.items() <= report["problems"][
        0
    ].items()
    github = run("check", "--content", str(site / "content"), "--format", "github")
    assert github.exit_code == 1
    assert f"::error file={bad},line=4::time_start '9:00' has no date" in github.stdout
    assert not (site / "dist").exists()


def test_check_passes_on_valid_content(site: Path) -> None:
    result = run("check", "--content", str(site / "content"))
    assert result.exit_code == 0
    assert "0 errors" in result.output


def test_missing_content_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = run("build", "--content", str(tmp_path / "nope"), "--out", str(tmp_path / "dist"))
    assert result.exit_code == 1
    assert "content folder not found" in result.output


def test_bad_config_names_the_file(site: Path) -> None:
    (site / "pipeline.toml").write_text('[editions.mini-26]\ntimezone = "Mars/Olympus"\n')
    result = run("build", "--content", str(site / "content"), "--out", str(site / "dist"))
    assert result.exit_code == 1
    assert (
        "pipeline.toml: editions.mini-26.timezone: unknown time zone 'Mars/Olympus'"
        in result.output
    )


@pytest.mark.parametrize("command", ["build", "check", "search"])
def test_every_command_explains_itself_with_an_example(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command's way in (`python -m pipeline`, as the console script: run())."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, check=False
    )


def test_the_command_ends_with_its_code_and_all_its_output(site: Path) -> None:
    """run() ends the process without tearing the interpreter down, once the command is
    done: the exit code and every line the command printed still come out."""
    out = site / "dist"
    done = _command("build", "--content", str(site / "content"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"Built {out}" in done.stderr and "Wrote " in done.stderr
    assert (out / "index.html").is_file()
    checked = _command("check", "--content", str(site / "content"), "--format", "json")
    assert checked.returncode == 0
    assert json.loads(checked.stdout)["ok"] is True
    break_file(site)
    failed = _command("build", "--content", str(site / "content"), "--out", str(out))
    assert failed.returncode == 1
    assert "06-broken.md" in failed.stderr and "nothing was written" in failed.stderr
    assert ", version " in _command("--version").stdout
    usage = _command("build", "--no-such-option")
    assert usage.returncode == 2 and "No such option" in usage.stderr


@pytest.mark.parametrize(
    ("status", "code", "printed"), [(None, 0, ""), (3, 3, ""), ("why", 1, "why\n")]
)
def test_an_exit_status_means_what_it_means_to_python(
    status: object, code: int, printed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.cli import _exit_code

    assert _exit_code(status) == code
    assert capsys.readouterr().err == printed
