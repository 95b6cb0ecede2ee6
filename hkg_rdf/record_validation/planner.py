"""The plan: per entity type and source of values, what each constraint of the shapes graph
needs of a record (nothing, a test per value, or a failure once a value exists), and which
constraints stay open for the store."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..iris import IriMinter, link
from ..report import Report
from ..triples import TripleMaker, canonical_datetime
from ..vocab import RDF, RDF_TYPE, RDFS, XSD, XSD_DATETIME, XSD_STRING, EntityType, Field, Vocabulary
from .extra import Extra
from .shapes_graph import COMPANIONS, SH, STRUCTURE, Constraint, ShapesGraph, term_key

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

Test = Callable[[object], bool]


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


@dataclass
class TypePlan:
    """What to check on each record and edge of one entity type."""

    fields: list[tuple[str, bool, list[tuple[Constraint, Test | None]]]] = field(default_factory=list)
    links: list[tuple[Field, list[tuple[Constraint, Test | None]]]] = field(default_factory=list)
    counts: list[tuple[Constraint, tuple[tuple[str, bool, bool], ...], int | None, int | None]] = field(default_factory=list)
    always: set[Constraint] = field(default_factory=set)  # fail as soon as an entity of the type exists
    edges: dict[str, set[Constraint]] = field(default_factory=dict)  # relation name -> fail when an edge is written


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
        # looked up per shape and per sh:or member: a scan of the index each time made planning quadratic (0.7 s)
        self.said: dict[str, set[str]] = {}  # subject -> the predicates it has
        self.parents: dict[str, list[str]] = {}  # property shape -> the shapes naming it in sh:property
        for (s, p), objects in self.index.items():
            self.said.setdefault(s, set()).add(p)
            if p == SH + "property":
                for o in objects:
                    self.parents.setdefault(term_key(o), []).append(s)

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
            parent_shapes = list(dict.fromkeys(self.parents.get(shape, [])))
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
                    counts = (pages,)  # every entity has as many
                else:
                    counts = _possible_counts(sources)
                if counts is not None:
                    holds = [(low is None or n >= low) and (high is None or n <= high) for n in counts]
                    if not any(holds):
                        self.plans[entity_type.segment].always.add(constraint)
                    if all(holds) or not any(holds):
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
            path = self.one(term_key(member), "path")
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
        while term_key(head) != f"<{RDF}nil>":
            first, rest = self.one(term_key(head), RDF + "first"), self.one(term_key(head), RDF + "rest")
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
            said = self.said.get(term_key(member), set()) - {RDF_TYPE}
            cls = self.one(term_key(member), "class")
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


def _possible_counts(sources: list[Source]) -> tuple[int, ...] | None:
    """The numbers of values a record can give a path when its sources fix them (none: 0; its
    key: 1; one field that is not a list: 0 or 1), so that a count is decided once for the type;
    None when each record must be counted."""
    if not sources:
        return (0,)
    if len(sources) == 1 and sources[0].kind == "field" and not sources[0].field.is_list:
        return (1,) if sources[0].field.is_key else (0, 1)
    return None


def _page_count(templates: list[str]) -> int | None:
    """How many page IRIs these templates give every entity: all of them when the parts before
    the id differ with neither a prefix of another (the IRIs then differ too), else None."""
    heads = [t.split("{id}", 1)[0] for t in templates]
    if any(a.startswith(b) for i, a in enumerate(heads) for j, b in enumerate(heads) if i != j):
        return None
    return len(templates)


def _is_integer(term: object) -> bool:
    return isinstance(term, ox.Literal) and term.datatype.value in NUMERIC and re.fullmatch(r"[+-]?\d+", term.value) is not None
