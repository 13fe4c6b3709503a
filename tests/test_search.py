"""Search semantics through `pipeline search` (the same rules the page runs in lunr.js)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.build import BuildOptions, build, check
from pipeline.cli import main
from pipeline.search import SearchIndex, parse_query
from pipeline.search_index import build_index, search_docs

from .conftest import REPO
from .search_queries import CORPUS_QUERIES, FIXTURE_QUERIES

FIXTURE = REPO / "tests" / "fixtures" / "search_site"


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("search") / "dist"
    build(BuildOptions(content_dir=FIXTURE / "content", out_dir=out, strict=True))
    return out


def ids(site: Path, query: str) -> list[str]:
    return [hit.id for hit in SearchIndex.from_site(site).search(query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("garcia", "demo-25-garcia-keynote"),
        ("loffler", "demo-25-loffler-talk"),
        ("jose", "demo-25-jose-talk"),
        ("celik", "demo-25-jose-talk"),
        ("quant", "demo-25-garcia-keynote"),  # prefix of quantization
        ("sparsty", "demo-25-loffler-talk"),  # one typo
        ("array", "demo-25-posters-p1"),  # lunr.py's stemmer would index arrai
        ("berkeley", "demo-25-loffler-talk"),
        ("delays", "demo-25-garcia-keynote"),
        ("王小明", "demo-25-jose-talk"),
        ("bold", "demo-25-emoji-talk"),  # mathematical bold letters fold to ASCII
        ("ideographic", "demo-25-emoji-talk"),  # split on U+3000
        ("o'brien", "demo-25-jose-talk"),
        ("speaker:qian", "demo-25-posters-p2"),
    ],
)
def test_query_finds_what_a_person_expects(fixture_site: Path, query: str, expected: str) -> None:
    assert expected in ids(fixture_site, query)


def test_titles_outrank_abstracts(fixture_site: Path) -> None:
    # "array" is in a paper title and in an abstract (as "arrays"): the title wins.
    found = ids(fixture_site, "array")
    assert found.index("demo-25-posters-p1") < found.index("demo-25-garcia-keynote")


def test_several_words_narrow_the_results(fixture_site: Path) -> None:
    assert ids(fixture_site, "pruning sparsity") == ["demo-25-loffler-talk"]
    assert ids(fixture_site, "pruning zebra") == []


def test_field_prefix_limits_the_field(fixture_site: Path) -> None:
    # Qian is an author of one paper; no title or abstract mentions her.
    assert ids(fixture_site, "title:qian") == []
    assert ids(fixture_site, "author:qian") == ["demo-25-posters-p2"]


@pytest.mark.parametrize("query", FIXTURE_QUERIES + CORPUS_QUERIES)
def test_any_typed_text_is_a_valid_query(fixture_site: Path, query: str) -> None:
    SearchIndex.from_site(fixture_site).search(query)


def test_stop_words_are_dropped_except_the_word_being_typed() -> None:
    assert [w.word for w in parse_query("the pruning ")] == ["pruning"]
    assert [(w.word, w.prefix) for w in parse_query("pruning the")] == [
        ("pruning", False),
        ("the", True),
    ]


def test_astral_and_private_area_terms_are_saved_in_javascript_order() -> None:
    docs = search_docs(check(BuildOptions(content_dir=FIXTURE / "content")).program)
    terms = [entry[0] for entry in build_index(docs)["invertedIndex"]]
    assert any(ord(c) > 0xFFFF for t in terms for c in t), "fixture lacks an astral term"
    assert any(0xE000 <= ord(c) <= 0xFFFF for t in terms for c in t), "fixture lacks a U+E000+ term"
    assert terms == sorted(terms, key=lambda t: t.encode("utf-16-be"))
    assert terms != sorted(terms), "code-point order would be the same: the test proves nothing"


def test_search_command_prints_ranked_json(fixture_site: Path) -> None:
    result = CliRunner().invoke(main, ["search", "garcia", "--site", str(fixture_site), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["id"] == "demo-25-garcia-keynote"
    assert rows[0]["title"] == "Quantization Without Tears"
    assert rows[0]["score"] > 0


def test_search_command_without_a_build_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["search", "x", "--site", str(tmp_path)])
    assert result.exit_code == 1
    assert "run `pipeline build` first" in result.output


def _ranges_term_by_term(terms: list[str], postings: list[int], budget: int) -> list[Any]:
    """The rule search_shards._ranges follows, one term at a time: a run ends before the
    first term that takes it past the budget, its first term aside."""
    ranges, first, size = [], 0, 0
    for number, term in enumerate(terms):
        weight = len(term) + 12 + 9 * postings[number]
        if number > first and size + weight > budget:
            ranges.append((first, number))
            first, size = number, 0
        size += weight
    if len(terms) > first or not ranges:
        ranges.append((first, len(terms)))
    return ranges


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=12), st.integers(0, 400)), max_size=60),
    st.integers(1, 3000),
)
def test_term_ranges_are_cut_as_the_rule_says(terms: list[tuple[str, int]], budget: int) -> None:
    import numpy as np

    from pipeline.fast_index import TermArrays
    from pipeline.search_shards import _ranges

    width = 2
    # Each term's postings split over the two fields, as the arrays hold them.
    runs = [n for _term, count in terms for n in (count // 3, count - count // 3)]
    starts = np.concatenate(([0], np.cumsum(runs, dtype=np.int64))).astype(np.int64)
    index = TermArrays(
        ("title", "body"),
        1,
        tuple(term for term, _count in terms),
        tuple(range(len(terms))),
        starts,
        np.zeros(int(starts[-1]), dtype=np.int64),
        np.zeros(int(starts[-1]), dtype=np.int64),
    )
    assert len(starts) == len(terms) * width + 1
    expected = _ranges_term_by_term(
        [term for term, _count in terms], [count for _term, count in terms], budget
    )
    assert _ranges(index, budget) == expected
