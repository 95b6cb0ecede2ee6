"""SHACL validation that scales to the whole graph: shapes compiled to SPARQL, run by Oxigraph.

pyshacl walks an in-memory rdflib graph node by node, which does not fit tens of millions of
triples. Here the shapes graph (parsed with rdflib) is compiled into SPARQL queries that
Oxigraph evaluates on its on-disk indexes. Compiled: targets (sh:targetClass, implicit class
targets, sh:targetNode, sh:targetSubjectsOf, sh:targetObjectsOf), IRI paths, sh:minCount,
sh:maxCount, sh:datatype (ill-typed literals included), sh:class (through
rdf:type/rdfs:subClassOf* of the data), sh:nodeKind, sh:pattern (+ sh:flags),
sh:min/maxInclusive, sh:min/maxExclusive, sh:min/maxLength, sh:in, sh:hasValue, sh:or, sh:and,
sh:not and sh:xone of shapes made of those value constraints, sh:closed + sh:ignoredProperties,
sh:severity, sh:message, sh:deactivated. A shapes graph using anything else is validated by
pyshacl instead, whole and in memory, with a notice on stderr: no constraint is ever ignored.

How the queries are shaped, and why (measured on an on-disk store of 3.6 M triples):

* Joining every focus node with its values costs a random index lookup per node; scanning a
  property is a sequential read. So a query scans the constrained property first, keeps the
  failing values, and only then hash-joins them with the shape's focus nodes (~2x faster).
* Evaluating any expression on a string value makes Oxigraph fetch the string (~5 us each).
  So all shapes constraining the same property share one scan: each distinct value expression
  is computed once per value, and each row is checked against its own shape's expressions.
  Cardinalities, sh:minCount 1 and class constraints are shared the same way.
* sh:class is an anti-join (MINUS) with the type index, which Oxigraph runs as a hash join:
  ~8x faster than an EXISTS lookup per value.
* A cheap ASK first tells whether any value fails at all; only then is the join with the focus
  nodes run (it costs even when empty). Altogether 154 s -> ~21 s on that store.

The data graph is the store's default graph, or the union of all its graphs when it has named
graphs. Oxigraph stores every integer-derived literal (xsd:int, xsd:nonNegativeInteger, ...) as
xsd:integer, so sh:datatype with such a type is checked as an xsd:integer within the type's range.
"""

from __future__ import annotations

import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD, NamespaceManager
from rdflib.term import Node
from rdflib.util import guess_format

from .errors import InputError
from .progress import counted
from .rdfio import open_binary, rdf_format
from .vocab import PREFIXES, SHAPES_FILE, data_path

DEFAULT_CAP = 1000
#: Files below this (uncompressed) size are validated in an in-memory store.
IN_MEMORY_BYTES = 1 << 30
GZIP_RATIO = 6
OWL_CLASS = URIRef("http://www.w3.org/2002/07/owl#Class")
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
VALUE_PARAMETERS = {
    SH.datatype, SH["class"], SH.nodeKind, SH.pattern, SH.minInclusive, SH.maxInclusive, SH.minExclusive,
    SH.maxExclusive, SH.minLength, SH.maxLength, SH["in"], SH.hasValue, SH["or"], SH["and"], SH["not"], SH.xone,
}
FOCUS_PARAMETERS = {SH.minCount, SH.maxCount, SH.closed, SH.ignoredProperties, SH.path, SH.property}
NON_VALIDATING = {
    SH.name, SH.description, SH.message, SH.severity, SH.deactivated, SH.order, SH.group, SH.defaultValue,
    SH.declare, SH.prefix, SH.namespace, SH.flags,
}
SUPPORTED = VALUE_PARAMETERS | FOCUS_PARAMETERS | NON_VALIDATING | set(TARGETS)
#: Datatypes whose lexical forms Oxigraph can check by casting: an ill-typed literal fails the cast.
CASTABLE = {XSD.integer, XSD.decimal, XSD.float, XSD.double, XSD.boolean, XSD.dateTime, XSD.date, XSD.time}
#: Integer-derived types (Oxigraph reads them back as xsd:integer) and their value ranges.
INTEGER_RANGES: dict[URIRef, tuple[int | None, int | None]] = {
    XSD.nonNegativeInteger: (0, None), XSD.positiveInteger: (1, None), XSD.nonPositiveInteger: (None, 0),
    XSD.negativeInteger: (None, -1), XSD.long: (-(2**63), 2**63 - 1), XSD.int: (-(2**31), 2**31 - 1),
    XSD.short: (-(2**15), 2**15 - 1), XSD.byte: (-128, 127), XSD.unsignedLong: (0, 2**64 - 1),
    XSD.unsignedInt: (0, 2**32 - 1), XSD.unsignedShort: (0, 2**16 - 1), XSD.unsignedByte: (0, 255),
}
NODE_KINDS = {
    SH.IRI: "isIRI(?value)", SH.BlankNode: "isBlank(?value)", SH.Literal: "isLiteral(?value)",
    SH.BlankNodeOrIRI: "(isBlank(?value) || isIRI(?value))", SH.BlankNodeOrLiteral: "(isBlank(?value) || isLiteral(?value))",
    SH.IRIOrLiteral: "(isIRI(?value) || isLiteral(?value))",
}
COMPARISONS = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
LENGTHS = {SH.minLength: ">=", SH.maxLength: "<="}
LOGICAL = {SH["or"], SH["and"], SH["not"], SH.xone}


