"""Documents made of one record per item, rebuilt from the copy the last build wrote.

talks.json and feed.json hold a record per item, tens of megabytes on a large site, and an edit
changes one record. A record is a pure function of its key (a digest of the item and of what
else it is written from), so the last build's file already holds every unchanged record, byte
for byte: the new file is the new head, the old bytes of each known record, the fresh text of
each other one, and the new tail. The old file is used only when its digest is the one this
stage recorded after writing it; anything else (no file, an edited file) means every record is
written afresh, which gives the same bytes.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Sequence

from . import digests
from .joined import Content, Joined
from .output_cache import mapped_output, stage_store
from .records import record

Text = tuple[bytes, ...]


@record
class Written:
    """What a build wrote of one document: its digest, and where each record's bytes lie."""

    digest: bytes
    records: dict[str, tuple[int, int]]


class Splicer:
    """Documents of one stage, each spliced from its last copy where it can be."""

    def __init__(self, stage: str) -> None:
        self.store = stage_store(stage)
        found = self.store.load().get("written") if self.store is not None else None
        self.last: dict[str, Written] = found if isinstance(found, dict) else {}
        self.written: dict[str, Written] = {}

    def document(
        self,
        name: str,
        head: bytes,
        tail: bytes,
        separator: bytes,
        keys: Sequence[str],
        record: Callable[[int], Text],
    ) -> Content:
        """head, then the records (record(i) for keys[i], or its bytes in the last copy)
        joined by separator, then tail."""
        old = self._last_copy(name)
        known = self.last[name].records if old is not None else {}
        view = memoryview(old) if old is not None else memoryview(b"")
        # Bytes, and [start, stop] runs of the last copy: records that lay side by side there,
        # with the separator between them, make one run.
        parts: list[bytes | list[int]] = [head]
        places: dict[str, tuple[int, int]] = {}
        at = len(head)
        for number, key in enumerate(keys):
            if number:
                last = parts[-1]
                stop = last[1] if isinstance(last, list) else -1
                if stop >= 0 and view[stop : stop + len(separator)] == separator:
                    last[1] = stop + len(separator)  # type: ignore[index]
                else:
                    parts.append(separator)
                at += len(separator)
            span = known.get(key)
            if span is not None:
                start, stop = span
                last = parts[-1]
                before = start - len(separator)
                if isinstance(last, list) and last[1] == start:
                    last[1] = stop
                elif last is separator and before >= 0 and view[before:start] == separator:
                    parts[-1] = [before, stop]
                else:
                    parts.append([start, stop])
                size = stop - start
            else:
                text = record(number)
                size = sum(map(len, text))
                parts += text
            places[key] = (at, at + size)
            at += size
        parts.append(tail)
        pieces = [view[p[0] : p[1]] if isinstance(p, list) else p for p in parts]
        # The last copy's runs are written from where they lie in it, never joined (joined.py).
        data: Content = Joined(pieces, old) if old is not None else b"".join(pieces)
        if self.store is not None:
            self.written[name] = Written(digests.sha256(data), places)
        return data

    def _last_copy(self, name: str) -> mmap.mmap | None:
        last = self.last.get(name)
        if last is None:
            return None
        return mapped_output(name, last.digest)

    def save(self) -> None:
        if self.store is not None:
            self.store.replace({"written": self.written})
