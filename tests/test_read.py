"""Reading content: every broken file is reported with its file and line, the build goes on
collecting, nothing is silently skipped, and large or deep files end fast with a clear error."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.build import BuildOptions, CheckReport, build, check
from pipeline.cli import main
from pipeline.config import load_config
from pipeline.errors import ContentError, DocumentError, Problem
from pipeline.model import SiteConfig
from pipeline.program import assemble
from pipeline.read import read_content
from pipeline.scan import MAX_FILE_BYTES, read_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BROKEN = FIXTURES / "broken_site"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
ITEM = (
    "---\nedition: conf-24\ntype: {type}\ntime_start: 2024-06-10 09:00:00\n"
    "time_end: 2024-06-10 09:30:00\ntitle: {title}\n{extra}---\n{body}"
)

# file -> (line, severity, what the message says). Every file of the broken site is here.
EXPECTED: dict[str, tuple[int, str, str]] = {
    "yaml-tab-indent.md": (5, "error", "YAML does not allow tabs for indentation"),
    "yaml-unclosed-quote.md": (4, "error", "the quote opened on this line is never closed"),
    "yaml-bad-indent.md": (6, "error", "check this line's indentation"),
    "yaml-colon-in-value.md": (4, "error", "a value that contains ': ' must be quoted"),
    "yaml-unclosed-bracket.md": (4, "error", "the '[' opened on this line is never closed"),
    "not-a-mapping.md": (2, "error", "frontmatter must be key: value pairs, not a list"),
    "no-frontmatter.md": (1, "error", "no frontmatter"),
    "frontmatter-not-closed.md": (1, "error", "frontmatter is not closed"),
    "empty.md": (1, "error", "file is empty"),
    "empty-frontmatter.md": (1, "error", "frontmatter is empty"),
    "missing-edition.md": (1, "error", "missing required key 'edition'"),
    "missing-type.md": (1, "error", "missing required key 'type'"),
    "mistyped-title.md": (6, "error", "'title' must be text, not a list"),
    "mistyped-edition.md": (2, "error", "may use only letters, digits"),
    "time-sexagesimal.md": (4, "error", "'9:00' has no date (YAML read it as the number 540)"),
    "time-us-date.md": (4, "error", "puts the year last"),
    "time-not-a-date.md": (4, "error", "'2024-02-30 09:00:00' cannot be read as a date or time"),
    "time-bad-hour.md": (5, "error", "'2024-06-10 25:30' is not a real time"),
    "time-date-only.md": (4, "error", "has a date but no time"),
    "time-words.md": (4, "error", "'after lunch' is not a time"),
    "time-end-before-start.md": (5, "error", "time_end 09:30 is before time_start 10:00"),
    "time-start-only.md": (4, "error", "time_start is given but time_end is missing"),
    "unknown-edition.md": (2, "warning", "edition 'conf-99' is not in the site config"),
    "duplicate-key.md": (5, "error", "key 'title' appears twice"),
    "dup id.md": (1, "error", "id 'conf-24-dup-id' is also made by dup-id.md"),
    "dup-id.md": (1, "error", "id 'conf-24-dup-id' is also made by dup id.md"),
    "clash.md": (7, "error", "id 'conf-24-clash-p1' is also made by clash-p1.md"),
    "clash-p1.md": (1, "error", "id 'conf-24-clash-p1' is also made by clash.md"),
    "deep-nesting.md": (23, "error", "frontmatter is nested more than 20 levels deep"),
    "control-character.md": (4, "error", "control character U+0007 is not allowed"),
    "unknown-tag.md": (4, "error", "a value starting with '!' must be quoted"),
    "alias-undefined.md": (4, "error", "a value starting with '*' or '&' must be quoted"),
    "speaker-not-mapping.md": (6, "error", "'speaker' must be a mapping"),
    "speaker-without-name.md": (6, "error", "speaker has no name"),
    "papers-not-a-list.md": (6, "error", "'papers' must be a list"),
    "paper-without-title.md": (7, "error", "paper 1 has no title"),
    "hidden-not-boolean.md": (6, "error", "hidden must be true or false"),
    "avatar-outside.md": (8, "error", "points outside the content folder; it is not copied"),
    "avatar-absolute.md": (8, "error", "is an absolute path"),
    "paper-hidden-file.md": (8, "error", "is a hidden file or folder; it is not copied"),
    "unknown-key-and-type.md": (3, "warning", "unknown type 'workshop_dinner'"),
    "¿¿.md": (1, "error", "the file name has no letters or digits"),
    "talk.markdown": (0, "warning", "only files ending in '.md' are schedule items"),
    "latin1.md": (6, "error", "not UTF-8 (byte 0xe9 at column 11)"),
    "utf16.md": (1, "error", "file is UTF-16"),
    # Made by the broken_site fixture below: too large for git.
    "too-big.md": (0, "error", "file is 3,145,728 bytes; the limit is 2,097,152"),
    "long-body.md": (8, "error", "the body is 150,000 characters; the limit is 100,000"),
}


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("broken") / "site"
    shutil.copytree(BROKEN, site)
    content = site / "content"
    (content / "too-big.md").write_bytes(b"---\n" + b"x" * (3 * 1024 * 1024 - 4))
    (content / "long-body.md").write_text(
        ITEM.format(type="talk", title="Long", extra="", body="a" * 150_000)
    )
    return site


@pytest.fixture(scope="module")
def report(broken_site: Path) -> CheckReport:
    return check(BuildOptions(content_dir=broken_site / "content"))


def _relative(problem: Problem) -> str:
    return problem.path.split("/content/", 1)[1]


def test_every_broken_file_is_reported_with_its_line(report: CheckReport) -> None:
    by_file: dict[str, list[Problem]] = {}
    for problem in report.problems:
        by_file.setdefault(_relative(problem), []).append(problem)
    for name, (line, severity, text) in EXPECTED.items():
        found = by_file.get(name, [])
        assert any(
            p.line == line and p.severity == severity and text in p.message for p in found
        ), f"{name}: expected line {line} {severity} {text!r}, got {[str(p) for p in found]}"


def test_every_file_is_counted(report: CheckReport, broken_site: Path) -> None:
    """Nothing is silently skipped: each .md file is read and either built or left out."""
    program = report.program
    markdown = sorted(p for p in (broken_site / "content").rglob("*.md"))
    assert program.files_read == len(markdown)
    built = {item.source.path for item in program.items}
    assert built == {"bom.md", "unknown-edition.md", "unknown-key-and-type.md"}
    left_out = set(program.files_left_out)
    assert built | left_out == {p.relative_to(broken_site / "content").as_posix() for p in markdown}
    summary = report.summary()
    assert summary.startswith(f"{len(markdown)} files read, 3 built, {len(markdown) - 3} left out")


def test_bom_and_crlf_are_accepted_silently(report: CheckReport) -> None:
    assert not [p for p in report.problems if _relative(p) == "bom.md"]
    (item,) = [i for i in report.program.items if i.source.path == "bom.md"]
    assert item.title == "BOM and CRLF are fine"
    assert item.abstract_text == "Body."


def test_every_message_is_in_the_docs_table() -> None:
    table = DOCS.read_text(encoding="utf-8")
    for name, (_line, _severity, text) in EXPECTED.items():
        # The table writes variable parts as <placeholders>; compare the fixed words.
        fixed = re.sub(r"'[^']*'|\S+\.md|U\+\w+|0x\w+", " ", text)
        words = re.findall(r"[A-Za-z][A-Za-z_-]*", fixed)
        assert all(word in table for word in words), f"{name}: {text!r} is not in docs/errors.md"


def test_build_fails_once_with_every_error_and_writes_nothing(
    broken_site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dist"
    result = CliRunner().invoke(
        main, ["build", "--content", str(broken_site / "content"), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert not out.exists()
    for name, (line, _severity, _text) in EXPECTED.items():
        where = f"{broken_site / 'content' / name}:{line}:" if line else f"{name}:"
        assert where in result.output, name
    assert re.search(r"\d+ files read, 3 built, \d+ left out", result.output)


def test_keep_going_builds_the_valid_files(broken_site: Path, tmp_path: Path) -> None:
    options = BuildOptions(
        content_dir=broken_site / "content", out_dir=tmp_path / "d", keep_going=True
    )
    result = build(options)
    assert len(result.check.program.items) == 3
    assert (tmp_path / "d" / "index.html").is_file()


# -- reading rules -------------------------------------------------------------------------


def _site(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    content = tmp_path / "content"
    for name, text in files.items():
        path = content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
    return content


def _read(content: Path) -> tuple[list[str], list[Problem]]:
    result = read_content(content, SiteConfig(is_default=True))
    program, more = assemble(result, SiteConfig(is_default=True))
    return [i.id for i in program.items], sorted(result.problems + more)


def test_file_references_resolve_inside_the_content_folder(tmp_path: Path) -> None:
    content = _site(
        tmp_path,
        {
            "conf-24/talk.md": ITEM.format(
                type="talk",
                title="T",
                extra="speaker:\n    name: A\n    avatar: a b#1.jpg\n"
                "presentation: ../shared/s.pdf\n",
                body="",
            ),
            "conf-24/a b#1.jpg": "jpg",
            "shared/s.pdf": "pdf",
        },
    )
    result = read_content(content, SiteConfig(is_default=True))
    assert [p for p in result.problems if p.severity == "error"] == []
    (item,) = result.items
    # The avatar is split at '#' (a fragment), so 'a b' is looked up and not found.
    assert item.speakers[0].avatar == ""
    assert [link.url for link in item.links] == ["media/shared/s.pdf"]
    assert set(result.assets) == {"media/shared/s.pdf"}


def test_a_link_url_is_escaped_for_the_href(tmp_path: Path) -> None:
    content = _site(
        tmp_path,
        {
            "t.md": ITEM.format(
                type="talk", title="T", extra="presentation: slides v2%.pdf\n", body=""
            ),
            "slides v2%.pdf": "pdf",
        },
    )
    (item,) = read_content(content, SiteConfig(is_default=True)).items
    assert [link.url for link in item.links] == ["media/slides%20v2%25.pdf"]


def test_links_that_loop_or_lead_to_devices_are_reported(tmp_path: Path) -> None:
    content = _site(tmp_path, {"ok.md": ITEM.format(type="talk", title="T", extra="", body="")})
    (content / "loop.md").symlink_to(content / "loop.md")
    (content / "fifo-target").mkdir()
    fifo = content / "fifo-target" / "pipe"
    os.mkfifo(fifo)
    (content / "pipe.md").symlink_to(fifo)
    os.mkfifo(content / "raw-pipe.md")
    (content / "linked").symlink_to(content / "fifo-target", target_is_directory=True)
    started = time.perf_counter()
    ids, problems = _read(content)
    assert time.perf_counter() - started < 5  # a FIFO was never opened
    assert ids == ["conf-24-ok"]
    messages = {p.path: p.message for p in problems}
    assert "loops back on itself" in messages["loop.md"]
    assert "not a regular file" in messages["pipe.md"]
    assert "not a regular file" in messages["raw-pipe.md"]
    assert "link to a folder" in messages["linked"]


def test_avatar_that_is_a_link_loop_or_nul_is_reported(tmp_path: Path) -> None:
    extra = 'speaker:\n    name: A\n    avatar: loop.jpg\npresentation: "a\\0b.pdf"\n'
    content = _site(tmp_path, {"t.md": ITEM.format(type="talk", title="T", extra=extra, body="")})
    (content / "loop.jpg").symlink_to(content / "loop.jpg")
    _ids, problems = _read(content)
    messages = [p.message for p in problems if p.severity == "error"]
    assert any("cannot be resolved" in m for m in messages)
    assert any("NUL" in m for m in messages)


def test_time_values(tmp_path: Path) -> None:
    content = _site(
        tmp_path,
        {
            "one-digit.md": ITEM.replace("09:00:00", "9:00").format(
                type="talk", title="T", extra="", body=""
            ),
            "offset.md": ITEM.replace("09:00:00", "09:00:00+02:00").format(
                type="talk", title="T", extra="", body=""
            ),
            "year.md": ITEM.replace("2024-06-10 09:00:00", "0024-06-10 09:00:00").format(
                type="talk", title="T", extra="", body=""
            ),
        },
    )
    ids, problems = _read(content)
    assert sorted(ids) == ["conf-24-offset", "conf-24-one-digit"]
    (problem,) = [p for p in problems if p.severity == "error"]
    assert problem.path == "year.md" and "year 24" in problem.message


# -- limits ------------------------------------------------------------------------------------


def test_a_50_mb_file_is_refused_fast(tmp_path: Path) -> None:
    content = _site(tmp_path, {})
    content.mkdir(parents=True, exist_ok=True)
    with open(content / "huge.md", "wb") as handle:
        handle.write(b"---\nedition: conf-24\ntype: talk\n---\n")
        handle.write(b"word " * (10 * 1024 * 1024))
    started = time.perf_counter()
    _ids, problems = _read(content)
    elapsed = time.perf_counter() - started
    (problem,) = problems
    assert problem.message.startswith("file is 52,428,836 bytes; the limit is 2,097,152")
    assert elapsed < 2, elapsed


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused(
    tmp_path: Path, extra: int
) -> None:
    content = _site(tmp_path, {"edge.md": b"x" * (MAX_FILE_BYTES + extra)})
    path = content / "edge.md"
    for folders in (None, {}):
        if extra <= 0:
            assert read_file(path, "edge.md", content.resolve(), folders) == path.read_bytes()
        else:
            with pytest.raises(DocumentError, match="file is 2,097,153 bytes"):
                read_file(path, "edge.md", content.resolve(), folders)


def test_files_are_read_in_path_order_not_string_order(tmp_path: Path) -> None:
    # "a/z.md" sorts before "a-b/c.md" as a path ('a' < 'a-b'), after it as a string.
    files = {name: ITEM.format(type="talk", title=name, extra="", body="") for name in
             ["a/z.md", "a-b/c.md", "a.md", "A/b.md", "a/b/c.md", "é.md", "b.md"]}  # fmt: skip
    result = read_content(_site(tmp_path, files), SiteConfig(is_default=True))
    assert result.files == sorted(files, key=lambda name: Path(name).parts)
    assert result.files[:3] == ["A/b.md", "a/b/c.md", "a/z.md"]


def _session(papers: int) -> str:
    lines = [
        f"    - title: Paper {i} on sparse attention\n"
        f"      authors: A. Author{i}, B. Author and C. Author\n"
        f"      affiliation: University {i % 50}\n      paper: https://example.org/{i}.pdf\n"
        for i in range(papers)
    ]
    return ITEM.format(
        type="paper_session", title="Huge session", extra="papers:\n" + "".join(lines), body=""
    )


def test_a_10000_paper_session_is_read_in_bounded_time(tmp_path: Path) -> None:
    content = _site(tmp_path, {"session.md": _session(10_000)})
    started = time.perf_counter()
    result = read_content(content, SiteConfig(is_default=True))
    elapsed = time.perf_counter() - started
    assert [p for p in result.problems if p.severity == "error"] == []
    (item,) = result.items
    assert len(item.papers) == 10_000
    assert item.papers[-1].id == "conf-24-session-p10000"
    assert elapsed < 30, elapsed


def test_a_100_level_nested_document_is_a_clear_error(tmp_path: Path) -> None:
    nested = "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v: 1\n"
    flow = "x: " + "[" * 100 + "]" * 100 + "\n"
    crash = "y: " + "[" * 100_000 + "\n"  # libyaml's own composer segfaults on this
    content = _site(
        tmp_path,
        {
            "block.md": f"---\nedition: conf-24\ntype: talk\n{nested}---\n",
            "flow.md": f"---\nedition: conf-24\ntype: talk\n{flow}---\n",
            "crash.md": f"---\nedition: conf-24\ntype: talk\n{crash}---\n",
        },
    )
    _ids, problems = _read(content)
    assert [(p.path, p.line) for p in problems] == [
        ("block.md", 23),
        ("crash.md", 4),
        ("flow.md", 4),
    ]
    assert all("nested more than 20 levels deep" in p.message for p in problems)


def test_aliases_cannot_expand_without_bound(tmp_path: Path) -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    content = _site(tmp_path, {"laughs.md": f"---\nedition: conf-24\ntype: talk\n{laughs}---\n"})
    started = time.perf_counter()
    _ids, problems = _read(content)
    assert time.perf_counter() - started < 5
    (problem,) = problems
    assert "with its aliases expanded" in problem.message


def test_config_errors_do_not_hide_content(broken_site: Path) -> None:
    config = load_config(broken_site / "pipeline.toml")
    assert config.edition("conf-24") is not None
    with pytest.raises(ContentError):
        build(BuildOptions(content_dir=broken_site / "content", out_dir=broken_site / "dist"))
    assert not (broken_site / "dist").exists()
