"""The frozen records every stage reads: a Program of editions, items, people and papers."""

from __future__ import annotations

from datetime import datetime
from itertools import chain

from .records import field, record

# Types that are talks by one or more speakers.
TALK_TYPES = frozenset({"keynote", "invited_talk", "grand_keynote", "sponsored_talk", "talk"})
# Types that hold a list of papers.
SESSION_TYPES = frozenset({"paper_session", "poster_session", "lightning_session", "session"})
PANEL_TYPES = frozenset({"panel"})
# Program slots with no speaker.
SLOT_TYPES = frozenset({"welcome", "break", "lunch", "close", "social", "announce"})
KNOWN_TYPES = TALK_TYPES | SESSION_TYPES | PANEL_TYPES | SLOT_TYPES


@record
class Source:
    """Where a record came from: a path relative to the content folder, and a 1-based line."""

    path: str
    line: int = 0


@record
class Asset:
    """A file from the content folder that the build copies into dist/ at `target`."""

    source: str  # absolute path, already checked to lie inside the content folder
    target: str  # posix path inside dist/


@record
class Link:
    """A link shown with an item or paper; `url` has passed the scheme allow-list."""

    label: str
    url: str


@record
class Person:
    """A speaker, panelist or author, as an item's frontmatter names them."""

    name: str
    affiliation: str = ""
    url: str = ""
    # Path of the copied photo inside dist/ (e.g. "media/isca-19/qian.jpg"), or "" for none.
    avatar: str = ""


@record
class Paper:
    """A paper presented in an item (a session of talks, say), with its own id."""

    id: str
    title: str
    authors: tuple[str, ...]
    affiliation: str
    links: tuple[Link, ...]
    source: Source

    @property
    def authors_text(self) -> str:
        return join_names(self.authors)


@record
class Item:
    """One schedule entry: a talk, a session, a panel, a break, or a type we do not know."""

    id: str
    edition: str
    type: str
    title: str
    start: datetime | None
    end: datetime | None
    speakers: tuple[Person, ...]
    moderator: Person | None
    panelists: tuple[Person, ...]
    abstract_html: str
    abstract_text: str
    bio_html: str
    bio_text: str
    papers: tuple[Paper, ...]
    links: tuple[Link, ...]
    location: str
    source: Source

    @property
    def kind(self) -> str:
        """A coarse family used for layout: talk, session, panel, slot or other."""
        if self.type in TALK_TYPES:
            return "talk"
        if self.type in SESSION_TYPES:
            return "session"
        if self.type in PANEL_TYPES:
            return "panel"
        if self.type in SLOT_TYPES:
            return "slot"
        return "other"

    @property
    def people(self) -> tuple[Person, ...]:
        """Everyone on stage, speakers first."""
        extra = (self.moderator,) if self.moderator else ()
        return self.speakers + extra + self.panelists

    @property
    def type_label(self) -> str:
        return self.type.replace("_", " ").capitalize()


@record
class EditionInfo:
    """What the site config says about one edition."""

    id: str
    name: str
    venue: str = ""
    date: str = ""
    timezone: str = "UTC"
    url: str = ""


@record
class SiteConfig:
    """The site config file (pipeline.toml): the site, its editions and how pages are laid out."""

    title: str = "Schedule"
    base_url: str = ""
    timezone: str = "UTC"
    description: str = ""
    editions: tuple[EditionInfo, ...] = ()
    exclude: tuple[str, ...] = ()
    # Where abstracts, bios and papers are shown: "inline" in index.html, "day-pages" (one page
    # per edition and day, index.html listing the schedule compactly), or "auto" (layout.py).
    details: str = "auto"
    # True when no config file was found, so every edition's zone is an assumption.
    is_default: bool = False

    def edition(self, edition_id: str) -> EditionInfo | None:
        return next((e for e in self.editions if e.id == edition_id), None)


@record
class Edition:
    """One edition of the event and its items, in schedule order."""

    info: EditionInfo
    items: tuple[Item, ...]

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def start(self) -> datetime | None:
        starts = [i.start for i in self.items if i.start]
        return min(starts) if starts else None


@record
class Program:
    """Everything that was read and validated; newest edition first."""

    site: SiteConfig
    editions: tuple[Edition, ...]
    assets: tuple[Asset, ...] = ()
    files_read: int = 0
    files_left_out: tuple[str, ...] = field(default=())
    hidden: tuple[str, ...] = ()

    @property
    def items(self) -> tuple[Item, ...]:
        # Chained in C: a build asks for every item a dozen times.
        return tuple(chain.from_iterable(edition.items for edition in self.editions))

    @property
    def papers(self) -> tuple[tuple[Item, Paper], ...]:
        return tuple((item, paper) for item in self.items for paper in item.papers)


def join_names(names: tuple[str, ...] | list[str]) -> str:
    """Join names the way the content writes them: "A, B and C"."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
