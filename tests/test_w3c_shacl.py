"""The W3C SHACL Core test suite, run against the compiler: every verdict and every result.

The suite (w3c/data-shapes, data-shapes-test-suite/tests/core) is read where the CI puts it,
``../shared/w3c-shacl-core`` from the repository (or $HKG_W3C_SHACL), never copied here. Each
``sht:Validate`` entry names a data graph, a shapes graph and the expected report; as the suite
defines the comparison, the reports must be isomorphic once reduced to sh:conforms and, per
result, focus node, path, value, source shape, constraint component and severity (messages
are free), with blank-node paths and shapes compared by their whole description.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic, to_isomorphic
from rdflib.namespace import RDF, SH, Namespace

from hkg_rdf.validate import validate_files

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
REPO = Path(__file__).resolve().parents[1]
#: $HKG_W3C_SHACL, else ../shared/w3c-shacl-core beside the repository (or beside a worktree's parent)
SUITE = next(
    (p for p in (Path(os.environ.get("HKG_W3C_SHACL", REPO / "missing")), REPO.parent / "shared" / "w3c-shacl-core",
                 REPO.parent.parent / "shared" / "w3c-shacl-core") if (p / "manifest.ttl").exists()),
    REPO.parent / "shared" / "w3c-shacl-core",
).resolve()  # the manifests' file IRIs are of the real location, when shared/ is a symbolic link
COMPARED = (SH.focusNode, SH.resultPath, SH.value, SH.sourceShape, SH.sourceConstraintComponent, SH.resultSeverity)


def _parse(path: Path) -> Graph:
    return Graph().parse(str(path), format="turtle", publicID=path.resolve().as_uri())


def _entries() -> list[tuple[str, Path]]:
    """(test name, file) of every sht:Validate entry the manifests include."""
    if not (SUITE / "manifest.ttl").exists():
        return []
    found, pending = [], [SUITE / "manifest.ttl"]
    while pending:
        path = pending.pop(0)
        graph = _parse(path)
        for included in graph.objects(None, MF.include):
            pending.append(Path(str(included).removeprefix("file://")))
        for entries in graph.objects(None, MF.entries):
            for entry in Collection(graph, entries):
                if (entry, RDF.type, SHT.Validate) in graph:
                    found.append((str(Path(path).relative_to(SUITE).with_suffix("")), path))
    return found


ENTRIES = _entries()


def _reduced(graph: Graph, report: BNode | URIRef, shapes: Graph) -> Graph:
    """The report as the suite compares it, blank-node paths and shapes with their description."""
    out = Graph()
    out.add((report, RDF.type, SH.ValidationReport))
    out.add((report, SH.conforms, graph.value(report, SH.conforms)))

    def copy(node, seen=()):
        """A fresh copy of a blank node's description per reference: paths and shapes compare as trees."""
        if not isinstance(node, BNode) or node in seen:
            return node
        fresh = BNode()
        for p, o in shapes.predicate_objects(node):
            out.add((fresh, p, copy(o, (*seen, node))))
        return fresh

    for result in graph.objects(report, SH.result):
        out.add((report, SH.result, result))
        for predicate in COMPARED:
            for value in graph.objects(result, predicate):
                out.add((result, predicate, copy(value) if predicate in (SH.resultPath, SH.sourceShape) else value))
    return out


def _expected(path: Path) -> tuple[Path, Path, Graph]:
    graph = _parse(path)
    [entry] = [e for e in graph.subjects(RDF.type, SHT.Validate)]
    action = graph.value(entry, MF.action)
    data = Path(str(graph.value(action, SHT.dataGraph)).removeprefix("file://"))
    shapes = Path(str(graph.value(action, SHT.shapesGraph)).removeprefix("file://"))
    report = graph.value(entry, MF.result)
    shapes_graph = _parse(shapes) if shapes != path else graph
    return data, shapes, _reduced(graph, report, shapes_graph + graph)


@pytest.mark.skipif(not ENTRIES, reason=f"the W3C SHACL Core test suite is not at {SUITE} (set HKG_W3C_SHACL)")
@pytest.mark.parametrize(("name", "path"), ENTRIES, ids=[name for name, _ in ENTRIES])
def test_w3c_shacl_core(name: str, path: Path, capsys: pytest.CaptureFixture) -> None:
    data, shapes, expected = _expected(path)
    result = validate_files([data], shapes)
    assert "pyshacl" not in capsys.readouterr().err, "the compiler handed this test to pyshacl"
    graph = result.report_graph()
    [report] = graph.subjects(RDF.type, SH.ValidationReport)
    ours = _reduced(graph, report, graph)
    assert result.conforms == expected.value(next(expected.subjects(RDF.type, SH.ValidationReport)), SH.conforms).toPython()
    if not isomorphic(ours, expected):
        missing = to_isomorphic(expected) - to_isomorphic(ours)
        extra = to_isomorphic(ours) - to_isomorphic(expected)
        pytest.fail(f"reports differ\nexpected, not given:\n{missing.serialize(format='nt')}\ngiven, not expected:\n{extra.serialize(format='nt')}")


def test_the_whole_suite_is_there() -> None:
    if not ENTRIES:
        pytest.skip(f"the W3C SHACL Core test suite is not at {SUITE}")
    assert len(ENTRIES) == 98
