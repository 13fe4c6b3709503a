"""Linux system calls the os module lacks, through the C library; each does nothing (or says
it cannot) elsewhere. And `write_all`, the loop os.write leaves to its callers."""

from __future__ import annotations

import ctypes
import os
from functools import cache
from typing import Any

# sync_file_range(2): start writing the range's dirty pages, and do not wait for them.
_SYNC_FILE_RANGE_WRITE = 2


@cache
def libc() -> ctypes.CDLL:
    """The process's own symbols, the C library's among them: ctypes.util.find_library would
    import subprocess, and run a program, to find that library's file."""
    return ctypes.CDLL(None, use_errno=True)


def syncfs(fd: int) -> int:
    """syncfs(2) on the filesystem holding fd: 0 on success, -1 where unavailable."""
    call = getattr(libc(), "syncfs", None)
    if call is None:
        return -1
    result: int = call(fd)
    return result


@cache
def _sync_file_range() -> Any:
    call = getattr(libc(), "sync_file_range", None)
    if call is not None:
        call.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    return call


def start_writeback(fd: int) -> None:
    """Start writing an open file's data to disk now, without waiting for it, so that a sync
    later has less left to wait for."""
    call = _sync_file_range()
    if call is not None:
        call(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)


def write_all(fd: int, data: bytes) -> None:
    """Write all of data to fd: os.write may write less (a pipe, a signal)."""
    written = os.write(fd, data)
    if written < len(data):  # the rest, without copying the whole
        view = memoryview(data)
        while written < len(data):
            written += os.write(fd, view[written:])
