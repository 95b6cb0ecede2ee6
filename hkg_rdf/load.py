"""Load HuggingKG sources and RDF files into the store, all or nothing; optionally validate.

``load_and_validate`` gives the SHACL verdict of the loaded store at little more than the cost
of the load: when the new store holds exactly one conversion (a replace, or a first load, of a
single release or triples.txt), the records were checked against the shapes while converting
(:mod:`hkg_rdf.record_validation`) and the store validator runs only what that did not prove.
Otherwise (RDF files, several sources, adding to a store) it runs the whole shapes graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .convert import converted_in_process
from .errors import InputError
from .iris import IriMinter
from .rdfio import open_binary, rdf_format
from .record_validation import Proof, ShapesGraph, everything, store_shapes
from .report import Report
from .search import records_path
from .store import load_atomically
from .triples import Terms, is_huggingkg_source


def _bulk_load(store: ox.Store, stream: IO[bytes], fmt: ox.RdfFormat, label: str) -> None:
    try:
        store.bulk_load(stream, fmt)
    except SyntaxError as error:
        raise InputError(label, f"invalid {fmt.name}: {error}") from error


def _load_sources(store: ox.Store, sources: list[Path], minter: IriMinter, report: Report, keep_dangling: bool, terms: Terms,
                  shapes: ShapesGraph | None, proof: Proof, index_to: Path | None) -> None:
    for source in sources:
        if is_huggingkg_source(source):
            with converted_in_process(source, minter, report, keep_dangling, terms, shapes, proof, index_to) as stream:
                _bulk_load(store, stream, ox.RdfFormat.N_TRIPLES, str(source))
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
            with shapes.reduced_file(rest) as reduced:
                outcome["result"] = validate_store(store, reduced)

    load_atomically(store_dir, loader, replace, check=check)
    return report, outcome["result"], describe(shapes, proof)
