"""Linux system calls the os module lacks, through the C library; each does nothing (or says
it cannot) elsewhere. And `write_all`, the loop os.write leaves to its callers."""

from __future__ import annotations

import ctypes
import os
from functools import cache
from typing import Any

# sync_file_range(2): start writing the range's dirty pages, and do not wait for them.
_SYNC_FILE_RANGE_WRITE = 2
# mallopt(3) parameters, and the largest threshold the C library accepts on 64-bit Linux.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 << 20


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


@cache
def keep_freed_memory() -> bool:
    """Have the C library keep memory a process frees, for the next allocation, rather than
    hand it back to the system at once; whether it could (glibc only).

    A build allocates and frees buffers of megabytes again and again: the documents it splices,
    the copies of them it reads, numpy's temporaries. By default each comes from a fresh
    mapping, every page of which faults when first written, and is unmapped when freed: a
    1,000-item rebuild took 33,000 page faults, 28,000 with this (a 10,000-item build: 6%
    fewer), and a page fault costs microseconds on a virtual machine. The price is that a
    process keeps its peak heap until it exits."""
    call = getattr(libc(), "mallopt", None)
    if call is None:
        return False
    call.argtypes = (ctypes.c_int, ctypes.c_int)
    # Buffers up to the largest threshold come from the heap, which is then never trimmed.
    kept = call(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX) == 1
    return bool(kept and call(_M_TRIM_THRESHOLD, 2**31 - 1) == 1)


def write_all(fd: int, data: bytes) -> None:
    """Write all of data to fd: os.write may write less (a pipe, a signal)."""
    written = os.write(fd, data)
    if written < len(data):  # the rest, without copying the whole
        view = memoryview(data)
        while written < len(data):
            written += os.write(fd, view[written:])
