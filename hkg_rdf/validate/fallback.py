"""SHACL beyond Core (SHACL-SPARQL, Advanced Features): pyshacl, in memory, on the data as written.

The compiler handles all of SHACL Core; a shapes graph that uses SPARQL-based constraints or
targets is validated by pyshacl instead, with a notice. Files are parsed as they are written
(with their base IRI), so pyshacl sees the data's own literals; a store can only give its own
(value-normalised) copy, which the notice says.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import SH
from rdflib.util import guess_format

from ..errors import InputError
from ..rdfio import open_binary
from .model import Shapes
from .results import Result, ShapeInfo, ValidationResult
from .terms import as_written, to_rdflib


def data_from_files(files: list[Path], base: str | None) -> Graph:
    """The files parsed by rdflib as written (relative IRIs against each file's location)."""
    graph = Graph()
    for path in files:
        name = path.name[:-3] if path.suffix == ".gz" else path.name
        try:
            with open_binary(path) as stream, as_written():
                graph.parse(stream, format=guess_format(name) or "turtle", publicID=base or path.resolve().as_uri())
        except Exception as error:  # rdflib's parsers raise many unrelated exception types
            raise InputError(str(path), f"cannot read: {error}") from error
    return graph


def data_from_store(store: ox.Store) -> Graph:
    graph = Graph()
    for quad in store:
        graph.add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    return graph


def validate_with_pyshacl(data: Graph, shapes: Shapes, result: ValidationResult) -> ValidationResult:
    """Validate with pyshacl (SHACL-SPARQL enabled), and tally its results like ours."""
    import pyshacl

    _, report, _ = pyshacl.validate(data, shacl_graph=shapes.g, advanced=True)
    for node in report.objects(None, SH.result):
        shape, component = report.value(node, SH.sourceShape), report.value(node, SH.sourceConstraintComponent)
        info = ShapeInfo(shape, shapes.label(shape), report.value(node, SH.resultSeverity), None, None)
        kept = result.count(info, component)
        if kept is not None:
            kept.append(Result(
                report.value(node, SH.focusNode), report.value(node, SH.resultPath), report.value(node, SH.value),
                shape, component, info.severity, str(report.value(node, SH.resultMessage) or ""),
            ))
    return result
