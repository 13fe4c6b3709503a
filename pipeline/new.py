"""`pipeline new`: write one new schedule item, content/<edition>/<slug>.md, that builds as is."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import yaml

from .config import find_config, load_config
from .errors import PipelineError
from .model import KNOWN_TYPES, PANEL_TYPES, SLOT_TYPES, TALK_TYPES, SiteConfig
from .read import read_content, slugify
from .records import record
from .times import EXAMPLE, TimeValueError, parse_time

# (question, default) -> answer; None means nobody can be asked (not a terminal).
Ask = Callable[[str, str], str]

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_SLUG_CHARS = 50
# Bodies start as an HTML comment: a hint for the author that the page never shows.
_BODY = (
    "<!-- The abstract goes here, in Markdown. A paragraph that opens with the speaker's name\n"
    "in bold is their bio, e.g. **Ada Lovelace** is ... (this comment is not shown). -->\n"
)
_SLOT_BODY = "<!-- Anything attendees should know, in Markdown (this comment is not shown). -->\n"


@record
class NewItem:
    """What the author gave; any field left None is asked for (or an error, when not asked)."""

    edition: str | None = None
    title: str | None = None
    type: str | None = None
    speaker: str | None = None
    affiliation: str | None = None
    start: str | None = None
    end: str | None = None
    slug: str | None = None


@record
class NewResult:
    path: Path
    item_id: str
    warnings: tuple[str, ...]


def prompt(question: str, default: str) -> str:
    """Ask on the terminal; an empty default lets the author leave an answer blank."""
    answer: str = click.prompt(question, default=default, show_default=bool(default))
    return answer


def new_item(
    content_dir: Path, request: NewItem, config_path: Path | None = None, ask: Ask | None = None
) -> NewResult:
    """Fill in what is missing (asking, if `ask` is given), check it, and write the file.

    Never overwrites: the file is created exclusively, so a file that appears meanwhile is kept.
    """
    config = load_config(config_path or find_config(content_dir))
    answers = _Answers(request, config, ask)
    edition = answers.edition()
    item_type = answers.item_type()
    title = answers.title(item_type)
    speaker, affiliation = answers.speaker(item_type)
    zone = ZoneInfo(info.timezone if (info := config.edition(edition)) else config.timezone)
    start = answers.start(zone)
    end = answers.end(start, zone)
    slug = answers.slug(title, speaker, item_type)
    text = render(edition, item_type, title, speaker, affiliation, start, end)
    warnings = _validate(text, edition, slug, config)
    path = content_dir / edition / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except FileExistsError:
        raise PipelineError(
            f"{path} already exists; it is left alone (choose another --slug)"
        ) from None
    return NewResult(path, f"{edition}-{slug}", warnings)


def render(
    edition: str,
    item_type: str,
    title: str,
    speaker: str,
    affiliation: str,
    start: datetime,
    end: datetime,
) -> str:
    """The file's text, in the layout the existing content uses."""
    lines = [
        "---",
        f"edition: {_yaml(edition)}",
        f"type: {_yaml(item_type)}",
        # Unquoted, as in every existing file: YAML reads them as times.
        f"time_start: {start:%Y-%m-%d %H:%M:%S}",
        f"time_end: {end:%Y-%m-%d %H:%M:%S}",
        f"title: {_yaml(title)}",
    ]
    if speaker:
        key = "moderator" if item_type in PANEL_TYPES else "speaker"
        lines += [f"{key}:", f"    name: {_yaml(speaker)}"]
        if affiliation:
            lines.append(f"    affiliation: {_yaml(affiliation)}")
    lines.append("---")
    return "\n".join(lines) + "\n" + (_SLOT_BODY if item_type in SLOT_TYPES else _BODY)


