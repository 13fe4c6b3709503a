"""Search text processing shared, rule for rule, with static/search.js: tokens, folding, stop words.

The browser runs the same rules in JavaScript; tests compare the two on the same inputs.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import regex

# The same class on ASCII text, where it is just letters and digits: the standard engine finds
# them several times faster, and most text is ASCII.
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
# Letters that Unicode decomposition does not reduce to ASCII but a reader types without accent.
_SPECIAL_FOLDS = {
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l",
    "ı": "i", "ħ": "h", "ŧ": "t", "ŀ": "l", "ĸ": "k", "ŋ": "n", "ς": "σ",
}  # fmt: skip
FOLD_LABEL = "foldAccents"


# The `regex` module and lunr.py are imported on first use, not with this module: a rebuild's
# search stage meets no text that is not ASCII and no word it has not mapped before, most often
# (fast_index.known_words), and importing them cost it 55 ms of its 0.2 s start, measured.
@lru_cache(maxsize=1)
def word_pattern() -> regex.Pattern[str]:
    r"""A word is a run of letters, digits and combining marks; everything else separates
    words. Same class as the JavaScript /[\p{L}\p{N}\p{M}]+/gu, so `C++`, `10:30` or `a~b` are
    just words."""
    import regex

    return regex.compile(r"[\p{L}\p{N}\p{M}]+")


_stop_words: frozenset[str] | None = None


def stop_words() -> frozenset[str]:
    """lunr's English stop words, which the index leaves out as lunr.js does."""
    global _stop_words
    if _stop_words is None:
        from lunr.stop_word_filter import WORDS

        _stop_words = frozenset(WORDS)
    return _stop_words


def known_stop_words() -> frozenset[str] | None:
    """The stop words if this process has them already, without importing lunr.py."""
    return _stop_words


def learn_stop_words(words: frozenset[str]) -> None:
    """Take the stop words a known_stop_words() of this same code (and lunr.py) gave: the
    search state keeps them, so that a rebuild meeting a new word does not import lunr.py."""
    global _stop_words
    if _stop_words is None:
        _stop_words = words


def words(text: str) -> list[str]:
    """Lower-cased words of a text, before folding or stemming."""
    if text.isascii():
        # Lower-casing ASCII changes letters only, one for one: the same words, lower-cased.
        return _ASCII_WORD.findall(text.lower())
    return list(map(str.lower, word_pattern().findall(text)))


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Strip accents and fold special letters, so `garcía` and `garcia` are one term."""
    decomposed = unicodedata.normalize("NFKD", word)
    stripped = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    # Lower-case again: decomposition turns compatibility forms such as 𝐁 or Ｆ into capitals.
    return "".join(_SPECIAL_FOLDS.get(c, c) for c in stripped).lower()


def fold_accents(token: object, i: int | None = None, tokens: object = None) -> object:
    """The lunr.py pipeline function registered as 'foldAccents' (lunr.js registers the same)."""
    token.update(lambda text, _metadata: fold(text))  # type: ignore[attr-defined]
    return token
