"""Where the templates, static assets and lunr.js live, in a checkout or an installed wheel."""

from __future__ import annotations

from pathlib import Path

from .errors import PipelineError

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _pick(installed: Path, checkout: Path) -> Path:
    # A wheel carries the files under pipeline/_data; a checkout keeps them at the top level.
    return installed if installed.exists() else checkout


def templates_dir() -> Path:
    return _pick(_PACKAGE / "_data" / "templates", _CHECKOUT / "templates")


def static_dir() -> Path:
    return _pick(_PACKAGE / "_data" / "static", _CHECKOUT / "static")


def schemas_dir() -> Path:
    # Inside the package in a checkout and a wheel alike. Not importlib.resources: reading a
    # file through it imported zipfile, 12 ms of a rebuild's feeds stage, measured.
    return _PACKAGE / "schemas"


def lunr_js() -> Path:
    path = _pick(
        _PACKAGE / "_data" / "vendor" / "lunr.js", _CHECKOUT / "node_modules" / "lunr" / "lunr.js"
    )
    if not path.is_file():
        raise PipelineError(
            "lunr.js is missing: run `npm ci` in the project folder (it installs lunr 2.3.9), "
            "or install pipeline from a wheel, which carries it"
        )
    return path
