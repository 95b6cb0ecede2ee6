"""SHACL validation that scales to the whole graph: all of SHACL Core compiled to SPARQL.

pyshacl walks an in-memory rdflib graph node by node, which does not fit tens of millions of
triples. Here the shapes graph (parsed once with rdflib, ``model``) is compiled (``compiler``,
one module per constraint family in ``constraints``, paths in ``paths``, sh:pattern in
``regex``) into SPARQL queries that Oxigraph evaluates on its indexes (``runner``); results are
tallied and reported (``results``). Shapes beyond Core (SHACL-SPARQL) go to pyshacl
(``fallback``), with a notice. Files are read with their literals as written (``terms``).

The data graph is the store's default graph, or the union of all its graphs when it has named
graphs. Entry points: ``validate_store`` and ``validate_files``; both take ``shapes`` as a file,
an rdflib Graph (e.g. a subset of the shapes) or None for the hkg-rdf shapes, and optionally
``components``, the constraint components to check (None: all).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import SH

from ..errors import InputError
from ..rdfio import rdf_format
from .compiler import Compiler, ShapeError
from .inputs import load
from .fallback import data_from_files, data_from_store, validate_with_pyshacl
from .model import Shapes, read_shapes
from .results import DEFAULT_CAP, Result, ShapeInfo, Tally, ValidationResult
from .runner import run
from .terms import INTEGER_RANGES, Terms

__all__ = ["DEFAULT_CAP", "Result", "ShapeInfo", "Tally", "ValidationResult", "validate_files", "validate_store"]

#: Files below this (uncompressed) size are validated in an in-memory store.
IN_MEMORY_BYTES = 1 << 30
GZIP_RATIO = 6
ShapesSource = Path | Graph | Shapes | None


def notice(message: str) -> None:
    """Tell the user on stderr (stdout carries the validation summary)."""
    print(f"notice: {message}", file=sys.stderr)


def _shapes(shapes: ShapesSource) -> Shapes:
    if isinstance(shapes, Shapes):
        return shapes
    if isinstance(shapes, Graph):
        return Shapes(shapes, "the shapes graph")
    return read_shapes(shapes)


def _has_named_graphs(store: ox.Store) -> bool:
    """Whether to query the union of graphs (slower), needed only when named graphs exist."""
    return next(iter(store.named_graphs()), None) is not None


def _validate(store: ox.Store, shapes: Shapes, cap: int, exact: bool, components: Collection[URIRef] | None,
              data: Callable[[], Graph]) -> ValidationResult:
    """Compile and run the shapes; shapes beyond SHACL Core go to pyshacl on ``data()``."""
    result = ValidationResult({}, cap, {p: str(n) for p, n in shapes.g.namespaces() if p}, shapes.g)
    beyond = shapes.beyond_core()
    if beyond:
        notice(f"the shapes use {', '.join(beyond)} (beyond SHACL Core), which hkg-rdf does not compile; "
               "validating with pyshacl in memory instead (slow on big graphs)")
        return validate_with_pyshacl(data(), shapes, result)
    if not exact:
        for datatype in sorted({d for d in shapes.g.objects(None, SH.datatype) if str(d) in INTEGER_RANGES}):
            notice(f"sh:datatype {datatype.n3(shapes.names)}: the store keeps integer-derived literals as xsd:integer, "
                   "so values are checked as xsd:integer within its range")
    union = _has_named_graphs(store)
    try:
        compiler = Compiler(shapes, store, union, Terms(exact), set(components) if components is not None else None)
        run(store, compiler.queries(), union, result)
    except ShapeError as error:
        raise InputError(shapes.source, str(error)) from error
    return result


def validate_store(store: ox.Store, shapes: ShapesSource = None, cap: int = DEFAULT_CAP,
                   components: Collection[URIRef] | None = None) -> ValidationResult:
    """Validate a store against the shapes (default: the hkg-rdf shapes).

    ``cap`` bounds the results kept per (shape, constraint component); all are counted. The store
    holds literals by value (see ``terms``), so they are checked as stored.
    """
    return _validate(store, _shapes(shapes), cap, False, components, lambda: data_from_store(store))


def _estimated_bytes(files: list[Path]) -> int:
    """Rough size of the files' RDF once uncompressed (gzip shrinks N-Triples about 6 times)."""
    total = 0
    for path in files:
        rdf_format(path)  # an unknown format is the first thing to tell
        try:
            total += path.stat().st_size * (GZIP_RATIO if path.suffix == ".gz" else 1)
        except OSError as error:
            raise InputError(str(path), f"cannot read: {error}") from error
    return total


def validate_files(
    files: list[Path], shapes: ShapesSource = None, cap: int = DEFAULT_CAP, in_memory_below: int = IN_MEMORY_BYTES,
    base: str | None = None, components: Collection[URIRef] | None = None,
) -> ValidationResult:
    """Validate RDF files (any format by extension, .gz too) through a temporary store.

    Relative IRIs resolve against ``base``, or each file's own location. Literals are checked as
    written (stand-ins keep what the store would rewrite). Files smaller than ``in_memory_below``
    bytes go to an in-memory store; bigger ones to an on-disk store in a temporary directory, so
    memory stays bounded whatever the size.
    """
    model = _shapes(shapes)
    with tempfile.TemporaryDirectory(prefix="hkg-validate-") as directory:
        store = ox.Store() if _estimated_bytes(files) < in_memory_below else ox.Store(directory)
        exact = False
        if not model.beyond_core():
            for path in files:
                exact |= load(store, path, base)
        result = _validate(store, model, cap, exact, components, lambda: data_from_files(files, base))
        del store
    return result
