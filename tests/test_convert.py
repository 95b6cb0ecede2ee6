"""Converting a HuggingKG release to RDF: counts, directions, values, formats, sources, reports.

Expectations are written out here from the release format (RELEASE_FORMAT.md / mapping.ttl),
not derived from hkg_rdf, so a wrong mapping or a wrong direction fails these tests.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import BASE, HKG, RDF_TYPE, invoke, model_iri, must, parse_rdf, read_json, write_json

from hkg_rdf.store import open_read_only
from hkg_rdf.vocab import vocabulary

XSD = "http://www.w3.org/2001/XMLSchema#"
DCTERMS_LICENSE = "http://purl.org/dc/terms/license"
SPDX = "http://spdx.org/licenses/"

#: entity file stem -> (class local name, IRI segment, key field, key property local name)
ENTITY_FILES = {
    "tasks": ("Task", "task", "id", "id"),
    "models": ("Model", "model", "id", "id"),
    "datasets": ("Dataset", "dataset", "id", "id"),
    "spaces": ("Space", "space", "id", "id"),
    "papers": ("Paper", "paper", "id", "id"),
    "collections": ("Collection", "collection", "slug", "slug"),
    "users": ("User", "user", "id", "id"),
    "orgs": ("Organization", "org", "id", "id"),
}

#: relation file stem -> (property local name, subject segment, object segment, RDF points object -> subject)
RELATIONS = {
    "model_definedFor_task": ("definedForTask", "model", "task", False),
    "model_adapter_model": ("adapterOf", "model", "model", True),
    "model_finetune_model": ("fineTunedFrom", "model", "model", True),
    "model_merge_model": ("mergedFrom", "model", "model", True),
    "model_quantized_model": ("quantizedFrom", "model", "model", True),
    "model_trainedOrFineTunedOn_dataset": ("trainedOrFineTunedOn", "model", "dataset", False),
    "model_cite_paper": ("cites", "model", "paper", False),
    "dataset_definedFor_task": ("definedForTask", "dataset", "task", False),
    "dataset_cite_paper": ("cites", "dataset", "paper", False),
    "space_use_model": ("uses", "space", "model", False),
    "space_use_dataset": ("uses", "space", "dataset", False),
    "collection_contain_model": ("contains", "collection", "model", False),
    "collection_contain_dataset": ("contains", "collection", "dataset", False),
    "collection_contain_space": ("contains", "collection", "space", False),
    "collection_contain_paper": ("contains", "collection", "paper", False),
    "user_publish_model": ("publishes", "user", "model", False),
    "user_publish_dataset": ("publishes", "user", "dataset", False),
    "user_publish_space": ("publishes", "user", "space", False),
    "user_publish_paper": ("publishes", "user", "paper", False),
    "user_own_collection": ("owns", "user", "collection", False),
    "user_like_model": ("likes", "user", "model", False),
    "user_like_dataset": ("likes", "user", "dataset", False),
    "user_like_space": ("likes", "user", "space", False),
    "user_follow_user": ("follows", "user", "user", False),
    "user_follow_org": ("follows", "user", "org", False),
    "user_affiliatedWith_org": ("affiliatedWith", "user", "org", False),
    "org_publish_model": ("publishes", "org", "model", False),
    "org_publish_dataset": ("publishes", "org", "dataset", False),
    "org_publish_space": ("publishes", "org", "space", False),
    "org_own_collection": ("owns", "org", "collection", False),
}
SEGMENT_CLASS = {segment: HKG + cls for cls, segment, _, _ in ENTITY_FILES.values()}
RELATION_PROPS = {HKG + prop for prop, *_ in RELATIONS.values()}


def iri(segment: str, entity_id: str, base: str = BASE) -> str:
    """The IRI of an example entity (example ids use only characters left as they are)."""
    return f"{base}{segment}/{entity_id}"


class Graph:
    """The triples of an RDF file, indexed for the checks below."""

    def __init__(self, triples):
        self.triples = list(triples)
        self.by_subject = defaultdict(list)
        self.by_predicate = defaultdict(list)
        self.types = defaultdict(set)
        for t in self.triples:
            self.by_subject[t.subject.value].append(t)
            self.by_predicate[t.predicate.value].append(t)
            if t.predicate.value == RDF_TYPE:
                self.types[t.subject.value].add(t.object.value)

    @classmethod
    def read(cls, path: Path) -> Graph:
        return cls(ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))

    def objects(self, subject: str, prop: str) -> list:
        return [t.object for t in self.by_subject[subject] if t.predicate.value == prop]

    def typed(self, cls_iri: str) -> set[str]:
        return {s for s, types in self.types.items() if cls_iri in types}

    def pairs(self, prop: str) -> list[tuple[str, str]]:
        return [(t.subject.value, t.object.value) for t in self.by_predicate[prop]]


def convert(source: Path, output: Path, *options: object) -> Path:
    must(invoke("convert", source, "-o", output, *options))
    return output


@pytest.fixture(scope="module")
def example_nt(tmp_path_factory, example_release) -> Path:
    return convert(example_release, tmp_path_factory.mktemp("convert") / "example.nt")


@pytest.fixture(scope="module")
def graph(example_nt) -> Graph:
    return Graph.read(example_nt)


# ---------------------------------------------------------------- entities and relations


def test_the_release_has_the_8_entity_files_and_30_relation_files(example_release):
    stems = {p.stem for p in example_release.glob("*.json")}
    assert stems == set(ENTITY_FILES) | set(RELATIONS)
    assert len(RELATIONS) == 30


@pytest.mark.parametrize("stem", sorted(ENTITY_FILES))
def test_every_record_becomes_one_typed_subject_with_its_key(stem, example_release, graph):
    cls, segment, key, key_prop = ENTITY_FILES[stem]
    records = read_json(example_release / f"{stem}.json")
    expected = {iri(segment, r[key]) for r in records}
    assert len(expected) == len(records) > 0
    assert graph.typed(HKG + cls) == expected
    for record in records:
        subject = iri(segment, record[key])
        assert graph.types[subject] == {HKG + cls}
        keys = graph.objects(subject, HKG + key_prop)
        assert [(k.value, k.datatype.value) for k in keys] == [(record[key], XSD + "string")]


@pytest.mark.parametrize("stem", sorted(RELATIONS))
def test_every_pair_becomes_one_triple_in_the_right_direction(stem, example_release, graph):
    prop, subject_segment, object_segment, inverse = RELATIONS[stem]
    records = read_json(example_release / f"{stem}.json")
    assert len(records) >= 2
    expected = set()
    for record in records:
        (subject_id, object_id) = record.values()  # subject key first, as the release lists them
        pair = (iri(subject_segment, subject_id), iri(object_segment, object_id))
        expected.add(pair[::-1] if inverse else pair)
    assert len(expected) == len(records)
    first, second = (object_segment, subject_segment) if inverse else (subject_segment, object_segment)
    actual = [
        (s, o) for s, o in graph.pairs(HKG + prop)
        if SEGMENT_CLASS[first] in graph.types[s] and SEGMENT_CLASS[second] in graph.types[o]
    ]
    assert sorted(actual) == sorted(expected)


@pytest.mark.parametrize("prop", sorted(RELATION_PROPS))
def test_relation_properties_carry_nothing_but_the_release_pairs(prop, release_counts, graph):
    expected = sum(release_counts[stem] for stem, (p, *_) in RELATIONS.items() if HKG + p == prop)
    assert len(graph.pairs(prop)) == expected


def test_lineage_points_from_the_derived_model_to_its_base(graph):
    derived, base = model_iri("meta-llama/Llama-3.1-8B-Instruct"), model_iri("meta-llama/Llama-3.1-8B")
    assert (derived, base) in graph.pairs(HKG + "fineTunedFrom")
    assert (base, derived) not in graph.pairs(HKG + "fineTunedFrom")
    gguf = model_iri("mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated-GGUF")
    assert [o.value for o in graph.objects(gguf, HKG + "quantizedFrom")] == [model_iri("mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated")]
    merge = model_iri("zoe-angstrom/Llama-3.1-8B-SLERP-merge")
    assert sorted(o.value for o in graph.objects(merge, HKG + "mergedFrom")) == [
        model_iri("meta-llama/Llama-3.1-8B-Instruct"), model_iri("mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated"),
    ]
    lora = model_iri("zoe-angstrom/llama-3.1-8b-imdb-lora")
    assert [o.value for o in graph.objects(lora, HKG + "adapterOf")] == [base]


def test_the_report_counts_what_was_converted(tmp_path, example_release, release_counts):
    report_path = tmp_path / "report.json"
    result = must(invoke("convert", example_release, "-o", tmp_path / "out.nt", "--report", report_path))
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["entities"] == {ENTITY_FILES[stem][1]: release_counts[stem] for stem in ENTITY_FILES}
    assert report["edges"] == {stem: release_counts[stem] for stem in RELATIONS}
    assert report["skipped"] == {}
    assert report["triples"] == len(Graph.read(tmp_path / "out.nt").triples)
    assert f"{report['triples']:,} triples" in result.stderr


# ---------------------------------------------------------------- attribute values


def _store_objects(store: ox.Store, subject: str, prop: str) -> list:
    return [q.object for q in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(prop), None)]


def test_every_attribute_value_reads_back_from_the_store_exactly(example_release, example_store):
    """Strings (unicode, quotes, tabs, CR/LF, backslashes) equal the JSON strings; counts,
    dates, nulls (no triple) and lists (one triple per item) come back as the release has them."""
    store = open_read_only(example_store)
    checked = Counter()
    for entity_type in vocabulary().types:
        for record in read_json(example_release / entity_type.file):
            subject = iri(entity_type.segment, record[entity_type.key.name])
            for field in entity_type.fields:
                value = record[field.name]
                objects = _store_objects(store, subject, field.prop)
                if value is None or value == []:
                    assert objects == [], (subject, field.name)
                    checked["null"] += 1
                elif field.is_list:
                    assert sorted(o.value for o in objects) == sorted(set(value)), (subject, field.name)
                    assert {o.datatype.value for o in objects} == {XSD + "string"}
                    checked["list"] += 1
                elif isinstance(value, int):
                    assert [(int(o.value), o.datatype.value) for o in objects] == [(value, XSD + "integer")]
                    checked["count"] += 1
                elif field.datatype == XSD + "dateTime":
                    # the store keeps the canonical form: "...:02Z" for the release's "...:02.000Z"
                    assert [o.datatype.value for o in objects] == [XSD + "dateTime"], (subject, field.name)
                    assert datetime.fromisoformat(objects[0].value) == datetime.fromisoformat(value)
                    assert objects[0].value == value.replace(".000Z", "Z")
                    checked["dateTime"] += 1
                else:
                    assert len(objects) == 1, (subject, field.name)
                    assert objects[0].value == value, (subject, field.name)
                    assert objects[0].datatype.value == XSD + "string"
                    checked["string"] += 1
    # the example exercises every kind of value
    assert checked["null"] and checked["list"] and checked["count"] > 50
    assert checked["string"] > 100 and checked["dateTime"] > 50


def test_descriptions_with_hostile_characters_survive_exactly(example_release, example_store):
    """The example READMEs hold tabs, quotes, backslashes, CR LF and non-ASCII text."""
    store = open_read_only(example_store)
    descriptions = {r["id"]: r["description"] for r in read_json(example_release / "models.json")}
    hostile = [d for d in descriptions.values() if d and all(c in d for c in '\t\\"') or d and "\r\n" in d]
    assert len(hostile) >= 2  # the example keeps covering the escapes
    for model_id, description in descriptions.items():
        objects = _store_objects(store, model_iri(model_id), HKG + "description")
        assert [o.value for o in objects] == ([] if description is None else [description])


NASTY = 'q"uote\ttab\nnl\r\ncrlf \\ back\\\\slash \\n \\u0041 \\" \x00\x01\x07\x1f\x7f \u2028\ufeff 🦙 é 中文 \U0001f917 end\\'


def test_crafted_hostile_strings_survive_convert_and_load(tmp_path, release_copy):
    models = read_json(release_copy / "models.json")
    models[0]["description"] = NASTY
    models[1]["name"] = NASTY[::-1]
    write_json(release_copy / "models.json", models)
    collections = read_json(release_copy / "collections.json")
    collections[0]["title"] = "«" + NASTY + "»"
    write_json(release_copy / "collections.json", collections)

    nt = convert(release_copy, tmp_path / "nasty.nt")
    store_dir = tmp_path / "store"
    must(invoke("load", release_copy, "--store", store_dir))
    store = open_read_only(store_dir)
    expected = [
        (model_iri(models[0]["id"]), HKG + "description", NASTY),
        (model_iri(models[1]["id"]), HKG + "name", NASTY[::-1]),
        (iri("collection", collections[0]["slug"]), HKG + "title", "«" + NASTY + "»"),
    ]
    from_file = Graph.read(nt)
    rdflib_graph = rdflib.Graph().parse(nt, format="nt")
    for subject, prop, value in expected:
        assert [o.value for o in _store_objects(store, subject, prop)] == [value]
        assert [o.value for o in from_file.objects(subject, prop)] == [value]
        assert [str(o) for o in rdflib_graph.objects(rdflib.URIRef(subject), rdflib.URIRef(prop))] == [value]


def test_converted_file_and_loaded_store_hold_the_same_terms(example_nt, example_store, read_store):
    """Counts (xsd:integer) and dates (canonical form) are written as the store keeps them."""
    assert parse_rdf(example_nt) == read_store(example_store)  # default-graph quads print as triples


def test_nulls_give_no_triple(graph):
    no_license = model_iri("lewtun/bert-base-uncased-finetuned-imdb")
    assert graph.objects(no_license, HKG + "licenseLabel") == []
    assert graph.objects(no_license, DCTERMS_LICENSE) == []
    no_likes = model_iri("zoe-angstrom/Llama-3.1-8B-SLERP-merge")
    assert graph.objects(no_likes, HKG + "likeCount") == []
    assert [o.value for o in graph.objects(no_likes, HKG + "downloadCount")] == ["0"]  # 0 is not null
    assert graph.objects(model_iri("user_1/phi-3.5-mini.Q4_K_M"), HKG + "downloadCount") == []
    assert graph.objects(model_iri("user_1/phi-3.5-mini.Q4_K_M"), HKG + "description") == []


def test_an_empty_string_is_a_value_not_a_null(tmp_path, release_copy):
    models = read_json(release_copy / "models.json")
    models[0]["description"], models[0]["region"] = "", None
    write_json(release_copy / "models.json", models)
    graph = Graph.read(convert(release_copy, tmp_path / "out.nt"))
    assert [o.value for o in graph.objects(model_iri(models[0]["id"]), HKG + "description")] == [""]
    assert graph.objects(model_iri(models[0]["id"]), HKG + "region") == []


def test_lists_give_one_triple_per_item(graph):
    merge = model_iri("zoe-angstrom/Llama-3.1-8B-SLERP-merge")
    assert sorted(o.value for o in graph.objects(merge, HKG + "pipelineTag")) == ["Text Generation", "Text2Text Generation"]
    assert graph.objects(model_iri("zoe-angstrom/llama-3.1-8b-imdb-lora"), HKG + "pipelineTag") == []


def test_counts_and_dates_are_typed(graph):
    instruct = model_iri("meta-llama/Llama-3.1-8B-Instruct")
    (likes,) = graph.objects(instruct, HKG + "likeCount")
    assert (likes.value, likes.datatype.value) == ("3198", XSD + "integer")
    (created,) = graph.objects(instruct, HKG + "createdAt")
    assert created.datatype.value == XSD + "dateTime"


def test_spdx_license_only_for_labels_that_name_an_spdx_license(graph):
    bert = model_iri("google-bert/bert-base-uncased")
    assert [o.value for o in graph.objects(bert, HKG + "licenseLabel")] == ["apache-2.0"]
    assert graph.objects(bert, DCTERMS_LICENSE) == [ox.NamedNode(SPDX + "Apache-2.0")]
    llama = model_iri("meta-llama/Llama-3.1-8B")
    assert [o.value for o in graph.objects(llama, HKG + "licenseLabel")] == ["llama3.1"]
    assert graph.objects(llama, DCTERMS_LICENSE) == []
    assert graph.objects(model_iri("microsoft/Phi-3.5-mini-instruct"), DCTERMS_LICENSE) == [ox.NamedNode(SPDX + "MIT")]
    lora = model_iri("zoe-angstrom/llama-3.1-8b-imdb-lora")
    assert graph.objects(lora, DCTERMS_LICENSE) == [ox.NamedNode(SPDX + "CC-BY-NC-4.0")]


def test_dataset_license_is_one_label_linked_to_spdx(example_release, graph):
    """The release has one license label (or null) per dataset: the constructor keeps the last license tag."""
    for record in read_json(example_release / "datasets.json"):
        subject = iri("dataset", record["id"])
        labels = [o.value for o in graph.objects(subject, HKG + "licenseLabel")]
        assert labels == ([record["license"]] if record["license"] is not None else [])
        assert len(graph.objects(subject, DCTERMS_LICENSE)) <= 1
    links = lambda dataset_id: sorted(o.value for o in graph.objects(iri("dataset", dataset_id), DCTERMS_LICENSE))
    assert links("mlabonne/orpo-dpo-mix-40k") == [SPDX + "MIT"]  # tagged apache-2.0 and mit: the last one
    assert links("HuggingFaceFW/fineweb") == [SPDX + "ODC-By-1.0"]
    assert links("stanfordnlp/imdb") == []  # "other"
    assert links("zoe-angstrom/imdb-fr") == []  # no license at all


# ---------------------------------------------------------------- output formats

FORMATS = [".nt", ".ttl", ".nq", ".trig", ".jsonld", ".rdf"]
RDFLIB_FORMATS = {".nt": "nt", ".ttl": "turtle", ".nq": "nquads", ".trig": "trig", ".jsonld": "json-ld", ".rdf": "xml"}


def _rdflib_triples(path: Path) -> set:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    fmt = RDFLIB_FORMATS[path.suffixes[-2] if path.suffix == ".gz" else path.suffix]
    dataset = rdflib.Dataset()
    dataset.parse(data=data.decode("utf-8"), format=fmt)
    return {(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))}


@pytest.fixture(scope="module")
def rdflib_reference(example_nt) -> set:
    return _rdflib_triples(example_nt)


@pytest.mark.parametrize("gz", ["", ".gz"], ids=["plain", "gz"])
@pytest.mark.parametrize("suffix", FORMATS)
def test_every_output_format_parses_back_to_the_same_graph(suffix, gz, tmp_path, example_release, example_nt, rdflib_reference):
    output = convert(example_release, tmp_path / f"example{suffix}{gz}")
    assert (output.read_bytes()[:2] == b"\x1f\x8b") == bool(gz)
    reference = parse_rdf(example_nt)
    assert len(reference) > 800
    assert parse_rdf(output) == reference
    assert _rdflib_triples(output) == rdflib_reference


def test_rdfxml_keeps_carriage_returns_for_xml_parsers(tmp_path, example_release):
    """XML parsers turn a raw CR LF into LF: the README's CR must be written as &#13;."""
    output = convert(example_release, tmp_path / "example.rdf")
    assert b"\r" not in output.read_bytes()
    gguf = rdflib.URIRef(model_iri("TheBloke/Llama-2-7B-Chat-GGUF"))
    (description,) = rdflib.Graph().parse(output, format="xml").objects(gguf, rdflib.URIRef(HKG + "description"))
    assert "\r\n" in str(description)


