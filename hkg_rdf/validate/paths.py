"""SHACL property paths as SPARQL 1.1 property paths (every form SHACL has maps onto one).

SPARQL evaluates a sequence or an alternative path with duplicates (one row per way of
reaching a node); SHACL's value nodes are a set, so those paths are read through a DISTINCT.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from .terms import sparql

UNARY = {SH.inversePath: "^{}", SH.zeroOrMorePath: "{}*", SH.oneOrMorePath: "{}+", SH.zeroOrOnePath: "{}?"}


class PathError(ValueError):
    """A sh:path value that is no SHACL path."""


@dataclass(frozen=True)
class Path:
    """A compiled path: its SPARQL text, and whether SPARQL gives each value once per start node."""

    text: str
    distinct: bool

    def values(self, subject: str, obj: str) -> str:
        """A pattern binding ``obj`` to each value node of ``subject`` once."""
        if self.distinct:
            return f"{subject} {self.text} {obj} ."
        return f"{{ SELECT DISTINCT {subject} {obj} WHERE {{ {subject} {self.text} {obj} }} }}"


def compile_path(graph: Graph, node: Node) -> Path:
    """The SPARQL form of the SHACL path ``node`` in ``graph``."""
    return _compile(graph, node, set())


def _compile(graph: Graph, node: Node, seen: set[Node]) -> Path:
    if isinstance(node, URIRef):
        return Path(sparql(node), True)
    if not isinstance(node, BNode) or node in seen:
        raise PathError(f"{node.n3()} is not a SHACL path")
    seen = seen | {node}
    if (node, RDF.first, None) in graph:
        steps = [_compile(graph, step, seen) for step in Collection(graph, node)]
        if len(steps) < 2:
            raise PathError("a sequence path needs at least two members")
        return Path("(" + "/".join(s.text for s in steps) + ")", False)
    kinds = [p for p in graph.predicates(node, None) if p in UNARY or p == SH.alternativePath]
    if len(kinds) != 1:
        raise PathError(f"the blank node path {node.n3()} has {len(kinds)} path operators")
    [kind] = kinds
    [inner] = list(graph.objects(node, kind))
    if kind == SH.alternativePath:
        options = [_compile(graph, option, seen) for option in Collection(graph, inner)]
        if len(options) < 2:
            raise PathError("an alternative path needs at least two members")
        return Path("(" + "|".join(o.text for o in options) + ")", False)
    compiled = _compile(graph, inner, seen)
    return Path(UNARY[kind].format("(" + compiled.text + ")"), compiled.distinct or kind != SH.inversePath)


def write(out: Graph, graph: Graph, node: Node) -> Node:
    """Write the path ``node`` of ``graph`` into ``out`` as the compiler reads it (fresh blank nodes,
    only the triples that make the path), and return the node naming it there."""
    if isinstance(node, URIRef) or not isinstance(node, BNode):
        return node
    fresh = BNode()
    if (node, RDF.first, None) in graph:
        Collection(out, fresh, [write(out, graph, step) for step in Collection(graph, node)])
        return fresh
    for kind in (*UNARY, SH.alternativePath):
        inner = graph.value(node, kind)
        if inner is not None:
            if kind == SH.alternativePath:
                head = BNode()
                Collection(out, head, [write(out, graph, option) for option in Collection(graph, inner)])
                out.add((fresh, kind, head))
            else:
                out.add((fresh, kind, write(out, graph, inner)))
            return fresh
    return fresh


def describe(graph: Graph, node: Node, names) -> str:
    """A short readable form of a path, for labels: ex:p, ^ex:p, (ex:p/ex:q), ex:p*."""
    try:
        return compile_path(graph, node).text if not isinstance(node, URIRef) else node.n3(names)
    except PathError:
        return node.n3()
