"""``sh:class`` inside ``sh:or`` (how the shapes say "an object of one of these classes"), checked
against pySHACL, the reference implementation, on the cases that tell a right check from a
near miss: a subclass instance (SHACL's sh:class follows rdfs:subClassOf in the data), a node
of two classes, an untyped IRI, a literal, a blank node, and a focus node with several values.

Both ``validate FILES`` and ``validate --store`` must flag exactly what pySHACL flags.
"""

from __future__ import annotations

from pathlib import Path

import pyshacl
import pytest
import rdflib
from conftest import invoke, load_store
from rdflib.namespace import SH

SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:p ; sh:or ( [ sh:class ex:A ] [ sh:class ex:B ] ) ] .
ex:NodeLevel a sh:NodeShape ; sh:targetObjectsOf ex:q ;
    sh:or ( [ sh:class ex:A ] [ sh:class ex:B ] ) .
"""
DATA = """
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Sub rdfs:subClassOf ex:B .
ex:SubSub rdfs:subClassOf ex:Sub .
ex:a a ex:A . ex:b a ex:B . ex:sub a ex:SubSub . ex:both a ex:A, ex:C . ex:c a ex:C . ex:untyped ex:x 1 .
_:anon a ex:A .
ex:t-a a ex:Thing ; ex:p ex:a .
ex:t-sub a ex:Thing ; ex:p ex:sub .
ex:t-both a ex:Thing ; ex:p ex:both .
ex:t-c a ex:Thing ; ex:p ex:c .
ex:t-untyped a ex:Thing ; ex:p ex:untyped .
ex:t-literal a ex:Thing ; ex:p "ex:A" .
ex:t-anon a ex:Thing ; ex:p _:anon .
ex:t-mixed a ex:Thing ; ex:p ex:b, ex:c, ex:a .
ex:u ex:q ex:a, ex:c, ex:sub, ex:untyped .
"""


def _violations(report: rdflib.Graph) -> set[tuple[str, str]]:
    """(focus node, value node) of each result; blank nodes by their type (labels differ)."""
    def name(node) -> str:
        if isinstance(node, rdflib.BNode):
            return "blank"
        return node.n3()

    out = set()
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        value = report.value(result, SH.value)
        assert report.value(result, SH.sourceConstraintComponent) == SH.OrConstraintComponent
        out.add((name(focus), name(value if value is not None else focus)))
    return out


@pytest.fixture(scope="module")
def reference() -> set[tuple[str, str]]:
    conforms, report, _ = pyshacl.validate(rdflib.Graph().parse(data=DATA, format="turtle"),
                                           shacl_graph=rdflib.Graph().parse(data=SHAPES, format="turtle"))
    assert not conforms
    return _violations(report)


def test_the_reference_flags_what_the_spec_says(reference):
    ex = "<http://example.org/{}>".format
    assert reference == {
        (ex("t-c"), ex("c")), (ex("t-untyped"), ex("untyped")), (ex("t-literal"), '"ex:A"'), (ex("t-mixed"), ex("c")),
        (ex("c"), ex("c")), (ex("untyped"), ex("untyped")),
    }


@pytest.mark.parametrize("where", ["files", "store"])
def test_sh_class_inside_sh_or_flags_what_pyshacl_flags(tmp_path: Path, reference, where):
    shapes, data = tmp_path / "shapes.ttl", tmp_path / "data.ttl"
    shapes.write_text(SHAPES, encoding="utf-8")
    data.write_text(DATA, encoding="utf-8")
    target = [data] if where == "files" else ["--store", load_store(tmp_path / "store", data)]
    result = invoke("validate", *target, "--shapes", shapes, "--report", tmp_path / "report.ttl")
    assert result.exit_code == 1, result.output
    assert _violations(rdflib.Graph().parse(tmp_path / "report.ttl", format="turtle")) == reference