def test_rdfxml_refuses_characters_xml_cannot_carry(tmp_path, release_copy):
    models = read_json(release_copy / "models.json")
    models[3]["description"] = "colours: \x1b[1mbold\x1b[0m"
    write_json(release_copy / "models.json", models)
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("convert", release_copy, "-o", out / "out.rdf")
    assert result.exit_code == 2
    assert "U+001B" in result.stderr and "out.rdf" in result.stderr
    assert list(out.iterdir()) == []
    assert parse_rdf(convert(release_copy, out / "out.ttl"))  # other formats carry it


def test_unknown_output_extension_is_refused_and_writes_nothing(tmp_path, example_release):
    result = invoke("convert", example_release, "-o", tmp_path / "out.xyz")
    assert result.exit_code == 2
    assert "unknown RDF format" in result.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- other sources


def test_triples_txt_gives_the_release_edges_and_typed_keyed_nodes(tmp_path, example_triples_txt, graph):
    txt = Graph.read(convert(example_triples_txt, tmp_path / "txt.nt"))
    release_edges = {(t.subject.value, t.predicate.value, t.object.value) for t in graph.triples if t.predicate.value in RELATION_PROPS}
    txt_edges = {(t.subject.value, t.predicate.value, t.object.value) for t in txt.triples if t.predicate.value in RELATION_PROPS}
    lines = [line for line in example_triples_txt.read_text(encoding="utf-8").splitlines() if line]
    assert txt_edges == release_edges
    assert len(txt_edges) == len(lines)

    key_of = {segment: HKG + key_prop for _, segment, _, key_prop in ENTITY_FILES.values()}
    nodes = {end for s, _, o in txt_edges for end in (s, o)}
    assert set(txt.by_subject) == nodes  # nothing but the nodes of the edges
    for node in nodes:
        segment, entity_id = node[len(BASE):].split("/", 1)
        assert txt.types[node] == {SEGMENT_CLASS[segment]}
        assert [k.value for k in txt.objects(node, key_of[segment])] == [entity_id]
        assert {t.predicate.value for t in txt.by_subject[node]} <= {RDF_TYPE, key_of[segment]} | RELATION_PROPS
    # collections are keyed by their slug
    assert txt.objects(iri("collection", "HuggingFaceFW/fineweb-665d8610a4b3c2d1e0f9a8b7"), HKG + "slug")
    # one line of the file: "meta-llama/Llama-3.1-8B<TAB>model_finetune_model<TAB>meta-llama/Llama-3.1-8B-Instruct"
    assert "meta-llama/Llama-3.1-8B\tmodel_finetune_model\tmeta-llama/Llama-3.1-8B-Instruct" in lines
    assert (model_iri("meta-llama/Llama-3.1-8B-Instruct"), HKG + "fineTunedFrom", model_iri("meta-llama/Llama-3.1-8B")) in txt_edges


