"""The C library calls of syscalls.py do what the build relies on them for."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# Page faults of writing a fresh 8 MiB buffer, after an equal one was written and freed.
_REFAULTS = """
import resource, sys
from pipeline import syscalls
if sys.argv[1] == "keep":
    assert syscalls.keep_freed_memory()
size = 8 << 20
first = bytes(bytearray(b"x") * size)
del first
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
second = bytes(bytearray(b"y") * size)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _refaults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _REFAULTS, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_freed_buffer_is_reused_without_faulting_its_pages_again() -> None:
    # 8 MiB is 2,048 pages; the buffer and its bytes copy are written twice over.
    assert _refaults("default") > 2000
    assert _refaults("keep") < 200
