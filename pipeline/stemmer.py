"""Python port of lunr.js 2.3.9's Porter stemmer (``lunr.stemmer``).

lunr.py's own stemmer disagrees with lunr.js on ~1.3% of English words (array -> arrai, try -> try),
and our index is built in Python but queried by lunr.js in the browser, so the two must match.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["lunr_stemmer", "stem"]

# JavaScript's "." (no `s` flag) matches any UTF-16 code unit except line terminators, and its "$"
# (no `m` flag) matches only at the very end of the input.  Python's "." excludes only "\n" and its
# "$" also matches before a trailing "\n", so both are spelled out explicitly below.
_DOT = "[^\n\r\u2028\u2029]"
_END = r"\Z"

# Building blocks of lunr.js's measure expressions.
_CONS = "[^aeiou]"  # a consonant (note: "y" counts here)
_VOWEL = "[aeiouy]"  # a vowel
_CONS_SEQ = _CONS + "[^aeiouy]*"  # a consonant sequence
_VOWEL_SEQ = _VOWEL + "[aeiou]*"  # a vowel sequence


_STEP2_SUFFIXES: dict[str, str] = {
    "ational": "ate",
    "tional": "tion",
    "enci": "ence",
    "anci": "ance",
    "izer": "ize",
    "bli": "ble",
    "alli": "al",
    "entli": "ent",
    "eli": "e",
    "ousli": "ous",
    "ization": "ize",
    "ation": "ate",
    "ator": "ate",
    "alism": "al",
    "iveness": "ive",
    "fulness": "ful",
    "ousness": "ous",
    "aliti": "al",
    "iviti": "ive",
    "biliti": "ble",
    "logi": "log",
}

_STEP3_SUFFIXES: dict[str, str] = {
    "icate": "ic",
    "ative": "",
    "alize": "al",
    "iciti": "ic",
    "ical": "ic",
    "ful": "",
    "ness": "",
}

_STEP4_SUFFIXES = (
    "al",
    "ance",
    "ence",
    "er",
    "ic",
    "able",
    "ible",
    "ant",
    "ement",
    "ment",
    "ent",
    "ou",
    "ism",
    "ate",
    "iti",
    "ous",
    "ive",
    "ize",
)


def _suffix_re(suffixes: tuple[str, ...] | list[str]) -> re.Pattern[str]:
    """``^(.+?)(s1|s2|...)$`` with alternatives tried in the given order, as lunr.js writes it."""
    return re.compile(f"^({_DOT}+?)({'|'.join(suffixes)}){_END}")


class _Patterns:
    """lunr.js's expressions, compiled on first use (`_patterns`): a rebuild most often stems
    no word, all of them known from the last build (fast_index.known_words), and compiling
    these cost its search stage 9 ms, measured."""

    def __init__(self) -> None:
        # m > 0: [C]VC...
        self.m_gt_0 = re.compile(f"^({_CONS_SEQ})?{_VOWEL_SEQ}{_CONS_SEQ}")
        # m == 1: [C]VC[V]
        self.m_eq_1 = re.compile(f"^({_CONS_SEQ})?{_VOWEL_SEQ}{_CONS_SEQ}({_VOWEL_SEQ})?{_END}")
        # m > 1: [C]VCVC...
        self.m_gt_1 = re.compile(f"^({_CONS_SEQ})?{_VOWEL_SEQ}{_CONS_SEQ}{_VOWEL_SEQ}{_CONS_SEQ}")
        # the stem contains a vowel
        self.has_vowel = re.compile(f"^({_CONS_SEQ})?{_VOWEL}")

        # Step 1a: plural endings.
        self.sses_ies = re.compile(f"^({_DOT}+?)(ss|i)es{_END}")
        self.plural_s = re.compile(f"^({_DOT}+?)([^s])s{_END}")

        # Step 1b: -eed, -ed, -ing and the clean-up that follows removing them.
        self.eed = re.compile(f"^({_DOT}+?)eed{_END}")
        self.ed_ing = re.compile(f"^({_DOT}+?)(ed|ing){_END}")
        self.last_char = re.compile(f"{_DOT}{_END}")
        self.at_bl_iz = re.compile(f"(at|bl|iz){_END}")
        self.double_cons = re.compile(f"([^aeiouylsz])\\1{_END}")
        self.short_cvc = re.compile(f"^{_CONS_SEQ}{_VOWEL}[^aeiouwxy]{_END}")

        # Step 1c: terminal y -> i after a non-vowel.
        self.y_after_cons = re.compile(f"^({_DOT}+?[^aeiou])y{_END}")

        self.step2 = _suffix_re(list(_STEP2_SUFFIXES))
        self.step3 = _suffix_re(list(_STEP3_SUFFIXES))
        self.step4 = _suffix_re(_STEP4_SUFFIXES)
        self.sion_tion = re.compile(f"^({_DOT}+?)(s|t)(ion){_END}")

        # Step 5.
        self.final_e = re.compile(f"^({_DOT}+?)e{_END}")
        self.double_l = re.compile(f"ll{_END}")


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    return _Patterns()


def _to_code_units(text: str) -> str:
    """Split astral characters into surrogate pairs so indexing matches JS's UTF-16 strings."""
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(data[i : i + 2], "little")) for i in range(0, len(data), 2))


