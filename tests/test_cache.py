"""The signed cache store: a base, and a journal of what later builds added."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cache import UNUSED_SHARE, Store

VERSION = b"v1"


@pytest.fixture(autouse=True)
def _own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


def _build(path: Path, used: dict[str, str]) -> Store:
    """What one build does: load, then save what it used."""
    store = Store(path, VERSION)
    loaded = store.load()
    store.save(used, loaded)
    return store


def _many(count: int, tag: str = "") -> dict[str, str]:
    return {f"key{n}{tag}": f"value{n}{tag}" for n in range(count)}


def _edited(entries: dict[str, str], *keys: str) -> dict[str, str]:
    """Entries are keyed by a digest of what they are made of: an edit is a new key."""
    kept = {key: value for key, value in entries.items() if key not in keys}
    return kept | {f"{key}-edited": "edited" for key in keys}


def test_first_save_writes_the_base_and_no_journal(tmp_path: Path) -> None:
    path = tmp_path / "stage.pickle"
    _build(path, _many(100))
    assert path.is_file()
    assert not path.with_name("stage.pickle.journal").exists()
    assert Store(path, VERSION).load() == _many(100)


def test_a_small_change_goes_to_the_journal_and_leaves_the_base_alone(tmp_path: Path) -> None:
    path = tmp_path / "stage.pickle"
    _build(path, _many(100))
    base = path.read_bytes()
    _build(path, _edited(_many(100), "key7"))
    assert path.read_bytes() == base
    assert path.with_name("stage.pickle.journal").is_file()
    assert Store(path, VERSION).load() == _many(100) | {"key7-edited": "edited"}
    # A second edit keeps the first one's entry only while a build still uses it; the
    # base keeps its unused entries until it is rewritten.
    _build(path, _edited(_many(100), "key8"))
    assert path.read_bytes() == base
    store = Store(path, VERSION)
    assert store.load() == _many(100) | {"key8-edited": "edited"}
    assert store.journal == {"key8-edited": "edited"}


def test_a_large_journal_is_folded_into_a_new_base_of_used_entries_only(tmp_path: Path) -> None:
    path = tmp_path / "stage.pickle"
    _build(path, _many(100))
    # A new entry as large as all the others: the journal would be half the base.
    used = {**_many(100), "big": "x" * len(path.read_bytes())}
    _build(path, used)
    assert not path.with_name("stage.pickle.journal").exists()
    store = Store(path, VERSION)
    assert store.load() == used
    assert store.base_keys == frozenset(used)


def test_unused_entries_are_dropped_once_they_pass_a_share(tmp_path: Path) -> None:
    path = tmp_path / "stage.pickle"
    _build(path, _many(100))
    kept = _many(100 - 100 // (UNUSED_SHARE + 1) - 1)
    _build(path, kept)
    assert not path.with_name("stage.pickle.journal").exists()
    assert Store(path, VERSION).load() == kept


def test_the_journal_holds_what_the_base_lacks_across_edits(tmp_path: Path) -> None:
    path = tmp_path / "stage.pickle"
    _build(path, _many(100))
    base = path.read_bytes()
    first = _edited(_many(100), "key1")
    _build(path, first)
    _build(path, _edited(first, "key2"))
    store = Store(path, VERSION)
    assert path.read_bytes() == base
    assert store.load() == _many(100) | {"key1-edited": "edited", "key2-edited": "edited"}
    assert store.journal == {"key1-edited": "edited", "key2-edited": "edited"}


def test_a_journal_of_another_base_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "stage.pickle"
    _build(path, _many(100))
    _build(path, _edited(_many(100), "key1"))
    journal = path.with_name("stage.pickle.journal").read_bytes()
    # The base is rewritten (by a build that changed much), then an old journal comes back.
    _build(path, _many(100, "-other"))
    path.with_name("stage.pickle.journal").write_bytes(journal)
    assert Store(path, VERSION).load() == _many(100, "-other")


def test_a_tampered_journal_or_base_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "stage.pickle"
    _build(path, _many(100))
    _build(path, _edited(_many(100), "key1"))
    journal_path = path.with_name("stage.pickle.journal")
    journal = bytearray(journal_path.read_bytes())
    journal[-3] ^= 1
    journal_path.write_bytes(bytes(journal))
    assert Store(path, VERSION).load() == _many(100)
    base = bytearray(path.read_bytes())
    base[-3] ^= 1
    path.write_bytes(bytes(base))
    assert Store(path, VERSION).load() == {}


def test_another_version_sees_nothing(tmp_path: Path) -> None:
    path = tmp_path / "stage.pickle"
    _build(path, _many(100))
    _build(path, _edited(_many(100), "key1"))
    assert Store(path, b"v2").load() == {}


def test_installed_versions_agree_with_importlib_metadata() -> None:
    from importlib.metadata import version

    from pipeline.output_cache import installed_versions

    names = ["jinja2", "markdown-it-py", "MarkupSafe", "tzdata"]
    found = installed_versions([*names, "no-such-package"])
    assert found == sorted(
        [*(f"{name}-{version(name)}" for name in names), "no-such-package-?"],
        key=lambda text: text.rpartition("-")[0].replace("-", "_").lower(),
    )
