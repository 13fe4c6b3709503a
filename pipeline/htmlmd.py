"""Sanitised HTML back to a Markdown body that renders to the same HTML.

Used by `pipeline import`: paragraphs become Markdown paragraphs (their inline HTML kept, their
text escaped so no character turns into Markdown syntax), other blocks stay HTML blocks. The
speaker bio, a paragraph opening with a bold name, therefore stays a paragraph that the reader
recognises, and importing a site's talks.json reproduces its abstract and bio exactly.
"""

from __future__ import annotations

import re
from html import escape

from bs4 import BeautifulSoup
from bs4.element import Comment, NavigableString, PageElement, Tag

from .text import sanitize_html

# Elements that form paragraphs' content (everything nh3 keeps that is not a block).
_INLINE = frozenset(
    {"a", "abbr", "b", "br", "code", "del", "em", "i", "s", "small", "strong", "sub", "sup", "u"}
)
_KEEP_SPACES = _INLINE | {
    "blockquote", "div", "dd", "dl", "dt", "h3", "h4", "h5", "h6", "li", "ol", "p", "pre", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
# Characters that are Markdown syntax anywhere in a line.
_ALWAYS = re.compile(r"([\\`*_\[\]])")
# Line starts that would open a heading, list, quote, fence, table or setext underline.
_LINE_START = re.compile(r"^([ \t]*)([#>+=~|-]|\d{1,9}(?=[.)]))", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n[ \t]*\n+")
_BLANK_LINE = re.compile(r"(?<=\n)([ \t]*)\n")


def html_to_markdown(html: str) -> str:
    """Sanitise `html`, then write it as Markdown paragraphs and HTML blocks."""
    clean = sanitize_html(html)
    if not clean:
        return ""
    # bs4 shortens white-space-only strings unless told not to; every space matters here.
    # (A wrapping <div> keeps the spaces between top-level blocks too.)
    soup = BeautifulSoup(
        f"<div>{clean}</div>", "html.parser", preserve_whitespace_tags=_KEEP_SPACES
    )
    root = soup.div
    assert root is not None
    blocks: list[str] = []
    run: list[PageElement] = []

    def flush_bare() -> None:
        # Text outside any <p> (from HTML that had no paragraphs) must stay outside one: an
        # HTML block in a <div>, which the sanitiser then drops, keeps it bare.
        inner = "".join(_raw(node) for node in run).strip(" \t\n")
        if inner:
            blocks.append("<div>" + _no_blank_lines(inner) + "</div>")
        run.clear()

    for node in list(root.children):
        if isinstance(node, Tag) and node.name == "p":
            flush_bare()
            # An empty paragraph comes from a line markdown-it strips to nothing: an NBSP.
            blocks.append(_paragraph(list(node.children)) or "\u00a0")
        elif isinstance(node, Tag) and node.name not in _INLINE:
            flush_bare()
            blocks.append(_html_block(node))
        elif not run and isinstance(node, NavigableString) and not node.strip(" \t\n"):
            # markdown-it puts one newline between blocks; an element the sanitiser removed
            # left more. Each empty <div> block (dropped again) stands for one of them.
            blocks.extend(["<div></div>"] * (node.count("\n") - 1))
        else:
            run.append(node)
    flush_bare()
    return "\n\n".join(blocks)


def text_to_markdown(text: str) -> str:
    """Plain text as Markdown paragraphs that show exactly that text."""
    paragraphs = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    rendered = (_escape_text(" ".join(p.split())) for p in paragraphs)
    return "\n\n".join(p for p in rendered if p)


def _paragraph(nodes: list[PageElement]) -> str:
    inner = "".join(_inline(node) for node in nodes)
    # A blank line would end the paragraph; leading spaces could make a code block.
    lines = [line.strip(" \t") for line in _BLANK_LINES.sub("\n", inner).split("\n")]
    return "\n".join(line for line in lines).strip()


def _inline(node: PageElement) -> str:
    if isinstance(node, Comment):
        return ""
    if isinstance(node, NavigableString):
        return _escape_text(str(node))
    if isinstance(node, Tag):
        if node.name == "br":
            return "<br>"
        inner = "".join(_inline(child) for child in node.children)
        return f"{_open_tag(node)}{inner}</{node.name}>"
    return ""


def _raw(node: PageElement) -> str:
    """A node as HTML, for places where Markdown is not read (inside HTML blocks)."""
    if isinstance(node, Comment):
        return ""
    if isinstance(node, NavigableString):
        return escape(str(node), quote=False)
    return str(node)


def _open_tag(tag: Tag) -> str:
    attributes = "".join(
        f' {name}="{escape(value if isinstance(value, str) else " ".join(value), quote=True)}"'
        for name, value in sorted(tag.attrs.items())
        if name != "rel"  # sanitize_html adds rel itself
    )
    return f"<{tag.name}{attributes}>"


def _html_block(tag: Tag) -> str:
    html = str(tag)
    if tag.name == "pre":
        return html  # an HTML block that opens with <pre> ends only at </pre>
    return _no_blank_lines(html)


def _no_blank_lines(html: str) -> str:
    """An HTML block other than <pre> ends at a blank line; writing each blank line's newline
    as the character reference &#10; keeps the block whole and its text exactly the same."""
    return _BLANK_LINE.sub(lambda m: m.group(1) + "&#10;", html)


def _escape_text(text: str) -> str:
    text = _ALWAYS.sub(r"\\\1", text)
    text = escape(text, quote=False)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark = match.group(1), match.group(2)
    if mark.isdigit():
        return indent + mark + "\\"  # "1." -> "1\." : escape the punctuation after the number
    return indent + "\\" + mark
