"""Shapes compiled to SPARQL queries over the store.

Every shape is validated on its *contexts*: its own targets, and for each shape that has it as
a sh:property, that shape's focus nodes (node shape) or their value nodes (property shape), at
any depth. A shape reached twice (two parents, two paths) reports twice, as SHACL's results are
per validation of a focus node. sh:node, sh:not, sh:and, sh:or, sh:xone and qualified shapes
need "does this node conform to that shape": an expression built from the member shape's own
constraints, recursively (a shape reaching itself is refused: SHACL leaves recursion undefined).

How the queries are shaped, and why (measured on an on-disk store of 3.6 M triples):

* Joining every focus node with its values costs a random index lookup per node; scanning a
  property is a sequential read. So a query scans the constrained path first, keeps the failing
  values, and only then hash-joins them with the shapes' focus nodes (~2x faster).
* All value checks of the shapes on one path share one scan: each distinct expression is
  computed once per value, and each row is checked against its own shape's expressions.
* sh:class is an anti-join (MINUS) with the type index, a hash join: ~8x faster than EXISTS.
* The failing values are found first: when none fails the join with the focus nodes (which
  costs even when empty) is skipped; when few fail they are joined as VALUES, not recomputed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import RDFS, SH
from rdflib.term import Node

from .constraints import FOCUS, Check, FocusCheck, ValueCheck, builders, safe, typed
from .model import Shapes
from .paths import Path, compile_path
from .results import ShapeInfo, local
from .terms import Terms


class ShapeError(ValueError):
    """A shape that cannot be compiled as written; carries the shape for the message."""

    def __init__(self, label: str, message: str):
        self.label, self.message = label, message
        super().__init__(f"shape {label}: {message}")


@dataclass(frozen=True)
class Member:
    """A shape answered by a query: rows with ?shape = its index report its checks.

    Each check comes with the index N of its ?okN flag, or None when the row itself is the failure.
    """

    shape: ShapeInfo
    focus: str
    checks: tuple[tuple[int | None, Check], ...]


@dataclass(frozen=True)
class Query:
    """One SPARQL query and the shapes whose results its rows are.

    ``failures``: the sub-SELECT of ``sparql`` finding the failing values whatever the focus
    nodes. The runner runs it first: when nothing fails (the usual case) the join with the focus
    nodes, which costs even when empty, is skipped; when few fail, they are joined as VALUES.
    """

    sparql: str
    members: tuple[Member, ...]
    failures: str | None = None

    def label(self) -> str:
        return ", ".join(dict.fromkeys(m.shape.label for m in self.members))


class Compiler:
    """Compiles a shapes graph to SPARQL queries against one store (for its class hierarchy)."""

    def __init__(self, shapes: Shapes, store: ox.Store, union: bool, terms: Terms, components: set[URIRef] | None = None):
        self.shapes, self.store, self.union, self.terms, self.components = shapes, store, union, terms, components
        self.builders = builders()
        self.embedded = isinstance(store, ox.Store)
        self._closures: dict[Node, tuple[str, ...]] = {}
        self._checks: dict[Node, list[Check]] = {}
        self._paths: dict[Node, Path | None] = {}
        self._stack: list[Node] = []
        self._fresh = 0

    # ---- the Context the constraint builders use

    def fresh(self) -> str:
        self._fresh += 1
        return f"?n{self._fresh}"

    def label(self, shape: Node) -> str:
        return self.shapes.label(shape)

    def path(self, shape: Node) -> Path | None:
        if shape not in self._paths:
            node = self.shapes.path(shape)
            try:
                self._paths[shape] = compile_path(self.shapes.g, node) if node is not None else None
            except ValueError as error:
                raise ShapeError(self.label(shape), str(error)) from None
        return self._paths[shape]

    def closure(self, cls: Node) -> tuple[str, ...]:
        """The class and its rdfs:subClassOf* descendants in the data graph, as SPARQL terms."""
        if cls not in self._closures:
            term = self.terms.term(cls)
            found = {term}
            query = f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS.subClassOf}>* {term} }}"
            for row in self.store.query(query, use_default_graph_as_union=self.union):
                if isinstance(row["c"], ox.NamedNode):
                    found.add(str(row["c"]))
            self._closures[cls] = tuple(sorted(found))
        return self._closures[cls]

    def checks(self, shape: Node) -> list[Check]:
        """The checks of a shape's own constraints (built once)."""
        if shape not in self._checks:
            checks: list[Check] = []
            for parameter, value in sorted(self.shapes.g.predicate_objects(shape)):
                builder = self.builders.get(parameter)
                if builder is None:
                    continue
                try:
                    built = builder(self, shape, value)
                except ShapeError:
                    raise
                except (ValueError, TypeError) as error:
                    raise ShapeError(self.label(shape), str(error)) from None
                checks += [c for c in built if self.components is None or c.component in self.components]
            self._checks[shape] = checks
        return self._checks[shape]

    def properties(self, shape: Node) -> list[Node]:
        return [q for q in self.shapes.values(shape, SH.property) if self.shapes.active(q)]

    def conforms(self, shape: Node, var: str) -> str:
        """An expression true when the node ``var`` conforms to ``shape``."""
        if not self.shapes.active(shape):
            return "true"
        if shape in self._stack:
            cycle = " -> ".join(self.label(s) for s in [*self._stack[self._stack.index(shape):], shape])
            raise ShapeError(self.label(shape), f"the shape is recursive ({cycle}); SHACL leaves the validation of recursive shapes undefined")
        self._stack.append(shape)
        try:
            checks, path = self.checks(shape), self.path(shape)
            values = [c for c in checks if isinstance(c, ValueCheck)]
            parts = [safe(c.holds(var)) for c in checks if isinstance(c, FocusCheck)]
            if path is None:
                parts = [safe(c.ok(var)) for c in values] + [self.conforms(q, var) for q in self.properties(shape)] + parts
            else:
                v = self.fresh()
                inner = [safe(c.ok(v)) for c in values] + [self.conforms(q, v) for q in self.properties(shape)]
                if inner:
                    parts.insert(0, f"NOT EXISTS {{ {path.values(var, v)} FILTER (!({' && '.join(inner)})) }}")
        finally:
            self._stack.pop()
        return "(" + " && ".join(parts) + ")" if parts else "true"

    # ---- targets and contexts

    def _target_patterns(self, shape: Node) -> list[tuple[str, bool]]:
        """(SPARQL pattern binding ?this, whether it binds each node once), one per target."""
        s = self.shapes
        classes = s.values(shape, SH.targetClass) + ([shape] if s.is_class(shape) else [])
        patterns = [(typed("?this", self.closure(c)), len(self.closure(c)) == 1) for c in classes]
        patterns += [(f"VALUES ?this {{ {self.terms.term(n)} }}", True) for n in s.values(shape, SH.targetNode)]
        patterns += [(f"?this {self.terms.term(p)} ?t_object .", False) for p in s.values(shape, SH.targetSubjectsOf)]
        patterns += [(f"?t_subject {self.terms.term(p)} ?this .", False) for p in s.values(shape, SH.targetObjectsOf)]
        return patterns

    def _targets(self, shape: Node) -> str | None:
        """A pattern binding ?this once per target node, or None for an untargeted shape.
        One plain class (the usual case) stays a triple pattern, which Oxigraph joins fastest."""
        patterns = set(self._target_patterns(shape))
        if not patterns:
            return None
        if len(patterns) == 1 and next(iter(patterns))[1]:
            return next(iter(patterns))[0]
        union = " UNION ".join(f"{{ {p} }}" for p, _ in sorted(patterns))
        return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}"

    def contexts(self) -> dict[Node, list[str]]:
        """Each active shape's focus patterns: its targets and what its parents hand down."""
        found: dict[Node, list[str]] = defaultdict(list)
        for shape in sorted(self.shapes.shapes, key=str):
            targets = self._targets(shape) if self.shapes.active(shape) else None
            if targets is not None:
                self._descend(shape, targets, [], found)
        return found

    def _descend(self, shape: Node, focus: str, stack: list[Node], found: dict[Node, list[str]]) -> None:
        if shape in stack:
            raise ShapeError(self.label(shape), "the shape is recursive through sh:property; SHACL leaves that undefined")
        found[shape].append(focus)
        path = self.path(shape)
        for child in self.properties(shape):
            if path is None:
                inner = focus
            else:
                parent = self.fresh()
                inner = f"{{ SELECT ?this WHERE {{ {{ SELECT (?this AS {parent}) WHERE {{ {focus} }} }} {path.values(parent, '?this')} }} }}"
            self._descend(child, inner, [*stack, shape], found)

    # ---- the plan

    def info(self, shape: Node) -> ShapeInfo:
        s = self.shapes
        messages = sorted(s.g.objects(shape, SH.message), key=lambda v: (getattr(v, "language", None) not in (None, "en"), str(v)))
        severity = s.value(shape, SH.severity) or SH.Violation
        return ShapeInfo(shape, self.label(shape), severity, str(messages[0]) if messages else None, s.path(shape))

    def queries(self) -> list[Query]:
        """The queries of every active shape on its contexts; constraints on one path share queries."""
        plan = Plan()
        for shape, contexts in self.contexts().items():
            focus = contexts[0] if len(contexts) == 1 else "{ " + " UNION ".join(f"{{ {f} }}" for f in contexts) + " }"
            try:
                self._plan_shape(plan, shape, focus)
            except ShapeError:
                raise
            except ValueError as error:
                raise ShapeError(self.label(shape), str(error)) from None
            except Exception as error:  # a bug of ours: still exit 2, naming the shape
                raise ShapeError(self.label(shape), f"internal error ({type(error).__name__}: {error})") from error
        return plan.queries()

    def _plan_shape(self, plan: Plan, shape: Node, focus: str) -> None:
        """Hand each check of a shape to the plan, under the key of the scan it needs."""
        info, path, checks = self.info(shape), self.path(shape), self.checks(shape)
        where = ("path", path.text, path.distinct) if path is not None else ("node", shape)
        expressions = []
        for check in checks:
            if isinstance(check, ValueCheck) and check.classes:
                plan.add(("classes", where, check.classes), info, focus, [check])
            elif isinstance(check, ValueCheck):
                expressions.append(check)
            elif check.failures is not None:
                plan.add(("failures", check.failures), info, focus, [check])
            else:
                plan.add(("anchored", check.anchored), info, focus, [check])
        if expressions:
            plan.add(("values", where), info, focus, expressions)


