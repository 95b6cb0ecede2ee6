"""The shapes graph, parsed once: which nodes are shapes, and what each says.

A shapes file may hold other triples too (a test manifest, an expected report): only shapes
(SHACL 2.1: instances of sh:NodeShape / sh:PropertyShape, subjects of targets or of constraint
parameters, values of shape-expecting parameters) are validated.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node
from rdflib.util import guess_format

from ..errors import InputError
from ..vocab import SHAPES_FILE, data_path
from .paths import describe
from .results import namespaces
from .terms import as_written

OWL_CLASS = URIRef("http://www.w3.org/2002/07/owl#Class")
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
#: Parameters of SHACL Core's constraint components (their subjects are shapes).
PARAMETERS = {
    SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount, SH.minExclusive, SH.minInclusive,
    SH.maxExclusive, SH.maxInclusive, SH.minLength, SH.maxLength, SH.pattern, SH.languageIn, SH.uniqueLang,
    SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals, SH["not"], SH["and"], SH["or"], SH.xone, SH.node,
    SH.property, SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.closed, SH.hasValue, SH["in"],
}
SHAPE_VALUED = (SH.node, SH.property, SH["not"], SH.qualifiedValueShape)
SHAPE_LISTS = (SH["and"], SH["or"], SH.xone)
#: SHACL beyond Core (SHACL-SPARQL, SHACL Advanced Features): validated by pyshacl instead.
BEYOND_CORE = {SH[name] for name in ("sparql", "target", "rule", "select", "ask", "expression", "js", "jsFunctionName")}


class Shapes:
    """A shapes graph with the questions the compiler asks of it."""

    def __init__(self, graph: Graph, source: str = "shapes"):
        self.g, self.source = graph, source
        self.names = namespaces(dict(graph.namespaces()))
        self.shapes = self._find_shapes()

    def _find_shapes(self) -> set[Node]:
        g = self.g
        shapes = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
        for predicate in (*TARGETS, *PARAMETERS):
            shapes |= set(g.subjects(predicate, None))
        for predicate in SHAPE_VALUED:
            shapes |= set(g.objects(None, predicate))
        for predicate in SHAPE_LISTS:
            for head in g.objects(None, predicate):
                shapes |= set(self.items(head))
        return {s for s in shapes if not isinstance(s, Literal)}

    # ---- questions

    def value(self, shape: Node, parameter: URIRef) -> Node | None:
        return self.g.value(shape, parameter)

    def values(self, shape: Node, parameter: URIRef) -> list[Node]:
        return sorted(self.g.objects(shape, parameter))

    def items(self, head: Node) -> list[Node]:
        return list(Collection(self.g, head))

    def path(self, shape: Node) -> Node | None:
        return self.g.value(shape, SH.path)

    def is_property(self, shape: Node) -> bool:
        return self.path(shape) is not None

    def active(self, shape: Node) -> bool:
        return not true(self.g.value(shape, SH.deactivated))

    def beyond_core(self) -> list[str]:
        """The non-Core SHACL terms the shapes use (each a reason to hand over to pyshacl)."""
        used = {p for s in self.shapes for p in self.g.predicates(s, None) if p in BEYOND_CORE}
        used |= {t for t in (SH.SPARQLConstraint, SH.SPARQLTarget, SH.SPARQLRule) if (None, RDF.type, t) in self.g}
        return sorted(p.n3(self.names) for p in used)

    def label(self, shape: Node) -> str:
        """How reports name a shape: its prefixed IRI, or its node shape and path when blank."""
        if isinstance(shape, URIRef):
            return shape.n3(self.names)
        path = self.path(shape)
        parent = next(iter(sorted(self.g.subjects(SH.property, shape))), None)
        owner = self.label(parent) + " " if parent is not None and parent != shape else ""
        return f"{owner}[sh:path {describe(self.g, path, self.names)}]" if path is not None else f"[{shape.n3()}]"

    def is_class(self, shape: Node) -> bool:
        """An implicit class target: the shape is also an rdfs:Class (or owl:Class)."""
        return (shape, RDF.type, RDFS.Class) in self.g or (shape, RDF.type, OWL_CLASS) in self.g


def true(value: Node | None) -> bool:
    """Whether a parameter is the literal true, as SHACL says (not "1"^^xsd:boolean)."""
    return isinstance(value, Literal) and value.datatype == XSD.boolean and str(value) == "true"


def read_shapes(path: Path | None, base: str | None = None) -> Shapes:
    """The shapes graph (default: the hkg-rdf shapes), any RDF format rdflib knows by extension.

    Relative IRIs resolve against ``base``, or the file's own location as every Turtle parser does.
    """
    path = path or data_path(*SHAPES_FILE)
    try:
        graph = Graph(bind_namespaces="core")
        with as_written():
            graph.parse(str(path), format=guess_format(str(path)) or "turtle", publicID=base or Path(path).resolve().as_uri())
    except Exception as error:  # rdflib's parsers raise many unrelated exception types
        raise InputError(str(path), f"cannot read the shapes: {error}") from error
    return Shapes(graph, str(path))
