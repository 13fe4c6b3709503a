"""Signed cache files: what the per-item output caches (output_cache.py) are saved in.

The cache lives beside the content folder in `.pipeline-cache/`. A cache file is a pickle, so
it is signed with a key kept outside the site (in the user's cache folder): one copied in with
a site must never be loaded, and one that fails the check is ignored, as if absent.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import pickle
import secrets
import tempfile
from pathlib import Path
from typing import Any

CACHE_DIR = ".pipeline-cache"


def cache_dir(content_dir: Path) -> Path:
    """Where a content folder's caches live: beside it, never inside (it is not content)."""
    return content_dir.resolve().parent / CACHE_DIR


def _signing_key() -> bytes:
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pipeline"
    path = home / "cache-key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key


def save_signed(path: Path, version: bytes, entries: dict[Any, Any]) -> None:
    """Write entries as a signed pickle; a cache that cannot be written is only a slower build."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = version + pickle.dumps(entries, pickle.HIGHEST_PROTOCOL)
        signature = hmac.new(_signing_key(), payload, hashlib.sha256).digest()
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(signature + payload)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        pass


def load_signed(path: Path, version: bytes) -> dict[Any, Any]:
    """The entries save_signed wrote with this user's key and this code version, else {}."""
    try:
        blob = path.read_bytes()
        key = _signing_key()
    except OSError:
        return {}
    signature, payload = blob[:32], blob[32:]
    # A pickle is only loaded once its signature proves this user's builds wrote it.
    if not hmac.compare_digest(signature, hmac.new(key, payload, hashlib.sha256).digest()):
        return {}
    if payload[: len(version)] != version:
        return {}
    # Unpickling makes a great many objects and no cycles: collections would only rescan them.
    enabled = gc.isenabled()
    gc.disable()
    try:
        entries = pickle.loads(payload[len(version) :])
    except Exception:  # a signed but unreadable cache is just a cold cache
        return {}
    finally:
        if enabled:
            gc.enable()
    return entries if isinstance(entries, dict) else {}
