"""Load HuggingKG sources and RDF files into the store, all or nothing; optionally validate.

``load_and_validate`` gives the SHACL verdict of the loaded store at little more than the cost
of the load: when the new store holds exactly one conversion (a replace, or a first load, of a
single release or triples.txt), the records were checked against the shapes while converting
(:mod:`hkg_rdf.record_validation`) and the store validator runs only what that did not prove.
Otherwise (RDF files, several sources, adding to a store) it runs the whole shapes graph.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .convert import converted_in_process
from .errors import InputError
from .iris import IriMinter
from .rdfio import ChunkReader, open_binary, rdf_format
from .record_validation import Proof, ShapesGraph, everything, proven_targets, store_shapes
from .report import Report
from .search import records_path
from .store import load_atomically
from .triples import Terms, is_huggingkg_source


def _bulk_load(store: ox.Store, stream: IO[bytes], fmt: ox.RdfFormat, label: str, lenient: bool = False) -> None:
    try:
        store.bulk_load(stream, fmt, lenient=lenient)
    except SyntaxError as error:
        raise InputError(label, f"invalid {fmt.name}: {error}") from error


#: The first segment of a conversion's bulk load; each later one holds at least all before it.
SEGMENT_BYTES = 16 << 20
#: Chunks (about 1 MB each) read from the conversion while the store builds a segment.
READ_AHEAD = 64
_END = object()


class _ReadAhead:
    """Reads a conversion's chunks in a thread, so the converter never waits on the store."""

    def __init__(self, chunks: Iterator[bytes]):
        self.read, self.ended, self.error = 0, False, None
        self._queue: queue.Queue = queue.Queue(READ_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(chunks,), daemon=True)
        self._thread.start()

    def _run(self, chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                if not self._put(chunk):
                    return
            self._put(_END)
        except BaseException as error:  # raised again by the loading thread (the conversion process died)
            self._put(error)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def segment(self, at_least: int) -> Iterator[bytes]:
        """Chunks until the end, or until ``at_least`` bytes are out and none are waiting."""
        start = self.read
        while not (self.read - start >= at_least and self._queue.empty()):
            item = self._queue.get()
            if item is _END or isinstance(item, BaseException):
                self.ended, self.error = True, None if item is _END else item
                return
            self.read += len(item)
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def bulk_load_converted(store: ox.Store, chunks: Iterator[bytes], label: str) -> None:
    """Bulk-load a conversion's N-Triples, in segments that end where the converter lags.

    Oxigraph's bulk loader builds its indexes in batches of many triples: fed 0.7 M triples
    over 4 s (a converter slower than its parser), it still took 4 s after the last byte, as
    long as a whole load from a file, so the build came after the conversion instead of beside
    it. Here a segment (one bulk load) ends at a chunk boundary, a line boundary, once nothing
    is waiting (the loader caught up) and it holds SEGMENT_BYTES and as much as all segments
    before it: its build overlaps the conversion of what follows (scale 0.01: 8.3 s for load
    --validate instead of 10 to 12 s), and a conversion the loader never catches up with goes
    in one segment, a big one in a few.

    The parser is lenient (no IRI or language-tag validation), as for ``convert`` to other
    formats: the converter writes only IRIs it minted from a validated base and encoded ids,
    and no language tags.
    """
    ahead = _ReadAhead(chunks)
    try:
        while not ahead.ended:
            _bulk_load(store, ChunkReader(ahead.segment(max(SEGMENT_BYTES, ahead.read))), ox.RdfFormat.N_TRIPLES, label, lenient=True)
    finally:
        ahead.close()
    if ahead.error is not None:
        raise ahead.error


def _load_sources(store: ox.Store, sources: list[Path], minter: IriMinter, report: Report, keep_dangling: bool, terms: Terms,
                  shapes: ShapesGraph | None, proof: Proof, index_to: Path | None) -> None:
    for source in sources:
        if is_huggingkg_source(source):
            with converted_in_process(source, minter, report, keep_dangling, terms, shapes, proof, index_to) as chunks:
                bulk_load_converted(store, chunks, str(source))
        else:
            fmt = rdf_format(source)
            try:
                with open_binary(source) as stream:
                    _bulk_load(store, stream, fmt, str(source))
                report.notice(f"loaded {source} as {fmt.name}")
            except OSError as error:
                raise InputError(str(source), f"cannot read: {error}") from error


def _one_conversion(store: ox.Store, sources: list[Path]) -> bool:
    """Will the new version hold exactly one conversion? Then what the converter proves and
    stages (shapes, search rows) holds for the whole store."""
    return next(iter(store), None) is None and len(sources) == 1 and is_huggingkg_source(sources[0])


def load(store_dir: Path, sources: list[Path], minter: IriMinter, keep_dangling: bool = False, replace: bool = False, terms: Terms = Terms()) -> Report:
    """Bulk-load every source into a new version of the store; swap it in only if all succeed."""
    report = Report()

    def loader(store: ox.Store, version: Path) -> None:
        index_to = records_path(version) if _one_conversion(store, sources) else None
        _load_sources(store, sources, minter, report, keep_dangling, terms, None, Proof(set()), index_to)

    load_atomically(store_dir, loader, replace)
    return report


def load_and_validate(store_dir: Path, sources: list[Path], minter: IriMinter, keep_dangling: bool = False, replace: bool = False,
                      shapes_path: Path | None = None, terms: Terms = Terms()):
    """Load as :func:`load` does, and validate the new version against the shapes before it goes live.

    Returns (report, validation result, how much was proven while converting). Violations do
    not stop the load (they are findings about the data, reported like ``validate --store``
    reports them); bad input does, as always.
    """
    from .record_validation import describe
    from .validate import validate_store

    shapes = ShapesGraph.read(shapes_path)
    report, proof, outcome = Report(), Proof(set()), {}

    def loader(store: ox.Store, version: Path) -> None:
        single = _one_conversion(store, sources)
        _load_sources(store, sources, minter, report, keep_dangling, terms, shapes if single else None, proof,
                      records_path(version) if single else None)
        if not single:
            proof.merge(everything(shapes))

    def check(store: ox.Store) -> None:
        whole, rest = store_shapes(shapes, proof)
        if whole:
            outcome["result"] = validate_store(store, shapes.path)
        else:
            with shapes.reduced_file(rest, proven_targets(proof)) as reduced:
                outcome["result"] = validate_store(store, reduced)

    load_atomically(store_dir, loader, replace, check=check)
    return report, outcome["result"], describe(shapes, proof)
