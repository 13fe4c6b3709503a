"""Recognise HTML that text.sanitize_html would give back unchanged, without running it.

The sanitiser is not idempotent in general: it unwraps disallowed tags, which can leave a
tree the HTML parser would not build (`<p><button><ul>` comes out as `<p><ul>`, which parses
as `<p></p><ul>`), it drops the newline after `<pre>` on every pass, and an href that passed
only because of leading white space is checked again without it. So a fragment is accepted
here only when it is in a small language where a parse and serialisation by html5ever and
ammonia's filtering provably change nothing:

* text: no '<', '>' or '&' except in the references `&amp; &lt; &gt; &nbsp;`, and nothing
  but printable characters, newlines and tabs (the serialiser writes U+00A0 as `&nbsp;` and
  the parser drops NUL and rewrites CR);
* tags: only allowed ones, written exactly as the serialiser writes them, with no
  attributes except those the sanitiser keeps, in its order, on `a` and `abbr`; an href is a
  plain ASCII http(s), mailto or relative URL that both the Python URL check and the URL
  parser ammonia uses accept as it is;
* nesting: properly closed; blocks (p, h3-h6, ul, ol, blockquote, pre, hr) only at the top,
  in `li` or in `blockquote`; `li` only in ul and ol, which hold nothing else but white
  space; inline elements only in a block or at the top, never inside one of their own name
  (so no `a` in `a`, and the parser's limit of three equal formatting elements never acts);
  no text starting with a newline right after `<pre>`; no white space at either end.

For such input every start tag is inserted where it stands and every end tag closes the
current node (no implied end tags, no foster parenting, no reconstruction of formatting
elements), so the tree is the one written, and the serialiser writes it back the same.
A canary covering every construct is run through the sanitiser once; if the sanitiser's
configuration or library ever makes it differ, nothing is accepted.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .text import sanitize_html

_REL = ' rel="noopener noreferrer">'
# An href: ASCII without quotes, '<', '>', white space or '&' but in '&amp;'. A host has no
# punycode label, which the URL parser may reject, and its last label starts with a letter,
# as a host ending in a number is parsed as an IPv4 address; a port has at most four digits.
_NOT_PUNYCODE = "(?![Xx][Nn]--)"
_HOST = (
    rf"(?:{_NOT_PUNYCODE}[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)*"
    rf"{_NOT_PUNYCODE}[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
)
_URL_CHARS = r"(?:[A-Za-z0-9\-._~!$'()*+,;=:@/?#%]|&amp;)"
_HREF = (
    rf"(?:https?://{_HOST}(?::[0-9]{{1,4}})?(?:[/?#]{_URL_CHARS}*)?"
    rf"|mailto:(?!/){_URL_CHARS}*"
    r"|[A-Za-z0-9\-._~!$'()*+,;=@/?#%]+)"  # relative: no colon, no reference, not empty
)
# A title: anything but quotes, '<', '>', controls and U+00A0, and '&' but in the references
# the serialiser writes; the tag is also checked to be printable.
_TITLE = r"""(?:[^"&<>\x00-\x1f\x7f-\xa0]|&amp;|&quot;)*"""
_ATTRIBUTED = re.compile(
    rf'<(a) href="{_HREF}"(?: title="{_TITLE}")?{_REL}'
    rf"|<(a){_REL}"
    rf'|<(abbr) title="{_TITLE}">'
)
_TAG = re.compile(r"(<[^<>]*>)")
# The Latin-1 characters isprintable() rejects (controls, no-break space and soft hyphen),
# but for tab and newline, mapped to other bytes, and every other byte to itself: translate()
# then gives back the very object it was given when there is none.
_LATIN_UNPRINTABLE = frozenset([*range(0x09), *range(0x0B, 0x20), *range(0x7F, 0xA1), 0xAD])
_LATIN_CHECK = bytes(c ^ 0x40 if c in _LATIN_UNPRINTABLE else c for c in range(256))

_BLOCKS = frozenset({"p", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre"})
_INLINE = frozenset(
    {"a", "abbr", "b", "code", "del", "em", "i", "s", "small", "strong", "sub", "sup", "u"}
)
# Containers that take blocks and inline content alike.
_FLOW = frozenset({"", "li", "blockquote"})
_LISTS = frozenset({"ul", "ol"})
_MAX_DEPTH = 32
_OPEN, _CLOSE, _VOID = 0, 1, 2
_PLAIN: dict[str, tuple[str, int]] = {
    # The sanitiser gives every `a` a rel attribute.
    **{f"<{name}>": (name, _OPEN) for name in _BLOCKS | _INLINE - {"a"} | {"li"}},
    **{f"</{name}>": (name, _CLOSE) for name in _BLOCKS | _INLINE | {"li"}},
    "<br>": ("br", _VOID),
    "<hr>": ("hr", _VOID),
}

CANARY = (
    "<p>t &amp; &lt; &gt; &nbsp; \"q\" 'a' é 😀 <em>e</em><strong>s</strong><b>b</b><i>i</i>"
    "<u>u</u><s>s</s><del>d</del><small>m</small><sub>1</sub><sup>2</sup><code>c</code>"
    '<abbr>x</abbr><abbr title="t &amp; &quot;q&quot; é">y</abbr>'
    '<a href="https://h.example:8080/p?q=1&amp;r=%20#f" rel="noopener noreferrer">l</a>'
    '<a href="http://h" title="t" rel="noopener noreferrer">l</a>'
    '<a href="mailto:x@y.example" rel="noopener noreferrer">m</a>'
    '<a href="rel/p.pdf" rel="noopener noreferrer">r</a>'
    '<a href="#f" rel="noopener noreferrer">f</a><a rel="noopener noreferrer">n</a><br>'
    "<strong><em>x<code>y</code></em></strong></p>\n"
    "<h3>h</h3><h4>h</h4><h5>h</h5><h6>h</h6><hr>\n"
    "<ul>\n<li>a</li>\n<li><p>b</p>\n<ol>\n<li>c<br></li>\n</ol>\n</li>\n</ul>\n"
    "<blockquote>\n<p>q</p>\n<ul><li>d</li></ul>\n</blockquote>\n"
    "<pre><code>\nx\n</code></pre><pre>y\n</pre>\ntop <em>level</em> text"
)


@lru_cache(maxsize=1)
def _trusted() -> bool:
    return _accepts(CANARY) and sanitize_html(CANARY) == CANARY


def unchanged_by_sanitizer(*fragments: str) -> bool:
    """True only when sanitize_html(html) == html is certain, for html the fragments joined
    by newlines; False says nothing.

    Each fragment is checked on its own: one that is accepted leaves the parser as it found
    it (no element open, no formatting element active), so the next starts afresh, and the
    newline between them is text at the top. An accepted fragment holds no character that
    isprintable() rejects but tab and newline."""
    return bool(fragments) and all(map(_accepts, fragments)) and _trusted()


def _accepts(html: str) -> bool:
    if not html or html.strip() != html:
        return False
    # Unprintable characters are looked for in the whole fragment (no tag here may hold one);
    # on Latin-1 bytes that is several times quicker than isprintable().
    try:
        latin = html.encode("latin-1")
    except UnicodeEncodeError:
        if not html.replace("\n", " ").replace("\t", " ").isprintable():
            return False
    else:
        if latin.translate(_LATIN_CHECK) is not latin:
            return False
    parts = _TAG.split(html)
    text = " ".join(parts[0::2])
    if "<" in text or ">" in text:
        return False
    if "&" in text and text.count("&") != (
        text.count("&amp;") + text.count("&lt;") + text.count("&gt;") + text.count("&nbsp;")
    ):
        return False
    tags = tuple(parts[1::2])
    verdict = _skeletons.get(tags)
    if verdict is None:
        verdict = _nested_well(parts)
        # Without these the verdict depends on the tags alone; fragments share a few shapes.
        if _TEXT_RULES.isdisjoint(tags) and len(_skeletons) < 4096:
            _skeletons[tags] = verdict
    return verdict


# Tag sequences whose nesting was checked, and what was found.
_skeletons: dict[tuple[str, ...], bool] = {}
# Tags after which the text matters: only white space inside lists, no newline after <pre>.
_TEXT_RULES = frozenset({"<ul>", "<ol>", "<pre>"})


def _nested_well(parts: list[str]) -> bool:
    """The tags in `parts` (text, tag, text, ... as _TAG.split gives) follow the rules."""
    stack = [""]
    for tag, text in zip(parts[1::2], parts[2::2], strict=True):
        rule = _PLAIN.get(tag)
        if rule is None:
            match = _ATTRIBUTED.fullmatch(tag)
            if match is None or not tag.isprintable():
                return False
            rule = (match.group(1) or match.group(2) or match.group(3), _OPEN)
        name, kind = rule
        parent = stack[-1]
        if kind == _CLOSE:
            if parent != name:
                return False
            stack.pop()
        elif name == "hr":
            if parent not in _FLOW:
                return False
        elif name == "br":
            if parent in _LISTS:
                return False
        elif len(stack) > _MAX_DEPTH:
            return False
        elif name in _BLOCKS:
            if parent not in _FLOW:
                return False
            stack.append(name)
        elif name == "li":
            if parent not in _LISTS:
                return False
            stack.append(name)
        else:  # inline
            if parent in _LISTS or name in stack:
                return False
            stack.append(name)
        if text:
            current = stack[-1]
            if current in _LISTS and text.strip(" \t\n"):
                return False
            if current == "pre" and kind == _OPEN and text.startswith("\n"):
                return False
    return stack == [""]
