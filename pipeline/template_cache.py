"""Compiled templates kept between builds, signed like every other cache.

Jinja2 compiles each template to Python code at every start, about a quarter of a second for
the bundled ones, which a rebuild after a one-file edit would pay each time. Jinja2's own
FileSystemBytecodeCache would load whatever code objects it found in the folder, and a
`.pipeline-cache/` copied in with a site must never run; so the compiled code is kept in a
signed store (cache.py), which Jinja2 checks against each template's source checksum and its
own and Python's versions before using it.
"""

from __future__ import annotations

from jinja2.bccache import Bucket, BytecodeCache

from .output_cache import stage_store


class SignedBytecodeCache(BytecodeCache):
    """Jinja2's bytecode cache over the signed `templates` store of this build's cache folder."""

    def __init__(self) -> None:
        self.store = stage_store("templates")
        found = self.store.load() if self.store is not None else {}
        self.entries: dict[str, bytes] = {
            key: value
            for key, value in found.items()
            if isinstance(key, str) and isinstance(value, bytes)
        }
        self.changed = False

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def load_bytecode(self, bucket: Bucket) -> None:
        # Bucket.bytecode_from_string drops code of another checksum, Jinja2 or Python.
        data = self.entries.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.entries[bucket.key] = bucket.bytecode_to_string()
        self.changed = True

    def save(self) -> None:
        if self.store is not None and self.changed:
            self.store.replace(self.entries)
