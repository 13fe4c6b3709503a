"""The JavaScript half of search (static/search.js on lunr.js) against the Python half, in Node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lunr.stop_word_filter import WORDS

from pipeline.build import BuildOptions
from pipeline.search_index import build_index, search_docs
from pipeline.tokens import fold, words

from .conftest import CORPUS, REPO
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


# Runs static/search.js's Site over a built site's search/ files, each loaded when a query
# needs it, and prints every query's complete ranking and the files it loaded.
_SITE_SCRIPT = """
const fs = require('fs'), path = require('path');
const folder = input.folder;
const loaded = [];
function load(key) {
  loaded.push(key);
  const text = fs.readFileSync(path.join(folder, 'search', key + '.js'), 'utf8');
  new Function('self', text)(globalThis);
  const data = globalThis.pipelineSearchParts[key];
  delete globalThis.pipelineSearchParts[key];
  return Promise.resolve(data);
}
(async () => {
  const site = PipelineSearch.site(await load('manifest'), load);
  const out = [];
  for (const q of input.queries) {
    loaded.length = 0;
    const found = await site.find(q, {}, 1e9, 0);
    out.push({ids: found.hits.map(h => h.id), scores: found.hits.map(h => h.score),
               total: found.total, files: loaded.slice()});
  }
  console.log(JSON.stringify(out));
})();
"""


def _site_rankings(site: Path, queries: list[str]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = run_node(_SITE_SCRIPT, {"folder": str(site), "queries": queries})
    return result


def _python_rankings(site: Path, queries: list[str]) -> list[list[str]]:
    from pipeline.search import SearchIndex

    index = SearchIndex.from_site(site)
    return [[hit.id for hit in index.search(q)] for q in queries]


def _corpus_in_small_ranges(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> BuildOptions:
    """The corpus built into tmp_path/dist, its index cut into ranges of 2 kB loaded on demand."""
    from pipeline import search_files
    from pipeline.build import BuildOptions, build

    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent")
    monkeypatch.setattr(search_files, "RANGE_BYTES", 2_000)
    monkeypatch.setattr(search_files, "PREFETCH_MAX_BYTES", 0)
    config = REPO / "examples" / "emc2.toml"
    options = BuildOptions(
        content_dir=CORPUS, out_dir=tmp_path / "dist", config_path=config, keep_going=True
    )
    build(options)
    return options


def test_loading_ranges_on_demand_ranks_like_the_whole_index(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The page loads only the term ranges a query expands to; every ranking must still be the
    whole index's, typos and prefixes included, on the corpus cut into many small ranges."""
    out = _corpus_in_small_ranges(monkeypatch, tmp_path).out_dir
    queries = [*CORPUS_QUERIES, "sparsty", "quantizaton", "pruing", "efficent", "qu", "spars"]
    got = _site_rankings(out, queries)
    expected = _python_rankings(out, queries)
    ranges = len(list((out / "search" / "terms").iterdir()))
    assert ranges > 50
    for query, row, ids in zip(queries, got, expected, strict=True):
        assert row["ids"] == ids, query
        assert row["total"] == len(ids)
        # A query loads a few ranges, never the whole index.
        assert len([f for f in row["files"] if f.startswith("terms/")]) < ranges / 3, query
    assert any(row["ids"] for row in got)


def test_ranges_on_demand_on_the_lunr_difference_fixture(tmp_path: Path) -> None:
    from pipeline.build import BuildOptions, build

    out = tmp_path / "dist"
    build(BuildOptions(content_dir=FIXTURE / "content", out_dir=out))
    got = _site_rankings(out, FIXTURE_QUERIES)
    expected = _python_rankings(out, FIXTURE_QUERIES)
    assert [row["ids"] for row in got] == expected


def test_within_one_edit_is_lunr_js_fuzzy_matching() -> None:
    """The candidate test that picks ranges for a typo accepts every term lunr.js's editDistance 1
    matches (it may accept a few more: an extra range loaded, never a result lost)."""
    words = [
        "sparsity",
        "sparsty",
        "spasrity",
        "sparsitty",
        "parsity",
        "xsparsity",
        "sparsitx",
        "sparisty",
        "sparsit",
        "spar",
        "ab",
        "ba",
        "a",
        "",
        "abc",
        "acb",
        "bac",
        "abcd",
        "x",
    ]
    script = (
        "const out = [];"
        "for (const a of input) for (const b of input) {"
        "  const set = lunr.TokenSet.fromFuzzyString(a, 1);"
        "  const lunrSays = set.intersect(lunr.TokenSet.fromString(b)).toArray().length > 0;"
        "  out.push([a, b, lunrSays, PipelineSearch.withinOneEdit(a, b)]);"
        "}"
        "console.log(JSON.stringify(out));"
    )
    rows = run_node(script, words)
    assert [r for r in rows if r[2] and not r[3]] == []
    assert sum(r[2] for r in rows) > len(words)


def test_front_coded_terms_decode_the_same_in_both_languages() -> None:
    from pipeline.search_files import front_coded, front_decoded

    terms = sorted(
        ["", "a", "ab", "abc", "abd", "b", "x" * 50, "x" * 51 + "y", "é", "éa", "日本", "日本語",
         "\U0001f600", "\U0001f600a", "\U0001f601", "\ue000", "\uffff", "z\U0001f600\U0001f601"],
        key=lambda t: t.encode("utf-16-be"),
    )  # fmt: skip
    coded = front_coded(terms)
    assert len(coded) < sum(len(t) + 1 for t in terms)
    assert front_decoded(coded) == terms
    decode = "console.log(JSON.stringify(PipelineSearch.frontDecoded(input)))"
    assert run_node(decode, coded) == terms