def test_zip_and_directory_give_the_same_triples(tmp_path, release_zip, example_nt):
    from_zip = convert(release_zip, tmp_path / "zip.nt")
    assert parse_rdf(from_zip) == parse_rdf(example_nt)
    assert sorted(from_zip.read_text(encoding="utf-8").splitlines()) == sorted(example_nt.read_text(encoding="utf-8").splitlines())


def test_a_directory_holding_the_release_directory_works_too(tmp_path, release_copy, example_nt):
    assert parse_rdf(convert(release_copy.parent, tmp_path / "parent.nt")) == parse_rdf(example_nt)


# ---------------------------------------------------------------- dangling edges, duplicates, unknown files


def _add_dangling(release: Path) -> None:
    finetune = read_json(release / "model_finetune_model.json")
    finetune.append({"base_model_id": "ghost/base-model", "model_id": "meta-llama/Llama-3.1-8B-Instruct"})
    write_json(release / "model_finetune_model.json", finetune)
    likes = read_json(release / "user_like_space.json")
    likes += [{"user_id": "nobody", "space_id": "openai/whisper"}, {"user_id": "lewtun", "space_id": "ghost/space"}]
    write_json(release / "user_like_space.json", likes)


def test_dangling_edges_are_skipped_and_counted_per_relation(tmp_path, release_copy, example_nt):
    _add_dangling(release_copy)
    report_path = tmp_path / "report.json"
    result = must(invoke("convert", release_copy, "-o", tmp_path / "out.nt", "--report", report_path))
    assert parse_rdf(tmp_path / "out.nt") == parse_rdf(example_nt)  # nothing of the dangling edges

    report = json.loads(report_path.read_text(encoding="utf-8"))
    skipped = {reason.split(":")[0]: (count, reason) for reason, count in report["skipped"].items()}
    finetune_reasons = [r for r in report["skipped"] if r.startswith("model_finetune_model")]
    like_reasons = [r for r in report["skipped"] if r.startswith("user_like_space")]
    assert len(finetune_reasons) == 1 and report["skipped"][finetune_reasons[0]] == 1
    assert sum(report["skipped"][r] for r in like_reasons) == 2
    assert set(skipped) == {"model_finetune_model", "user_like_space"}
    assert ["ghost/base-model", "meta-llama/Llama-3.1-8B-Instruct"] in report["examples"][finetune_reasons[0]]
    like_examples = [e for r in like_reasons for e in report["examples"][r]]
    assert ["nobody", "openai/whisper"] in like_examples and ["lewtun", "ghost/space"] in like_examples
    assert report["edges"]["model_finetune_model"] == 4 and report["edges"]["user_like_space"] == 5
    assert "dangling" in result.stderr and "ghost/base-model" in result.stderr


