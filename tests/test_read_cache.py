"""Files unchanged since the last build are taken from the read cache; nothing else is."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline import read as read_module
from pipeline import read_cache
from pipeline.build import BuildOptions, build, check
from pipeline.cache import cache_dir
from pipeline.config import load_config
from pipeline.errors import ContentError

from .conftest import REPO


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS", 0)
    content = tmp_path / "site" / "content"
    shutil.copytree(REPO / "content", content)
    shutil.copy(REPO / "pipeline.toml", content.parent / "pipeline.toml")
    return content


def _options(content: Path, out: Path | None = None) -> BuildOptions:
    config = content.parent / "pipeline.toml"
    return BuildOptions(
        content_dir=content, out_dir=out or content.parent / "dist", config_path=config
    )


def _reads(monkeypatch: pytest.MonkeyPatch, serial: bool = True) -> list[str]:
    """The files read from disk (not from the cache) by the builds that follow, run in one
    process unless not `serial`."""
    from pipeline import read

    seen: list[str] = []
    original = read._read_one

    def counting(path: str, relative: str, *args: object) -> object:
        seen.append(relative)
        return original(path, relative, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(read, "_read_one", counting)
    if serial:
        monkeypatch.setenv("PIPELINE_NO_PARALLEL", "1")
    return seen


def test_only_changed_files_and_files_that_consult_others_are_read_again(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check(_options(site))
    seen = _reads(monkeypatch)
    check(_options(site))
    # Items that link local slides or photos depend on those files: read every time.
    consulting = sorted(set(seen))
    assert len(consulting) < len(list(site.rglob("*.md"))) / 2
    seen.clear()
    target = next(
        p for p in sorted(site.rglob("*.md")) if p.relative_to(site).as_posix() not in consulting
    )
    target.write_text(target.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    check(_options(site))
    assert sorted(set(seen)) == sorted({*consulting, target.relative_to(site).as_posix()})


def test_a_broken_file_stays_broken_with_its_line(site: Path) -> None:
    broken = site / "broken.md"
    broken.write_text("---\ntitle: Broken\ntype: talk\na: !!bool x\n---\nBody\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ContentError) as caught:
            build(_options(site))
        assert any(
            p.path.endswith("broken.md") and p.line == 4 and "true or false" in p.message
            for p in caught.value.problems
        )


def test_a_linked_file_that_appears_later_is_copied(site: Path) -> None:
    talk = site / "linking.md"
    talk.write_text(
        "---\ntitle: Linking\ntype: talk\nedition: frugal-ml-26\nslides: later.pdf\n---\nBody\n",
        encoding="utf-8",
    )
    first = check(_options(site))
    assert any("later.pdf" in p.message for p in first.warnings)
    (site / "later.pdf").write_bytes(b"%PDF-1.4\n")
    second = check(_options(site))
    assert not any("later.pdf" in p.message for p in second.warnings)
    assert any(a.target.endswith("later.pdf") for a in second.program.assets)


def test_a_file_changed_a_moment_ago_is_used_only_once_its_bytes_prove_the_same(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A racily clean entry: an edit in the same clock tick keeps size, times and inode (made
    here with utime), so only the file's bytes tell it changed."""
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS", 60 * 1_000_000_000)
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS_FINE", 60 * 1_000_000_000)
    check(_options(site))
    assert _stored(site) > 0
    parsed: list[str] = []
    original = read_module._read_one

    def counting(path: str, relative: str, *args: Any) -> Any:
        parsed.append(relative)
        return original(path, relative, *args)

    monkeypatch.setattr(read_module, "_read_one", counting)
    check(_options(site))
    # Those are the files that link slides or photos, read every build; every other entry
    # was used, its bytes being the same.
    always = set(parsed)
    assert 0 < len(always) < len(list(site.rglob("*.md")))
    parsed.clear()
    target = next(
        p for p in sorted(site.rglob("*.md")) if p.relative_to(site).as_posix() not in always
    )
    text = target.read_text(encoding="utf-8")
    before = target.stat()
    with open(target, "r+", encoding="utf-8") as handle:  # same inode
        handle.write(text.replace("title: ", "title: X", 1)[: len(text)])
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    report = check(_options(site))
    assert set(parsed) == always | {target.relative_to(site).as_posix()}
    monkeypatch.setenv("PIPELINE_NO_CACHE", "1")
    assert report.program == check(_options(site)).program


