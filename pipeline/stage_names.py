"""The names of the output stages that are heavy (parallel.stage_name): kept apart from the
stages themselves, which a build imports only once the content is read."""

from __future__ import annotations

# Run in forked workers on a large site, in DEFAULT_STAGES order (outputs.py): the longest,
# the search index, first.
HEAVY_STAGES = frozenset({"search_index.outputs", "calendar.outputs", "feeds.outputs"})
# The stage that makes every file under search/, and so the search files' version.
SEARCH_STAGE = "search_index.outputs"
# Heavy stages whose workers write their files into the staging folder themselves: nothing
# in the build's own process needs their bytes (the search files' version takes their
# digests, which the staging folder records).
WRITTEN_BY_WORKERS = HEAVY_STAGES
