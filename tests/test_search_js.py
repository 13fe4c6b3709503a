"""The JavaScript half of search (static/search.js on lunr.js) against the Python half, in Node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest
from lunr.stop_word_filter import WORDS

from pipeline.search_index import build_index, search_docs
from pipeline.tokens import fold, words

from .conftest import REPO
from .search_queries import CORPUS_QUERIES, FIXTURE_QUERIES
from .test_search import FIXTURE

LUNR_JS = REPO / "node_modules" / "lunr" / "lunr.js"
SEARCH_JS = REPO / "static" / "search.js"


def run_node(script: str, payload: Any) -> Any:
    if shutil.which("node") is None or not LUNR_JS.exists():
        if os.environ.get("CI"):
            pytest.fail("node and node_modules/lunr are required (npm ci)")
        pytest.skip("node or lunr.js missing")
    prelude = (
        f"globalThis.lunr = require({json.dumps(str(LUNR_JS))});"
        f"require({json.dumps(str(SEARCH_JS))});"
        "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
    )
    done = subprocess.run(
        ["node", "-e", prelude + script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise AssertionError(done.stderr)
    return json.loads(done.stdout)


SAMPLES = [
    *FIXTURE_QUERIES,
    *CORPUS_QUERIES,
    "Ｆｕｌｌ ｗｉｄｔｈ ﬁnance Straße Łódź ØRSTED Ærø İstanbul ΣΊΣΥΦΟΣ",
    "tab\there\u00a0nbsp\u2009thin\u3000ideo\u200bzwsp",
    "x\u0301\u0308 e\u0301 a\u030a",
]


def test_words_and_fold_match_python() -> None:
    got = run_node(
        "const s = PipelineSearch; console.log(JSON.stringify(input.map(t =>"
        " [s.words(t), s.words(t).map(s.fold)])));",
        SAMPLES,
    )
    expected = [[words(t), [fold(w) for w in words(t)]] for t in SAMPLES]
    assert got == expected


def test_query_parsing_matches_python() -> None:
    from pipeline.search import parse_query
    from pipeline.search_index import FIELD_ALIASES

    texts = [*SAMPLES, "speaker:qian ", "the", "the ", "a", "pruning the", "x\u3000"]
    got = run_node(
        "console.log(JSON.stringify(input.texts.map(t =>"
        " PipelineSearch.parseQuery(t, input.aliases))));",
        {"texts": texts, "aliases": FIELD_ALIASES},
    )
    expected = [
        [{"word": w.word, "field": w.field, "prefix": w.prefix} for w in parse_query(t)]
        for t in texts
    ]
    assert got == expected


def test_stop_words_are_the_same_list() -> None:
    got = run_node(
        "console.log(JSON.stringify(input.filter("
        "w => lunr.stopWordFilter(new lunr.Token(w)) === undefined)));",
        [*sorted(WORDS), "pruning", "array"],
    )
    assert got == sorted(WORDS)


def _fixture_index() -> dict[str, Any]:
    from pipeline.build import BuildOptions, check

    return build_index(search_docs(check(BuildOptions(content_dir=FIXTURE / "content")).program))


def test_index_saved_in_python_order_would_not_load_in_lunr_js() -> None:
    index = _fixture_index()
    load = (
        "try { lunr.Index.load(input); console.log(JSON.stringify('loaded')); }"
        " catch (e) { console.log(JSON.stringify(String(e.message))); }"
    )
    assert run_node(load, index) == "loaded"
    index["invertedIndex"].sort(key=lambda entry: entry[0])
    assert "Out of order" in run_node(load, index)
