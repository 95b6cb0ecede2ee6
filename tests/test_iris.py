"""Entity IRIs: any Hub id gives a valid IRI that decodes back to exactly that id.

Property tests over arbitrary text, targeted hostile ids, and a real round trip through a
converted release loaded into an on-disk store.
"""

from __future__ import annotations

import string

import pyoxigraph as ox
import pytest
import rdflib
from conftest import BASE, HKG, RDF_TYPE, invoke, must, write_json
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hkg_rdf.iris import DEFAULT_BASE_IRI, IriMinter, decode_id, encode_id
from hkg_rdf.store import open_read_only
from hkg_rdf.vocab import vocabulary

TYPES = vocabulary().types
MINTER = IriMinter()

HOSTILE_IDS = [
    "google-bert/bert-base-uncased",
    "hep-th/9901001",
    ".", "..", "...", "./x", "../x", "a/./b", "a/../b", "a/.", "a/..", "/", "//", "a/", "/a", "a//b",
    "a.b", ".hidden", "x..y", "a/.b/c.", "owner/model.Q4_K_M.gguf",
    "with space", " leading", "trailing ", "tab\there", "new\nline", "cr\rlf",
    "hash#frag", "query?x=1&y=2", "percent%", "%41", "%2F", "a%2Fb", "%%", "%zz", "%E9", "100%/sure",
    "paren(s)", "[brackets]", "{braces}", "<angle>", '"quotes"', "back\\slash", "pipe|caret^tick`",
    "colon:semi;comma,", "at@plus+eq=dollar$bang!star*apos'", "tilde~under_score-dash",
    "\x00", "\x01ctrl\x1f", "\x7f", "\u0085", "\u2028\u2029",
    "é", "café/naïve", "中文/模型", "🤗/🚀", "\U0001f999", "\ufeffbom", "\ufffe\uffff", "\U0010ffff",
    "ＦＵＬＬＷＩＤＴＨ", "e\u0301",  # combining accent stays as written (no normalisation)
]

hub_ids = st.text(min_size=1) | st.sampled_from(HOSTILE_IDS) | st.text(alphabet=st.sampled_from(list("./%#?") + list(string.ascii_letters)), min_size=1)


def _rdflib_round_trip(iri: str) -> str:
    graph = rdflib.Graph()
    graph.add((rdflib.URIRef(iri), rdflib.RDF.type, rdflib.URIRef(HKG + "Model")))
    text = graph.serialize(format="nt")
    back = rdflib.Graph().parse(data=text, format="nt")
    (subject,) = set(back.subjects())
    return str(subject)


def _assert_good_iri(entity_type, entity_id: str, minter: IriMinter = MINTER) -> str:
    iri = minter.mint(entity_type, entity_id)
    assert iri.startswith(f"{minter.base}{entity_type.segment}/")
    assert ox.NamedNode(iri).value == iri
    assert _rdflib_round_trip(iri) == iri
    assert minter.parse(iri) == (entity_type, entity_id)
    # usable as is in N-Triples, and no dot segment an HTTP client would collapse
    assert all(c not in iri for c in ' <>"{}|\\^`\n\r\t') and iri.isascii()
    assert not any(segment and not segment.strip(".") for segment in iri[len(minter.base):].split("/"))
    return iri


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(entity_id=hub_ids, type_index=st.integers(0, len(TYPES) - 1))
@example(entity_id="..", type_index=0)
@example(entity_id="%2F", type_index=1)
def test_any_id_gives_a_valid_iri_that_parses_back(entity_id, type_index):
    _assert_good_iri(TYPES[type_index], entity_id)


@pytest.mark.parametrize("entity_id", HOSTILE_IDS, ids=repr)
def test_hostile_ids_for_every_type(entity_id):
    for entity_type in TYPES:
        _assert_good_iri(entity_type, entity_id)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1))
def test_encoding_is_reversible_and_injective(entity_id):
    encoded = encode_id(entity_id)
    assert decode_id(encoded) == entity_id
    assert encode_id(entity_id + "x") != encoded