def _from_code_units(text: str) -> str:
    """Inverse of `_to_code_units`: join surrogate pairs back into single characters."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _porter(w: str) -> str:
    """The lunr.js algorithm, applied to a string whose characters are UTF-16 code units."""
    if len(w) < 3:
        return w
    p = _patterns()

    initial_y = w[0] == "y"
    if initial_y:
        # An initial y is treated as a consonant; uppercasing it hides it from the vowel classes.
        w = "Y" + w[1:]

    # Step 1a
    if (m := p.sses_ies.match(w)) or (m := p.plural_s.match(w)):
        w = m.group(1) + m.group(2)

    # Step 1b
    if m := p.eed.match(w):
        if p.m_gt_0.match(m.group(1)):
            w = p.last_char.sub("", w, count=1)
    elif m := p.ed_ing.match(w):
        base = m.group(1)
        if p.has_vowel.match(base):
            w = base
            if p.at_bl_iz.search(w):
                w += "e"
            elif p.double_cons.search(w):
                w = p.last_char.sub("", w, count=1)
            elif p.short_cvc.match(w):
                w += "e"

    # Step 1c
    if m := p.y_after_cons.match(w):
        w = m.group(1) + "i"

    # Step 2
    if m := p.step2.match(w):
        base, suffix = m.group(1), m.group(2)
        if p.m_gt_0.match(base):
            w = base + _STEP2_SUFFIXES[suffix]

    # Step 3
    if m := p.step3.match(w):
        base, suffix = m.group(1), m.group(2)
        if p.m_gt_0.match(base):
            w = base + _STEP3_SUFFIXES[suffix]

    # Step 4
    if m := p.step4.match(w):
        base = m.group(1)
        if p.m_gt_1.match(base):
            w = base
    elif m := p.sion_tion.match(w):
        base = m.group(1) + m.group(2)
        if p.m_gt_1.match(base):
            w = base

    # Step 5
    if m := p.final_e.match(w):
        base = m.group(1)
        if p.m_gt_1.match(base) or (p.m_eq_1.match(base) and not p.short_cvc.match(base)):
            w = base

    if p.double_l.search(w) and p.m_gt_1.match(w):
        w = p.last_char.sub("", w, count=1)

    if initial_y:
        w = "y" + w[1:]

    return w


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Return exactly what lunr.js 2.3.9's ``lunr.stemmer`` yields for ``new lunr.Token(word)``."""
    if word.isascii() or max(word) <= "\uffff":
        return _porter(word)
    # JS string lengths and "." count UTF-16 code units, so astral characters count twice.
    return _from_code_units(_porter(_to_code_units(word)))


def lunr_stemmer(token: Any, i: int | None = None, tokens: list[Any] | None = None) -> Any:
    """lunr.py pipeline function applying `stem` to a ``lunr.token.Token`` in place."""
    return token.update(lambda s, _meta: stem(s))
