"""The prebuilt Lunr index."""

from __future__ import annotations

from .model import Program


def outputs(program: Program) -> dict[str, bytes]:
    return {}
