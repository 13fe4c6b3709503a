"""Compiled templates are kept between builds in a signed store, and used only from it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment

from pipeline.build import BuildOptions, build
from pipeline.cache import CACHE_DIR

from .conftest import REPO


def _site(tmp_path: Path) -> BuildOptions:
    site = tmp_path / "sample"
    shutil.copytree(REPO / "content", site / "content")
    shutil.copy(REPO / "pipeline.toml", site / "pipeline.toml")
    return BuildOptions(site / "content", site / "dist", site / "pipeline.toml")


def _edit(options: BuildOptions) -> None:
    """Change one title, so the next build renders index.html rather than reuse it."""
    target = options.content_dir / "frugal-ml-25" / "keynote-saito.md"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace('\ntitle: "', '\ntitle: "Renamed ', 1), encoding="utf-8")


def _compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    original = Environment.compile

    def counting(self: Environment, source: Any, name: str | None = None, *a: Any, **k: Any) -> Any:
        names.append(name or "?")
        return original(self, source, name, *a, **k)

    monkeypatch.setattr(Environment, "compile", counting)
    return names


def test_a_second_build_compiles_no_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    options = _site(tmp_path)
    compiled = _compiled(monkeypatch)
    build(options)
    assert "index.html" in compiled
    first = (options.out_dir / "index.html").read_bytes()
    compiled.clear()
    _edit(options)
    build(options)
    assert compiled == []
    assert (options.out_dir / "index.html").read_bytes() != first
    monkeypatch.setenv("PIPELINE_NO_CACHE", "1")
    plain = BuildOptions(options.content_dir, options.out_dir.parent / "plain", options.config_path)
    build(plain)
    assert (plain.out_dir / "index.html").read_bytes() == (
        options.out_dir / "index.html"
    ).read_bytes()


def test_a_changed_or_foreign_store_is_compiled_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store whose signature fails (copied in, or tampered with) is never loaded: its code
    objects could run anything."""
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    options = _site(tmp_path)
    build(options)
    store = options.content_dir.parent / CACHE_DIR / "templates.pickle"
    data = bytearray(store.read_bytes())
    data[-1] ^= 1
    store.write_bytes(bytes(data))
    compiled = _compiled(monkeypatch)
    _edit(options)
    build(options)
    assert "index.html" in compiled


def test_without_a_cache_nothing_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_NO_CACHE", "1")
    options = _site(tmp_path)
    build(options)
    compiled = _compiled(monkeypatch)
    build(options)
    assert "index.html" in compiled
    assert not (options.content_dir.parent / CACHE_DIR / "templates.pickle").exists()
