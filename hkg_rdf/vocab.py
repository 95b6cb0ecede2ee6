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

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD

HKG = Namespace("https://w3id.org/huggingkg/ontology#")
HKGM = Namespace("https://w3id.org/huggingkg/mapping#")
SH = Namespace("http://www.w3.org/ns/shacl#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
ONTOLOGY_IRI = "https://w3id.org/huggingkg/ontology"
RDF_TYPE = str(RDF.type)
XSD_STRING = str(XSD.string)
XSD_DATETIME = str(XSD.dateTime)
XSD_INTEGER = str(XSD.integer)
INTEGER_TYPES = frozenset(str(XSD[t]) for t in ("integer", "nonNegativeInteger", "positiveInteger", "long", "int"))

#: Prefixes for Turtle output and query convenience (the ontology's own plus the usual).
PREFIXES = {
    "hkg": str(HKG),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "dcterms": str(DCTERMS),
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


@cache
def ontology_graph() -> Graph:
    return Graph().parse(data_path(*ONTOLOGY_FILE), format="turtle")


@cache
def mapping_graph() -> Graph:
    return Graph().parse(data_path(*MAPPING_FILE), format="turtle")


def _one(graph: Graph, subject, predicate) -> object:
    value = graph.value(subject, predicate)
    if value is None:
        raise ValueError(f"mapping.ttl: {subject} lacks {predicate}")
    return value


def _field(mapping: Graph, ontology: Graph, node) -> Field:
    prop = _one(mapping, node, HKGM.property)
    datatype = ontology.value(prop, RDFS.range)
    if datatype is None:
        raise ValueError(f"hkg.ttl: {prop} has no rdfs:range")
    return Field(
        name=str(_one(mapping, node, HKGM.field)),
        prop=str(prop),
        datatype=str(datatype),
        is_list=bool(mapping.value(node, HKGM.list, default=Literal(False)).toPython()),
        is_key=bool(mapping.value(node, HKGM.key, default=Literal(False)).toPython()),
        link_prop=_optional_str(mapping.value(prop, HKGM.linkProperty)),
    )


def _optional_str(value) -> str | None:
    return None if value is None else str(value)


def _entity_types(mapping: Graph, ontology: Graph) -> tuple[EntityType, ...]:
    types = []
    for cls in sorted(mapping.subjects(HKGM.segment, None)):
        fields = tuple(_field(mapping, ontology, n) for n in Collection(mapping, _one(mapping, cls, HKGM.fields)))
        if sum(f.is_key for f in fields) != 1:
            raise ValueError(f"mapping.ttl: {cls} needs exactly one key field")
        types.append(EntityType(str(cls), str(_one(mapping, cls, HKGM.segment)), str(_one(mapping, cls, HKGM.file)), fields))
    return tuple(types)


def _relations(mapping: Graph, by_class: dict[str, EntityType]) -> tuple[Relation, ...]:
    relations = []
    for node in mapping.subjects(RDF.type, HKGM.Relation):
        relations.append(
            Relation(
                name=str(_one(mapping, node, HKGM.name)),
                prop=str(_one(mapping, node, HKGM.property)),
                subject=by_class[str(_one(mapping, node, HKGM.subjectClass))],
                object=by_class[str(_one(mapping, node, HKGM.objectClass))],
                subject_key=str(_one(mapping, node, HKGM.subjectKey)),
                object_key=str(_one(mapping, node, HKGM.objectKey)),
                inverse=bool(mapping.value(node, HKGM.inverse, default=Literal(False)).toPython()),
            )
        )
    return tuple(sorted(relations, key=lambda r: r.name))


@cache
def vocabulary() -> Vocabulary:
    """The release schema as the ontology and mapping define it."""
    mapping, ontology = mapping_graph(), ontology_graph()
    types = _entity_types(mapping, ontology)
    relations = _relations(mapping, {t.cls: t for t in types})
    spdx = {str(label): str(_one(mapping, node, HKGM.spdx)) for node, label in mapping.subject_objects(HKGM.licenseLabel)}
    return Vocabulary(types, relations, spdx)


