"""Files and folders under fresh random names (pipeline/scratch.py)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import scratch


def _names(*parts: str) -> Iterator[str]:
    yield from parts


def test_a_new_file_is_its_owners_alone_and_open_for_writing(tmp_path: Path) -> None:
    fd, path = scratch.new_file(tmp_path, ".cache-")
    try:
        os.write(fd, b"written")
    finally:
        os.close(fd)
    assert path.parent == tmp_path and path.name.startswith(".cache-")
    assert path.read_bytes() == b"written"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_taken_name_is_passed_over_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "f-taken").write_text("the author's")
    (tmp_path / "d-taken").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "f-link")
    names = _names("taken", "link", "free")
    monkeypatch.setattr(scratch, "_random_part", lambda: next(names))
    fd, path = scratch.new_file(tmp_path, "f-")
    os.close(fd)
    assert path.name == "f-free"
    assert (tmp_path / "f-taken").read_text() == "the author's"
    assert not (tmp_path / "elsewhere").exists()  # the link was not followed
    names = _names("taken", "free")
    assert scratch.new_folder(tmp_path, "d-").name == "d-free"


def test_no_free_name_is_an_error_not_a_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "f-same").touch()
    (tmp_path / "d-same").mkdir()
    monkeypatch.setattr(scratch, "_random_part", lambda: "same")
    monkeypatch.setattr(scratch, "_ATTEMPTS", 5)
    with pytest.raises(FileExistsError):
        scratch.new_file(tmp_path, "f-")
    with pytest.raises(FileExistsError):
        scratch.new_folder(tmp_path, "d-")


def test_a_new_folder_is_empty_and_its_owners_alone(tmp_path: Path) -> None:
    first = scratch.new_folder(tmp_path, ".dist.staging-")
    second = scratch.new_folder(tmp_path, ".dist.staging-")
    assert first != second
    for folder in (first, second):
        assert folder.is_dir() and not any(folder.iterdir())
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_random_hex_is_as_long_as_asked_and_differs() -> None:
    values = {scratch.random_hex(16) for _ in range(20)}
    assert len(values) == 20
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in values)


def test_the_modules_that_write_a_build_import_neither_tempfile_nor_secrets() -> None:
    """Each process of a rebuild would pay for them (tempfile brings shutil and random)."""
    modules = "pipeline.build, pipeline.cache, pipeline.trees, pipeline.write, pipeline.feeds"
    unwanted = "{'tempfile', 'secrets', 'shutil'}"
    code = f"import sys, {modules}, pipeline.outputs; print(sorted({unwanted} & {{*sys.modules}}))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
