"""The URL allow-list: http, https, mailto and relative references; nothing that can run."""

from __future__ import annotations

import pytest

from pipeline.urls import is_remote, safe_url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "java\rscript:alert(1)",
        " \x01javascript:alert(1)",
        "\u200bjavascript:alert(1)",
        "javascript&colon;alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "DATA:image/svg+xml;base64,PHN2Zz4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "blob:https://x/y",
        "http://[",
        "java\u00a0script:alert(1)",
    ],
)
def test_dangerous_urls_are_refused(url: str) -> None:
    assert safe_url(url) == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a?b=1&c=2#d",
        "HTTP://EXAMPLE.ORG",
        "mailto:someone@example.org",
        "slides.pdf",
        "../shared/slides.pdf",
        "/absolute/path",
        "#anchor",
        "?q=a:b",
        "page?time=10:30",
    ],
)
def test_safe_urls_are_kept(url: str) -> None:
    assert safe_url(url) == url


def test_is_remote() -> None:
    assert is_remote(" https://example.org ")
    assert not is_remote("slides.pdf")
    assert not is_remote("http://[")
    assert not is_remote("mailto:a@b")
