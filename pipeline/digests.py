"""The SHA-256 of each large output, computed once in a process.

A stage digests some of the files it makes, to know them again at the next build (splice.py,
page_cache.py), and the tree they are written into digests every file for its manifest
(trees.py): the same bytes, megabytes of them on a rebuild. Each digest of a large output is
kept here under the bytes object itself, so that the second to ask finds it.
"""

from __future__ import annotations

import hashlib

from .joined import Content, Joined

# Smaller outputs are digested again: keeping them would cost more than it saves.
WORTH_KEEPING = 1 << 16
_known: dict[int, tuple[bytes, bytes]] = {}


def sha256(data: Content) -> bytes:
    if isinstance(data, Joined):
        return data.sha256()
    found = _known.get(id(data))
    # The entry holds the bytes object, so its id cannot be another object's meanwhile.
    if found is not None and found[0] is data:
        return found[1]
    digest = hashlib.sha256(data).digest()
    if len(data) >= WORTH_KEEPING:
        _known[id(data)] = (data, digest)
    return digest


def learn(data: bytes, digest: bytes) -> None:
    """Keep the SHA-256 of these bytes, whatever their size: a stage that cached an output with
    its digest spares the tree digesting it again."""
    _known[id(data)] = (data, digest)


def forget() -> None:
    """Let the outputs go: a build calls it as it ends (`pipeline serve` builds again and
    again in one process)."""
    _known.clear()
