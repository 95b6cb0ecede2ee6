"""Standard terms in the data: a consumer who knows only FAIR4ML, only schema.org or only PROV-O
answers its questions from a plain dump, with no reasoner and no hkg: term; the shapes accept
the dump; and what conversion materialises is exactly what an OWL reasoner derives from the
ontology (so the alignment lives in one place, ontology/hkg.ttl, and the data says the same).

The expected answers are computed from the release's JSON files, the way the crawler wrote them
(nju-websoft/HuggingBench HuggingKG_constructor.py: lineage files list base -> derived,
publish files owner -> repository), never from our own triples.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import owlrl
import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from conftest import invoke, must
from hkg_rdf.iris import IriMinter
from hkg_rdf.validate import validate_files
from hkg_rdf.vocab import HKG, ONTOLOGY_FILE, SHAPES_FILE, data_path, vocabulary

REPO = Path(__file__).resolve().parent.parent
MINTER = IriMinter()
FAIR4ML = "https://w3id.org/fair4ml#"
SCHEMA = "https://schema.org/"
PROV = "http://www.w3.org/ns/prov#"


def _records(release: Path, name: str) -> list[dict]:
    return json.loads((release / name).read_text(encoding="utf-8"))


def _iri(segment: str, entity_id: str) -> str:
    return MINTER.mint(vocabulary().type_by_segment(segment), entity_id)


def _store(dump: Path) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(dump), format=ox.RdfFormat.N_TRIPLES)
    return store


def _pairs(store: ox.Store, query: str) -> set[tuple[str, str]]:
    return {(row["m"].value, row["x"].value) for row in store.query(query)}


def _expected(release: Path) -> dict[str, set[tuple[str, str]]]:
    """From the release files: per question, the (model IRI, answer IRI) pairs."""
    def pairs(relation: str, subject_key: str, subject_segment: str, object_key: str, object_segment: str) -> set[tuple[str, str]]:
        return {(_iri(subject_segment, r[subject_key]), _iri(object_segment, r[object_key])) for r in _records(release, f"{relation}.json")}

    models = {r["id"] for r in _records(release, "models.json")}
    shared = set()
    for relation, key, segment in (("user_publish_model", "user_id", "user"), ("org_publish_model", "org_id", "org")):
        shared |= {(_iri("model", r["model_id"]), _iri(segment, r[key])) for r in _records(release, f"{relation}.json")}
    lineage = set()
    for kind in ("finetune", "adapter", "merge", "quantized"):
        lineage |= pairs(f"model_{kind}_model", "model_id", "model", "base_model_id", "model")
    return {
        "models": {(_iri("model", m), "") for m in models},
        "fineTunedFrom": pairs("model_finetune_model", "model_id", "model", "base_model_id", "model"),
        "trainedOn": pairs("model_trainedOrFineTunedOn_dataset", "model_id", "model", "dataset_id", "dataset"),
        "sharedBy": shared,
        "task": pairs("model_definedFor_task", "model_id", "model", "task_id", "task"),
        "lineage": lineage,
    }


FAIR4ML_QUERIES = {
    "models": f"SELECT ?m ('' AS ?x) WHERE {{ ?m a <{FAIR4ML}MLModel> }}",
    "fineTunedFrom": f"SELECT ?m ?x WHERE {{ ?m <{FAIR4ML}fineTunedFrom> ?x }}",
    "trainedOn": f"SELECT ?m ?x WHERE {{ ?m <{FAIR4ML}trainedOn> ?x }}",
    "sharedBy": f"SELECT ?m ?x WHERE {{ ?m <{FAIR4ML}sharedBy> ?x }}",
    "task": f"SELECT ?m ?x WHERE {{ ?m <{FAIR4ML}mlTask> ?x }}",
}
# schema.org alone: a model is the CreativeWork with a Hub page under huggingface.co/<id> that is
# based on things; fine-tuned-from is not distinguishable from other derivations in schema.org,
# so its question is "based on which models" (all lineage), trained-on "based on which datasets".
SCHEMA_QUERIES = {
    "lineage": f"SELECT ?m ?x WHERE {{ ?m <{SCHEMA}isBasedOn> ?x . ?x a <{SCHEMA}CreativeWork> . ?m a <{SCHEMA}CreativeWork> }}",
    "trainedOn": f"SELECT ?m ?x WHERE {{ ?m <{SCHEMA}isBasedOn> ?x . ?x a <{SCHEMA}Dataset> }}",
    "sharedBy": f"SELECT ?m ?x WHERE {{ ?m a <{SCHEMA}CreativeWork> ; <{SCHEMA}author> ?x . FILTER NOT EXISTS {{ ?m a <{SCHEMA}ScholarlyArticle> }} "
                f"FILTER NOT EXISTS {{ ?m a <{SCHEMA}Dataset> }} FILTER NOT EXISTS {{ ?m a <{SCHEMA}SoftwareApplication> }} }}",
    "task": f"SELECT ?m ?x WHERE {{ ?m a <{SCHEMA}CreativeWork> ; <{SCHEMA}keywords> ?x . ?x a <{SCHEMA}DefinedTerm> FILTER NOT EXISTS {{ ?m a <{SCHEMA}Dataset> }} }}",
}


@pytest.fixture(scope="module")
def synthetic_release(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), "--scale", "0.001", "--seed", "3", "-o", str(root)],
                   check=True, capture_output=True)
    return root / "HuggingKG_V20241215000000"


@pytest.fixture(scope="module", params=["example", "synthetic"])
def release(request, example_release, synthetic_release) -> Path:
    return example_release if request.param == "example" else synthetic_release


@pytest.fixture(scope="module")
def dump(release, tmp_path_factory) -> Path:
    """A plain dump, as a consumer gets it: load, then dump."""
    root = tmp_path_factory.mktemp("dump")
    must(invoke("load", release, "--store", root / "store"))
    must(invoke("dump", "--store", root / "store", "-o", root / "dump.nt"))
    return root / "dump.nt"


def test_a_fair4ml_consumer_answers_from_the_dump(release, dump):
    store, expected = _store(dump), _expected(release)
    for question, query in FAIR4ML_QUERIES.items():
        assert _pairs(store, query) == expected[question], question
    assert expected["fineTunedFrom"] and expected["trainedOn"] and expected["sharedBy"] and expected["task"]


def test_a_schema_org_consumer_answers_from_the_dump(release, dump):
    store, expected = _store(dump), _expected(release)
    for question, query in SCHEMA_QUERIES.items():
        assert _pairs(store, query) == expected[question], question
    pages = {(row["m"].value, row["u"].value) for row in store.query(f"SELECT ?m ?u WHERE {{ ?m a <{FAIR4ML}MLModel> ; <{SCHEMA}url> ?u }}")}
    assert pages == {(m, "https://huggingface.co/" + m.removeprefix(MINTER.base + "model/")) for m, _ in expected["models"]}


def test_a_prov_consumer_follows_lineage_from_the_dump(release, dump):
    store, expected = _store(dump), _expected(release)
    assert _pairs(store, f"SELECT ?m ?x WHERE {{ ?m <{PROV}wasDerivedFrom> ?x }}") == expected["lineage"]


def test_the_shapes_accept_the_dump_with_its_standard_terms(dump):
    result = validate_files([dump], data_path(*SHAPES_FILE))
    assert result.conforms, result.summary()


def test_no_standard_terms_leaves_only_hkg_terms_and_the_derived_data(example_release, tmp_path):
    must(invoke("convert", example_release, "-o", tmp_path / "with.nt"))
    must(invoke("convert", "--no-standard-terms", example_release, "-o", tmp_path / "without.nt"))
    with_terms, without = (frozenset(str(t) for t in ox.parse(path=str(tmp_path / f), format=ox.RdfFormat.N_TRIPLES)) for f in ("with.nt", "without.nt"))
    description = lambda triples: {t for t in triples if t.startswith(f"<{MINTER.base}void/")}
    assert without - description(without) < with_terms
    props, classes = vocabulary().derived
    data = {f.items.user for t in vocabulary().types for f in t.fields if f.items} | {p for t in vocabulary().types for p, _ in t.links}
    entailed = props - data - {"http://www.w3.org/2004/02/skos/core#" + p for p in ("inScheme", "notation", "broader")}
    store = _store(tmp_path / "without.nt")
    about_entities = lambda quads: [q for q in quads if q.subject.value.startswith(MINTER.base) and not q.subject.value.startswith(MINTER.base + "void/")]
    assert not [p for p in entailed if about_entities(store.quads_for_pattern(None, ox.NamedNode(p), None))]
    assert not [c for c in classes if about_entities(store.quads_for_pattern(None, ox.NamedNode(str(RDF.type)), ox.NamedNode(c)))]
    assert validate_files([tmp_path / "without.nt"], data_path(*SHAPES_FILE)).conforms


def _qualifier_triples(graph: Graph) -> Graph:
    """What ObjectHasSelf entails, which OWL RL rules (owlrl) do not: <m> hkg:asModel <m>."""
    align = vocabulary().alignment
    for prop, cls in align.qualifiers.items():
        for node in list(graph.subjects(RDF.type, URIRef(cls))):
            graph.add((node, URIRef(prop), node))
    return graph


def test_materialised_terms_are_exactly_what_a_reasoner_derives(example_release, tmp_path):
    """owlrl's OWL RL closure of ontology + hkg-only data holds every standard triple we write,
    and we write every standard triple it derives about the entities (for our terms)."""
    must(invoke("convert", example_release, "-o", tmp_path / "with.nt"))
    must(invoke("convert", "--no-standard-terms", example_release, "-o", tmp_path / "without.nt"))
    written = Graph().parse(tmp_path / "with.nt", format="nt")
    closure = _qualifier_triples(Graph().parse(tmp_path / "without.nt", format="nt"))
    closure.parse(data_path(*ONTOLOGY_FILE), format="turtle")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    props, classes = vocabulary().derived
    links = {p for t in vocabulary().types for p, _ in t.links}
    data = {f.items.user for t in vocabulary().types for f in t.fields if f.items}
    entailed_props = {URIRef(p) for p in props - links - data} - {URIRef("http://www.w3.org/2004/02/skos/core#" + p) for p in ("inScheme", "notation", "broader")}

    def standard(graph: Graph) -> set:
        found = {t for p in entailed_props for t in graph.triples((None, p, None)) if str(t[0]).startswith(MINTER.base)}
        return found | {t for c in classes for t in graph.triples((None, RDF.type, URIRef(c))) if str(t[0]).startswith(MINTER.base)}

    ours, derived = standard(written), standard(closure)
    assert len(ours) > 500
    assert ours <= derived, sorted(ours - derived)[:5]
    assert derived <= ours, sorted(derived - ours)[:5]


def test_fair4ml_shared_by_is_said_of_models_only(example_release, dump, release):
    store = _store(dump)
    subjects = {row["s"].value for row in store.query(f"SELECT DISTINCT ?s WHERE {{ ?s <{FAIR4ML}sharedBy> ?o }}")}
    assert subjects and all(s.startswith(MINTER.base + "model/") for s in subjects)
    paper_authors = store.query(f"SELECT ?u WHERE {{ ?p a <{HKG}Paper> ; <{SCHEMA}author> ?u . ?u a <{HKG}User> }}")
    assert not list(paper_authors)  # a paper's schema:author are its Author nodes, not also the user
