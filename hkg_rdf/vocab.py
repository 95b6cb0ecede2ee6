"""The names hkg-rdf uses, read from ontology/ and shapes/ (their single source of truth).

Nothing else in the package spells a class, property, release file or field name: it asks
this module, which reads ``ontology/hkg.ttl`` (the OWL ontology) and ``ontology/mapping.ttl``
(how the HuggingKG release maps onto it) once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import cache, cached_property
from pathlib import Path

import pyoxigraph as ox

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
HKG = "https://w3id.org/huggingkg/ontology#"
HKGM = "https://w3id.org/huggingkg/mapping#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
ONTOLOGY_IRI = "https://w3id.org/huggingkg/ontology"
RDF_TYPE = RDF + "type"
XSD_STRING = XSD + "string"
XSD_DATETIME = XSD + "dateTime"
XSD_INTEGER = XSD + "integer"
INTEGER_TYPES = frozenset(XSD + t for t in ("integer", "nonNegativeInteger", "positiveInteger", "long", "int"))

#: Prefixes for Turtle output and query convenience (the ontology's own plus the usual).
PREFIXES = {
    "hkg": HKG,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "dcterms": DCTERMS,
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
}


def data_path(*parts: str) -> Path:
    """Locate a file of ontology/, shapes/, docs/ or examples/queries/: in a source checkout, or
    where the installed wheel put its data files."""
    for root in (Path(__file__).resolve().parent.parent, _installed_data()):
        candidate = root.joinpath(*parts) if root else None
        if candidate and candidate.exists():
            return candidate
    raise FileNotFoundError(f"hkg-rdf data file not found: {'/'.join(parts)}")


@cache
def _installed_data() -> Path | None:
    """The share/hkg-rdf/ the installed distribution's file list (its RECORD) names: under
    sys.prefix in a venv, but under ~/.local for ``pip install --user`` and under PREFIX for
    ``--prefix``, which sys.prefix does not say."""
    from importlib import metadata

    try:
        files = metadata.distribution("hkg-rdf").files or []
    except metadata.PackageNotFoundError:
        return None
    marker = "/".join(("share", "hkg-rdf", *SHAPES_FILE))
    for file in files:
        if file.as_posix().endswith(marker):
            return Path(str(file.locate())).resolve().parents[len(SHAPES_FILE) - 1]
    return None


ONTOLOGY_FILE = ("ontology", "hkg.ttl")
MAPPING_FILE = ("ontology", "mapping.ttl")
TASKS_FILE = ("ontology", "tasks.ttl")
TASK_SCHEME = "https://w3id.org/huggingkg/tasks"
LICENSE_SCHEME = "https://w3id.org/huggingkg/license/"
SHAPES_FILE = ("shapes", "hkg-shapes.ttl")


@dataclass(frozen=True)
class Items:
    """How a list field keeps order and repeats: one node per position (a paper's authors)."""

    link: str  # entity -> item node (hkg:author)
    cls: str  # the items' class (the link's range)
    position: str  # item -> its position, from 1
    user: str | None = None  # item -> the Hub user behind it
    user_relation: str | None = None  # the relation whose user may be behind an item
    user_name: str | None = None  # the user's field that must equal the item's value


@dataclass(frozen=True)
class Field:
    """One field of a release record and the property that carries it."""

    name: str
    prop: str
    datatype: str
    is_list: bool
    is_key: bool
    link_prop: str | None = None
    items: Items | None = None

    @property
    def is_count(self) -> bool:
        return self.datatype in INTEGER_TYPES

    @property
    def literal_datatype(self) -> str:
        """The datatype IRI written on literals of this field.

        Oxigraph stores every integer-derived type as xsd:integer, so counts are written as
        xsd:integer (the range stays xsd:nonNegativeInteger, a value-space restriction the
        shapes check with sh:minInclusive 0): files and store then carry the same terms.
        """
        return XSD_INTEGER if self.is_count else self.datatype


@dataclass(frozen=True)
class EntityType:
    """An entity type: its class, release file, IRI segment and fields in release order."""

    cls: str
    segment: str
    file: str
    fields: tuple[Field, ...]
    links: tuple[tuple[str, str], ...] = ()  # (property, IRI template with {id}) to pages elsewhere

    @cached_property
    def key(self) -> Field:
        return next(f for f in self.fields if f.is_key)


@dataclass(frozen=True)
class Relation:
    """A release relation file and the RDF property its pairs become."""

    name: str
    prop: str
    subject: EntityType
    object: EntityType
    subject_key: str
    object_key: str
    inverse: bool


@dataclass(frozen=True)
class Alignment:
    """The standard terms the ontology's axioms entail, for materialising them without a reasoner.

    Read from ``rdfs:subClassOf``, ``rdfs:subPropertyOf``, ``owl:inverseOf`` and two-step
    ``owl:propertyChainAxiom`` through a qualifier (a property ``q`` with ``C rdfs:subClassOf
    [owl:onProperty q; owl:hasSelf true]`` and domain ``C``: ``q o p`` is ``p`` on subjects of
    class ``C``). Only terms outside the hkg: namespace are returned: hkg: terms are the data.
    """

    super_classes: dict[str, tuple[str, ...]]
    super_properties: dict[str, tuple[str, ...]]
    inverses: dict[str, tuple[str, ...]]
    chains: tuple[tuple[str, str, str], ...]  # (first, second, entailed property)
    qualifiers: dict[str, str]  # qualifier property -> its class

    def _closure(self, start: str, edges: dict[str, tuple[str, ...]]) -> list[str]:
        seen: list[str] = []
        todo = [start]
        while todo:
            for parent in edges.get(todo.pop(), ()):
                if parent not in seen:
                    seen.append(parent)
                    todo.append(parent)
        return seen

    def classes(self, cls: str) -> tuple[str, ...]:
        """The standard classes an instance of ``cls`` also belongs to."""
        return tuple(c for c in self._closure(cls, self.super_classes) if not c.startswith(HKG))

    def properties(self, prop: str) -> tuple[str, ...]:
        """The standard properties a ``prop`` triple entails, same subject and object."""
        return tuple(p for p in self._closure(prop, self.super_properties) if not p.startswith(HKG))

    def _is_a(self, cls: str, other: str) -> bool:
        return cls == other or other in self._closure(cls, self.super_classes)

    def edge(self, prop: str, subject_cls: str, object_cls: str) -> tuple[tuple[str, bool], ...]:
        """The standard (property, reversed) pairs an edge ``subject prop object`` entails."""
        views = [(prop, subject_cls, object_cls, False)] + [(inverse, object_cls, subject_cls, True) for inverse in self.inverses.get(prop, ())]
        out: list[tuple[str, bool]] = []
        for view, first_cls, second_cls, reverse in views:
            entailed = list(self.properties(view))
            for first, second, implied in self.chains:
                if (second == view and first in self.qualifiers and self._is_a(first_cls, self.qualifiers[first])) or (
                    first == view and second in self.qualifiers and self._is_a(second_cls, self.qualifiers[second])
                ):
                    entailed += [implied, *self.properties(implied)]
            out += [(p, reverse) for p in entailed if not p.startswith(HKG) and (p, reverse) not in out]
        return tuple(out)


@dataclass(frozen=True)
class TaskScheme:
    """The Hub's task hierarchy (ontology/tasks.ttl), keyed by task id."""

    scheme: str
    modality: dict[str, str]  # task id -> its modality concept
    subtasks: dict[str, tuple[str, ...]]  # task id -> its subtask concepts


@dataclass(frozen=True)
class Vocabulary:
    """Everything the converters, exporter and statistics need to know about names."""

    types: tuple[EntityType, ...]
    relations: tuple[Relation, ...]
    spdx: dict[str, str]  # Hub license id -> SPDX license IRI, where it names exactly one
    licenses: dict[str, str] = dc_field(default_factory=dict)  # every Hub license id -> its IRI
    alignment: Alignment | None = None
    tasks: TaskScheme | None = None
    preamble: str = ""  # N-Triples written once per conversion: license concepts, the task scheme

    @cached_property
    def derived(self) -> tuple[frozenset[str], frozenset[str]]:
        """(predicates, classes) a conversion writes that no release field holds: the standard
        terms the alignment entails, links to pages elsewhere, the task hierarchy, the users of
        ordered items. An export regenerates them from the release, so it does not write them."""
        align, props, classes = self.alignment, set(), set()
        for t in self.types:
            classes.update(align.classes(t.cls))
            props.update(p for p, _ in t.links)
            for f in t.fields:
                props.update(align.properties(f.prop))
                if f.link_prop:
                    props.update(align.properties(f.link_prop))
                if f.items:
                    classes.update(align.classes(f.items.cls))
                    props.update(align.properties(f.items.link))
                    props.update(align.properties(f.items.position))
                    props.update(p for p in (f.items.user,) if p)
        for r in self.relations:
            ends = (r.object.cls, r.subject.cls) if r.inverse else (r.subject.cls, r.object.cls)
            props.update(p for p, _ in align.edge(r.prop, *ends))
        props.update(SKOS + p for p in ("inScheme", "notation", "broader"))
        return frozenset(props), frozenset(classes)

    def type_by_segment(self, segment: str) -> EntityType:
        return self._by_segment[segment]

    def type_by_class(self, cls: str) -> EntityType:
        return self._by_class[cls]

    def relation(self, name: str) -> Relation:
        return self._by_name[name]

    @cached_property
    def _by_segment(self) -> dict[str, EntityType]:
        return {t.segment: t for t in self.types}

    @cached_property
    def _by_class(self) -> dict[str, EntityType]:
        return {t.cls: t for t in self.types}

    @cached_property
    def _by_name(self) -> dict[str, Relation]:
        return {r.name: r for r in self.relations}


class _Triples:
    """A Turtle file as a small (subject, predicate) -> objects index; pyoxigraph parses it
    in milliseconds, where importing rdflib alone would cost every command a tenth of a second."""

    def __init__(self, path: Path):
        self.path = path
        self.index: dict[tuple[str, str], list[ox.NamedNode | ox.BlankNode | ox.Literal]] = {}
        for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            self.index.setdefault((_key(triple.subject), triple.predicate.value), []).append(triple.object)

    def get(self, subject: object, predicate: str) -> object | None:
        values = self.index.get((_key(subject), predicate))
        return values[0] if values else None

    def values(self, subject: object, predicate: str) -> list:
        return self.index.get((_key(subject), predicate), [])

    def one(self, subject: object, predicate: str) -> object:
        value = self.get(subject, predicate)
        if value is None:
            raise ValueError(f"{self.path.name}: {subject} lacks <{predicate}>")
        return value

    def flag(self, subject: object, predicate: str) -> bool:
        value = self.get(subject, predicate)
        return value is not None and value.value == "true"

    def subjects(self, predicate: str, obj: str | None = None) -> list:
        return [s for (s, p), objects in self.index.items() if p == predicate and (obj is None or any(o.value == obj for o in objects))]

    def items(self, head: object) -> list:
        """The members of an RDF list."""
        members = []
        while _key(head) != RDF + "nil":
            members.append(self.one(head, RDF + "first"))
            head = self.one(head, RDF + "rest")
        return members


def _key(term: object) -> str:
    """Index key of a term: the IRI, or '_:id' for a blank node (they cannot collide)."""
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term if isinstance(term, str) else term.value


def _items(mapping: _Triples, ontology: _Triples, node: object) -> Items | None:
    link = mapping.get(node, HKGM + "items")
    if link is None:
        return None

    def optional(name: str) -> str | None:
        value = mapping.get(link, HKGM + name)
        return None if value is None else value.value

    relation = optional("userRelation")
    return Items(
        link=link.value, cls=ontology.one(link, RDFS + "range").value, position=mapping.one(link, HKGM + "position").value,
        user=optional("userProperty"), user_relation=None if relation is None else mapping.one(relation, HKGM + "name").value,
        user_name=optional("userName"),
    )


def _field(mapping: _Triples, ontology: _Triples, node: object) -> Field:
    prop = mapping.one(node, HKGM + "property").value
    link = mapping.get(prop, HKGM + "linkProperty")
    return Field(
        name=mapping.one(node, HKGM + "field").value,
        prop=prop,
        datatype=ontology.one(prop, RDFS + "range").value,
        is_list=mapping.flag(node, HKGM + "list"),
        is_key=mapping.flag(node, HKGM + "key"),
        link_prop=None if link is None else link.value,
        items=_items(mapping, ontology, node),
    )


def _entity_types(mapping: _Triples, ontology: _Triples) -> tuple[EntityType, ...]:
    types = []
    for cls in sorted(mapping.subjects(HKGM + "segment")):
        fields = tuple(_field(mapping, ontology, n) for n in mapping.items(mapping.one(cls, HKGM + "fields")))
        if sum(f.is_key for f in fields) != 1:
            raise ValueError(f"mapping.ttl: {cls} needs exactly one key field")
        links = tuple(sorted((mapping.one(n, HKGM + "property").value, mapping.one(n, HKGM + "template").value) for n in mapping.values(cls, HKGM + "link")))
        types.append(EntityType(cls, mapping.one(cls, HKGM + "segment").value, mapping.one(cls, HKGM + "file").value, fields, links))
    return tuple(types)


def _relation(mapping: _Triples, node: str, by_class: dict[str, EntityType]) -> Relation:
    def text(name: str) -> str:
        return mapping.one(node, HKGM + name).value

    return Relation(
        name=text("name"),
        prop=text("property"),
        subject=by_class[text("subjectClass")],
        object=by_class[text("objectClass")],
        subject_key=text("subjectKey"),
        object_key=text("objectKey"),
        inverse=mapping.flag(node, HKGM + "inverse"),
    )


def _alignment(ontology: _Triples) -> Alignment:
    def edges(predicate: str) -> dict[str, tuple[str, ...]]:
        return {s: tuple(o.value for o in objs if isinstance(o, ox.NamedNode)) for (s, p), objs in ontology.index.items() if p == predicate and not s.startswith("_:")}

    inverses: dict[str, list[str]] = {}
    for prop, others in edges(OWL + "inverseOf").items():
        for other in others:
            inverses.setdefault(prop, []).append(other)
            inverses.setdefault(other, []).append(prop)
    qualifiers = {}
    for (cls, p), objs in ontology.index.items():
        if p == RDFS + "subClassOf":
            for o in objs:
                if isinstance(o, ox.BlankNode) and ontology.flag(o, OWL + "hasSelf"):
                    qualifiers[ontology.one(o, OWL + "onProperty").value] = cls
    chains = []
    for (implied, p), heads in ontology.index.items():
        if p == OWL + "propertyChainAxiom":
            for head in heads:
                members = [m.value for m in ontology.items(head)]
                if len(members) != 2:
                    raise ValueError(f"{ontology.path.name}: only two-step property chains are materialised: {implied}")
                chains.append((members[0], members[1], implied))
    return Alignment(edges(RDFS + "subClassOf"), edges(RDFS + "subPropertyOf"), {k: tuple(v) for k, v in inverses.items()}, tuple(sorted(chains)), qualifiers)


def _task_scheme(tasks: _Triples) -> TaskScheme:
    modality = {task.value: concept for concept in tasks.subjects(HKGM + "narrowerTask") for task in tasks.values(concept, HKGM + "narrowerTask")}
    subtasks: dict[str, list[str]] = {}
    for concept in sorted(tasks.subjects(HKGM + "broaderTask")):
        for task in tasks.values(concept, HKGM + "broaderTask"):
            subtasks.setdefault(task.value, []).append(concept)
    return TaskScheme(TASK_SCHEME, modality, {k: tuple(v) for k, v in subtasks.items()})


def _preamble(*paths: Path, prefixes: tuple[str, ...]) -> str:
    """N-Triples of the concepts of our own schemes (no hkgm: mapping triples), once per conversion."""
    lines = []
    for path in paths:
        for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            if isinstance(triple.subject, ox.NamedNode) and triple.subject.value.startswith(prefixes) and not triple.predicate.value.startswith(HKGM):
                lines.append(f"{triple} .\n")
    return "".join(lines)


@cache
def vocabulary() -> Vocabulary:
    """The release schema as the ontology and mapping define it."""
    mapping, ontology = _Triples(data_path(*MAPPING_FILE)), _Triples(data_path(*ONTOLOGY_FILE))
    types = _entity_types(mapping, ontology)
    by_class = {t.cls: t for t in types}
    relations = sorted((_relation(mapping, n, by_class) for n in mapping.subjects(RDF_TYPE, HKGM + "Relation")), key=lambda r: r.name)
    rows = mapping.subjects(HKGM + "licenseLabel")
    spdx = {mapping.one(n, HKGM + "licenseLabel").value: mapping.one(n, HKGM + "spdx").value for n in rows if mapping.get(n, HKGM + "spdx")}
    licenses = {mapping.one(n, HKGM + "licenseLabel").value: (mapping.get(n, HKGM + "spdx") or mapping.one(n, HKGM + "concept")).value for n in rows}
    tasks_path = data_path(*TASKS_FILE)
    preamble = _preamble(data_path(*MAPPING_FILE), tasks_path, prefixes=(LICENSE_SCHEME, TASK_SCHEME))
    return Vocabulary(types, tuple(relations), spdx, licenses, _alignment(ontology), _task_scheme(_Triples(tasks_path)), preamble)