def notice(message: str) -> None:
    """Tell the user on stderr (stdout carries the validation summary)."""
    print(f"notice: {message}", file=sys.stderr)


class Unsupported(Exception):
    """A shapes graph uses SHACL this compiler does not handle (pyshacl takes over)."""


# ---------------------------------------------------------------- results


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
    path: URIRef | None


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
    """The outcome of a validation: tallies per (shape, component) and the cap they kept to."""

    tallies: dict[tuple[Node, URIRef], Tally]
    cap: int
    prefixes: dict[str, str] = field(default_factory=dict)

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
        names = _namespaces(self.prefixes)
        severities: dict[str, int] = defaultdict(int)
        for tally in self.tallies.values():
            severities[_local(tally.severity)] += tally.count
        counts = ", ".join(f"{n:,} {s}" for s, n in sorted(severities.items()))
        lines = [f"Conforms: no ({self.total:,} results: {counts})"]
        for tally in sorted(self.tallies.values(), key=lambda t: (-t.count, t.label, str(t.component))):
            capped = f" (first {len(tally.results):,} kept)" if tally.count > len(tally.results) else ""
            lines.append(f"{tally.count:>10,}  {tally.label}  {_local(tally.component)}  [{_local(tally.severity)}]{capped}")
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
        for tally in self.tallies.values():
            for result in tally.results:
                graph.add((report, SH.result, _result_node(graph, result)))
        if self.listed < self.total:
            graph.add((report, RDFS.comment, Literal(self._capped_note())))
        return graph

    def _capped_note(self) -> str:
        capped = [f"{t.label} {_local(t.component)} ({t.count:,})" for t in self.tallies.values() if t.count > len(t.results)]
        return (
            f"Results capped at {self.cap:,} per shape and constraint component: {self.total:,} found, "
            f"{self.listed:,} listed. Capped: {'; '.join(capped)}."
        )

    def write_report(self, path: Path) -> None:
        self.report_graph().serialize(destination=str(path), format="turtle", encoding="utf-8")


def _result_node(graph: Graph, result: Result) -> BNode:
    """One sh:ValidationResult in the report graph."""
    node = BNode()
    graph.add((node, RDF.type, SH.ValidationResult))
    graph.add((node, SH.focusNode, result.focus))
    if result.path is not None:
        graph.add((node, SH.resultPath, result.path))
    if result.value is not None:
        graph.add((node, SH.value, result.value))
    graph.add((node, SH.sourceShape, result.shape))
    graph.add((node, SH.sourceConstraintComponent, result.component))
    graph.add((node, SH.resultSeverity, result.severity))
    graph.add((node, SH.resultMessage, Literal(result.message)))
    return node


def _namespaces(prefixes: dict[str, str]) -> NamespaceManager:
    """Prefixes for readable terms: hkg-rdf's, SHACL's and the shapes file's."""
    manager = NamespaceManager(Graph(bind_namespaces="none"))
    for prefix, namespace in {**PREFIXES, "sh": str(SH), **prefixes}.items():
        manager.bind(prefix, namespace, replace=True)
    return manager


def _local(iri: Node) -> str:
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


# ---------------------------------------------------------------- terms


def _sparql(term: Node) -> str:
    """A shapes-graph term as SPARQL text (N-Triples syntax, escaped by Oxigraph)."""
    if isinstance(term, URIRef):
        return str(ox.NamedNode(str(term)))
    if isinstance(term, Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        return str(ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string))))
    raise Unsupported(f"a blank node {term.n3()} as a constraint value (only IRIs and literals compile to SPARQL)")


