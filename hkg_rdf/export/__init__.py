"""Store -> HuggingKG release: the 38 JSON files and triples.txt, streaming and atomic.

Layout: ``OUT/`` receives the 8 entity files, the 30 relation files and ``triples.txt`` side by
side. ``hkg-rdf convert OUT`` and ``hkg-rdf load OUT`` read it unchanged (a release directory is
searched for its files by name; triples.txt is listed as an ignored file), and
``OUT/triples.txt`` is itself a source. No ``HuggingKG_V<timestamp>`` folder is invented: the
store does not know the crawl date, and a stamp of the export time would pass for one.

The store is read in two passes: ``entities`` indexes every release entity (type and id) from
the type and key indexes alone, then ``scan`` reads the default graph once, in subject order,
turning each entity's triples into its record and edges (far ends found in that index, not by
a store lookup) and counting everything else; ``values`` turns literals back into release
values. Records are written as they come, in the constructor's serialisation (``json.dump(...,
indent=4)`` bytes, through records.JsonArrayWriter), so memory holds the index and one entity.

Nothing in the store is dropped silently: every triple not written is counted by reason (with
examples) in a :class:`Report`, and their total is returned under :data:`NOT_EXPORTED`.
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import pyoxigraph as ox

from ..errors import InputError
from ..iris import IriMinter
from ..report import Report
from ..vocab import vocabulary
from .scan import NOT_EXPORTED, TRIPLES_TXT, Exporter
from .values import hub_datetime

__all__ = ["NOT_EXPORTED", "TRIPLES_TXT", "export_release", "hub_datetime"]


def _check_target(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(str(out_dir), "exists and is not an empty directory; export needs a new or empty one")


def export_release(store: ox.Store, out_dir: Path, minter: IriMinter, report: Report | None = None) -> dict[str, int]:
    """Write the store as a HuggingKG release into ``out_dir`` (new or empty), all or nothing.

    ``out_dir`` receives the 38 JSON files (every field of the mapping in mapping order; null
    for an absent scalar, [] for an absent list, list items sorted) and ``triples.txt``. The
    files are written into a temporary directory beside ``out_dir`` and renamed into place at
    the end, so a failure leaves no half export. Returns the records per file, lines of
    triples.txt and, under :data:`NOT_EXPORTED`, the number of store triples not written;
    ``report`` (if given) receives the counts per type and relation and those triples by
    reason, with examples.
    """
    out_dir = out_dir.absolute()
    _check_target(out_dir)
    partial = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}-{time.time_ns()}")
    partial.mkdir(parents=True)
    try:
        with ExitStack() as files:
            counts = Exporter(store, minter, report if report is not None else Report(), vocabulary(), partial, files).run()
        _check_target(out_dir)
        os.replace(partial, out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return counts
