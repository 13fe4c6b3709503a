"""`pipeline new`: a valid item file from flags or answers, never over an existing file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.build import BuildOptions, build, check
from pipeline.cli import main
from pipeline.errors import PipelineError
from pipeline.new import NewItem, new_item

REPO = Path(__file__).resolve().parents[1]
FLAGS = [
    "--edition", "frugal-ml-26", "--type", "keynote",
    "--title", "Small models: a tour (part 1)", "--speaker", "Ada Lovelace",
    "--affiliation", "Analytical Engines, Ltd.", "--start", "2026-06-15 9:00", "--end", "10:15",
]  # fmt: skip


@pytest.fixture
def site(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "content", tmp_path / "content")
    shutil.copy(REPO / "pipeline.toml", tmp_path / "pipeline.toml")
    return tmp_path


def test_flags_write_a_file_that_builds(site: Path) -> None:
    content = site / "content"
    result = CliRunner().invoke(main, ["new", "--content", str(content), *FLAGS])
    assert result.exit_code == 0, result.output
    path = content / "frugal-ml-26" / "keynote-lovelace.md"
    assert f"Wrote {path}" in result.output
    text = path.read_text(encoding="utf-8")
    assert "time_start: 2026-06-15 09:00:00\ntime_end: 2026-06-15 10:15:00\n" in text
    assert "'Small models: a tour (part 1)'" in text

    report = build(BuildOptions(content, site / "dist", strict=True))
    item = next(i for i in report.check.program.items if i.id == "frugal-ml-26-keynote-lovelace")
    assert item.title == "Small models: a tour (part 1)"
    assert item.type == "keynote"
    assert item.start is not None and item.start.isoformat() == "2026-06-15T09:00:00-04:00"
    assert [p.name for p in item.speakers] == ["Ada Lovelace"]
    assert item.speakers[0].affiliation == "Analytical Engines, Ltd."


def test_refuses_to_overwrite(site: Path) -> None:
    content = site / "content"
    existing = content / "frugal-ml-25" / "invited-muller.md"
    before = existing.read_bytes()
    args = ["new", "--content", str(content), *FLAGS, "--edition", "frugal-ml-25"]
    result = CliRunner().invoke(main, [*args, "--slug", "invited-muller"])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert existing.read_bytes() == before
    # The same flags twice: the second run refuses too.
    assert CliRunner().invoke(main, args).exit_code == 0
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 1 and "already exists" in second.output


def test_missing_values_are_errors_without_a_terminal(site: Path) -> None:
    result = CliRunner().invoke(main, ["new", "--content", str(site / "content")], input="")
    assert result.exit_code == 1
    assert "--edition is needed" in result.output


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--start", "15/06/2026 09:00", "puts the year last"),
        ("--end", "08:00", "is before --start"),
        ("--type", "keynot", "unknown type 'keynot'"),
        ("--edition", "../outside", "may use only letters"),
        ("--slug", "!!!", "has no letters or digits"),
    ],
)
def test_bad_values_are_refused(site: Path, flag: str, value: str, message: str) -> None:
    result = CliRunner().invoke(
        main, ["new", "--content", str(site / "content"), *FLAGS, flag, value]
    )
    assert result.exit_code == 1
    assert message in result.output
    assert not (site / "outside.md").exists()


def test_questions_fill_in_what_flags_leave_out(site: Path) -> None:
    """What a terminal session would answer, scripted; the item is read back as valid."""
    answers = {
        "Edition": "frugal-ml-24",
        "Type": "panel",
        "Title": "Panel: 8-bit or 4-bit?",
        "Moderator": "Grace Hopper",
        "Affiliation": "",
        "Starts at": "2024-09-23 14:00",
        "Ends at": "2024-09-23 15:00",
    }
    asked: list[str] = []

    def ask(question: str, default: str) -> str:
        key = next(k for k in answers if question.startswith(k))
        asked.append(key)
        return answers[key]

    content = site / "content"
    result = new_item(content, NewItem(), ask=ask)
    assert asked == list(answers)
    assert result.path == content / "frugal-ml-24" / "panel-8-bit-or-4-bit.md"
    assert "moderator:\n    name: Grace Hopper\n" in result.path.read_text(encoding="utf-8")
    report = check(BuildOptions(content, site / "dist", strict=True))
    assert not report.errors
    assert any(i.id == result.item_id and i.moderator for i in report.program.items)


def test_slot_needs_no_speaker_and_defaults_its_title(site: Path) -> None:
    request = NewItem(edition="frugal-ml-26", type="break", start="2026-06-15 15:00", end="15:20")
    result = new_item(site / "content", request)
    text = result.path.read_text(encoding="utf-8")
    assert "title: Break\n" in text and "speaker:" not in text


def test_no_config_and_no_content_folder_yet(tmp_path: Path) -> None:
    request = NewItem("conf-1", "Hello", "talk", "", None, "2030-01-02 10:00", "10:30", "hello")
    result = new_item(tmp_path / "content", request)
    assert result.path.is_file()
    with pytest.raises(PipelineError, match="already exists"):
        new_item(tmp_path / "content", request)