def _rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> Node | None:
    """An Oxigraph term as an rdflib term."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == str(XSD.string):
        return Literal(term.value)  # rdflib's form of a plain literal, as its parsers make it
    return Literal(term.value, datatype=URIRef(term.datatype.value))


# ---------------------------------------------------------------- compiling shapes


@dataclass(frozen=True)
class Check:
    """One constraint of a shape, in the form its query needs.

    A value constraint carries a SPARQL ``expression`` over ?value (true when the value
    conforms); a top-level class constraint the ``classes`` the value must have one of.
    """

    component: URIRef
    message: str
    expression: str = ""
    classes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Member:
    """A shape answered by a query: rows with ?shape = its index report its checks.

    Each check comes with the index N of its ?okN flag, or None when the row itself is the failure.
    """

    shape: ShapeInfo
    targets: str
    checks: tuple[tuple[int | None, Check], ...]


@dataclass(frozen=True)
class Query:
    """One SPARQL query and the shapes whose results its rows are.

    ``probe`` (ASK) tells cheaply whether any value fails at all: when none does, the join of
    the failures with the focus nodes, which costs even when it is empty, is skipped.
    """

    sparql: str
    members: tuple[Member, ...]
    probe: str | None = None


class Compiler:
    """Compiles a shapes graph to SPARQL queries against one store (for its class hierarchy)."""

    def __init__(self, shapes: Graph, store: ox.Store, union: bool):
        self.g, self.store, self.union = shapes, store, union
        self.names = _namespaces(dict(shapes.namespaces()))
        self.integer_types: set[URIRef] = set()
        self.closures: dict[Node, tuple[str, ...]] = {}

    def queries(self) -> list[Query]:
        """The queries of every active, targeted shape; constraints on one path share queries."""
        self._check_vocabulary()
        plan = Plan()
        for shape in sorted(self._shapes(), key=str):
            targets = self._targets(shape) if self._active(shape) else None
            if targets is not None:
                self._plan_shape(plan, shape, targets)
        for datatype in sorted(self.integer_types):
            notice(f"sh:datatype {datatype.n3(self.names)}: Oxigraph stores integer-derived literals as xsd:integer, so values are checked as xsd:integer within its range")
        return plan.queries()

    def _check_vocabulary(self) -> None:
        """Refuse (for pyshacl to take over) any sh: term or path form this compiler does not know."""
        used = {p for p in self.g.predicates() if str(p).startswith(str(SH))} - SUPPORTED
        if used:
            raise Unsupported(", ".join(sorted(p.n3(self.names) for p in used)))
        for path in self.g.objects(None, SH.path):
            if not isinstance(path, URIRef):
                raise Unsupported(f"a non-IRI sh:path ({path.n3(self.names)})")

    def _shapes(self) -> set[Node]:
        """Every node the shapes graph makes a shape: typed, targeted, with a path, or a property."""
        shapes = set(self.g.subjects(RDF.type, SH.NodeShape)) | set(self.g.subjects(RDF.type, SH.PropertyShape))
        shapes |= set(self.g.subjects(SH.path, None)) | set(self.g.objects(None, SH.property))
        for target in TARGETS:
            shapes |= set(self.g.subjects(target, None))
        return shapes

    def _active(self, shape: Node) -> bool:
        return not _true(self.g.value(shape, SH.deactivated))

    def _label(self, shape: Node) -> str:
        """How reports name a shape: its prefixed IRI, or its node shape and path when blank."""
        if isinstance(shape, URIRef):
            return shape.n3(self.names)
        path = self.g.value(shape, SH.path)
        parent = self.g.value(None, SH.property, shape)
        owner = self._label(parent) + " " if parent is not None else ""
        return f"{owner}[sh:path {path.n3(self.names)}]" if path is not None else f"[{shape.n3()}]"

    # ---- targets

    def _target_patterns(self, shape: Node) -> list[tuple[str, bool]]:
        """(SPARQL pattern binding ?this, whether it binds each node once), one per target."""
        classes = list(self.g.objects(shape, SH.targetClass))
        if (shape, RDF.type, RDFS.Class) in self.g or (shape, RDF.type, OWL_CLASS) in self.g:
            classes.append(shape)
        subclasses = [self._subclasses(c) for c in classes]
        patterns = [(_typed("?this", s), len(s) == 1) for s in subclasses]
        patterns += [(f"VALUES ?this {{ {_sparql(n)} }}", True) for n in self.g.objects(shape, SH.targetNode)]
        patterns += [(f"?this {_sparql(p)} ?object .", False) for p in self.g.objects(shape, SH.targetSubjectsOf)]
        patterns += [(f"?subject {_sparql(p)} ?this .", False) for p in self.g.objects(shape, SH.targetObjectsOf)]
        return patterns

    def _targets(self, shape: Node) -> str | None:
        """A pattern binding ?this once per focus node, or None for an untargeted shape.

        A property shape also gets the focus nodes of the (active) node shapes that use it.
        One plain class (the usual case) stays a triple pattern, which Oxigraph joins fastest.
        """
        patterns = set(self._target_patterns(shape))
        for parent in self.g.subjects(SH.property, shape):
            if self._active(parent):
                patterns.update(self._target_patterns(parent))
        if not patterns:
            return None
        if len(patterns) == 1 and next(iter(patterns))[1]:
            return next(iter(patterns))[0]
        union = " UNION ".join(f"{{ {p} }}" for p, _ in sorted(patterns))
        return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}"

    def _subclasses(self, cls: Node) -> tuple[str, ...]:
        """The class and its rdfs:subClassOf* descendants in the data graph, as SPARQL terms."""
        if cls not in self.closures:
            found = {_sparql(cls)}
            query = f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS.subClassOf}>* {_sparql(cls)} }}"
            for row in self.store.query(query, use_default_graph_as_union=self.union):
                if not isinstance(row["c"], ox.Literal):
                    found.add(str(row["c"]))
            self.closures[cls] = tuple(sorted(found))
        return self.closures[cls]

    # ---- value constraints

    def _checks(self, shape: Node, top: bool = True) -> list[Check]:
        """The value constraints of a shape (``top``: a validated shape, not a member of sh:or & co.)."""
        checks = []
        for parameter, value in sorted(self.g.predicate_objects(shape)):
            if parameter in LOGICAL:
                checks.append(self._logical(parameter, value, top))
            elif parameter in VALUE_PARAMETERS and not (parameter == SH.hasValue and self._is_property(shape)):
                checks.append(self._value_check(shape, parameter, value, top))
        return checks

    def _is_property(self, shape: Node) -> bool:
        return (shape, SH.path, None) in self.g

    def _value_check(self, shape: Node, parameter: URIRef, value: Node, top: bool) -> Check:
        """One value constraint parameter as a check (sh:class as an anti-join at the top)."""
        name = value.n3(self.names)
        if parameter == SH["class"]:
            return self._class_check(SH.ClassConstraintComponent, [value], f"Value is not an instance of {name}", top)
        if parameter == SH.datatype:
            return Check(SH.DatatypeConstraintComponent, f"Value is not a literal of datatype {name}", self._datatype(value))
        if parameter == SH.nodeKind:
            if value not in NODE_KINDS:
                raise Unsupported(f"sh:nodeKind {name}")
            return Check(SH.NodeKindConstraintComponent, f"Value is not of node kind {name}", NODE_KINDS[value])
        if parameter == SH.pattern:
            flags = self.g.value(shape, SH.flags)
            args = _sparql(Literal(str(value))) + (f", {_sparql(Literal(str(flags)))}" if flags is not None else "")
            return Check(SH.PatternConstraintComponent, f"Value does not match the pattern {value!s}", f"(!isBlank(?value) && REGEX(STR(?value), {args}))")
        if parameter in COMPARISONS:
            return Check(_component(parameter), f"Value is not {COMPARISONS[parameter]} {value!s}", f"(?value {COMPARISONS[parameter]} {_sparql(value)})")
        if parameter in LENGTHS:
            expression = f"(!isBlank(?value) && STRLEN(STR(?value)) {LENGTHS[parameter]} {int(value)})"
            return Check(_component(parameter), f"Value length is not {LENGTHS[parameter]} {value!s}", expression)
        if parameter == SH["in"]:
            members = [f"sameTerm(?value, {_sparql(m)})" for m in Collection(self.g, value)]
            expression = "(" + " || ".join(members) + ")" if members else "false"
            return Check(SH.InConstraintComponent, "Value is not in the list of allowed values", expression)
        return Check(SH.HasValueConstraintComponent, f"Value is not {name}", f"sameTerm(?value, {_sparql(value)})")

    def _class_check(self, component: URIRef, classes: list[Node], message: str, top: bool) -> Check:
        """A value must be an instance of one of ``classes``: an anti-join at the top, EXISTS inside."""
        closure = tuple(sorted({c for cls in classes for c in self._subclasses(cls)}))
        if top:
            return Check(component, message, classes=closure)
        return Check(component, message, f"EXISTS {{ {_typed('?value', closure)} }}")

    def _datatype(self, datatype: Node) -> str:
        """sh:datatype: a literal of that datatype whose lexical form casts (not ill-typed)."""
        if not isinstance(datatype, URIRef):
            raise Unsupported(f"sh:datatype {datatype.n3()}")
        if datatype in INTEGER_RANGES:
            self.integer_types.add(datatype)
            low, high = INTEGER_RANGES[datatype]
            bounds = "".join(f" && ?value {op} {bound}" for op, bound in ((">=", low), ("<=", high)) if bound is not None)
            return f"({self._datatype(XSD.integer)}{bounds})"
        well_formed = f" && isLiteral({_sparql(datatype)}(STR(?value)))" if datatype in CASTABLE else ""
        return f"(isLiteral(?value) && sameTerm(DATATYPE(?value), {_sparql(datatype)}){well_formed})"

    def _logical(self, parameter: URIRef, value: Node, top: bool) -> Check:
        """sh:or/and/xone over a list of shapes, sh:not over one; each member checked on ?value."""
        members = [value] if parameter == SH["not"] else list(Collection(self.g, value))
        message = f"Value does not conform to sh:{_local(parameter)}"
        classes = [self._only_class(m) for m in members]
        if parameter == SH["or"] and members and all(classes):
            return self._class_check(SH.OrConstraintComponent, classes, message, top)
        conforms = [f"COALESCE({self._member(m)}, false)" for m in members]
        if parameter == SH["not"]:
            expression = f"!{conforms[0]}"
        elif parameter == SH.xone:
            expression = "((" + " + ".join(f"IF({c}, 1, 0)" for c in conforms) + ") = 1)" if conforms else "false"
        elif parameter == SH["or"]:
            expression = "(" + " || ".join(conforms) + ")" if conforms else "false"
        else:
            expression = "(" + " && ".join(conforms) + ")" if conforms else "true"
        return Check(_component(parameter), message, expression)

    def _only_class(self, member: Node) -> Node | None:
        """The class of a member shape that says nothing but sh:class C (the usual sh:or member)."""
        parameters = {p for p in self.g.predicates(member, None) if p != RDF.type}
        classes = list(self.g.objects(member, SH["class"]))
        return classes[0] if parameters == {SH["class"]} and len(classes) == 1 else None

    def _member(self, member: Node) -> str:
        """A member shape of sh:or & co. as one expression: the conjunction of its value checks."""
        if not self._active(member):
            return "true"
        unsupported = {p for p in self.g.predicates(member, None) if p in FOCUS_PARAMETERS or p in TARGETS}
        if unsupported:
            names = ", ".join(sorted(p.n3(self.names) for p in unsupported))
            raise Unsupported(f"{names} in a shape of a logical constraint (sh:or, sh:and, sh:not, sh:xone)")
        checks = self._checks(member, top=False)
        return "(" + " && ".join(c.expression for c in checks) + ")" if checks else "true"

    # ---- planning a shape's constraints

    def _plan_shape(self, plan: Plan, shape: Node, targets: str) -> None:
        """Hand each constraint of a shape to the plan, under the key of the scan it needs."""
        path = self.g.value(shape, SH.path)
        if path is None and ((shape, SH.minCount, None) in self.g or (shape, SH.maxCount, None) in self.g):
            raise Unsupported(f"sh:minCount/sh:maxCount on the node shape {self._label(shape)}")
        if path is not None and (shape, SH.closed, None) in self.g:
            raise Unsupported(f"sh:closed on the property shape {self._label(shape)}")
        info = ShapeInfo(shape, self._label(shape), self.g.value(shape, SH.severity) or SH.Violation, _first_text(self.g.objects(shape, SH.message)), path)
        checks = self._checks(shape)
        expressions = [c for c in checks if c.expression]
        if expressions:
            plan.add(("values", path) if path is not None else ("node-values", shape), info, targets, expressions)
        for check in checks:
            if check.classes:
                key = ("classes", path, check.classes) if path is not None else ("node-classes", shape, check.classes)
                plan.add(key, info, targets, [check])
        if path is not None:
            self._plan_counts(plan, shape, info, targets, path)
        if _true(self.g.value(shape, SH.closed)):
            check = Check(SH.ClosedConstraintComponent, "Predicate is not allowed (closed shape)")
            plan.add(("closed", shape, self._allowed(shape)), info, targets, [check])

    def _plan_counts(self, plan: Plan, shape: Node, info: ShapeInfo, targets: str, path: URIRef) -> None:
        """sh:minCount, sh:maxCount and (on a property) sh:hasValue: constraints on a node's value set."""
        min_count, max_count = self.g.value(shape, SH.minCount), self.g.value(shape, SH.maxCount)
        if min_count is not None and int(min_count) > 0:
            key = ("absent", path) if int(min_count) == 1 else ("min", shape, path, int(min_count))
            plan.add(key, info, targets, [Check(SH.MinCountConstraintComponent, f"Less than {min_count} values")])
        if max_count is not None:
            plan.add(("max", path, int(max_count)), info, targets, [Check(SH.MaxCountConstraintComponent, f"More than {max_count} values")])
        for value in self.g.objects(shape, SH.hasValue):
            plan.add(("has", shape, path, _sparql(value)), info, targets, [Check(SH.HasValueConstraintComponent, f"Missing the value {value.n3(self.names)}")])

    def _allowed(self, shape: Node) -> tuple[str, ...]:
        """The predicates a closed shape allows: its property paths and sh:ignoredProperties."""
        allowed = {self.g.value(p, SH.path) for p in self.g.objects(shape, SH.property)} - {None}
        for ignored in self.g.objects(shape, SH.ignoredProperties):
            allowed |= set(Collection(self.g, ignored))
        return tuple(sorted(_sparql(p) for p in allowed))