def test_a_replaced_file_with_the_same_size_and_time_is_read_again(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file replaced by another (a new inode) with equal size and modification time."""
    check(_options(site))
    target = sorted(site.rglob("*.md"))[0]
    text = target.read_text(encoding="utf-8")
    swapped = text.replace("title: ", "title: X", 1)[: len(text)]
    stat = target.stat()
    replacement = target.with_suffix(".tmp")
    replacement.write_text(swapped, encoding="utf-8")
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, target)
    report = check(_options(site))
    monkeypatch.setenv("PIPELINE_NO_CACHE", "1")
    assert report.program == check(_options(site)).program


def _stored(content: Path) -> int:
    from pipeline.cache import Store
    from pipeline.output_cache import code_version

    return len(Store(cache_dir(content) / "read.pickle", code_version()).load())


@pytest.mark.parametrize(("whole_seconds", "racy"), [(True, True), (False, False)])
def test_the_racy_window_follows_the_file_systems_time_granularity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, whole_seconds: bool, racy: bool
) -> None:
    """A change a second before the build is racy where times are whole seconds (FAT, HFS+),
    not where they are finer, whose clock ticks in milliseconds."""
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS", 2_000_000_000)
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS_FINE", 100_000_000)
    cache = read_cache.ReadCache(tmp_path, load_config(None))
    path = tmp_path / "a.md"
    path.write_text("x", encoding="utf-8")
    second_ago = (cache.began - 1_000_000_000) // 1_000_000_000 * 1_000_000_000
    stamp = second_ago if whole_seconds else second_ago + 123_456_789
    key = cache.key(str(path), "a.md")
    assert key is not None
    cache.changed[key] = stamp
    stored: list[object] = []
    monkeypatch.setattr(cache.cache, "store", lambda _key, value: stored.append(value))
    cache.store(key, read_cache.FileRead("a.md", None, False, (), (), False, digest=b"d"))
    assert stored == [(stored[0][0], racy)]  # type: ignore[index]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="workers need two cores")
def test_a_build_with_workers_saves_the_read_cache_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker saves the read cache (parallel.run_stages), once its files are handed over."""
    from bench.generate import generate
    from pipeline.parallel import MIN_ITEMS

    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS", 0)
    content = generate(tmp_path / "site", MIN_ITEMS)
    build(_options(content))
    target = sorted(content.rglob("*.md"))[5]
    target.write_text(target.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    seen = _reads(monkeypatch, serial=False)
    build(_options(content))
    assert seen == [target.relative_to(content).as_posix()]


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="workers need two cores")
def test_the_frontmatter_forked_readers_parse_is_kept_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first build large enough to read in forked workers keeps every file's frontmatter,
    not only this process's share: the first rebuild after it parses none."""
    from bench.generate import generate
    from pipeline.parallel import MIN_ITEMS

    monkeypatch.delenv("PIPELINE_NO_CACHE", raising=False)
    monkeypatch.delenv("PIPELINE_NO_PARALLEL", raising=False)
    monkeypatch.setattr(read_cache, "RACY_NANOSECONDS", 0)
    content = generate(tmp_path / "site", MIN_ITEMS)
    build(_options(content))
    parsed = _read_frontmatters(monkeypatch)
    files = sorted(content.rglob("*.md"))
    for target in (files[0], files[len(files) // 2], files[-1]):
        target.write_text(target.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    build(_options(content))
    assert parsed == []


def _read_frontmatters(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The frontmatters parsed by PyYAML (not known already) by the builds that follow."""
    from pipeline import yaml_frontmatter

    parsed: list[str] = []
    original = yaml_frontmatter.read_frontmatter

    def counting(frontmatter: str, *args: Any) -> Any:
        parsed.append(frontmatter)
        return original(frontmatter, *args)

    monkeypatch.setattr(yaml_frontmatter, "read_frontmatter", counting)
    return parsed


def _plain_tree(content: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    with monkeypatch.context() as plain:
        plain.setenv("PIPELINE_NO_CACHE", "1")
        build(_options(content, out))
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_a_frontmatter_read_before_is_not_parsed_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit of the body alone reads the file again but takes its frontmatter as the last
    build read it; an edit of the frontmatter parses it."""
    monkeypatch.setenv("PIPELINE_NO_PARALLEL", "1")
    build(_options(site))
    target = site / "frugal-ml-25" / "keynote-saito.md"
    parsed = _read_frontmatters(monkeypatch)
    reads = _reads(monkeypatch)
    target.write_text(target.read_text(encoding="utf-8") + "\nOne more sentence.\n")
    build(_options(site))
    # Read again: the edited file, and those that consult others (slides, photos).
    assert "frugal-ml-25/keynote-saito.md" in reads
    assert parsed == []
    text = target.read_text(encoding="utf-8").replace('\ntitle: "', '\ntitle: "Renamed ', 1)
    target.write_text(text, encoding="utf-8")
    build(_options(site))
    assert len(parsed) == 1 and "Renamed" in parsed[0]
    out = site.parent / "dist"
    built = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert built == _plain_tree(site, tmp_path / "plain", monkeypatch)


def test_a_damaged_frontmatter_entry_is_parsed_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.document import parse_document
    from pipeline.output_cache import cache_folder

    raw = b'---\nedition: conf\ntype: talk\ntitle: "A: b"\nstart: 2025-05-12 09:00\n---\nBody\n'
    with cache_folder(tmp_path):
        first = read_cache.FrontmatterStore()
        expected = parse_document("a.md", raw, first)
        first.save()
        again = read_cache.FrontmatterStore()
        parsed = _read_frontmatters(monkeypatch)
        assert parse_document("a.md", raw, again) == expected
        assert parsed == []
        key = next(iter(again.fresh or again.loaded or {}))
        assert again.loaded is not None
        again.loaded[key] = b"\x80\x05N."  # a pickled None: not a frontmatter
        assert parse_document("a.md", raw, again) == expected
        assert len(parsed) == 1


def test_a_rebuild_after_a_body_edit_imports_no_yaml(site: Path) -> None:
    """PyYAML's import was 13 ms of a rebuild's main process (in a new process, as
    `pipeline build` runs)."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from pipeline.build import BuildOptions, build; "
        "content = Path(sys.argv[1]); "
        "build(BuildOptions(content, content.parent / 'dist', content.parent / 'pipeline.toml')); "
        "print('yaml' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "PIPELINE_NO_PARALLEL": "1"}
    env.pop("PIPELINE_NO_CACHE", None)
    target = site / "frugal-ml-26" / "close.md"
    imported = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code, str(site)], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        imported.append(done.stdout.split()[-1])
        target.write_text(target.read_text(encoding="utf-8") + "\nOne more sentence.\n")
    done = subprocess.run(
        [sys.executable, "-c", code, str(site)], env=env, capture_output=True, text=True
    )
    imported.append(done.stdout.split()[-1])
    assert imported == ["True", "False", "False"]
