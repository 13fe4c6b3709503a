"""The real workshop programme (../shared/corpus/emc2): every program file builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from pipeline.cli import main

from .conftest import CORPUS, REPO

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"{CORPUS} is absent")
CONFIG = REPO / "examples" / "emc2.toml"


def test_every_program_file_builds_and_all_editions_show(corpus_site: Path) -> None:
    soup = BeautifulSoup((corpus_site / "index.html").read_text(), "html.parser")
    editions = [s["id"] for s in soup.select("section.edition")]
    assert len(editions) == 11
    program_files = [p for p in CORPUS.rglob("*.md") if p.name != "SOURCE.md"]
    assert len(program_files) == 157
    items = soup.select("li.item")
    assert len(items) == 157
    assert soup.select_one("#isca-19-qian-talk") is not None


def test_cli_build_of_the_corpus_accounts_for_every_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "build",
            "--content",
            str(CORPUS),
            "--config",
            str(CONFIG),
            "--keep-going",
            "--out",
            str(tmp_path / "d"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "157 files read, 157 built, 0 left out, 1 excluded by config" in result.output


def test_a_file_that_is_not_a_schedule_item_is_named_not_skipped(tmp_path: Path) -> None:
    # Without the config's exclude list, SOURCE.md is read, reported with its line, and left out.
    result = CliRunner().invoke(
        main, ["build", "--content", str(CORPUS), "--keep-going", "--out", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert f"{CORPUS / 'SOURCE.md'}:1: no frontmatter" in result.output
    assert "left out: SOURCE.md" in result.output
    assert "158 files read, 157 built, 1 left out" in result.output


def test_venue_time_zones_make_times_absolute(corpus_site: Path) -> None:
    soup = BeautifulSoup((corpus_site / "index.html").read_text(), "html.parser")
    start = soup.select_one("#isca-19-qian-talk time")
    assert start is not None
    assert start["datetime"] == "2019-06-23T15:10:00-07:00"
    assert start.get_text() == "15:10"
