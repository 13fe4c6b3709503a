"""The `pipeline` command: option parsing only; every command calls one library function."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .build import BuildOptions, CheckReport, build, check
from .errors import ContentError, PipelineError, Problem

_CONTENT = click.option(
    "--content", "content_dir", type=click.Path(path_type=Path, file_okay=False), default="content",
    show_default=True, help="Folder of schedule items (Markdown with YAML frontmatter).",
)  # fmt: skip
_CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Site config file. Default: pipeline.toml beside (or inside) the content folder.",
)  # fmt: skip


class _Commands(click.Group):
    """The commands, with the library's errors shown as Click shows its own: "Error: ..."
    and exit code 1, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            raise click.ClickException(exc.format_message()) from exc


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pipeline")
def main() -> None:
    """Build a searchable schedule site from a folder of Markdown talk files."""


@main.command("build")
@_CONTENT
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default="dist",
    show_default=True, help="Folder to write the site into (replaced atomically).",
)  # fmt: skip
@_CONFIG
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--keep-going", is_flag=True,
    help="Build from every valid file, list the files left out, and still exit non-zero.",
)  # fmt: skip
def build_command(
    content_dir: Path, out_dir: Path, config_path: Path | None, strict: bool, keep_going: bool
) -> None:
    """Build the site into dist/.

    \b
    Example:
      pipeline build --content content --out dist
      pipeline build --content talks --config site.toml --strict
    """
    options = BuildOptions(content_dir, out_dir, config_path, strict, keep_going)
    report = build(options)
    _print_problems(report.check.problems)
    click.echo(f"Built {out_dir}: {report.check.summary()}", err=True)
    click.echo(f"Wrote {report.files_written} files, {report.bytes_written:,} bytes", err=True)
    if report.check.errors:
        left_out = "\n".join(f"  left out: {path}" for path in report.check.program.files_left_out)
        raise ContentError(
            (), f"{left_out}\nbuild finished with {len(report.check.errors)} error(s)"
        )


@main.command("check")
@_CONTENT
@_CONFIG
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text",
    show_default=True, help="text for people, json for tools, github for Actions annotations.",
)  # fmt: skip
def check_command(
    content_dir: Path, config_path: Path | None, strict: bool, output_format: str
) -> None:
    """Validate the content and report every problem; write nothing.

    \b
    Example:
      pipeline check --content content
      pipeline check --format github   # annotations on a pull request
    """
    report = check(BuildOptions(content_dir, Path("dist"), config_path, strict, False))
    if output_format == "json":
        click.echo(json.dumps(_json_report(report), indent=2, sort_keys=True, ensure_ascii=False))
    elif output_format == "github":
        for problem in report.problems:
            level = "error" if problem.severity == "error" else "warning"
            line = f",line={problem.line}" if problem.line else ""
            click.echo(
                f"::{level} file={_escape_property(problem.path)}{line}"
                f"::{_escape_data(problem.message)}"
            )
    else:
        _print_problems(report.problems)
        click.echo(report.summary(), err=True)
    if report.errors:
        sys.exit(1)


