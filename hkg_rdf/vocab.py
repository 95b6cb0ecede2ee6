"""The names hkg-rdf uses, read from ontology/ and shapes/ (their single source of truth).

Nothing else in the package spells a class, property, release file or field name: it asks
this module, which reads ``ontology/hkg.ttl`` (the OWL ontology) and ``ontology/mapping.ttl``
(how the HuggingKG release maps onto it) once per process.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import pyoxigraph as ox

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
HKG = "https://w3id.org/huggingkg/ontology#"
HKGM = "https://w3id.org/huggingkg/mapping#"
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
    """Locate a file of ontology/ or shapes/, in a source checkout or an installed wheel."""
    for root in (Path(__file__).resolve().parent.parent, Path(sys.prefix) / "share" / "hkg-rdf"):
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"hkg-rdf data file not found: {'/'.join(parts)}")


ONTOLOGY_FILE = ("ontology", "hkg.ttl")
MAPPING_FILE = ("ontology", "mapping.ttl")
SHAPES_FILE = ("shapes", "hkg-shapes.ttl")


@dataclass(frozen=True)
class Field:
    """One field of a release record and the property that carries it."""

    name: str
    prop: str
    datatype: str
    is_list: bool
    is_key: bool
    link_prop: str | None = None

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
class Vocabulary:
    """Everything the converters, exporter and statistics need to know about names."""

    types: tuple[EntityType, ...]
    relations: tuple[Relation, ...]
    spdx: dict[str, str]

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
    )


def _entity_types(mapping: _Triples, ontology: _Triples) -> tuple[EntityType, ...]:
    types = []
    for cls in sorted(mapping.subjects(HKGM + "segment")):
        fields = tuple(_field(mapping, ontology, n) for n in mapping.items(mapping.one(cls, HKGM + "fields")))
        if sum(f.is_key for f in fields) != 1:
            raise ValueError(f"mapping.ttl: {cls} needs exactly one key field")
        types.append(EntityType(cls, mapping.one(cls, HKGM + "segment").value, mapping.one(cls, HKGM + "file").value, fields))
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


@cache
def vocabulary() -> Vocabulary:
    """The release schema as the ontology and mapping define it."""
    mapping, ontology = _Triples(data_path(*MAPPING_FILE)), _Triples(data_path(*ONTOLOGY_FILE))
    types = _entity_types(mapping, ontology)
    by_class = {t.cls: t for t in types}
    relations = sorted((_relation(mapping, n, by_class) for n in mapping.subjects(RDF_TYPE, HKGM + "Relation")), key=lambda r: r.name)
    spdx = {mapping.one(n, HKGM + "licenseLabel").value: mapping.one(n, HKGM + "spdx").value for n in mapping.subjects(HKGM + "licenseLabel")}
    return Vocabulary(types, tuple(relations), spdx)