def test_readable_ids_stay_readable():
    model = vocabulary().type_by_segment("model")
    assert MINTER.mint(model, "google-bert/bert-base-uncased") == f"{BASE}model/google-bert/bert-base-uncased"
    assert MINTER.mint(model, "user_1/phi-3.5-mini.Q4_K_M") == f"{BASE}model/user_1/phi-3.5-mini.Q4_K_M"
    paper = vocabulary().type_by_segment("paper")
    assert MINTER.mint(paper, "hep-th/9901001") == f"{BASE}paper/hep-th/9901001"
    assert MINTER.mint(model, "a/../b") == f"{BASE}model/a/%2E%2E/b"
    assert MINTER.mint(model, "a b#c?d%e") == f"{BASE}model/a%20b%23c%3Fd%25e"


def test_same_id_of_different_types_gives_different_iris():
    iris = {MINTER.mint(t, "owner/name") for t in TYPES}
    assert len(iris) == len(TYPES)


def test_iris_from_elsewhere_parse_to_none():
    model = vocabulary().type_by_segment("model")
    other = IriMinter("http://example.org/kg/")
    assert MINTER.parse(other.mint(model, "a/b")) is None
    assert other.parse(MINTER.mint(model, "a/b")) is None
    assert other.parse(other.mint(model, "a/b")) == (model, "a/b")
    for iri in [
        "http://spdx.org/licenses/MIT",
        HKG + "Model",
        DEFAULT_BASE_IRI,  # no segment
        DEFAULT_BASE_IRI + "model",  # no id part
        DEFAULT_BASE_IRI + "widget/a/b",  # unknown segment
        DEFAULT_BASE_IRI.rstrip("/") + "-other/model/a/b",  # a longer base sharing a prefix
        DEFAULT_BASE_IRI + "model/%FF%FE",  # not UTF-8 once decoded
        DEFAULT_BASE_IRI.replace("https", "http") + "model/a/b",
    ]:
        assert MINTER.parse(iri) is None, iri


@given(st.text(min_size=1))
@settings(max_examples=100, deadline=None)
def test_another_base_round_trips_too(entity_id):
    _assert_good_iri(TYPES[0], entity_id, IriMinter("http://example.org/kg/"))


@pytest.mark.parametrize("base", ["", "example.org/", "http://example.org", "http://example.org/%zz/", "http://ex ample.org/", "urn:x"])
def test_bad_bases_are_refused(base):
    with pytest.raises(ValueError):
        IriMinter(base)


# ---------------------------------------------------------------- through a real store

STORE_IDS = {
    "model": ["../..", "a/./b", "owner/model with space", "x/hash#frag?q=1", "x/pct%2Fslash", "x/ctrl\x01\ttab\nnl", "🤗/中文", "x/.."],
    "user": ["..", ".", "user name", "tab\tuser", "%41", "é"],
    "org": ["org#1", "ORG?"],
    "collection": ["owner/../slug-0123456789abcdef01234567", "owner/ü slug#x"],
    "task": ["text?generation", "."],
    "dataset": ["d/.", "d/%"],
    "space": ["s/a b", "s/.."],
    "paper": ["hep-th/9901001", "a/../b"],
}