def test_keep_dangling_keeps_them(tmp_path, release_copy, example_nt):
    _add_dangling(release_copy)
    report_path = tmp_path / "report.json"
    must(invoke("convert", release_copy, "-o", tmp_path / "out.nt", "--keep-dangling", "--report", report_path))
    triples = parse_rdf(tmp_path / "out.nt")
    extra = triples - parse_rdf(example_nt)
    h = HKG
    assert extra == {
        f"<{model_iri('meta-llama/Llama-3.1-8B-Instruct')}> <{h}fineTunedFrom> <{model_iri('ghost/base-model')}>",
        f"<{iri('user', 'nobody')}> <{h}likes> <{iri('space', 'openai/whisper')}>",
        f"<{iri('user', 'lewtun')}> <{h}likes> <{iri('space', 'ghost/space')}>",
    }
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["skipped"] == {}
    assert sum(count for reason, count in report["kept"].items() if "dangling" in reason) == 3
    assert report["edges"]["model_finetune_model"] == 5


def test_load_reports_dangling_edges_too(tmp_path, release_copy):
    _add_dangling(release_copy)
    report_path = tmp_path / "report.json"
    must(invoke("load", release_copy, "--store", tmp_path / "store", "--report", report_path))
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert sum(count for reason, count in report["skipped"].items() if "dangling" in reason) == 3


