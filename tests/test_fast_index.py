"""The fast index builder writes byte for byte what lunr.py's Builder writes, and a cached,
parallel build writes byte for byte what a plain one does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.generate import generate
from pipeline.build import BuildOptions, build, check
from pipeline.search_index import build_index, build_index_reference, search_docs

from .conftest import CORPUS, REPO
from .test_search import FIXTURE


def _dump(index: dict[str, object]) -> str:
    return json.dumps(index, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _same_as_lunr_py(options: BuildOptions) -> None:
    docs = search_docs(check(options).program)
    assert docs
    assert _dump(build_index(docs)) == _dump(build_index_reference(docs))


def test_fixture_sample_and_generated_sites(tmp_path: Path) -> None:
    _same_as_lunr_py(BuildOptions(content_dir=FIXTURE / "content"))
    _same_as_lunr_py(BuildOptions(content_dir=REPO / "content"))
    site = tmp_path / "generated"
    content = generate(site, 120)
    _same_as_lunr_py(BuildOptions(content_dir=content, config_path=site / "pipeline.toml"))


def test_real_corpus() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    config = REPO / "examples" / "emc2.toml"
    _same_as_lunr_py(BuildOptions(content_dir=CORPUS, config_path=config, keep_going=True))


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_cached_parallel_build_equals_plain_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    content = generate(site, 320)  # above parallel.MIN_ITEMS, so heavy stages are forked
    config = site / "pipeline.toml"
    edited = sorted(content.rglob("*.md"))[7]

    monkeypatch.setenv("PIPELINE_NO_CACHE", "1")
    monkeypatch.setenv("PIPELINE_NO_PARALLEL", "1")
    edited.write_text(edited.read_text(encoding="utf-8") + "Edited.\n", encoding="utf-8")
    build(BuildOptions(content_dir=content, out_dir=tmp_path / "plain", config_path=config))
    monkeypatch.delenv("PIPELINE_NO_CACHE")
    monkeypatch.delenv("PIPELINE_NO_PARALLEL")

    original = edited.read_text(encoding="utf-8").removesuffix("Edited.\n")
    edited.write_text(original, encoding="utf-8")
    build(BuildOptions(content_dir=content, out_dir=tmp_path / "warm", config_path=config))
    assert (site / ".pipeline-cache" / "search.pickle").is_file()
    edited.write_text(original + "Edited.\n", encoding="utf-8")
    report = build(
        BuildOptions(content_dir=content, out_dir=tmp_path / "cached", config_path=config)
    )
    assert report.stage_seconds["read.check"] >= 0
    assert _tree(tmp_path / "cached") == _tree(tmp_path / "plain")


def test_thousandths_are_pythons_round_even_next_to_a_half() -> None:
    import random

    import numpy as np

    from pipeline.fast_index import thousandths

    rng = random.Random(7)
    values = [rng.uniform(0, 50) for _ in range(200_000)]
    # Decimal halves and their neighbours, where rounding the product x * 1000 could decide.
    for k in range(0, 60_000, 7):
        half = (k + 0.5) / 1000
        values += [half, float(np.nextafter(half, 0.0)), float(np.nextafter(half, 100.0))]
    got = thousandths(np.asarray(values, dtype=np.float64))
    assert [n / 1000 for n in got] == [round(v, 3) for v in values]


def test_stable_order_is_numpys_stable_argsort_for_keys_of_any_width() -> None:
    import numpy as np

    from pipeline.fast_index import _stable_order

    generator = np.random.default_rng(7)
    for top in (1, 300, 1 << 16, (1 << 16) + 5, 1 << 24, 1 << 40):
        keys = generator.integers(0, top, 5000, dtype=np.int64)
        assert (_stable_order(keys) == np.argsort(keys, kind="stable")).all(), top
    assert len(_stable_order(np.zeros(0, dtype=np.int64))) == 0