class Plan:
    """Constraints grouped by what their query scans; one query per group.

    A group key is (kind, what is scanned, parameters...): the path for constraints that all
    shapes on that path share a scan for, the shape itself for the others.
    """

    def __init__(self) -> None:
        self.groups: dict[tuple, list[Member]] = defaultdict(list)

    def add(self, key: tuple, shape: ShapeInfo, targets: str, checks: list[Check]) -> None:
        self.groups[key].append(Member(shape, targets, tuple((None, c) for c in checks)))

    def queries(self) -> list[Query]:
        queries = []
        for key, members in self.groups.items():
            if key[0] in ("values", "node-values"):
                queries.append(_values_query(key, members))
            else:
                sparql, probe = QUERIES[key[0]](key, members)
                queries.append(Query(sparql, tuple(members), probe))
        return queries


def _labelled(members: list[Member]) -> str:
    """The members' focus nodes, each row tagged with ?shape = the member's index."""
    if len(members) == 1:
        return members[0].targets
    return "{ " + " UNION ".join(f"{{ {m.targets} BIND ({i} AS ?shape) }}" for i, m in enumerate(members)) + " }"


def _joined(failures: str, members: list[Member], variables: str, condition: str = "") -> tuple[str, str]:
    """The failures (a SELECT) joined with the members' focus nodes, and the ASK probing them."""
    return f"SELECT {variables} WHERE {{ {{ {failures} }} {_labelled(members)} {condition}}}", f"ASK {{ {{ {failures} }} }}"


