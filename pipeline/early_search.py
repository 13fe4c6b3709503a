"""The search stage, begun before the content is read.

On a rebuild much of the search stage is making ready: loading the last build's state
(search_light.py), and importing numpy should the index need weighing whole. A worker forked
before the content is read does that on the core the reading leaves idle, after surveying the
content folder for the read cache (read_cache.survey) while the build loads that cache. Once
the Program is read, the build offers it the items' tokens and the items read afresh, and goes
on; the worker asks for any other item its state lacks, and writes its files into the staging
folder like any worker (parallel.Early).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path

from .layout import uses_day_pages
from .model import Item, Program
from .output_cache import cache_folder, code_version, token
from .parallel import Early, Sunk, Talk, start_early
from .read_cache import Survey, survey
from .stage_names import SEARCH_STAGE
from .write import Elsewhere, Staging

STAGE = SEARCH_STAGE
# Where the search stage's files lie in the site.
FILES = ("search/",)
# A smaller state is a site small enough for the search stage to start with the others.
MIN_STATE_BYTES = 1 << 20
# Items go to the worker pickled (a forked worker inherits them for nothing): beyond this
# share of the items, as after an upgrade that voids the state, it declines, and the search
# stage starts with the others (10,000 items took 0.8 s to hand over, measured).
MOST_HANDED_OVER = 1 / 8


def start(content_dir: Path, folder: Path | None) -> Early | None:
    """The early search worker of a rebuild (its state is in `folder`, the build's cache
    folder), or None: no cache, a small site, or no second core. Start it under the build's
    lock: it reads that build's caches."""
    if folder is None:
        return None
    try:
        size = (folder / "search.pickle").stat().st_size
    except OSError:
        return None
    if size < MIN_STATE_BYTES:
        return None
    # Made here, before the fork, for both processes: this one needs it for the read cache.
    code_version()
    return start_early(STAGE, partial(_serve, content_dir, folder))


def survey_of(early: Early) -> Survey:
    """The content folder's survey, which the early worker makes first."""
    made = early.receive()
    assert isinstance(made, Survey)
    return made


def offer(
    early: Early,
    program: Program,
    folder: Path,
    known: Iterable[tuple[object, str]],
    afresh: Sequence[Item],
) -> bool:
    """Tell the early worker what it needs of the Program: the items' tokens (`known` are
    those the read cache kept, read_cache.py), the editions, and the items read afresh (the
    edited ones: those its state lacks, most likely). It compares them with its state
    meanwhile; `settle` hears what it decided.

    False, and nothing told, when most items were read afresh (after an upgrade, or a
    checkout of another branch): its state lacks them too, most likely, and the search stage
    had better start with the others now than once the worker has said so."""
    fresh = {id(item) for item in afresh}
    if len(fresh) > MOST_HANDED_OVER * len(program.items):
        return False
    with cache_folder(folder, (), known):
        tokens = tuple(token(item) for item in program.items)
    editions = tuple((edition.id, edition.info.name) for edition in program.editions)
    offered = {number: item for number, item in enumerate(program.items) if id(item) in fresh}
    early.tell((tokens, editions, uses_day_pages(program), offered))
    return True


def tell_where(early: Early, staging: Staging) -> None:
    """Where the early worker puts its files (the staging folder): told once that folder
    exists, so that the worker writes them as soon as they are made, not once this process
    has rendered and settles (a traced 1,000-item rebuild then waited 35 ms for them). With
    them goes what the trees' manifests say of its files: loading the manifests itself took
    the worker 5 ms of a 1,000-item rebuild, on the build's longest path."""
    early.tell(staging.elsewhere(FILES))


def settle(early: Early, program: Program, wait: bool) -> bool | None:
    """After `offer` and `tell_where`: whether the early worker runs the search stage, once
    it has said so (None until then, unless `wait`). If it lacks items it was not offered,
    they are sent. False when it declined (it lacks most of the items): it is then done,
    and the build runs the search stage as it runs the others."""
    if not wait and not early.speaking():
        return None
    lacking = early.receive()
    if lacking is None:
        return False
    if lacking:
        early.tell({number: program.items[number] for number in lacking})
    return True


def _serve(content_dir: Path, folder: Path, talk: Talk) -> Sunk | None:
    talk.reply(survey(content_dir))
    from .search_index import SearchInputs, SearchStage  # and what they import, here

    with cache_folder(folder):
        stage = SearchStage()
    tokens, editions, day_pages, items = talk.receive()
    inputs = SearchInputs(tokens, editions, day_pages)
    missing = stage.missing(inputs.tokens)
    if len(missing) > MOST_HANDED_OVER * len(tokens):
        talk.reply(None)
        return None
    lacking = [number for number in missing if number not in items]
    talk.reply(lacking)
    where: Elsewhere = talk.receive()
    if lacking:
        items.update(talk.receive())
    with cache_folder(folder):
        files = stage.outputs(inputs, [items.get(n) for n in range(len(inputs.tokens))])
    return Sunk(frozenset(files), where.put(files))