def test_duplicate_ids_are_reported_and_the_first_record_kept(tmp_path, release_copy):
    models = read_json(release_copy / "models.json")
    duplicate = dict(models[2], name="an impostor", likes=1)
    write_json(release_copy / "models.json", [*models, duplicate])
    report_path = tmp_path / "report.json"
    result = must(invoke("convert", release_copy, "-o", tmp_path / "out.nt", "--report", report_path))
    report = json.loads(report_path.read_text(encoding="utf-8"))
    reasons = [r for r in report["skipped"] if "duplicate" in r]
    assert len(reasons) == 1 and "models.json" in reasons[0] and report["skipped"][reasons[0]] == 1
    assert report["examples"][reasons[0]] == [models[2]["id"]]
    assert report["entities"]["model"] == len(models)
    assert "duplicate" in result.stderr
    graph = Graph.read(tmp_path / "out.nt")
    subject = model_iri(models[2]["id"])
    assert [o.value for o in graph.objects(subject, HKG + "name")] == [models[2]["name"]]
    assert [o.value for o in graph.objects(subject, HKG + "likeCount")] == [str(models[2]["likes"])]


def test_repeated_list_items_are_reported_and_stored_once(tmp_path, release_copy):
    papers = read_json(release_copy / "papers.json")
    papers[0]["authors"] = ["Wei Zhang", "Ann Lee", "Wei Zhang"]
    write_json(release_copy / "papers.json", papers)
    report_path = tmp_path / "report.json"
    must(invoke("convert", release_copy, "-o", tmp_path / "out.nt", "--report", report_path))
    report = json.loads(report_path.read_text(encoding="utf-8"))
    reasons = [r for r in report["kept"] if "repeats an item" in r]
    assert len(reasons) == 1 and "papers.json" in reasons[0] and "'authors'" in reasons[0]
    assert report["kept"][reasons[0]] == 1
    assert report["examples"][reasons[0]] == [[0, ["Wei Zhang", "Ann Lee", "Wei Zhang"]]]
    graph = Graph.read(tmp_path / "out.nt")
    subject = BASE + "paper/" + papers[0]["id"]
    assert {o.value for o in graph.objects(subject, HKG + "authorName")} == {"Ann Lee", "Wei Zhang"}


