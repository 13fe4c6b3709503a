"""The docs keep up with the code: every command and option, every content and config key."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml

from pipeline import config, item_reader
from pipeline.cli import main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
CI_DOC = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
WORKFLOW = REPO / ".github" / "workflows" / "pipeline.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"


def _commands() -> dict[str, click.Command]:
    assert isinstance(main, click.Group)
    return dict(main.commands)


def _section(text: str, heading: str) -> str:
    """The text under one Markdown heading, up to the next heading of the same or higher level.

    Lines inside fenced code blocks are never headings (`# comment` in a shell example).
    """
    lines = text.splitlines()
    fenced = False
    start, level = -1, 0
    for number, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
            continue
        found = None if fenced else re.match(r"(#+) (.*?)\s*$", line)
        if not found:
            continue
        if start < 0 and found.group(2) == heading:
            start, level = number + 1, len(found.group(1))
        elif start >= 0 and len(found.group(1)) <= level:
            return "\n".join(lines[start:number])
    assert start >= 0, f"README has no heading {heading!r}"
    return "\n".join(lines[start:])


def _names(command: click.Command) -> list[str]:
    """How a reader meets each parameter: --long options, and arguments by their metavar."""
    names = []
    for param in command.params:
        if isinstance(param, click.Argument):
            names.append((param.name or "").upper())
        else:
            names += [o for o in [*param.opts, *param.secondary_opts] if o.startswith("--")]
    return names


def test_readme_starts_with_the_two_setup_commands() -> None:
    first_block = re.search(r"```\w*\n(.*?)```", README, re.DOTALL)
    assert first_block
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["bash scripts/build-sample.sh", "bash scripts/test.sh"]
    assert README.index(first_block.group(0)) < 300
    for script in ("build-sample.sh", "test.sh"):
        assert (REPO / "scripts" / script).is_file()


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_and_option_is_documented(name: str) -> None:
    command = _commands()[name]
    section = _section(README, f"`pipeline {name}`")
    missing = [n for n in _names(command) if n not in section and n != "--help"]
    assert not missing, f"README's `pipeline {name}` section does not mention {missing}"
    # Each command's --help says what it does and shows an example.
    assert command.help and "Example:" in command.help


def test_top_level_options_are_documented() -> None:
    for option in _names(main):
        assert option in README, option
    assert "-h" in README


def test_every_content_key_is_documented() -> None:
    section = _section(README, "The content format")
    keys = item_reader._ITEM_KEYS | item_reader._PERSON_KEYS | item_reader._PAPER_KEYS
    missing = sorted(k for k in keys if f"`{k}`" not in section)
    assert not missing, f"content keys missing from the README: {missing}"


def test_every_config_key_is_documented() -> None:
    section = _section(README, "The site config (`pipeline.toml`)")
    keys = config._SITE_KEYS | config._EDITION_KEYS
    missing = sorted(k for k in keys if f"`{k}`" not in section)
    assert not missing, f"config keys missing from the README: {missing}"


def test_readme_keeps_the_performance_section() -> None:
    assert "## Performance" in README


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)


def test_ci_doc_shows_the_real_workflow_and_hooks() -> None:
    blocks = _yaml_blocks(CI_DOC)
    assert WORKFLOW.read_text(encoding="utf-8") in blocks
    assert HOOKS.read_text(encoding="utf-8") in blocks
    for block in blocks:
        yaml.safe_load(block)


def test_workflow_checks_pull_requests_and_builds_main() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as true.
    triggers = workflow.get("on", workflow.get(True))
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    runs = {
        name: " ".join(s.get("run", "") for s in job.get("steps", [])) for name, job in jobs.items()
    }
    assert "pipeline check --format github" in runs["check"]
    assert jobs["check"]["if"] == "github.event_name == 'pull_request'"
    assert "pipeline build" in runs["build"]
    uploads = [s for s in jobs["build"]["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["path"] == "dist"


def test_pre_commit_hook_runs_check() -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert hook["id"] == "pipeline-check"
    assert hook["entry"].startswith("pipeline check")
    pattern = re.compile(hook["files"])
    assert pattern.search("content/conf-26/talk.md") and pattern.search("pipeline.toml")
    assert not pattern.search("pipeline/cli.py")


def test_embedding_doc_names_the_cors_header_and_attributes() -> None:
    text = (REPO / "docs" / "embedding.md").read_text(encoding="utf-8")
    assert "Access-Control-Allow-Origin: *" in text
    widget = (REPO / "static" / "widget.js").read_text(encoding="utf-8")
    for attribute in re.findall(r'this\.getAttribute\("([a-z-]+)"\)', widget):
        assert f"`{attribute}`" in text, attribute
    for prop in set(re.findall(r"--talk-search-[a-z-]+", widget)):
        assert f"`{prop}`" in text, prop