def _values_query(key: tuple, members: list[Member]) -> Query:
    """All value expressions of the shapes on one path, each computed once per value.

    Rows are the values failing some expression, joined with the shapes' focus nodes and kept
    only where an expression of the row's own shape fails; ?okN tell which.
    """
    expressions = list(dict.fromkeys(c.expression for m in members for _, c in m.checks))
    flagged = tuple(Member(m.shape, m.targets, tuple((expressions.index(c.expression), c) for _, c in m.checks)) for m in members)
    # flags are 1/0, not true/false: Virtuoso 7 misreads FILTER (!?ok) after BIND (... AS ?ok)
    binds = " ".join(f"BIND (IF(COALESCE({e}, false), 1, 0) AS ?ok{i})" for i, e in enumerate(expressions))
    flags = " ".join(f"?ok{i}" for i in range(len(expressions)))
    fails = [" || ".join(f"?ok{n} = 0" for n in sorted({n for n, _ in m.checks})) for m in flagged]
    if key[0] == "node-values":
        return Query(f"SELECT ?this ?value {flags} WHERE {{ {members[0].targets} BIND (?this AS ?value) {binds} FILTER ({fails[0]}) }}", flagged)
    any_fails = " || ".join(f"?ok{i} = 0" for i in range(len(expressions)))
    failures = f"SELECT ?this ?value {flags} WHERE {{ ?this {_sparql(key[1])} ?value . {binds} FILTER ({any_fails}) }}"
    own = fails[0] if len(members) == 1 else " || ".join(f"(?shape = {i} && ({f}))" for i, f in enumerate(fails))
    sparql, probe = _joined(failures, members, f"?this ?value ?shape {flags}", f"FILTER ({own}) ")
    return Query(sparql, flagged, probe)


