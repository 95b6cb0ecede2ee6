"""Validation results: counted per (shape, constraint component), capped, summarised, reported.

The report is the standard SHACL validation report; a blank-node result path or source shape
carries its whole description (copied from the shapes graph), so the report stands alone and
compares with any other processor's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, NamespaceManager
from rdflib.term import Node

from ..vocab import PREFIXES
from .paths import write as write_path

DEFAULT_CAP = 1000


@dataclass(frozen=True)
class Result:
    """One SHACL validation result (rdflib terms, as the report graph needs them)."""

    focus: Node
    path: Node | None
    value: Node | None
    shape: Node
    component: URIRef
    severity: URIRef
    message: str


@dataclass(frozen=True)
class ShapeInfo:
    """What every result of a shape repeats."""

    node: Node
    label: str
    severity: URIRef
    message: str | None
    path: Node | None


@dataclass
class Tally:
    """All results of one (shape, constraint component): counted in full, kept up to the cap."""

    shape: Node
    component: URIRef
    severity: URIRef
    label: str
    count: int = 0
    results: list[Result] = field(default_factory=list)


@dataclass
class ValidationResult:
    """The outcome of a validation: tallies per (shape, component) and the cap they kept to.

    ``shapes`` is the shapes graph, from which the report copies blank-node paths and shapes.
    """

    tallies: dict[tuple[Node, URIRef], Tally]
    cap: int
    prefixes: dict[str, str] = field(default_factory=dict)
    shapes: Graph | None = None

    @property
    def conforms(self) -> bool:
        return self.total == 0

    @property
    def total(self) -> int:
        return sum(t.count for t in self.tallies.values())

    @property
    def listed(self) -> int:
        return sum(len(t.results) for t in self.tallies.values())

    def count(self, shape: ShapeInfo, component: URIRef) -> list[Result] | None:
        """Count one result of (shape, component); the list to keep it in, or None once capped."""
        tally = self.tallies.get((shape.node, component))
        if tally is None:
            tally = self.tallies[(shape.node, component)] = Tally(shape.node, component, shape.severity, shape.label)
        tally.count += 1
        return tally.results if len(tally.results) < self.cap else None

    def summary(self, examples: int = 5) -> str:
        """Readable: verdict, counts by severity, then per shape and component a few examples."""
        if self.conforms:
            return "Conforms: yes (0 results)"
        names = namespaces(self.prefixes)
        severities: dict[str, int] = defaultdict(int)
        for tally in self.tallies.values():
            severities[local(tally.severity)] += tally.count
        counts = ", ".join(f"{n:,} {s}" for s, n in sorted(severities.items()))
        lines = [f"Conforms: no ({self.total:,} results: {counts})"]
        for tally in sorted(self.tallies.values(), key=lambda t: (-t.count, t.label, str(t.component))):
            capped = f" (first {len(tally.results):,} kept)" if tally.count > len(tally.results) else ""
            lines.append(f"{tally.count:>10,}  {tally.label}  {local(tally.component)}  [{local(tally.severity)}]{capped}")
            lines += [f"              {_describe(r, names)}" for r in tally.results[:examples]]
        if self.listed < self.total:
            lines.append(f"Results capped at {self.cap:,} per shape and component: {self.listed:,} of {self.total:,} kept.")
        return "\n".join(lines)

    def report_graph(self) -> Graph:
        """The standard SHACL validation report (with an rdfs:comment when results were capped)."""
        graph = Graph()
        for prefix, namespace in {"sh": str(SH), **self.prefixes}.items():
            graph.bind(prefix, namespace)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        copied: set[Node] = set()
        for tally in self.tallies.values():
            for result in tally.results:
                graph.add((report, SH.result, self._result_node(graph, result, copied)))
        if self.listed < self.total:
            graph.add((report, RDFS.comment, Literal(self._capped_note())))
        return graph

    def _result_node(self, graph: Graph, result: Result, copied: set[Node]) -> BNode:
        """One sh:ValidationResult in the report graph, with what its blank nodes describe."""
        node = BNode()
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, result.focus))
        if result.path is not None:
            path = write_path(graph, self.shapes, result.path) if self.shapes is not None else result.path
            graph.add((node, SH.resultPath, path))
        if result.value is not None:
            graph.add((node, SH.value, result.value))
        graph.add((node, SH.sourceShape, result.shape))
        self._copy(graph, result.shape, copied)
        graph.add((node, SH.sourceConstraintComponent, result.component))
        graph.add((node, SH.resultSeverity, result.severity))
        graph.add((node, SH.resultMessage, Literal(result.message)))
        return node

    def _copy(self, graph: Graph, node: Node, copied: set[Node]) -> None:
        """The description of a blank node from the shapes graph (its closure over blank nodes)."""
        if not isinstance(node, BNode) or node in copied or self.shapes is None:
            return
        copied.add(node)
        for predicate, obj in self.shapes.predicate_objects(node):
            graph.add((node, predicate, obj))
            self._copy(graph, obj, copied)

    def _capped_note(self) -> str:
        capped = [f"{t.label} {local(t.component)} ({t.count:,})" for t in self.tallies.values() if t.count > len(t.results)]
        return (
            f"Results capped at {self.cap:,} per shape and constraint component: {self.total:,} found, "
            f"{self.listed:,} listed. Capped: {'; '.join(capped)}."
        )

    def write_report(self, path: Path) -> None:
        self.report_graph().serialize(destination=str(path), format="turtle", encoding="utf-8")


def namespaces(prefixes: dict[str, str]) -> NamespaceManager:
    """Prefixes for readable terms: hkg-rdf's, SHACL's and the shapes file's."""
    manager = NamespaceManager(Graph(bind_namespaces="none"))
    for prefix, namespace in {**PREFIXES, "sh": str(SH), **prefixes}.items():
        if prefix:
            manager.bind(prefix, namespace, replace=True)
    return manager


def local(iri: Node) -> str:
    return str(iri).rsplit("#", 1)[-1]


def _short(term: Node, names: NamespaceManager, width: int = 70) -> str:
    text = term.n3(names)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _describe(result: Result, names: NamespaceManager) -> str:
    """One summary line for a result: focus, path, value, message."""
    parts = [f"focus {_short(result.focus, names)}"]
    if result.path is not None:
        parts.append(f"path {_short(result.path, names)}")
    if result.value is not None:
        parts.append(f"value {_short(result.value, names)}")
    return "  ".join(parts) + f": {result.message}"