class Plan:
    """Checks grouped by what their query scans; one query per group."""

    def __init__(self) -> None:
        self.groups: dict[tuple, list[Member]] = defaultdict(list)

    def add(self, key: tuple, shape: ShapeInfo, focus: str, checks: list[Check]) -> None:
        self.groups[key].append(Member(shape, focus, tuple((None, c) for c in checks)))

    def queries(self) -> list[Query]:
        built = {"values": _values_query, "classes": _class_query, "failures": _failures_query, "anchored": _anchored_query}
        return [built[key[0]](key, members) for key, members in self.groups.items()]


SELECTED = "?this ?value ?path ?shape"


def _labelled(members: list[Member]) -> str:
    """The members' focus nodes, each row tagged with ?shape = the member's index."""
    if len(members) == 1:
        return members[0].focus
    return "{ " + " UNION ".join(f"{{ {m.focus} BIND ({i} AS ?shape) }}" for i, m in enumerate(members)) + " }"


def _scan(where: tuple) -> str:
    """The pattern binding ?this and ?value for a path (all its triples), or None for a node shape."""
    _, text, distinct = where
    return Path(text, distinct).values("?this", "?value")


def _values_query(key: tuple, members: list[Member]) -> Query:
    """All value expressions of the shapes on one path, each computed once per value.

    Rows are the values failing an expression of the row's own shape; ?okN tell which.
    """
    expression = {id(c): c.ok("?value") for m in members for _, c in m.checks}  # once: ok() may mint variables
    texts = list(dict.fromkeys(expression.values()))
    flagged = [Member(m.shape, m.focus, tuple((texts.index(expression[id(c)]), c) for _, c in m.checks)) for m in members]
    flags = " ".join(f"?ok{i}" for i in range(len(texts)))
    if key[1][0] == "node":  # one shape: its members differ only by focus
        sparql = f"SELECT {SELECTED} {flags} WHERE {{ {_labelled(flagged)} BIND (?this AS ?value) {_flagged(texts, range(len(texts)))} }}"
        return Query(sparql, tuple(flagged))
    if len({_own(m) for m in flagged}) > 1:
        # Shapes with different checks (each class its own sh:pattern, say): each value is checked
        # against its own shape's expressions only, else nearly every value would fail some other
        # shape's. The path's values come first, in index order (decoding them in that order is
        # ~3x cheaper than in the focus nodes' order), hash-joined with the labelled focus nodes.
        users = {n: [i for i, m in enumerate(flagged) if n in _own(m)] for n in range(len(texts))}
        scan = f"{{ SELECT ?this ?value WHERE {{ {_scan(key[1])} }} }}"
        return Query(f"SELECT {SELECTED} {flags} WHERE {{ {scan} {_labelled(flagged)} {_flagged(texts, users, users)} }}", tuple(flagged))
    failures = f"SELECT ?this ?value {flags} WHERE {{ {_scan(key[1])} {_flagged(texts, range(len(texts)))} }}"
    return Query(f"SELECT {SELECTED} {flags} WHERE {{ {{ {failures} }} {_labelled(flagged)} }}", tuple(flagged), failures)