# The same queries through lunr.js's own Index.query on the whole index (PipelineSearch.create)
# and through the site's term ranges (Site.rank): every score, unrounded, and every matched term.
_SCORES_SCRIPT = """
const fs = require('fs'), path = require('path');
function load(key) {
  const text = fs.readFileSync(path.join(input.folder, 'search', key + '.js'), 'utf8');
  new Function('self', text)(globalThis);
  const data = globalThis.pipelineSearchParts[key];
  delete globalThis.pipelineSearchParts[key];
  return Promise.resolve(data);
}
(async () => {
  const manifest = await load('manifest');
  const site = PipelineSearch.site(manifest, load);
  const docs = Array.from({length: manifest.documents}, (_, i) => ({id: String(i)}));
  const aliases = manifest.fieldAliases;
  const whole = PipelineSearch.create({index: input.index, docs, fieldAliases: aliases});
  const out = [];
  for (const q of input.queries) {
    const ranked = await site.search(q);
    out.push([q, whole.search(q).map(h => [Number(h.id), h.exact, h.terms.slice().sort()]),
              ranked.map(h => [h.ref, h.exact, h.terms.slice().sort()])]);
  }
  console.log(JSON.stringify(out));
})();
"""


def test_site_scores_are_lunr_js_scores_bit_for_bit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Site.rank reads postings instead of running lunr.Index.query: on the corpus, cut into many
    ranges, every query must give lunr.js's documents, unrounded scores and matched terms."""
    from pipeline.build import check

    options = _corpus_in_small_ranges(monkeypatch, tmp_path)
    out = options.out_dir
    index = build_index(search_docs(check(options).program))
    # Refs are positions in base 36 in the whole index and plain positions in the ranges.
    for vector in index["fieldVectors"]:
        field, ref = vector[0].split("/")
        vector[0] = f"{field}/{int(ref, 36)}"
    for entry in index["invertedIndex"]:
        for name, postings in entry[1].items():
            if name != "_index":
                entry[1][name] = {str(int(ref, 36)): meta for ref, meta in postings.items()}
    queries = [
        *CORPUS_QUERIES, "sparsty", "quantizaton", "pruing", "efficent", "qu", "spars", "e", "en",
        "energy eff", "neural network acc", "title:spars", "speaker:han quant", "co design",
        "low power accelerator design for deep", "in memory", "training inference",
    ]  # fmt: skip
    rows = run_node(_SCORES_SCRIPT, {"folder": str(out), "index": index, "queries": queries})
    compared = 0
    for query, lunr_rows, site_rows in rows:
        assert sorted(site_rows) == sorted(lunr_rows), query
        compared += len(lunr_rows)
    assert compared > 1000


def test_a_small_site_is_prefetched_in_fewer_larger_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pipeline import search_files
    from pipeline.build import BuildOptions, build

    def built(name: str) -> tuple[dict[str, Any], int, int]:
        out = tmp_path / name
        build(BuildOptions(content_dir=FIXTURE / "content", out_dir=out))
        text = (out / "search" / "manifest.js").read_text(encoding="utf-8")
        manifest = json.loads(text[text.index("]=") + 2 : text.rindex(";")])
        count = len(list((out / "search" / "terms").iterdir()))
        return manifest, count, len(list((out / "search" / "cards").iterdir()))

    monkeypatch.setattr(search_files, "RANGE_BYTES", 500)
    small, small_ranges, small_cards = built("small")
    monkeypatch.setattr(search_files, "PREFETCH_MAX_BYTES", 0)
    large, large_ranges, large_cards = built("large")
    assert small["prefetch"] is True and large["prefetch"] is False
    assert small["cardsPerFile"] == search_files.PREFETCHED_CARDS_PER_FILE
    assert large["cardsPerFile"] == search_files.CARDS_PER_FILE
    assert small_ranges < large_ranges and small_cards <= large_cards
    assert len(small["ranges"]) == small_ranges and len(large["ranges"]) == large_ranges


def test_the_stemmer_keeps_a_words_first_letter() -> None:
    """The page's highlighter skips the stemmer for a word whose first letter starts no matched
    term (search.js highlighter): that holds only if stemming never changes the first letter,
    checked on an English dictionary, the sample, the fixture and (when present) the corpus."""
    from pipeline.build import BuildOptions, check

    from .test_stemmer import WORDS_FILE, _missing

    if not WORDS_FILE.is_file():
        _missing(f"{WORDS_FILE} is missing (apt-get install wamerican)")
    texts: list[str] = [*SAMPLES, *sorted(WORDS), WORDS_FILE.read_text(encoding="utf-8")]
    for content in (FIXTURE / "content", REPO / "content"):
        program = check(BuildOptions(content_dir=content)).program
        texts += [f"{item.title} {item.abstract_text} {item.bio_text}" for item in program.items]
    if CORPUS.is_dir():
        config = REPO / "examples" / "emc2.toml"
        corpus = check(BuildOptions(content_dir=CORPUS, config_path=config, keep_going=True))
        texts += [f"{i.title} {i.abstract_text} {i.bio_text}" for i in corpus.program.items]
    vocabulary = sorted({w for text in texts for w in words(text)})
    vocabulary += ["y", "ya", "yes", "yyy", "ied", "ies", "sses", "eed", "ing", "ed", "s", "ss"]
    changed = run_node(
        "const p = lunr.Pipeline.load(['foldAccents', 'stemmer']);"
        "console.log(JSON.stringify(input.filter(w => {"
        "  const f = PipelineSearch.fold(w);"
        "  return p.runString(w).some(t => t.charAt(0) !== f.charAt(0));"
        "})));",
        vocabulary,
    )
    assert len(vocabulary) > 50_000
    assert changed == []