def _class_query(key: tuple, members: list[Member]) -> tuple[str, str | None]:
    """Values on a path that are instances of none of the classes: an anti-join with the type index."""
    failures = f"SELECT ?this ?value WHERE {{ ?this {_sparql(key[1])} ?value MINUS {{ {_typed('?value', key[2])} }} }}"
    return _joined(failures, members, "?this ?value ?shape")


def _node_class_query(key: tuple, members: list[Member]) -> tuple[str, str | None]:
    """Focus nodes that are instances of none of the classes (a node shape's sh:class)."""
    return f"SELECT ?this ?value WHERE {{ {members[0].targets} BIND (?this AS ?value) MINUS {{ {_typed('?value', key[2])} }} }}", None


def _max_query(key: tuple, members: list[Member]) -> tuple[str, str | None]:
    """Nodes with too many values on a path (counted over the whole path, then joined)."""
    many = f"SELECT ?this WHERE {{ ?this {_sparql(key[1])} ?value }} GROUP BY ?this HAVING (COUNT(?value) > {key[2]})"
    return _joined(many, members, "?this ?shape")


def _absent_query(key: tuple, members: list[Member]) -> tuple[str, str | None]:
    """Focus nodes without any value on a path (sh:minCount 1): one anti-join for all shapes on it."""
    return f"SELECT ?this ?shape WHERE {{ {_labelled(members)} MINUS {{ ?this {_sparql(key[1])} ?any }} }}", None


