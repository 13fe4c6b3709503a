"""pipeline.stemmer must agree exactly with lunr.js 2.3.9's lunr.stemmer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.stemmer import lunr_stemmer, stem

REPO_ROOT = Path(__file__).parents[1]
LUNR_JS = REPO_ROOT / "node_modules/lunr/lunr.js"
WORDS_FILE = Path("/usr/share/dict/words")

# Reads newline-separated words on stdin, prints a JSON array of their lunr.js stems.
NODE_SCRIPT = """
const lunr = require(process.argv[1]);
const chunks = [];
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const words = chunks.join("").split("\\n");
  const stems = words.map((w) => lunr.stemmer(new lunr.Token(w)).toString());
  process.stdout.write(JSON.stringify(stems));
});
"""

HAND_PICKED = [
    "array",
    "delay",
    "delays",
    "berkeley",
    "try",
    "cry",
    "quantization",
    "sparsity",
    "pruning",
    "generalization",
    "y",
    "by",
    "a",
    "",
    "yyyy",
    "yes",
    # JS regex corner cases: "." skips \r and \u2028, and astral characters are two code units.
    "feed\r",
    "a\u2028feed",
    "\U0001f600s",
]


def _missing(reason: str) -> None:
    """Fail under CI (so the check cannot silently vanish), skip on a developer machine."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; required when CI is set")
    pytest.skip(reason)


def _node_stems(words: list[str]) -> list[str]:
    node = shutil.which("node")
    if node is None:
        _missing("node is not on PATH")
    if not LUNR_JS.is_file():
        _missing(f"{LUNR_JS} is missing (run npm ci)")
    result = subprocess.run(
        [str(node), "-e", NODE_SCRIPT, str(LUNR_JS)],
        input="\n".join(words),
        capture_output=True,
        encoding="utf-8",
        check=True,
        timeout=300,
    )
    stems = json.loads(result.stdout)
    assert isinstance(stems, list)
    assert len(stems) == len(words)
    return [str(s) for s in stems]


def test_matches_lunr_js_on_dictionary() -> None:
    if not WORDS_FILE.is_file():
        _missing(f"{WORDS_FILE} is missing (apt-get install wamerican)")
    dictionary = {
        line.strip().lower() for line in WORDS_FILE.read_text(encoding="utf-8").splitlines()
    }
    dictionary.discard("")
    assert len(dictionary) > 50_000, f"only {len(dictionary)} words in {WORDS_FILE}"
    words = HAND_PICKED + sorted(dictionary - set(HAND_PICKED))

    expected = _node_stems(words)
    mismatches = [
        (word, js, py) for word, js in zip(words, expected, strict=True) if (py := stem(word)) != js
    ]
    report = "\n".join(f"{w!r}: lunr.js={js!r} python={py!r}" for w, js, py in mismatches[:20])
    assert not mismatches, f"{len(mismatches)} of {len(words)} words differ:\n{report}"


def test_lunr_py_stemmer_differs_from_lunr_js() -> None:
    """Why this port exists: lunr.py's Porter stemmer disagrees with lunr.js."""
    from lunr.stemmer import porter_stemmer
    from lunr.token import Token

    assert porter_stemmer.stem("array") == "arrai"
    assert porter_stemmer.stem("try") == "try"
    assert stem("array") == "array"
    assert stem("try") == "tri"
    assert lunr_stemmer(Token("delays")).string == "delay"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # Values printed by lunr.js 2.3.9: lunr.stemmer(new lunr.Token(word)).toString()
        ("array", "array"),
        ("delays", "delay"),
        ("berkeley", "berkeley"),
        ("try", "tri"),
        ("quantization", "quantiz"),
        ("pruning", "prune"),
        ("by", "by"),
        ("", ""),
    ],
)
def test_examples(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_pipeline_function_updates_token_in_place() -> None:
    from lunr.token import Token

    token = Token("generalization", {"position": [0, 14]})
    assert lunr_stemmer(token, 0, [token]) is token
    assert token.string == "gener"
    assert token.metadata == {"position": [0, 14]}