@main.command("search")
@click.argument("query")
@click.option(
    "--site", "site_dir", type=click.Path(path_type=Path, file_okay=False), default="dist",
    show_default=True, help="A built site (the output of `pipeline build`).",
)  # fmt: skip
@click.option(
    "--json", "as_json", is_flag=True, help="Print ranked ids, titles and scores as JSON."
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Most hits to show."
)
def search_command(query: str, site_dir: Path, as_json: bool, limit: int) -> None:
    """Search a built site's index with the same rules as the page.

    \b
    Example:
      pipeline search pruning
      pipeline search "speaker:qian" --site dist --json
    """
    from .search import SearchIndex

    hits = SearchIndex.from_site(site_dir).search(query, limit=limit)
    if as_json:
        rows = [
            {"id": h.id, "title": h.title, "score": h.score, "kind": h.card["kind"]} for h in hits
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo(f"No results for {query!r}", err=True)
    for hit in hits:
        click.echo(f"{hit.score:8.3f}  {hit.id}  {hit.title}")


def _print_problems(problems: tuple[Problem, ...]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)


def _json_report(report: CheckReport) -> dict[str, object]:
    return {
        "ok": not report.errors,
        "summary": report.summary(),
        "files_left_out": list(report.program.files_left_out),
        "problems": [
            {"path": p.path, "line": p.line, "message": p.message, "severity": p.severity}
            for p in report.problems
        ],
    }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


@main.command("import")
@click.argument("source")
@_CONTENT
@click.option(
    "--edition", default=None,
    help="File every item under this edition id (needed when the source names no edition).",
)  # fmt: skip
@_CONFIG
def import_command(
    source: str, content_dir: Path, edition: str | None, config_path: Path | None
) -> None:
    """Import a schedule into content/<edition>/ as Markdown files.

    SOURCE is a file or an http(s) URL of a talks.json from this tool (a whole site, or
    editions/<id>/talks.json for one edition), a JSON Feed 1.1, a frab/pretalx
    schedule.json, or an HTML page with schema.org Event JSON-LD. Everything is sanitised.
    A file is only replaced if this command wrote it and nobody edited it since; any other
    file in the way is reported as a conflict, left alone, and the exit status is 1.

    \b
    Example:
      pipeline import https://example.org/emc2/talks.json --content content
      pipeline import schedule.json --edition conf-24
    """
    from .importer import import_schedule

    report = import_schedule(source, content_dir, edition, config_path)
    for result in report.files:
        reason = f": {result.reason}" if result.reason else ""
        click.echo(f"{result.status}: {result.path}{reason}", err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.advice:
        click.echo(report.advice)
    click.echo(report.summary(), err=True)
    if report.conflicts:
        raise PipelineError(f"{len(report.conflicts)} file(s) left alone because of conflicts")


@main.command("serve")
@_CONTENT
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default="dist",
    show_default=True, help="Folder to build into and serve.",
)  # fmt: skip
@_CONFIG
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
    help="Port on 127.0.0.1 to listen on; 0 picks a free one.",
)  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a web browser.")
def serve_command(
    content_dir: Path, out_dir: Path, config_path: Path | None, port: int, open_browser: bool
) -> None:
    """Preview the site: build, serve it on 127.0.0.1, rebuild and reload on every change.

    Watches the content, the templates, the static assets and the config. A broken file's
    error shows in the page and here; the server keeps running. Stop it with Ctrl-C.

    \b
    Example:
      pipeline serve --open
      pipeline serve --content talks --port 8080
    """
    from .serve import serve

    options = BuildOptions(content_dir, out_dir, config_path)
    serve(options, port, open_browser, lambda text: click.echo(text, err=True))


@main.command("new")
@_CONTENT
@_CONFIG
@click.option("--edition", help="Edition id: the file goes into <content>/<edition>/.")
@click.option("--title", help="The item's title.")
@click.option(
    "--type", "item_type",
    help="keynote, talk, invited_talk, panel, paper_session, break, …  [default: talk]",
)  # fmt: skip
@click.option("--speaker", help="Speaker's name (a panel's moderator); leave out for none.")
@click.option("--affiliation", help="The speaker's affiliation.")
@click.option("--start", help="Start, venue time: 'YYYY-MM-DD HH:MM'.")
@click.option("--end", help="End: 'HH:MM' on the start's day, or 'YYYY-MM-DD HH:MM'.")
@click.option("--slug", help="File name without .md. Default: from type and speaker, or title.")
def new_command(
    content_dir: Path, config_path: Path | None, edition: str | None, title: str | None,
    item_type: str | None, speaker: str | None, affiliation: str | None, start: str | None,
    end: str | None, slug: str | None,
) -> None:  # fmt: skip
    """Write a new schedule item file; asks for anything not given (in a terminal).

    Never overwrites a file. The new file is checked with the same reader as a build.

    \b
    Example:
      pipeline new
      pipeline new --edition conf-26 --type keynote --title "Small models" \\
          --speaker "Ada Lovelace" --start "2026-06-15 09:00" --end 10:00
    """
    from .new import NewItem, new_item, prompt

    request = NewItem(edition, title, item_type, speaker, affiliation, start, end, slug)
    result = new_item(content_dir, request, config_path, prompt if sys.stdin.isatty() else None)
    for warning in result.warnings:
        click.echo(f"{result.path}: warning: {warning}", err=True)
    click.echo(f"Wrote {result.path} (id {result.item_id})")


def run() -> None:
    """The installed command: `main`, then an end that skips tearing the interpreter down.

    A build leaves millions of objects in memory (the Program, its caches, the index), and a
    process ending normally collects and frees them one by one: 30 ms after a 1,000-item
    rebuild, 110 ms at 10,000 items (measured), for memory the system takes back at once.
    So once the command has finished (its files written and closed, its threads joined) and
    its output is flushed, the process ends with its exit code, as mypy's does. An error
    Click does not handle is raised as usual, with its traceback."""
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = _exit_code(stop.code)
    _end(code)


def _exit_code(status: object) -> int:
    """What the interpreter makes of sys.exit(status): a message is printed, and means 1."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    print(status, file=sys.stderr)
    return 1


def _end(code: int) -> None:
    import os
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`pipeline check | head`), a closed stream
            code = code or 1
    os._exit(code)
