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
    dates = [ontology.value(iri, DCTERMS.created), ontology.value(iri, DCTERMS.modified)]
    assert any(isinstance(d, Literal) and d.datatype is not None for d in dates)


def test_eight_classes(ontology: Graph) -> None:
    names = {c.removeprefix(str(HKG)) for c in hkg_terms(ontology, OWL.Class)}
    assert names == {"Model", "Dataset", "Space", "Paper", "Collection", "User", "Organization", "Task"}
    assert {URIRef(t.cls) for t in vocabulary().types} == {HKG[n] for n in names}


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
            assert (prop, RDF.type, OWL.DatatypeProperty) in ontology, field.prop
            assert URIRef(entity_type.cls) in members(ontology, ontology.value(prop, RDFS.domain)), (entity_type.cls, field.name)


# ---------------------------------------------------------------- ontology and shapes cover each other


def shape_paths(shapes: Graph) -> set[URIRef]:
    return set(shapes.objects(None, SH.path))


def test_every_property_is_constrained_by_a_shape_and_every_path_is_declared(ontology: Graph, shapes: Graph) -> None:
    properties = hkg_terms(ontology, OWL.ObjectProperty) | hkg_terms(ontology, OWL.DatatypeProperty) | {DCTERMS.license}
    assert properties <= shape_paths(shapes)
    declared = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) | set(ontology.subjects(RDF.type, OWL.DatatypeProperty))
    assert shape_paths(shapes) <= declared
    targets = {shapes.value(s, SH.targetClass) for s in shapes.subjects(SH.targetClass, None)}
    assert targets == hkg_terms(ontology, OWL.Class)


def expected_properties() -> dict[str, dict[URIRef, dict]]:
    """Per class: each property its instances carry, with what the shapes must say about it."""
    expected: dict[str, dict[URIRef, dict]] = defaultdict(dict)
    for entity_type in vocabulary().types:
        for field in entity_type.fields:
            counts = (1, 1) if field.is_key else (None, None if field.is_list else 1)
            expected[entity_type.cls][URIRef(field.prop)] = {"counts": counts, "classes": set()}
            if field.link_prop:
                expected[entity_type.cls][URIRef(field.link_prop)] = {"counts": (None, None if field.is_list else 1), "classes": set()}
    for relation in vocabulary().relations:
        subject, obj = rdf_direction(relation)
        entry = expected[subject].setdefault(URIRef(relation.prop), {"counts": (None, None), "classes": set()})
        entry["classes"].add(URIRef(obj))
    return expected


def property_shapes(shapes: Graph, cls: str) -> dict[URIRef, URIRef]:
    [node_shape] = shapes.subjects(SH.targetClass, URIRef(cls))
    assert shapes.value(node_shape, SH.closed) == Literal(True)
    assert list(Collection(shapes, shapes.value(node_shape, SH.ignoredProperties))) == [RDF.type]
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
            if want["classes"] or prop == DCTERMS.license:
                assert shapes.value(shape, SH.nodeKind) == SH.IRI, (cls, prop)
            else:
                assert shapes.value(shape, SH.datatype) is not None, (cls, prop)
            assert shapes.value(shape, SH.message) is not None and shapes.value(shape, SH.name) is not None


def test_shape_datatypes_follow_the_ontology_ranges(ontology: Graph, shapes: Graph) -> None:
    """Counts are written as xsd:integer (Oxigraph's form), with non-negativity as sh:minInclusive 0."""
    for shape in shapes.subjects(SH.datatype, None):
        path, datatype = shapes.value(shape, SH.path), shapes.value(shape, SH.datatype)
        declared = ontology.value(path, RDFS.range)
        if declared == URIRef("http://www.w3.org/2001/XMLSchema#nonNegativeInteger"):
            assert datatype == URIRef("http://www.w3.org/2001/XMLSchema#integer")
            assert shapes.value(shape, SH.minInclusive) == Literal(0)
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