class _Answers:
    def __init__(self, request: NewItem, config: SiteConfig, ask: Ask | None) -> None:
        self.request = request
        self.config = config
        self.ask = ask

    def get(
        self, given: str | None, flag: str, question: str, default: str = "", optional: bool = False
    ) -> str:
        if given is not None:
            return " ".join(given.split())
        if self.ask is None:
            if default or optional:
                return default
            raise PipelineError(
                f"{flag} is needed (or run `pipeline new` in a terminal to be asked)"
            )
        return " ".join(self.ask(question, default).split())

    def edition(self) -> str:
        known = [e.id for e in self.config.editions]
        default = known[0] if len(known) == 1 else ""
        choices = f" ({', '.join(known)})" if known else ""
        edition = self.get(self.request.edition, "--edition", f"Edition{choices}", default)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", edition):
            raise PipelineError(
                f"edition {edition!r} may use only letters, digits, '.', '_' and '-'"
            )
        return edition

    def item_type(self) -> str:
        item_type = self.get(self.request.type, "--type", "Type", "talk").lower()
        if item_type not in KNOWN_TYPES:
            raise PipelineError(
                f"unknown type {item_type!r}; use one of {', '.join(sorted(KNOWN_TYPES))}"
            )
        return item_type

    def title(self, item_type: str) -> str:
        default = item_type.replace("_", " ").capitalize() if item_type in SLOT_TYPES else ""
        title = self.get(self.request.title, "--title", "Title", default)
        if not title:
            raise PipelineError("the item needs a title")
        return title

    def speaker(self, item_type: str) -> tuple[str, str]:
        if item_type not in TALK_TYPES | PANEL_TYPES:
            # Sessions list papers and slots have nobody; a given name is still kept.
            return " ".join((self.request.speaker or "").split()), " ".join(
                (self.request.affiliation or "").split()
            )
        who = "Moderator" if item_type in PANEL_TYPES else "Speaker"
        # Optional: an empty answer (or no flag, without a terminal) writes no speaker.
        speaker = self.get(
            self.request.speaker, "--speaker", f"{who} (blank for none)", optional=True
        )
        if not speaker:
            return "", ""
        question = "Affiliation (blank for none)"
        return speaker, self.get(self.request.affiliation, "--affiliation", question, optional=True)

    def start(self, zone: ZoneInfo) -> datetime:
        text = self.get(
            self.request.start, "--start", f"Starts at (venue time, e.g. {EXAMPLE[:16]})"
        )
        try:
            return parse_time(text.replace("T", " ", 1), zone, text)
        except TimeValueError as exc:
            raise PipelineError(f"--start {exc}") from None

    def end(self, start: datetime, zone: ZoneInfo) -> datetime:
        text = self.get(self.request.end, "--end", "Ends at (HH:MM the same day, or a full time)")
        clock = _CLOCK.match(text)
        try:
            if clock:
                hour, minute, second = (int(g or 0) for g in clock.groups())
                end = start.replace(hour=hour, minute=minute, second=second)
            else:
                end = parse_time(text.replace("T", " ", 1), zone, text)
        except (TimeValueError, ValueError) as exc:
            raise PipelineError(f"--end {exc}") from None
        if end < start:
            raise PipelineError(
                f"--end {end:%Y-%m-%d %H:%M} is before --start {start:%Y-%m-%d %H:%M}"
            )
        return end

    def slug(self, title: str, speaker: str, item_type: str) -> str:
        if self.request.slug is not None:
            slug = slugify(self.request.slug)
            if not slug:
                raise PipelineError(f"--slug {self.request.slug!r} has no letters or digits")
            return slug
        # Like the existing files: a talk is named after its speaker, anything else its title.
        surname = speaker.split()[-1] if speaker and item_type in TALK_TYPES else ""
        slug = slugify(f"{item_type.split('_')[0]} {surname}" if surname else title)
        if len(slug) > _SLUG_CHARS:
            slug = slug[:_SLUG_CHARS].rsplit("-", 1)[0]
        return slug or slugify(item_type)


def _yaml(value: str) -> str:
    """One YAML scalar, quoted only when it must be (a colon, a leading quote, 'yes', '10:30')."""
    dumped = yaml.safe_dump(value, allow_unicode=True, width=1_000_000, default_flow_style=True)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


def _validate(text: str, edition: str, slug: str, config: SiteConfig) -> tuple[str, ...]:
    """Read the new file with the project's own reader, alone in a scratch content folder."""
    with tempfile.TemporaryDirectory(prefix="pipeline-new-") as scratch:
        folder = Path(scratch) / edition
        folder.mkdir()
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")
        result = read_content(Path(scratch), config)
    errors = [p for p in result.problems if p.severity == "error"]
    if errors or len(result.items) != 1:
        details = "; ".join(f"line {p.line}: {p.message}" for p in errors) or "no item was read"
        raise PipelineError(f"the new item would not build ({details})")
    return tuple(f"line {p.line}: {p.message}" for p in result.problems)
