"""SHACL constraints proven while converting, record by record; the store checks only the rest.

A store-level validation scans every constrained property of the store again after the load,
which costs as much as the load itself at full scale. But the converter already holds every
value of a record, knows which triples it writes for it, and knows the type of both ends of
every edge (dangling ones are skipped). So, reading the constraints from the shapes graph
(never from a copy of them), this module proves, as the records stream by, each constraint
that a single record or edge decides: sh:datatype, sh:nodeKind, sh:pattern, numeric ranges,
sh:minCount / sh:maxCount of record fields, sh:class (and sh:or of sh:class) of an edge's far
end, sh:closed, the class of subjects targeted by sh:targetSubjectsOf, and the links to the
entity's pages on the Hub (hkgm:link), which the converter builds from the id.

Proving is all it does. A constraint it finds violated, or cannot decide (another target kind,
a parameter it does not model, a count fed by relation files, kept dangling edges, a store
that holds more than this one conversion), stays *open*; :meth:`ShapesGraph.reduced` keeps
exactly the open constraints (with the targets, paths and messages they need), and the store
validator runs that reduced shapes graph. A violation is therefore always reported by the store
validator itself, with the same results `validate --store` gives; a constraint leaves the
report only when every triple it could apply to was checked here.

Soundness rests on one fact, checked for every record: the converter's output holds exactly
the triples accounted for here. Those are the record's own (its rdf:type, one per field value,
one per license link, one per page link, one per edge), which the checks read, and the *extra*
ones the converter derives (:class:`Extra`: standard-term types and predicates, author-position nodes,
the task hierarchy, the concept preamble, the VoID description), which no check reads. The
planner leaves open (to the store) every shape an extra triple could touch: a property shape
whose path is an extra predicate, a shape targeting an extra class or the subjects of an extra
predicate, a closed shape whose focus type gets an extra predicate it does not allow; an extra
rdfs:subClassOf (it would change every class target) opens everything. A node shape that extra
triples reach only through some of its sh:targetSubjectsOf (TypedSubjectShape) is proven here
on the subjects of the others, which are records, and the store checks it on the subjects of
the extra predicates alone, or on all its targets if a record failed it. Any other line the
converter writes (a new kind of triple) marks the whole run unproven, and the full shapes graph
is then run on the store.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


import pyoxigraph as ox

from .errors import InputError
from .iris import IriMinter, link
from .records import Edge, Entity
from .report import Report
from .triples import RecordSink, Terms, TripleMaker, canonical_datetime
from .vocab import RDF, RDF_TYPE, RDFS, SKOS, SHAPES_FILE, XSD, XSD_DATETIME, XSD_STRING, EntityType, Field, Vocabulary, data_path, vocabulary

SH = "http://www.w3.org/ns/shacl#"
#: Structure and metadata: kept for every shape in a reduced graph, never a constraint themselves.
STRUCTURE = {RDF_TYPE} | {SH + n for n in (
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "path", "property", "name", "description",
    "message", "severity", "deactivated", "order", "group", "defaultValue")}
#: Parameters that only qualify another one, and travel with it.
COMPANIONS = {SH + "flags": SH + "pattern", SH + "ignoredProperties": SH + "closed"}
#: Constraint parameters this module decides (for some value sources; it leaves the others open).
DECIDED = {SH + n for n in (
    "datatype", "nodeKind", "pattern", "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "class", "or",
    "minCount", "maxCount", "closed")}
#: Parameters the store validator compiles that are never decided here: they stay open.
OPEN = {SH + n for n in ("in", "hasValue", "minLength", "maxLength", "and", "not", "xone")}
KNOWN = STRUCTURE | set(COMPANIONS) | DECIDED | OPEN
IRI_KINDS = {SH + "IRI", SH + "BlankNodeOrIRI", SH + "IRIOrLiteral"}
LITERAL_KINDS = {SH + "Literal", SH + "BlankNodeOrLiteral", SH + "IRIOrLiteral"}
NODE_KINDS = IRI_KINDS | LITERAL_KINDS | {SH + "BlankNode"}
COMPARE = {SH + "minInclusive": int.__ge__, SH + "maxInclusive": int.__le__, SH + "minExclusive": int.__gt__, SH + "maxExclusive": int.__lt__}
NUMERIC = {XSD + t for t in ("integer", "decimal", "nonNegativeInteger", "positiveInteger", "long", "int")}

#: A constraint: (shape as N-Triples term text, parameter IRI).
Constraint = tuple[str, str]
Test = Callable[[object], bool]


# ---------------------------------------------------------------- the shapes graph


def _key(term: object) -> str:
    return str(term)


@dataclass
class ShapesGraph:
    """The shapes graph as parsed triples (picklable: a conversion process receives it)."""

    triples: list[ox.Triple]
    prefixes: dict[str, str]
    path: Path

    @classmethod
    def read(cls, path: Path | None = None) -> ShapesGraph:
        path = path or data_path(*SHAPES_FILE)
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) or ox.RdfFormat.TURTLE
        try:
            parser = ox.parse(path=str(path), format=fmt)
            triples = [ox.Triple(q.subject, q.predicate, q.object) for q in parser]
        except (SyntaxError, OSError) as error:
            raise InputError(str(path), f"cannot read the shapes: {error}") from error
        return cls(triples, dict(getattr(parser, "prefixes", {}) or {}), path)

    def index(self) -> dict[tuple[str, str], list]:
        found: dict[tuple[str, str], list] = {}
        for t in self.triples:
            found.setdefault((_key(t.subject), t.predicate.value), []).append(t.object)
        return found

    def shapes(self) -> set[str]:
        """What the store validator treats as shapes: typed, targeted, with a path, or a property."""
        found = set()
        for t in self.triples:
            p = t.predicate.value
            if p == RDF_TYPE and t.object.value in (SH + "NodeShape", SH + "PropertyShape"):
                found.add(_key(t.subject))
            elif p == SH + "property":
                found.add(_key(t.object))
            elif p == SH + "path" or p.startswith(SH + "target"):
                found.add(_key(t.subject))
        return found

    def constraints(self) -> set[Constraint]:
        """Every (shape, constraint parameter) of the graph."""
        shapes = self.shapes()
        return {(_key(t.subject), COMPANIONS.get(t.predicate.value, t.predicate.value)) for t in self.triples
                if _key(t.subject) in shapes and t.predicate.value.startswith(SH) and t.predicate.value not in STRUCTURE}

    def reduced(self, keep: set[Constraint], dropped_targets: set[tuple[str, str]] = frozenset()) -> list[ox.Triple]:
        """The graph with only the constraints ``keep``: every shape keeps its structure (targets
        but ``dropped_targets``, paths, sh:property links, messages), a constraint parameter only
        if kept; blank nodes a kept triple refers to (lists, member shapes) come along whole."""
        shapes = self.shapes()
        by_subject: dict[str, list[ox.Triple]] = {}
        for t in self.triples:
            by_subject.setdefault(_key(t.subject), []).append(t)
        kept, seen = [], set()

        def add_closure(term: object) -> None:
            if isinstance(term, ox.BlankNode) and _key(term) not in seen and _key(term) not in shapes:
                seen.add(_key(term))
                for t in by_subject.get(_key(term), []):
                    kept.append(t)
                    add_closure(t.object)

        for subject, triples in by_subject.items():
            if subject in shapes:
                for t in triples:
                    p = t.predicate.value
                    if p == SH + "targetSubjectsOf" and (subject, t.object.value) in dropped_targets:
                        continue
                    if not p.startswith(SH) or p in STRUCTURE or (subject, COMPANIONS.get(p, p)) in keep:
                        kept.append(t)
                        add_closure(t.object)
            elif not subject.startswith("_:"):
                kept += triples  # e.g. class declarations in the shapes file
                for t in triples:
                    add_closure(t.object)
        return kept

    @contextmanager
    def reduced_file(self, keep: set[Constraint], dropped_targets: set[tuple[str, str]] = frozenset()) -> Iterator[Path]:
        """The reduced graph as a Turtle file with the original prefixes (reports name shapes by them)."""
        with tempfile.TemporaryDirectory(prefix="hkg-shapes-") as directory:
            path = Path(directory) / self.path.with_suffix(".ttl").name
            ox.serialize(self.reduced(keep, dropped_targets), str(path), ox.RdfFormat.TURTLE, prefixes=self.prefixes)
            yield path


# ---------------------------------------------------------------- what each value source gives


@dataclass(frozen=True)
class Source:
    """Where values of a path come from for an entity: a field, the links it derives, edges, its type."""

    kind: str  # "field" | "link" | "page" | "edge" | "type"
    field: Field | None = None  # for a page: the key, from which its IRI is built
    object_class: str | None = None  # for edges: the class of the far end (typed unless dangling)
    template: str | None = None  # for a page: the IRI template (hkgm:link)


def _lexical(field: Field) -> Callable[[object], str]:
    """The lexical form the converter writes for a value of ``field``."""
    if field.datatype == XSD_DATETIME:
        return canonical_datetime
    if field.is_count:
        return str
    return lambda value: value


def _regex(pattern: str) -> re.Pattern | None:
    """An XPath-style sh:pattern as a Python regex with the same meaning, or None if unsure.

    Only plain syntax is translated (literal characters, classes, groups, alternation,
    quantifiers, anchors, escaped punctuation); ``$`` becomes ``\\Z`` (Python's ``$`` would also
    match before a final line feed). Anything else is left to the store's REGEX.
    """
    if re.search(r"\\[^.\-\\/()\[\]{}^$*+?|]|\(\?|\[\[|&&|--\[", pattern):
        return None
    out, in_class, escaped = [], False, False
    for char in pattern:
        if escaped:
            out.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
        else:
            out.append(r"\Z" if char == "$" else char)
    try:
        return re.compile("".join(out))
    except re.error:
        return None


class Verdict:
    """What a source of values does to a constraint: always holds, fails when a value exists,
    holds iff a test passes on each value, or cannot be decided here."""

    HOLDS, FAILS = "holds", "fails"


# ---------------------------------------------------------------- the plan


@dataclass
class TypePlan:
    """What to check on each record and edge of one entity type."""

    fields: list[tuple[str, bool, list[tuple[Constraint, Test | None]]]] = field(default_factory=list)
    links: list[tuple[Field, list[tuple[Constraint, Test | None]]]] = field(default_factory=list)
    counts: list[tuple[Constraint, tuple[tuple[str, bool, bool], ...], int | None, int | None]] = field(default_factory=list)
    always: set[Constraint] = field(default_factory=set)  # fail as soon as an entity of the type exists
    edges: dict[str, set[Constraint]] = field(default_factory=dict)  # relation name -> fail when an edge is written


@dataclass
class Extra:
    """The triples a conversion writes that no record check reads (decided once, from the maker's tables)."""

    on_type: dict[str, set[str]]  # segment -> extra predicates whose subject is an entity of that type
    predicates: set[str]  # every extra predicate, whatever its subject (author nodes, concepts too)
    classes: set[str]  # every class an extra rdf:type gives

    @classmethod
    def of(cls, maker: TripleMaker) -> Extra:
        vocab, align_types = maker.vocab, maker._types
        on_type = {t.segment: set() for t in vocab.types}
        predicates, classes = set(), set()

        def named(predicates: list[str]) -> list[str]:
            return [p.strip().strip("<>") for p in predicates]

        def typed(lines: list[str]) -> list[str]:
            return [line.split()[1].strip("<>") for line in lines]

        for t in vocab.types:
            mine = on_type[t.segment]
            classes.update(typed(maker._type_lines[t.segment])[1:])
            for f in t.fields:
                if f.items:
                    mine.update(named(maker._item_props[f.items.link]))
                    classes.update(typed(align_types(f.items.cls)))
                    predicates.update([RDF_TYPE, f.items.user] + named(maker._item_props[f.items.position]) + named(maker._props[f.prop]))
                else:
                    mine.update(named(maker._props[f.prop])[1:])
                    if f.link_prop:
                        mine.update(named(maker._props[f.link_prop])[1:])
            if t.segment == maker._task_segment:
                mine.update(SKOS + n for n in ("inScheme", "notation", "broader"))
        for r in vocab.relations:
            subject, obj = (r.object, r.subject) if r.inverse else (r.subject, r.object)
            for prop, reverse in maker._edges[r.name]:
                on_type[(obj if reverse else subject).segment].add(prop)
        for mine in on_type.values():
            predicates |= mine
        for t in _parsed(vocab.preamble):  # concepts, on nodes of no entity type (CheckingTripleMaker checks that)
            predicates.add(t.predicate.value)
            if t.predicate.value == RDF_TYPE:
                classes.add(t.object.value)
        return cls(on_type, predicates, classes)


class Planner:
    """Reads the shapes graph and decides, per entity type and value source, what each constraint needs."""

    def __init__(self, shapes: ShapesGraph, vocab: Vocabulary, keep_dangling: bool, extra: Extra | None = None):
        self.index, self.vocab, self.keep_dangling = shapes.index(), vocab, keep_dangling
        self.shapes = shapes.shapes()
        self.open: set[Constraint] = set()
        self.narrowed: dict[str, frozenset[str]] = {}  # shape -> the sh:targetSubjectsOf predicates proven here
        self.plans = {t.segment: TypePlan() for t in vocab.types}
        self.all = shapes.constraints()
        self.extra = extra or Extra.of(TripleMaker(IriMinter(), Report(), vocab))
        self.paths = {o.value for (_, p), objects in self.index.items() if p == SH + "path" for o in objects if isinstance(o, ox.NamedNode)}
        self.subject_targets = {o.value for (_, p), objects in self.index.items() if p == SH + "targetSubjectsOf" for o in objects}
        self.class_targets = {o.value for (_, p), objects in self.index.items() if p == SH + "targetClass" for o in objects}

    def touches(self, predicates: set[str], classes: set[str]) -> bool:
        """Could triples with these predicates and classes change what some shape checks?"""
        return bool(predicates & (self.paths | self.subject_targets | {RDFS + "subClassOf"}) or classes & self.class_targets)

    def _touched(self, shape: str) -> bool:
        """Does an extra triple reach this shape's focus nodes or, for a property shape, its path?"""
        path = self.one(shape, "path")
        targets = {o.value for o in self.values(shape, "targetSubjectsOf")}
        classes = {o.value for o in self.values(shape, "targetClass")}
        return bool((isinstance(path, ox.NamedNode) and path.value in self.extra.predicates)
                    or targets & self.extra.predicates or classes & self.extra.classes)

    def _narrowable(self, shape: str, path: object, focus: list | None) -> frozenset[str]:
        """The sh:targetSubjectsOf predicates of a node shape that only extra triples' subjects
        reach through its other targets: the subjects of these are records, proven here, so the
        store need only check the subjects of the extra predicates (e.g. TypedSubjectShape: the
        author-position nodes instead of every subject). Empty when anything else is touched."""
        if path is not None or focus is None or self.values(shape, "property") or self.values(shape, "targetClass"):
            return frozenset()
        return frozenset(o.value for o in self.values(shape, "targetSubjectsOf")) - self.extra.predicates

    def values(self, subject: str, predicate: str) -> list:
        return self.index.get((subject, SH + predicate if not predicate.startswith("http") else predicate), [])

    def one(self, subject: str, predicate: str) -> object | None:
        found = self.values(subject, predicate)
        return found[0] if len(found) == 1 else None

    def plan(self) -> tuple[dict[str, TypePlan], set[Constraint], dict[str, frozenset[str]]]:
        """(what to check per type, the constraints left open, the shapes whose targets are narrowed)."""
        unknown = {p for (_, p) in self.index if p.startswith(SH) and p not in KNOWN}
        if unknown or any(p == SH + "deactivated" for (_, p) in self.index) or RDFS + "subClassOf" in self.extra.predicates:
            return self.plans, set(self.all) | {("*", "*")}, {}  # the store validator decides everything
        for shape in self.shapes:
            self._shape(shape)
        return self.plans, self.open, self.narrowed

    # ---- focus nodes

    def _focus(self, shape: str) -> list[tuple[EntityType, str | None]] | None:
        """(type, condition) pairs: entities of the type (having a value of the condition's
        property, for sh:targetSubjectsOf); None when the targets are of another kind."""
        if self.values(shape, "targetNode") or self.values(shape, "targetObjectsOf"):
            return None
        if any(o.value in (RDFS + "Class", "http://www.w3.org/2002/07/owl#Class") for o in self.values(shape, RDF_TYPE)):
            return None
        focus = [(t, None) for c in self.values(shape, "targetClass") for t in self.vocab.types if t.cls == c.value]
        if any(not isinstance(c, ox.NamedNode) for c in self.values(shape, "targetClass")):
            return None
        for prop in self.values(shape, "targetSubjectsOf"):
            focus += [(t, prop.value) for t in self.vocab.types]
        return focus

    def _sources(self, entity_type: EntityType, prop: str) -> list[Source]:
        sources = [Source("field", f) for f in entity_type.fields if f.prop == prop and not f.items]  # items: on their own nodes
        sources += [Source("link", f) for f in entity_type.fields if f.link_prop == prop]
        sources += [Source("page", entity_type.key, template=template) for p, template in entity_type.links if p == prop]
        for r in self.vocab.relations:
            subject, obj = (r.object, r.subject) if r.inverse else (r.subject, r.object)
            if subject is entity_type and r.prop == prop:
                sources.append(Source("edge", object_class=obj.cls, field=None))
        if prop == RDF_TYPE:
            sources.append(Source("type"))
        return sources

    def _relations(self, entity_type: EntityType, prop: str) -> list[str]:
        return [r.name for r in self.vocab.relations if (r.object if r.inverse else r.subject) is entity_type and r.prop == prop]

    # ---- shapes

    def _shape(self, shape: str) -> None:
        constraints = {(s, p) for s, p in self.all if s == shape}
        if not constraints:
            return
        path = self.one(shape, "path")
        focus = self._focus(shape)
        if self._touched(shape):
            proven = self._narrowable(shape, path, focus)
            if not proven:
                self.open |= constraints  # extra triples reach its focus nodes or its path
                return
            self.narrowed[shape] = proven
            focus = [(t, condition) for t, condition in focus if condition in proven]
        if path is not None:
            parent_shapes = [s for (s, p), objects in self.index.items() if p == SH + "property" and any(_key(o) == shape for o in objects)]
            parent_focus = [self._focus(p) for p in parent_shapes]
            if any(self._touched(p) for p in parent_shapes) or focus or any(f is None or any(c for _, c in f) for f in parent_focus) or not isinstance(path, ox.NamedNode):
                self.open |= constraints  # own targets, conditional or other parent targets, a path expression
                return
            focus = [pair for f in parent_focus for pair in f]
        elif focus is None:
            self.open |= constraints
            return
        for constraint in sorted(constraints):
            if path is not None:
                self._property(constraint, path.value, focus)
            else:
                self._node(constraint, focus)

    def _property(self, constraint: Constraint, prop: str, focus: list[tuple[EntityType, None]]) -> None:
        shape, parameter = constraint
        if parameter in (SH + "minCount", SH + "maxCount"):
            bound = self.one(shape, parameter)
            if not _is_integer(bound):
                self.open.add(constraint)
                return
            for entity_type, _ in focus:
                sources = self._sources(entity_type, prop)
                if any(s.kind in ("edge", "type") for s in sources):  # edges: counted across files
                    self.open.add(constraint)
                    return
                low, high = (int(bound.value), None) if parameter == SH + "minCount" else (None, int(bound.value))
                if any(s.kind == "page" for s in sources):
                    pages = _page_count([s.template for s in sources if s.kind == "page"])
                    if pages is None or len(sources) > pages:  # pages beside other values: not counted here
                        self.open.add(constraint)
                        return
                    if not (low or 0) <= pages <= (pages if high is None else high):
                        self.plans[entity_type.segment].always.add(constraint)  # every entity has as many
                    continue
                fields = tuple((s.field.name, s.field.is_list, s.kind == "link") for s in sources)
                self.plans[entity_type.segment].counts.append((constraint, fields, low, high))
            return
        for entity_type, _ in focus:
            for source in self._sources(entity_type, prop):
                verdict = self._verdict(constraint, source)
                if verdict is None:
                    self.open.add(constraint)
                    return
                self._attach(entity_type, prop, source, constraint, verdict)

    def _node(self, constraint: Constraint, focus: list[tuple[EntityType, str | None]]) -> None:
        shape, parameter = constraint
        if self.keep_dangling and any(c for _, c in focus):
            self.open.add(constraint)  # the subject of a kept dangling edge is untyped
            return
        if parameter == SH + "closed":
            if focus and any(c for _, c in focus):
                self.open.add(constraint)
                return
            allowed = self._allowed(shape)
            if allowed is None or any(self.extra.on_type[t.segment] - allowed for t, _ in focus):
                self.open.add(constraint)
                return
            for entity_type, _ in focus:
                for prop in self._emitted(entity_type) - allowed:
                    for source in self._sources(entity_type, prop):
                        self._attach(entity_type, prop, source, constraint, Verdict.FAILS)
            return
        for entity_type, condition in focus:
            verdict = self._verdict(constraint, Source("node", object_class=entity_type.cls))
            if verdict is None or (verdict not in (Verdict.HOLDS, Verdict.FAILS)):
                self.open.add(constraint)
                return
            if verdict == Verdict.HOLDS:
                continue
            if condition is None:
                self.plans[entity_type.segment].always.add(constraint)
            else:
                for source in self._sources(entity_type, condition):
                    self._attach(entity_type, condition, source, constraint, Verdict.FAILS)

    def _allowed(self, shape: str) -> set[str] | None:
        allowed = set()
        for member in self.values(shape, "property"):
            path = self.one(_key(member), "path")
            if isinstance(path, ox.NamedNode):
                allowed.add(path.value)
        for head in self.values(shape, "ignoredProperties"):
            items = self._list(head)
            if items is None:
                return None
            allowed |= {i.value for i in items}
        return allowed

    def _list(self, head: object) -> list | None:
        items = []
        while _key(head) != f"<{RDF}nil>":
            first, rest = self.one(_key(head), RDF + "first"), self.one(_key(head), RDF + "rest")
            if first is None or rest is None:
                return None
            items.append(first)
            head = rest
        return items

    def _emitted(self, entity_type: EntityType) -> set[str]:
        props = {RDF_TYPE} | {f.prop for f in entity_type.fields if not f.items} | {f.link_prop for f in entity_type.fields if f.link_prop}
        props |= {p for p, _ in entity_type.links}
        return props | {r.prop for r in self.vocab.relations if (r.object if r.inverse else r.subject) is entity_type}

    def _attach(self, entity_type: EntityType, prop: str, source: Source, constraint: Constraint, verdict: object) -> None:
        """Record what ``source`` of ``entity_type`` must do for the constraint."""
        if verdict == Verdict.HOLDS:
            return
        plan = self.plans[entity_type.segment]
        test = None if verdict == Verdict.FAILS else verdict
        if source.kind in ("field", "page"):  # a page's test reads the key
            entry = next((e for e in plan.fields if e[0] == source.field.name), None)
            if entry is None:
                entry = (source.field.name, source.field.is_list, [])
                plan.fields.append(entry)
            entry[2].append((constraint, test))
        elif source.kind == "link":
            entry = next((e for e in plan.links if e[0] is source.field), None)
            if entry is None:
                entry = (source.field, [])
                plan.links.append(entry)
            entry[1].append((constraint, test))
        elif source.kind == "edge" and test is None:
            for name in self._relations(entity_type, prop):
                plan.edges.setdefault(name, set()).add(constraint)
        elif source.kind == "type" and test is None:
            plan.always.add(constraint)
        else:
            self.open.add(constraint)

    # ---- one constraint on one source of values

    def _verdict(self, constraint: Constraint, source: Source) -> object | None:
        """HOLDS, FAILS (when a value exists), a test per value, or None (undecided here)."""
        shape, parameter = constraint
        value = self.one(shape, parameter)
        if value is None:
            return None
        literal = source.kind == "field"
        if parameter == SH + "datatype":
            if not literal:
                return Verdict.FAILS
            written = source.field.literal_datatype
            if value.value == written and (written in (XSD_STRING, XSD + "integer", XSD_DATETIME)):
                return Verdict.HOLDS  # records.py checked the lexical forms; xsd:string needs none
            return None if value.value in NUMERIC else Verdict.FAILS
        if parameter == SH + "nodeKind":
            if value.value not in NODE_KINDS:
                return None
            return Verdict.HOLDS if value.value in (LITERAL_KINDS if literal else IRI_KINDS) else Verdict.FAILS
        if parameter == SH + "pattern":
            if self.values(shape, "flags"):
                return None
            regex = _regex(value.value)
            if regex is None:
                return None
            if literal:
                lexical = _lexical(source.field)
                return lambda item: regex.search(lexical(item)) is not None
            if source.kind == "link":
                if all(regex.search(iri) for iri in self.vocab.licenses.values()):
                    return Verdict.HOLDS
                return lambda item: regex.search(self.vocab.licenses[item]) is not None
            if source.kind == "page":
                return _page_verdict(regex, source.template)
            if source.kind in ("type", "node"):
                return Verdict.HOLDS if regex.search(source.object_class or "") and source.kind == "type" else None
            return None
        if parameter in COMPARE:
            if not _is_integer(value):
                return None
            if not (literal and source.field.is_count):
                return Verdict.FAILS if literal or source.kind in ("link", "page", "edge", "type") else None
            bound, compare = int(value.value), COMPARE[parameter]
            return lambda item: compare(item, bound)
        if parameter in (SH + "class", SH + "or"):
            classes = self._classes(shape, parameter)
            if classes is None:
                return None
            if source.kind == "node":
                return Verdict.HOLDS if source.object_class in classes else Verdict.FAILS
            if source.kind == "edge":
                if self.keep_dangling:
                    return None  # a kept dangling edge ends at an untyped node
                return Verdict.HOLDS if source.object_class in classes else Verdict.FAILS
            if source.kind == "page":
                return None  # an IRI of the Hub's, which a store could describe
            return Verdict.FAILS  # literals, SPDX IRIs and class IRIs carry no type
        return None

    def _classes(self, shape: str, parameter: str) -> set[str] | None:
        """The classes a value must have one of: sh:class C, or sh:or of members saying only sh:class."""
        if parameter == SH + "class":
            value = self.one(shape, parameter)
            return {value.value} if isinstance(value, ox.NamedNode) else None
        members = self._list(self.one(shape, parameter))
        if not members:
            return None
        classes = set()
        for member in members:
            said = {p for (s, p) in self.index if s == _key(member)} - {RDF_TYPE}
            cls = self.one(_key(member), "class")
            if said != {SH + "class"} or not isinstance(cls, ox.NamedNode):
                return None
            classes.add(cls.value)
        return classes


def _page_verdict(regex: re.Pattern, template: str) -> object:
    """HOLDS when the pattern matches within the template's part before the id, which every
    page IRI starts with (a translated pattern has no lookaround and no end anchor other than
    ``\\Z``); else a test of each record's page IRI, built from its key."""
    head = template.split("{id}", 1)[0]
    if r"\Z" not in regex.pattern and regex.search(head) is not None:
        return Verdict.HOLDS
    return lambda key: regex.search(link(template, key)) is not None


def _page_count(templates: list[str]) -> int | None:
    """How many page IRIs these templates give every entity: all of them when the parts before
    the id differ with neither a prefix of another (the IRIs then differ too), else None."""
    heads = [t.split("{id}", 1)[0] for t in templates]
    if any(a.startswith(b) for i, a in enumerate(heads) for j, b in enumerate(heads) if i != j):
        return None
    return len(templates)


def _is_integer(term: object) -> bool:
    return isinstance(term, ox.Literal) and term.datatype.value in NUMERIC and re.fullmatch(r"[+-]?\d+", term.value) is not None


# ---------------------------------------------------------------- checking the stream


@dataclass
class Proof:
    """What the conversion proved: the constraints left open (to the store), and whether the
    output held only triples this module accounted for."""

    open: set[Constraint]
    complete: bool = True
    unaccounted: str = ""
    narrowed: dict[str, frozenset[str]] = field(default_factory=dict)  # see Planner._narrowable

    def merge(self, other: Proof) -> None:
        self.open |= other.open
        self.complete = self.complete and other.complete
        self.unaccounted = self.unaccounted or other.unaccounted
        self.narrowed |= other.narrowed


class CheckingTripleMaker(TripleMaker):
    """The converter's TripleMaker, checking each record and edge against the plan as it goes."""

    def __init__(self, minter: IriMinter, report: Report, shapes: ShapesGraph, keep_dangling: bool, vocab: Vocabulary | None = None,
                 terms: Terms = Terms(), sink: RecordSink | None = None):
        super().__init__(minter, report, vocab, terms, sink)
        self.extra = Extra.of(self)
        planner = Planner(shapes, self.vocab, keep_dangling, self.extra)
        self.plans, open_, narrowed = planner.plan()
        self.proof = Proof(set(open_), narrowed=narrowed)
        self._touches = planner.touches
        self._seen_types: set[str] = set()
        self._seen_relations: set[str] = set()
        self._spdx = self.vocab.licenses  # every license label the converter links to an IRI
        self._counts = {t.segment: self._line_counts(t) for t in self.vocab.types}
        self._edge_lines = {name: 1 + len(extra) for name, extra in self._edges.items()}
        if any(self.minter.parse(t.subject.value, self.vocab) for t in _parsed(self.vocab.preamble)):
            self._unaccounted("the concept preamble describes entities of the graph")

    def _line_counts(self, entity_type: EntityType) -> tuple[int, list[tuple[str, bool, int, int]]]:
        """Lines per record (type lines and page links) and, per field, per value (and per linked license)."""
        fields = []
        for f in entity_type.fields:
            if f.items:
                items = f.items
                per = len(self._item_props[items.link]) + len(self._types(items.cls)) + len(self._item_props[items.position]) + len(self._props[f.prop])
            else:
                per = len(self._props[f.prop])
            fields.append((f.name, f.is_list, per, len(self._props[f.link_prop]) if f.link_prop else 0))
        return len(self._type_lines[entity_type.segment]) + len(entity_type.links), fields

    def _unaccounted(self, what: str) -> None:
        if self.proof.complete:
            self.proof.complete, self.proof.unaccounted = False, what

    def entity(self, entity: Entity) -> str:
        text = super().entity(entity)
        self._check(entity)
        if text.count("\n") != self._expected_lines(entity):
            self._unaccounted(f"{entity.type.file}: record {entity.id!r} became other triples than its fields")
        return text

    def node(self, entity_type: EntityType, entity_id: str) -> str:
        """A node of a triples.txt: its type and key, checked as a record holding only its key."""
        text = super().node(entity_type, entity_id)
        values = {f.name: ([] if f.is_list else None) for f in entity_type.fields}
        values[entity_type.key.name] = entity_id
        record = Entity(entity_type, entity_id, values)
        self._check(record)
        if text.count("\n") != self._expected_lines(record):
            self._unaccounted(f"{entity_type.segment} {entity_id!r}: a node became other triples than its type and key")
        return text

    def edge(self, edge: Edge) -> str:
        text = super().edge(edge)
        name = edge.relation.name
        if name not in self._seen_relations:
            self._seen_relations.add(name)
            subject_type = edge.relation.object if edge.relation.inverse else edge.relation.subject
            self.proof.open |= self.plans[subject_type.segment].edges.get(name, set())
        lines, expected = text.count("\n"), self._edge_lines[name]
        if lines != expected and not (lines == expected + 1 and name in self._users and text.rsplit("\n", 2)[-2].split(" ", 2)[1] == f"<{self._users[name].user}>"):
            self._unaccounted(f"{name}: an edge became other triples than its own and the ones the alignment entails")
        return text

    def description(self, source: Path) -> str:
        """The VoID description: it must not reach any shape (it is written after the plan was made)."""
        text = super().description(source)
        triples = _parsed(text)
        if self._touches({t.predicate.value for t in triples}, {t.object.value for t in triples if t.predicate.value == RDF_TYPE}) \
                or any(self.minter.parse(t.subject.value, self.vocab) for t in triples):
            self._unaccounted("the conversion's description reaches a shape")
        return text

    def _check(self, entity: Entity) -> None:
        """Every planned check of one record; a constraint failing once stays open."""
        segment = entity.type.segment
        plan, failed, values = self.plans[segment], self.proof.open, entity.values
        if segment not in self._seen_types:
            self._seen_types.add(segment)
            failed |= plan.always
        for name, is_list, checks in plan.fields:
            value = values[name]
            if value is None or value == []:
                continue
            items = value if is_list else (value,)
            for constraint, test in checks:
                if constraint not in failed and (test is None or not all(map(test, items))):
                    failed.add(constraint)
        for link_field, checks in plan.links:
            value = values[link_field.name]
            if value is None:
                continue
            items = [i for i in (value if link_field.is_list else (value,)) if i in self._spdx]
            for constraint, test in checks:
                if items and constraint not in failed and (test is None or not all(map(test, items))):
                    failed.add(constraint)
        for constraint, fields, low, high in plan.counts:
            if constraint not in failed:
                count = self._distinct(values, fields)
                if (low is not None and count < low) or (high is not None and count > high):
                    failed.add(constraint)

    def _distinct(self, values: dict, fields: tuple[tuple[str, bool, bool], ...]) -> int:
        """Distinct values the store will hold on a path (RDF keeps one triple per value)."""
        if len(fields) == 1 and not fields[0][2]:
            value = values[fields[0][0]]
            return (len(set(value)) if value else 0) if fields[0][1] else (value is not None)
        found = set()
        for name, is_list, is_link in fields:
            value = values[name]
            items = value if is_list else ([] if value is None else [value])
            found.update((self._spdx[i] for i in items if i in self._spdx) if is_link else items)
        return len(found)

    def _expected_lines(self, entity: Entity) -> int:
        """The triples accounted for: the record's (type, field values, license links) and the extra ones."""
        lines, fields = self._counts[entity.type.segment]
        values = entity.values
        for name, is_list, per, per_link in fields:
            value = values[name]
            if value is None:
                continue
            items = value if is_list else (value,)
            lines += per * len(items)
            if per_link:
                lines += per_link * sum(1 for i in items if i in self._spdx)
        if entity.type.segment == self._task_segment:
            scheme = self.vocab.tasks
            lines += 2 + (entity.id in scheme.modality) + len(scheme.subtasks.get(entity.id, ()))
        return lines


def _parsed(text: str) -> list[ox.Triple]:
    return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)]


