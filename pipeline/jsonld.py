"""schema.org Event JSON-LD for the page."""

from __future__ import annotations

from typing import Any

from .model import Program


def events(program: Program) -> list[dict[str, Any]]:
    return []
