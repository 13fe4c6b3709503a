"""iCalendar files: the whole schedule, each edition, and each item."""

from __future__ import annotations

from .model import Program


def outputs(program: Program) -> dict[str, bytes]:
    return {}