def everything(shapes: ShapesGraph) -> Proof:
    """A proof of nothing: every constraint goes to the store (e.g. RDF files were loaded too)."""
    return Proof(shapes.constraints() | {("*", "*")}, complete=False)


def store_shapes(shapes: ShapesGraph, proof: Proof) -> tuple[bool, set[Constraint]]:
    """(whole graph?, constraints) the store validator must still run: the open ones, and every
    one of a narrowed shape (on the subjects of the extra predicates, see :func:`proven_targets`)."""
    if not proof.complete or ("*", "*") in proof.open:
        return True, shapes.constraints()
    return False, {(shape, p) for shape, p in shapes.constraints() if (shape, p) in proof.open or shape in proof.narrowed}


def proven_targets(proof: Proof) -> set[tuple[str, str]]:
    """(shape, predicate): the sh:targetSubjectsOf the reduced graph leaves out, their subjects
    proven while converting; a narrowed shape with a constraint open keeps all its targets."""
    failed = {shape for shape, _ in proof.open}
    return {(shape, p) for shape, predicates in proof.narrowed.items() if shape not in failed for p in predicates}


def describe(shapes: ShapesGraph, proof: Proof) -> str:
    """One line for the user: how much was proven while converting."""
    whole, rest = store_shapes(shapes, proof)
    total = len(shapes.constraints())
    if whole:
        why = f" ({proof.unaccounted})" if proof.unaccounted else ""
        return f"shapes: all {total} constraints checked on the store{why}"
    narrowed = len({shape for shape, _ in proven_targets(proof)})
    on = f" ({narrowed} shape{'s' * (narrowed != 1)} only on the subjects of derived triples)" if narrowed else ""
    return f"shapes: {total - len(rest)} of {total} constraints proven while converting, {len(rest)} checked on the store{on}"
