"""Forked children and their pipes (forks.py): what the workers of a build stand on."""

from __future__ import annotations

import os
import sys
import time

import pytest

from pipeline import forks
from pipeline.forks import Channel, Child, one_way, ready, two_way


def _echo_twice(channel: Channel) -> None:
    message = channel.recv()
    channel.send(message)
    channel.send(message)


def test_a_message_larger_than_any_pipe_buffer_arrives_whole() -> None:
    """Five megabytes each way: more than a pipe holds, so both sides write in pieces."""
    here, there = two_way()
    child = Child(_echo_twice, (there,), drop=(here,))
    there.close()
    message = {"data": os.urandom(5 << 20), "names": list(range(1000))}
    here.send(message)
    assert here.recv() == message
    assert here.recv() == message
    # The child has ended and closed its end: what follows is the end of the talk.
    with pytest.raises(EOFError):
        here.recv()
    child.join()
    assert child.exitcode == 0
    here.close()
    assert child.pid not in forks.unreaped()


def _fail() -> None:
    raise ValueError("the stage broke")


def _exit_with(code: int) -> None:
    sys.exit(code)


def test_a_child_that_raises_ends_with_code_1_and_prints_why(
    capfd: pytest.CaptureFixture[str],
) -> None:
    child = Child(_fail)
    child.join()
    assert child.exitcode == 1
    assert "ValueError: the stage broke" in capfd.readouterr().err


def test_a_child_ends_with_the_code_it_exits_with() -> None:
    for code in (0, 3):
        child = Child(_exit_with, (code,))
        child.join()
        assert child.exitcode == code


def test_a_terminated_child_is_reaped_and_ready_sees_its_end() -> None:
    receiving, sending = one_way()
    child = Child(time.sleep, (60,), drop=(receiving,))
    sending.close()
    assert child.is_alive()
    child.terminate()
    # Its end of the pipe closed with it: the pipe is ready, and reads as its end.
    assert ready([receiving]) == [receiving]
    with pytest.raises(EOFError):
        receiving.recv()
    child.join()
    assert not child.is_alive()
    assert child.exitcode == -15
    assert child.pid not in forks.unreaped()
    receiving.close()


def _send_after(channel: Channel, delay: float, message: str) -> None:
    time.sleep(delay)
    channel.send(message)


def test_ready_gives_the_channel_that_spoke_first() -> None:
    slow_in, slow_out = one_way()
    fast_in, fast_out = one_way()
    slow = Child(_send_after, (slow_out, 2.0, "slow"), drop=(slow_in, fast_in))
    fast = Child(_send_after, (fast_out, 0.0, "fast"), drop=(slow_in, fast_in))
    slow_out.close()
    fast_out.close()
    assert ready([slow_in, fast_in]) == [fast_in]
    assert fast_in.recv() == "fast"
    assert slow_in.recv() == "slow"
    for child in (slow, fast):
        child.join()
    for channel in (slow_in, fast_in):
        channel.close()