def _own(member: Member) -> frozenset[int]:
    """The indexes of the expressions a member checks."""
    return frozenset(n for n, _ in member.checks)


def _flagged(texts: list[str], indexes, users: dict[int, list[int]] | None = None) -> str:
    """?okN = 1 or 0 for each expression N of ``indexes``, keeping the rows where one is 0.
    With ``users``, expression N is computed only on rows whose ?shape is among ``users[N]``."""
    indexes = sorted(indexes)

    def flag(n: int) -> str:
        computed = f"IF({safe(texts[n])}, 1, 0)"
        return computed if users is None else f"IF(?shape IN ({', '.join(map(str, users[n]))}), {computed}, 1)"

    # flags are 1/0, not true/false: Virtuoso 7 misreads FILTER (!?ok) after BIND (... AS ?ok)
    binds = " ".join(f"BIND ({flag(n)} AS ?ok{n})" for n in indexes)
    return f"{binds} FILTER ({' || '.join(f'?ok{n} = 0' for n in indexes)})"


def _class_query(key: tuple, members: list[Member]) -> Query:
    """Values that are instances of none of the classes: an anti-join with the type index."""
    _, where, classes = key
    if where[0] == "node":
        return Query(f"SELECT {SELECTED} WHERE {{ {_labelled(members)} BIND (?this AS ?value) MINUS {{ {typed('?value', classes)} }} }}", tuple(members))
    failures = f"SELECT ?this ?value WHERE {{ {_scan(where)} MINUS {{ {typed('?value', classes)} }} }}"
    return Query(f"SELECT {SELECTED} WHERE {{ {{ {failures} }} {_labelled(members)} }}", tuple(members), failures)


def _failures_query(key: tuple, members: list[Member]) -> Query:
    """Failing nodes found over the whole graph, then joined with the members' focus nodes."""
    failures = key[1]
    return Query(f"SELECT {SELECTED} WHERE {{ {{ {failures} }} {_labelled(members)} }}", tuple(members), failures)


def _anchored_query(key: tuple, members: list[Member]) -> Query:
    """A check evaluated on the members' focus nodes."""
    return Query(f"SELECT {SELECTED} WHERE {{ {key[1].replace(FOCUS, _labelled(members))} }}", tuple(members))


def component_name(component: URIRef) -> str:
    return local(component)
