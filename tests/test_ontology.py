"""The ontology: well-formed, documented, consistent with the release mapping and the SHACL
shapes, and consistent under OWL RL with the example data, entailing the alignments."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import owlrl
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, FOAF, OWL, RDF, RDFS

from hkg_rdf.convert import convert
from hkg_rdf.iris import IriMinter
from hkg_rdf import vocab
from hkg_rdf.vocab import ONTOLOGY_FILE, ONTOLOGY_IRI, SHAPES_FILE, data_path, vocabulary

SH = Namespace("http://www.w3.org/ns/shacl#")
#: properties whose values are IRIs derived from a field or the id: licenses and links to pages
LINKS = {URIRef(vocab.HKG + "license")} | {URIRef(p) for t in vocabulary().types for p, _ in t.links}
HKG = Namespace(vocab.HKG)
PROV = Namespace("http://www.w3.org/ns/prov#")
OWLRL_ERROR = URIRef("http://www.daml.org/2002/03/agents/agent-ont#ErrorMessage")
ONTOLOGY = data_path(*ONTOLOGY_FILE)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY, format="turtle")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(data_path(*SHAPES_FILE), format="turtle")


def hkg_terms(graph: Graph, kind: URIRef) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef) and s.startswith(str(HKG))}


def members(graph: Graph, expression) -> set[URIRef]:
    """The classes a domain or range names: itself, or the members of its owl:unionOf."""
    union = graph.value(expression, OWL.unionOf)
    return set(Collection(graph, union)) if union is not None else {expression}


def rdf_direction(relation) -> tuple[str, str]:
    """(subject class, object class) of a release relation as the RDF triple has it."""
    return (relation.object.cls, relation.subject.cls) if relation.inverse else (relation.subject.cls, relation.object.cls)


# ---------------------------------------------------------------- well-formed and documented


def test_ontology_parses_in_rdflib_and_pyoxigraph(ontology: Graph) -> None:
    assert len(ontology) > 300
    with open(ONTOLOGY, "rb") as stream:
        triples = list(ox.parse(stream, ox.RdfFormat.TURTLE))
    assert len(triples) == len(ontology)


def test_every_class_and_property_has_a_label_and_a_comment(ontology: Graph) -> None:
    terms = hkg_terms(ontology, OWL.Class) | hkg_terms(ontology, OWL.ObjectProperty) | hkg_terms(ontology, OWL.DatatypeProperty)
    assert len(terms) > 40
    for term in sorted(terms):
        assert ontology.value(term, RDFS.label) is not None, term
        assert str(ontology.value(term, RDFS.comment) or "").strip(), term


def test_ontology_metadata(ontology: Graph) -> None:
    iri = URIRef(ONTOLOGY_IRI)
    assert (iri, RDF.type, OWL.Ontology) in ontology
    assert str(ontology.value(iri, OWL.versionIRI)).startswith(ONTOLOGY_IRI + "/")
    assert str(ontology.value(iri, DCTERMS.license)).startswith("http://spdx.org/licenses/")
    assert ontology.value(iri, DCTERMS.creator) is not None
    pav = Namespace("http://purl.org/pav/")
    dates = [ontology.value(iri, pav.createdOn), ontology.value(iri, pav.lastUpdateOn)]
    assert any(isinstance(d, Literal) and d.datatype is not None for d in dates)


def test_eight_entity_classes_and_the_author_positions(ontology: Graph) -> None:
    names = {c.removeprefix(str(HKG)) for c in hkg_terms(ontology, OWL.Class)}
    assert names == {"Model", "Dataset", "Space", "Paper", "Collection", "User", "Organization", "Task", "Author"}
    assert {URIRef(t.cls) for t in vocabulary().types} == {HKG[n] for n in names} - {HKG.Author}
    assert {f.items.cls for t in vocabulary().types for f in t.fields if f.items} == {str(HKG.Author)}


# ---------------------------------------------------------------- ontology and mapping agree


def test_every_relation_maps_to_an_object_property_whose_domain_and_range_fit(ontology: Graph) -> None:
    relations = vocabulary().relations
    assert len(relations) == 30
    for relation in relations:
        prop = URIRef(relation.prop)
        assert (prop, RDF.type, OWL.ObjectProperty) in ontology, relation.name
        subject, obj = rdf_direction(relation)
        assert URIRef(subject) in members(ontology, ontology.value(prop, RDFS.domain)), relation.name
        assert URIRef(obj) in members(ontology, ontology.value(prop, RDFS.range)), relation.name


def test_lineage_points_from_the_derived_model_to_its_base() -> None:
    lineage = [r for r in vocabulary().relations if r.prop in {str(HKG[p]) for p in ("fineTunedFrom", "adapterOf", "mergedFrom", "quantizedFrom")}]
    assert len(lineage) == 4
    assert all(r.inverse and r.subject_key == "base_model_id" for r in lineage)


def test_every_field_is_a_datatype_property_of_its_class(ontology: Graph) -> None:
    for entity_type in vocabulary().types:
        for field in entity_type.fields:
            prop = URIRef(field.prop)
            # task labels are annotations, as skos:prefLabel is in SKOS (OWL 2 DL forbids mixing)
            assert {(prop, RDF.type, OWL.DatatypeProperty), (prop, RDF.type, OWL.AnnotationProperty)} & set(ontology.triples((prop, RDF.type, None))), field.prop
            holder = field.items.cls if field.items else entity_type.cls
            assert URIRef(holder) in members(ontology, ontology.value(prop, RDFS.domain)), (entity_type.cls, field.name)


# ---------------------------------------------------------------- ontology and shapes cover each other


def shape_paths(shapes: Graph) -> set[URIRef]:
    return set(shapes.objects(None, SH.path))


def test_every_property_is_constrained_by_a_shape_and_every_path_is_declared(ontology: Graph, shapes: Graph) -> None:
    written = {URIRef(p) for t in vocabulary().types for f in t.fields for p in (f.prop, f.link_prop, f.items and f.items.link, f.items and f.items.user) if p}
    written |= {URIRef(r.prop) for r in vocabulary().relations}
    properties = hkg_terms(ontology, OWL.ObjectProperty) | hkg_terms(ontology, OWL.DatatypeProperty) | hkg_terms(ontology, OWL.AnnotationProperty)
    not_in_data = {HKG.publishedBy, HKG.asModel, HKG.asDataset, HKG.asSpace, HKG.asUser}  # axioms only: inverse, qualifiers
    assert properties - not_in_data <= shape_paths(shapes)
    assert written <= properties and not written & not_in_data
    declared = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) | set(ontology.subjects(RDF.type, OWL.DatatypeProperty)) | set(ontology.subjects(RDF.type, OWL.AnnotationProperty))
    assert shape_paths(shapes) <= declared
    targets = {shapes.value(s, SH.targetClass) for s in shapes.subjects(SH.targetClass, None)}
    assert targets == hkg_terms(ontology, OWL.Class)


def expected_properties() -> dict[str, dict[URIRef, dict]]:
    """Per class: each property its instances carry, with what the shapes must say about it."""
    expected: dict[str, dict[URIRef, dict]] = defaultdict(dict)
    for entity_type in vocabulary().types:
        for prop, templates in _links(entity_type).items():
            expected[entity_type.cls][URIRef(prop)] = {"counts": (None, len(templates)), "classes": set()}
        for field in entity_type.fields:
            if field.items:
                items = field.items
                expected[entity_type.cls][URIRef(items.link)] = {"counts": (None, None), "classes": {URIRef(items.cls)}}
                expected[items.cls][URIRef(items.position)] = {"counts": (1, 1), "classes": set()}
                expected[items.cls][URIRef(field.prop)] = {"counts": (1, 1), "classes": set()}
                expected[items.cls][URIRef(items.user)] = {"counts": (None, 1), "classes": {URIRef(vocabulary().relation(items.user_relation).subject.cls)}}
                continue
            counts = (1, 1) if field.is_key else (None, None if field.is_list else 1)
            expected[entity_type.cls][URIRef(field.prop)] = {"counts": counts, "classes": set()}
            if field.link_prop:
                expected[entity_type.cls][URIRef(field.link_prop)] = {"counts": (None, None if field.is_list else 1), "classes": set()}
    for relation in vocabulary().relations:
        subject, obj = rdf_direction(relation)
        entry = expected[subject].setdefault(URIRef(relation.prop), {"counts": (None, None), "classes": set()})
        entry["classes"].add(URIRef(obj))
    return expected


def _links(entity_type) -> dict[str, list[str]]:
    links: dict[str, list[str]] = defaultdict(list)
    for prop, template in entity_type.links:
        links[prop].append(template)
    return links


def standard_terms(cls: str) -> set[URIRef]:
    """The standard-term properties a conversion writes on instances of ``cls`` (vocab's plan)."""
    vocab, align, found = vocabulary(), vocabulary().alignment, set()
    for entity_type in vocab.types:
        for field in entity_type.fields:
            if field.items:
                found |= {(entity_type.cls, p) for p in align.properties(field.items.link)}
                found |= {(field.items.cls, p) for p in (*align.properties(field.items.position), *align.properties(field.prop))}
            else:
                found |= {(entity_type.cls, p) for f in (field.prop, field.link_prop) if f for p in align.properties(f)}
    for relation in vocab.relations:
        subject, obj = rdf_direction(relation)
        found |= {(obj if reverse else subject, p) for p, reverse in align.edge(relation.prop, subject, obj)}
    if cls == str(HKG.Task):
        found |= {(cls, str(URIRef("http://www.w3.org/2004/02/skos/core#" + p))) for p in ("inScheme", "notation", "broader")}
    return {URIRef(p) for c, p in found if c == cls}


def property_shapes(shapes: Graph, cls: str) -> dict[URIRef, URIRef]:
    [node_shape] = shapes.subjects(SH.targetClass, URIRef(cls))
    assert shapes.value(node_shape, SH.closed) == Literal(True)
    ignored = list(Collection(shapes, shapes.value(node_shape, SH.ignoredProperties)))
    assert ignored[0] == RDF.type and set(ignored[1:]) == standard_terms(cls), cls
    return {shapes.value(p, SH.path): p for p in shapes.objects(node_shape, SH.property)}


def object_classes(shapes: Graph, shape: URIRef) -> set[URIRef]:
    classes = set(shapes.objects(shape, SH["class"]))
    for union in shapes.objects(shape, SH["or"]):
        classes |= {shapes.value(member, SH["class"]) for member in Collection(shapes, union)}
    return classes


def test_each_class_shape_constrains_exactly_the_properties_the_release_gives(shapes: Graph) -> None:
    for cls, properties in expected_properties().items():
        found = property_shapes(shapes, cls)
        assert set(found) == set(properties), cls
        for prop, want in properties.items():
            shape = found[prop]
            counts = tuple(None if v is None else int(v) for v in (shapes.value(shape, SH.minCount), shapes.value(shape, SH.maxCount)))
            assert counts == want["counts"], (cls, prop)
            assert object_classes(shapes, shape) == want["classes"], (cls, prop)
            if want["classes"] or prop in LINKS:
                assert shapes.value(shape, SH.nodeKind) == SH.IRI, (cls, prop)
            else:
                assert shapes.value(shape, SH.datatype) is not None, (cls, prop)
            assert shapes.value(shape, SH.message) is not None and shapes.value(shape, SH.name) is not None


def test_shape_datatypes_follow_the_ontology_ranges(ontology: Graph, shapes: Graph) -> None:
    """Counts are written as xsd:integer (Oxigraph's form), with non-negativity as sh:minInclusive 0."""
    for shape in shapes.subjects(SH.datatype, None):
        path, datatype = shapes.value(shape, SH.path), shapes.value(shape, SH.datatype)
        declared = ontology.value(path, RDFS.range)
        lower = {"nonNegativeInteger": 0, "positiveInteger": 1}
        if declared is not None and declared.removeprefix("http://www.w3.org/2001/XMLSchema#") in lower:
            assert datatype == URIRef("http://www.w3.org/2001/XMLSchema#integer")
            assert shapes.value(shape, SH.minInclusive) == Literal(lower[declared.removeprefix("http://www.w3.org/2001/XMLSchema#")])
        else:
            assert datatype == declared, path


# ---------------------------------------------------------------- OWL RL


@pytest.fixture(scope="module")
def example_graph(tmp_path_factory: pytest.TempPathFactory, example_release: Path) -> Graph:
    output = tmp_path_factory.mktemp("owl") / "example.nt"
    convert(example_release, output, IriMinter())
    return Graph().parse(output, format="nt")


def owl_rl_closure(*graphs: Graph) -> Graph:
    closure = Graph()
    for graph in graphs:
        for triple in graph:
            closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    return closure


def inconsistencies(closure: Graph) -> list[str]:
    """What owlrl found inconsistent: its error messages and any member of owl:Nothing."""
    errors = [str(closure.value(e, URIRef("http://www.daml.org/2002/03/agents/agent-ont#error"))) for e in closure.subjects(RDF.type, OWLRL_ERROR)]
    return errors + [f"{s} is an owl:Nothing" for s in closure.subjects(RDF.type, OWL.Nothing)]


@pytest.fixture(scope="module")
def closure(ontology: Graph, example_graph: Graph) -> Graph:
    return owl_rl_closure(ontology, example_graph)


def test_ontology_and_example_are_consistent_under_owl_rl(closure: Graph) -> None:
    assert inconsistencies(closure) == []


def test_owl_rl_detects_an_inconsistency(ontology: Graph) -> None:
    """The check above can fail: a model that is also a dataset breaks the disjointness axiom."""
    clash = Graph()
    clash.add((URIRef("https://example.org/x"), RDF.type, HKG.Model))
    clash.add((URIRef("https://example.org/x"), RDF.type, HKG.Dataset))
    assert any("Disjoint" in e for e in inconsistencies(owl_rl_closure(ontology, clash)))


def test_owl_rl_entails_the_alignments(closure: Graph, example_release: Path) -> None:
    minter, vocab = IriMinter(), vocabulary()
    model = vocab.type_by_segment("model")
    for edge in json.loads((example_release / "model_finetune_model.json").read_text(encoding="utf-8")):
        derived, base = (URIRef(minter.mint(model, edge[k])) for k in ("model_id", "base_model_id"))
        assert (derived, HKG.fineTunedFrom, base) in closure
        assert (derived, PROV.wasDerivedFrom, base) in closure
        assert (derived, RDF.type, PROV.Entity) in closure
    users = [URIRef(minter.mint(vocab.type_by_segment("user"), u["id"])) for u in json.loads((example_release / "users.json").read_text(encoding="utf-8"))]
    assert len(users) == 10
    for user in users:
        assert (user, RDF.type, FOAF.Person) in closure
        assert (user, RDF.type, PROV.Agent) in closure