def _min_query(key: tuple, members: list[Member]) -> tuple[str, str | None]:
    """Focus nodes with fewer than sh:minCount (> 1) values."""
    _, _, path, least = key
    return f"SELECT ?this WHERE {{ {members[0].targets} OPTIONAL {{ ?this {_sparql(path)} ?value }} }} GROUP BY ?this HAVING (COUNT(?value) < {least})", None


def _has_value_query(key: tuple, members: list[Member]) -> tuple[str, str | None]:
    """Focus nodes lacking the sh:hasValue term among their values."""
    _, _, path, value = key
    return f"SELECT ?this WHERE {{ {members[0].targets} MINUS {{ ?this {_sparql(path)} {value} }} }}", None


def _closed_query(key: tuple, members: list[Member]) -> tuple[str, str | None]:
    """Triples of focus nodes whose predicate the closed shape does not allow."""
    condition = f"FILTER (?path NOT IN ({', '.join(key[2])}))" if key[2] else ""
    return f"SELECT ?this ?path ?value WHERE {{ {members[0].targets} ?this ?path ?value . {condition} }}", None


QUERIES = {
    "classes": _class_query, "node-classes": _node_class_query, "max": _max_query, "absent": _absent_query, "min": _min_query,
    "has": _has_value_query, "closed": _closed_query,
}


def _component(parameter: URIRef) -> URIRef:
    """sh:minInclusive -> sh:MinInclusiveConstraintComponent, and so on."""
    name = _local(parameter)
    return SH[name[0].upper() + name[1:] + "ConstraintComponent"]


def _typed(var: str, classes: tuple[str, ...]) -> str:
    """A pattern matching ``var`` rdf:type one of ``classes``."""
    if len(classes) == 1:
        return f"{var} a {classes[0]} ."
    return f"{var} a ?type . VALUES ?type {{ {' '.join(classes)} }}"


def _first_text(values: Iterable[Node]) -> str | None:
    """The sh:message to use: untagged or English first."""
    texts = sorted(values, key=lambda v: (getattr(v, "language", None) not in (None, "en"), str(v)))
    return str(texts[0]) if texts else None


def _true(value: Node | None) -> bool:
    return isinstance(value, Literal) and value.toPython() is True


# ---------------------------------------------------------------- running


def _run(store: ox.Store, queries: list[Query], union: bool, result: ValidationResult) -> None:
    """Run the queries, streaming rows into the capped tallies (memory stays bounded)."""
    for query in counted(queries, "validating", " queries"):
        if query.probe and not store.query(query.probe, use_default_graph_as_union=union):
            continue
        for row in store.query(query.sparql, use_default_graph_as_union=union):
            member = query.members[int(row["shape"].value)] if len(query.members) > 1 else query.members[0]
            for flag, check in member.checks:
                if flag is None or row[f"ok{flag}"].value == "0":
                    kept = result.count(member.shape, check.component)
                    if kept is not None:
                        kept.append(_result(row, member.shape, check))