def _hostile_release(root):
    """A tiny release whose ids are all hostile, with an edge between every two of them."""
    release = root / "HuggingKG_V20250101000000"
    release.mkdir(parents=True)
    models = [
        {"id": i, "name": i.rsplit("/", 1)[-1], "createdAt": None, "lastModified": None, "downloads": 1, "likes": None,
         "region": None, "other": [], "libraries": [], "license": None, "languages": [], "pipeline_tag": [], "description": None}
        for i in STORE_IDS["model"]
    ]
    write_json(release / "models.json", models)
    write_json(release / "users.json", [{"id": i, "fullname": None} for i in STORE_IDS["user"]])
    write_json(release / "orgs.json", [{"id": i, "fullname": i} for i in STORE_IDS["org"]])
    write_json(release / "collections.json", [{"slug": i, "title": None, "upvotes": 0, "description": None} for i in STORE_IDS["collection"]])
    write_json(release / "tasks.json", [{"id": i, "label": None} for i in STORE_IDS["task"]])
    write_json(release / "datasets.json", [
        {"id": i, "name": None, "createdAt": None, "lastModified": None, "downloads": None, "likes": None, "libraries": [], "license": None,
         "languages": [], "other": [], "sub-tasks": [], "tasks": [], "size": None, "formats": [], "modalities": [], "tags": [], "description": None}
        for i in STORE_IDS["dataset"]
    ])
    write_json(release / "spaces.json", [{"id": i, "name": None, "createdAt": None, "lastModified": None, "likes": 0, "tags": []} for i in STORE_IDS["space"]])
    write_json(release / "papers.json", [{"id": i, "authors": [], "publishedAt": None, "title": None, "summary": None, "upvotes": None} for i in STORE_IDS["paper"]])
    models_ids = STORE_IDS["model"]
    write_json(release / "model_finetune_model.json", [{"base_model_id": a, "model_id": b} for a, b in zip(models_ids, models_ids[1:])])
    write_json(release / "user_like_model.json", [{"user_id": u, "model_id": m} for u in STORE_IDS["user"] for m in models_ids])
    write_json(release / "user_follow_org.json", [{"user_id": u, "org_id": o} for u in STORE_IDS["user"] for o in STORE_IDS["org"]])
    write_json(release / "collection_contain_paper.json", [{"collection_slug": c, "paper_id": p} for c in STORE_IDS["collection"] for p in STORE_IDS["paper"]])
    write_json(release / "space_use_dataset.json", [{"space_id": s, "dataset_id": d} for s in STORE_IDS["space"] for d in STORE_IDS["dataset"]])
    write_json(release / "dataset_definedFor_task.json", [{"dataset_id": d, "task_id": t} for d in STORE_IDS["dataset"] for t in STORE_IDS["task"]])
    return release


@pytest.mark.parametrize("base", [DEFAULT_BASE_IRI, "http://example.org/hkg/"])
def test_hostile_ids_survive_a_real_store_round_trip(tmp_path, base):
    release = _hostile_release(tmp_path)
    store_dir = tmp_path / "store"
    report = tmp_path / "report.json"
    must(invoke("load", release, "--store", store_dir, "--base-iri", base, "--report", report))
    assert '"skipped": {}' in report.read_text(encoding="utf-8")  # no edge looked dangling
    store = open_read_only(store_dir)
    minter = IriMinter(base)
    vocab = vocabulary()
    for segment, ids in STORE_IDS.items():
        entity_type = vocab.type_by_segment(segment)
        key = ox.NamedNode(entity_type.key.prop)
        subjects = {q.subject for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(entity_type.cls))}
        decoded = {}
        for subject in subjects:
            (key_literal,) = [q.object.value for q in store.quads_for_pattern(subject, key, None)]
            decoded[key_literal] = minter.parse(subject.value)
        assert decoded == {i: (entity_type, i) for i in ids}, segment
    # edges connect the right hostile nodes
    model = vocab.type_by_segment("model")
    ids = STORE_IDS["model"]
    for base_id, derived_id in zip(ids, ids[1:]):
        triple = (ox.NamedNode(minter.mint(model, derived_id)), ox.NamedNode(HKG + "fineTunedFrom"), ox.NamedNode(minter.mint(model, base_id)))
        assert list(store.quads_for_pattern(*triple)), (derived_id, base_id)
    # and SPARQL finds a node by the IRI minted for it
    iri = minter.mint(model, "x/hash#frag?q=1")
    (row,) = store.query(f"SELECT ?id WHERE {{ <{iri}> <{HKG}id> ?id }}")
    assert row["id"].value == "x/hash#frag?q=1"
