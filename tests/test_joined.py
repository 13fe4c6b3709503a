"""Files written from their pieces (pipeline/joined.py), and documents spliced from the runs of
their last copy (pipeline/splice.py)."""

from __future__ import annotations

import hashlib
import mmap
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from pipeline import digests, joined, output_cache
from pipeline.joined import Joined
from pipeline.splice import Splicer

PIECES = [b"head\n", b"", memoryview(b"middle, viewed\n"), b"x" * 70_000, b"tail\n"]
WHOLE = b"".join(PIECES)


def _written(data: Joined, path: Path) -> bytes:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        data.write(fd)
    finally:
        os.close(fd)
    return path.read_bytes()


def test_pieces_write_digest_and_compare_as_their_bytes(tmp_path: Path) -> None:
    data = Joined(PIECES)
    assert len(data) == len(WHOLE)
    assert bytes(data) == WHOLE and data == WHOLE
    assert WHOLE == data  # noqa: SIM300 (bytes first: its reflected comparison)
    assert data.sha256() == hashlib.sha256(WHOLE).digest() == digests.sha256(data)
    assert _written(data, tmp_path / "out") == WHOLE
    # Across processes (a worker's result) they travel as the bytes.
    assert pickle.loads(pickle.dumps(data)) == WHOLE


def test_more_pieces_than_one_writev_takes_and_short_writes_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = [f"{n:05d},".encode() for n in range(3000)]
    real = os.writev
    calls: list[int] = []

    def short(fd: int, buffers: list[Any]) -> int:
        # At most 1,000 bytes a call, often ending inside a piece.
        assert len(buffers) <= 1024
        calls.append(len(buffers))
        total, kept = 0, []
        for buffer in buffers:
            room = 1000 - total
            if room <= 0:
                break
            kept.append(memoryview(buffer)[:room])
            total += len(kept[-1])
        return real(fd, kept)

    monkeypatch.setattr(joined.os, "writev", short)
    assert _written(Joined(pieces), tmp_path / "out") == b"".join(pieces)
    assert len(calls) >= 18


def _splice(
    splicer: Splicer, keys: list[str], texts: dict[str, bytes], fresh: list[str]
) -> bytes | Joined:
    def record(number: int) -> tuple[bytes, ...]:
        fresh.append(keys[number])
        return (texts[keys[number]],)

    return splicer.document("doc.json", b"[\n  ", b"\n]\n", b",\n  ", keys, record)


def test_a_spliced_document_is_written_from_runs_of_its_last_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One record changed among a thousand: the document is the old file's run before it, the
    new record and the run after it, and holds exactly the bytes a fresh splice gives."""
    keys = [f"k{n}" for n in range(1000)]
    texts = {key: f'{{"id": "{key}", "n": {n}}}'.encode() for n, key in enumerate(keys)}
    site = tmp_path / "site"
    site.mkdir()
    with output_cache.cache_folder(tmp_path / "cache", previous_site=site):
        first = Splicer("test")
        fresh: list[str] = []
        data = _splice(first, keys, texts, fresh)
        assert isinstance(data, bytes) and len(fresh) == 1000
        (site / "doc.json").write_bytes(data)
        first.save()

        keys[500] = "changed"
        texts["changed"] = b'{"id": "changed"}'
        fresh.clear()
        second = Splicer("test")
        spliced = _splice(second, keys, texts, fresh)
        assert fresh == ["changed"]
        assert isinstance(spliced, Joined)
        kinds = [type(piece) for piece in spliced.pieces]
        assert kinds == [bytes, memoryview, bytes, memoryview, bytes]
        assert isinstance(spliced.keep, mmap.mmap)
        plain = Splicer("test")
        plain.last = {}
        assert spliced == _splice(plain, keys, texts, [])
        assert second.written["doc.json"].digest == hashlib.sha256(bytes(spliced)).digest()


def test_a_last_copy_changed_by_hand_is_not_spliced_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [f"k{n}" for n in range(50)]
    texts = {key: f'"{key}"'.encode() for key in keys}
    site = tmp_path / "site"
    site.mkdir()
    with output_cache.cache_folder(tmp_path / "cache", previous_site=site):
        first = Splicer("test")
        (site / "doc.json").write_bytes(bytes(_splice(first, keys, texts, [])))
        first.save()
        (site / "doc.json").write_bytes(b"[\n  edited by hand\n]\n")
        fresh: list[str] = []
        again = _splice(Splicer("test"), keys, texts, fresh)
        assert isinstance(again, bytes) and fresh == keys