def _result(row: ox.QuerySolution, shape: ShapeInfo, check: Check) -> Result:
    """A kept result; terms become rdflib terms only here, for the few results kept."""
    path = row["path"]  # bound by sh:closed queries only: the predicate not allowed
    value = None if check.component == SH.HasValueConstraintComponent else row["value"]  # SHACL gives none
    return Result(
        _rdflib(row["this"]), _rdflib(path) if path is not None else shape.path, _rdflib(value),
        shape.node, check.component, shape.severity, shape.message or check.message,
    )


def _has_named_graphs(store: ox.Store) -> bool:
    """Whether to query the union of graphs (slower), needed only when named graphs exist."""
    return next(iter(store.named_graphs()), None) is not None


def _shapes_graph(shapes: Path | None) -> Graph:
    """The shapes graph (default: the hkg-rdf shapes), any RDF format rdflib knows by extension."""
    path = shapes or data_path(*SHAPES_FILE)
    try:
        return Graph(bind_namespaces="core").parse(str(path), format=guess_format(str(path)) or "turtle")
    except Exception as error:  # rdflib's parsers raise many unrelated exception types
        raise InputError(str(path), f"cannot read the shapes: {error}") from error


def _validate(store: ox.Store, shapes: Graph, cap: int) -> ValidationResult:
    """Compile and run the shapes; hand the whole shapes graph to pyshacl if it cannot compile."""
    union = _has_named_graphs(store)
    result = ValidationResult({}, cap, {p: str(n) for p, n in shapes.namespaces()})
    try:
        queries = Compiler(shapes, store, union).queries()
    except Unsupported as reason:
        notice(f"the shapes use {reason}, which hkg-rdf does not compile to SPARQL; validating with pyshacl in memory instead (slow on big graphs)")
        return _validate_with_pyshacl(store, shapes, result)
    _run(store, queries, union, result)
    return result


def _validate_with_pyshacl(store: ox.Store, shapes: Graph, result: ValidationResult) -> ValidationResult:
    """Validate all of the store's triples with pyshacl, and tally its results like ours."""
    import pyshacl

    data = Graph()
    for quad in store:
        data.add((_rdflib(quad.subject), _rdflib(quad.predicate), _rdflib(quad.object)))
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes)
    names = _namespaces(result.prefixes)
    for node in report.objects(None, SH.result):
        shape, component = report.value(node, SH.sourceShape), report.value(node, SH.sourceConstraintComponent)
        info = ShapeInfo(shape, shape.n3(names), report.value(node, SH.resultSeverity), None, None)
        kept = result.count(info, component)
        if kept is not None:
            kept.append(Result(
                report.value(node, SH.focusNode), report.value(node, SH.resultPath), report.value(node, SH.value),
                shape, component, info.severity, str(report.value(node, SH.resultMessage) or ""),
            ))
    return result


def validate_store(store: ox.Store, shapes: Path | None = None, cap: int = DEFAULT_CAP) -> ValidationResult:
    """Validate a store against the shapes (default: the hkg-rdf shapes).

    ``cap`` bounds the results kept per (shape, constraint component); all are counted.
    """
    return _validate(store, _shapes_graph(shapes), cap)


def _load(store: ox.Store, path: Path) -> None:
    """Bulk-load one RDF file; a file that cannot be read or parsed is an InputError naming it."""
    fmt = rdf_format(path)
    try:
        with open_binary(path) as stream:
            store.bulk_load(stream, fmt)
    except SyntaxError as error:
        raise InputError(str(path), f"invalid {fmt.name}: {error}") from error
    except (OSError, EOFError) as error:
        raise InputError(str(path), f"cannot read: {error}") from error


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
    files: list[Path], shapes: Path | None = None, cap: int = DEFAULT_CAP, in_memory_below: int = IN_MEMORY_BYTES
) -> ValidationResult:
    """Validate RDF files (any format by extension, .gz too) through a temporary store.

    Files smaller than ``in_memory_below`` bytes go to an in-memory store (Oxigraph's in-memory
    bulk load is about twice as fast as on disk); bigger ones to an on-disk store in a temporary
    directory, so memory stays bounded whatever the size.
    """
    graph = _shapes_graph(shapes)
    with tempfile.TemporaryDirectory(prefix="hkg-validate-") as directory:
        store = ox.Store() if _estimated_bytes(files) < in_memory_below else ox.Store(directory)
        for path in files:
            _load(store, path)
        result = _validate(store, graph, cap)
        del store
    return result
