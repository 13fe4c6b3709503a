"""Forked children and the pipes a build talks to them through, on os.fork and os.pipe alone.

multiprocessing does this and much more (spawn, servers, shared-memory locks), and importing
it cost a rebuild of 1,000 items 25 ms of its 0.6 s, measured; a build needs only this: fork
a child that runs a function, send it pickled messages, wait for the first of several to
speak, and reap it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Callable, Iterable
from typing import Any

from . import syscalls

_LENGTH = struct.Struct("!Q")
# What a pipe may hold before its writer waits: Linux's limit for any user (pipe-max-size).
PIPE_BYTES = 1 << 20
# The children forked and not yet waited for.
_unreaped: set[int] = set()


class Channel:
    """One end of a talk with another process: pickled messages, each prefixed by its length.
    Reads `reading`, writes `writing` (either may be None for a one-way channel)."""

    def __init__(self, reading: int | None, writing: int | None) -> None:
        self.reading = reading
        self.writing = writing

    def fileno(self) -> int:
        assert self.reading is not None
        return self.reading

    def send(self, message: Any) -> None:
        assert self.writing is not None
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        syscalls.write_all(self.writing, _LENGTH.pack(len(data)) + data)

    def recv(self) -> Any:
        """The next message; EOFError once the other end is closed with none left."""
        (length,) = _LENGTH.unpack(self._exactly(_LENGTH.size))
        return pickle.loads(self._exactly(length))

    def _exactly(self, size: int) -> bytes:
        assert self.reading is not None
        parts = []
        while size:
            part = os.read(self.reading, min(size, 1 << 20))
            if not part:
                raise EOFError
            parts.append(part)
            size -= len(part)
        return b"".join(parts)

    def close(self) -> None:
        for fd in (self.reading, self.writing):
            if fd is not None:
                os.close(fd)
        self.reading = self.writing = None


def one_way() -> tuple[Channel, Channel]:
    """(receiving end, sending end)."""
    reading, writing = _pipe()
    return Channel(reading, None), Channel(None, writing)


def two_way() -> tuple[Channel, Channel]:
    """Two ends, each sending to the other."""
    a_reads, b_writes = _pipe()
    b_reads, a_writes = _pipe()
    return Channel(a_reads, a_writes), Channel(b_reads, b_writes)


def _pipe() -> tuple[int, int]:
    reading, writing = os.pipe()
    # A pipe holds 64 KiB at first: a build handing its worker the items' tokens (80 kB at
    # 1,000 items) waited until the worker, still importing, read them (0.17 s, measured).
    # A larger buffer lets the sender go on; where the system refuses, it waits as before.
    with contextlib.suppress(OSError):
        fcntl.fcntl(writing, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    return reading, writing


def ready(channels: Iterable[Channel], wait: bool = True) -> list[Channel]:
    """The channels with a message (or an end) to read: once at least one has, or, without
    `wait`, now (perhaps none)."""
    poll = select.poll()
    by_fd = {channel.fileno(): channel for channel in channels}
    for fd in by_fd:
        poll.register(fd, select.POLLIN)
    while True:
        events = poll.poll(None if wait else 0)
        if events or not wait:
            return [by_fd[fd] for fd, _event in events]


class Child:
    """A forked process running target(*args), then ending: exit code 0 once it returned,
    1 if it raised (its traceback printed, as an uncaught exception's would be).

    `keep` are the channel ends the child uses; the others given in `drop` (this process's
    ends) are closed in the child, so each side sees the other's end as end of file."""

    def __init__(
        self,
        target: Callable[..., object],
        args: tuple[Any, ...] = (),
        drop: Iterable[Channel] = (),
    ) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                for channel in drop:
                    channel.close()
                target(*args)
                code = 0
            except SystemExit as exc:
                code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.pid = pid
        self.exitcode: int | None = None
        _unreaped.add(pid)

    def is_alive(self) -> bool:
        if self.exitcode is not None:
            return False
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return True
        self._reaped(status)
        return False

    def join(self) -> None:
        if self.exitcode is None:
            _pid, status = os.waitpid(self.pid, 0)
            self._reaped(status)

    def _reaped(self, status: int) -> None:
        self.exitcode = os.waitstatus_to_exitcode(status)
        _unreaped.discard(self.pid)

    def terminate(self) -> None:
        if self.is_alive():
            os.kill(self.pid, signal.SIGTERM)


def unreaped() -> frozenset[int]:
    """The children forked here and not yet waited for: none once a build has returned."""
    return frozenset(_unreaped)


def die_with_parent() -> None:
    """Ask Linux to end this child when its parent ends (a build killed), so no orphan
    keeps computing."""
    prctl = getattr(syscalls.libc(), "prctl", None)
    if prctl is not None:
        pr_set_pdeathsig = 1
        prctl(pr_set_pdeathsig, signal.SIGKILL)