def test_unknown_files_in_the_release_are_noticed_and_ignored(tmp_path, release_copy, example_nt):
    (release_copy / "README.md").write_text("# notes\n", encoding="utf-8")
    write_json(release_copy / "model_clone_model.json", [{"base_model_id": "a/b", "model_id": "c/d"}])
    report_path = tmp_path / "report.json"
    result = must(invoke("convert", release_copy, "-o", tmp_path / "out.nt", "--report", report_path))
    notices = json.loads(report_path.read_text(encoding="utf-8"))["notices"]
    assert any("README.md" in n for n in notices)
    assert any("model_clone_model.json" in n for n in notices)
    assert any("extra_data" in n for n in notices)
    assert "README.md" in result.stderr
    assert parse_rdf(tmp_path / "out.nt") == parse_rdf(example_nt)


def test_missing_release_files_are_noticed(tmp_path, release_copy):
    (release_copy / "user_like_space.json").unlink()
    report_path = tmp_path / "report.json"
    must(invoke("convert", release_copy, "-o", tmp_path / "out.nt", "--report", report_path))
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert any("user_like_space.json" in n for n in report["notices"])
    assert "user_like_space" not in report["edges"]


def test_base_iri_changes_every_entity_iri_and_nothing_else(tmp_path, example_release, example_nt):
    other = "http://example.org/kg/"
    converted = parse_rdf(convert(example_release, tmp_path / "other.nt", "--base-iri", other))
    default = parse_rdf(example_nt)
    assert not any(BASE in t for t in converted)
    assert {t.replace(f"<{BASE}", f"<{other}") for t in default} == converted
    assert f"<{other}model/meta-llama/Llama-3.1-8B-Instruct> <{HKG}fineTunedFrom> <{other}model/meta-llama/Llama-3.1-8B>" in converted


def test_base_iri_from_the_environment(tmp_path, example_release):
    from click.testing import CliRunner

    from hkg_rdf.cli import main

    result = CliRunner(env={"HKG_BASE_IRI": "urn:hkg:"}).invoke(main, ["convert", str(example_release), "-o", str(tmp_path / "o.nt")])
    assert result.exit_code == 2  # not an absolute IRI ending in '/'
    result = CliRunner(env={"HKG_BASE_IRI": "http://example.net/x/"}).invoke(main, ["convert", str(example_release), "-o", str(tmp_path / "o.nt")])
    assert result.exit_code == 0, result.output
    assert all(t.startswith(("<http://example.net/x/",)) for t in parse_rdf(tmp_path / "o.nt"))
