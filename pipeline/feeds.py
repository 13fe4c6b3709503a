"""talks.json (with its JSON Schema) and feed.json (JSON Feed 1.1)."""

from __future__ import annotations

from .model import Program


def outputs(program: Program) -> dict[str, bytes]:
    return {}
