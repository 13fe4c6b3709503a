"""Problems found in content, and the one exception the CLI turns into a clean exit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from .records import record

Severity = Literal["error", "warning"]


@record
class Problem:
    """One thing wrong with one file, pinned to a line (1-based; 0 when no line applies)."""

    path: str
    line: int
    message: str
    severity: Severity = "error"

    def __lt__(self, other: Problem) -> bool:
        # Reported by file, then line, then message.
        mine = (self.path, self.line, self.message, self.severity)
        return mine < (other.path, other.line, other.message, other.severity)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}: {prefix}{self.message}"


class DocumentError(Exception):
    """The file cannot be read at all; `problem` says where and why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class PipelineError(Exception):
    """Root of every error the pipeline reports to a user; the CLI prints it without a
    traceback (cli.py turns it into Click's error; the library needs no Click)."""

    def format_message(self) -> str:
        return str(self)


class ContentError(PipelineError):
    """The content has problems; every one of them is listed."""

    def __init__(self, problems: Iterable[Problem], summary: str = "") -> None:
        self.problems = tuple(sorted(problems))
        errors = sum(1 for p in self.problems if p.severity == "error")
        summary = summary or f"{errors} error(s) in content"
        super().__init__("\n".join([*map(str, self.problems), summary]))


class ConfigError(PipelineError):
    """The site config cannot be used."""
