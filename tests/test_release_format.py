"""The published HuggingKG release format, read and written exactly.

The reference is the crawler that wrote the release, ``HuggingKG/HuggingKG_constructor.py`` in
nju-websoft/HuggingBench: ``save_data`` writes every file with ``json.dump(data, f, indent=4)``
(4-space indentation, ``ensure_ascii`` left on: non-ASCII as ``\\uXXXX``), and the record dicts
of ``get_model_details``, ``get_dataset_details``, ``get_space_details``, ``get_paper_details``,
``get_collection_details``, ``get_user_overview``/``get_org_overview`` and ``process_task_data``
fix the keys, their order and their types (HUGGINGKG.md section 1). The tests read the files the
way the constructor's consumers do, with ``json.load``, and compare bytes with what
``json.dump(..., indent=4)`` writes.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import RELEASE_NAME, invoke, must, read_json, write_json

from hkg_rdf.records import JsonArrayWriter, Release
from hkg_rdf.report import Report
from hkg_rdf.vocab import vocabulary

VOCAB = vocabulary()

#: Keys in the order the constructor's record dicts list them (HuggingKG_constructor.py).
CONSTRUCTOR_FIELDS = {
    "tasks.json": ["id", "label"],
    "models.json": ["id", "name", "createdAt", "lastModified", "downloads", "likes", "region", "other", "libraries",
                    "license", "languages", "pipeline_tag", "description"],
    "datasets.json": ["id", "name", "createdAt", "lastModified", "downloads", "likes", "libraries", "license", "languages",
                      "other", "sub-tasks", "tasks", "size", "formats", "modalities", "tags", "description"],
    "spaces.json": ["id", "name", "createdAt", "lastModified", "likes", "tags"],
    "papers.json": ["id", "authors", "publishedAt", "title", "summary", "upvotes"],
    "collections.json": ["slug", "title", "upvotes", "description"],
    "users.json": ["id", "fullname"],
    "orgs.json": ["id", "fullname"],
}
#: Fields the constructor initialises as [] and appends to; every other field is one value or None.
CONSTRUCTOR_LISTS = {
    "models.json": {"other", "libraries", "languages", "pipeline_tag"},
    "datasets.json": {"libraries", "languages", "other", "sub-tasks", "tasks", "formats", "modalities", "tags"},
    "spaces.json": {"tags"},
    "papers.json": {"authors"},
}


def constructor_bytes(records: list) -> str:
    """What the constructor's save_data writes for these records."""
    out = io.StringIO()
    json.dump(records, out, indent=4)
    return out.getvalue()


def test_the_mapping_declares_the_constructors_fields_in_its_order_and_shapes():
    for entity_type in VOCAB.types:
        assert [f.name for f in entity_type.fields] == CONSTRUCTOR_FIELDS[entity_type.file], entity_type.file
        lists = {f.name for f in entity_type.fields if f.is_list}
        assert lists == CONSTRUCTOR_LISTS.get(entity_type.file, set()), entity_type.file


def test_the_example_release_is_in_the_constructors_serialisation(example_release: Path):
    for path in sorted(example_release.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert text.isascii(), f"{path.name}: non-ASCII characters are written as \\u escapes"
        assert text == constructor_bytes(json.loads(text)), path.name


def test_the_example_release_has_labels_and_scalars_as_published(example_release: Path):
    models = {m["id"]: m for m in read_json(example_release / "models.json")}
    bert = models["google-bert/bert-base-uncased"]
    assert bert["pipeline_tag"] == ["Fill-Mask"] and "PyTorch" in bert["libraries"] and bert["languages"] == ["English"]
    datasets = {d["id"]: d for d in read_json(example_release / "datasets.json")}
    fineweb = datasets["HuggingFaceFW/fineweb"]
    assert fineweb["license"] == "odc-by" and fineweb["size"] == "n>1T" and fineweb["tasks"] == ["Text Generation"]
    assert not any(t.startswith(("license:", "task_categories:", "arxiv:")) for d in datasets.values() for t in d["tags"])
    bert_paper = next(p for p in read_json(example_release / "papers.json") if p["id"] == "1810.04805")
    assert bert_paper["authors"] == ["Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova"]


@pytest.mark.parametrize("records", [
    [],
    [{"id": "a/é", "n": None, "l": [], "m": ["x", "ü🙂", "tab\t\"q\"\n"], "i": 3, "f": 1.5, "b": True}],
    [{"id": "x"}, {}, {"nested": {"a": [1, {"b": None}]}}],
], ids=["empty", "flat", "nested"])
def test_the_writer_writes_what_json_dump_indent_4_writes(records):
    out = io.StringIO()
    writer = JsonArrayWriter(out)
    for record in records:
        writer.write(record)
    writer.close()
    assert out.getvalue() == constructor_bytes(records)


def test_an_export_is_in_the_constructors_serialisation(cli, example_store: Path, tmp_path: Path):
    must(cli("export", "--store", example_store, "--to", "huggingkg", "-o", tmp_path / "out"))
    for name in CONSTRUCTOR_FIELDS:
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert text == constructor_bytes(json.loads(text)), name
        assert all(list(r) == CONSTRUCTOR_FIELDS[name] for r in json.loads(text)), name
    for relation in VOCAB.relations:
        text = (tmp_path / "out" / f"{relation.name}.json").read_text(encoding="utf-8")
        assert text == constructor_bytes(json.loads(text)), relation.name


def _published_zip(release: Path, target: Path) -> Path:
    """The release zipped as HuggingKG_V20241215174821.zip ships it: one folder inside, with extra_data/."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{release.name}/", "")
        for path in sorted(release.rglob("*")):
            name = f"{release.name}/{path.relative_to(release).as_posix()}"
            archive.writestr(name + "/", "") if path.is_dir() else archive.write(path, name)
    return target


def test_the_published_zip_loads_validates_and_exports_back_to_the_same_records(cli, example_release: Path, tmp_path: Path):
    release_zip = _published_zip(example_release, tmp_path / "HuggingKG_V20241215174821.zip")
    loaded = must(cli("load", release_zip, "--store", tmp_path / "store"))
    assert "extra_data/: 13 id list(s)" in loaded.stderr
    must(cli("validate", "--store", tmp_path / "store"))
    must(cli("export", "--store", tmp_path / "store", "--to", "huggingkg", "-o", tmp_path / "out"))
    for name in CONSTRUCTOR_FIELDS:
        key = "slug" if name == "collections.json" else "id"
        original = {r[key]: r for r in read_json(example_release / name)}
        exported = {r[key]: r for r in read_json(tmp_path / "out" / name)}
        assert exported.keys() == original.keys(), name
        for entity_id, record in original.items():
            for field, value in record.items():
                got = exported[entity_id][field]
                if isinstance(value, list):  # RDF keeps a set of labels (author order and repeats: issue #12's tests)
                    value, got = sorted(set(value)), sorted(set(got))
                assert got == value, f"{name}: {entity_id}: {field}"


def test_extra_data_is_recognised_and_unknown_files_in_it_noticed(example_release: Path, tmp_path: Path):
    release = tmp_path / RELEASE_NAME
    shutil.copytree(example_release, release)
    write_json(release / "extra_data" / "notes.json", [])
    report = Release(release)
    notices = Report()
    report.report_files(notices)
    assert any(n.startswith("extra_data/: 13 id list(s)") and "username_publish_model" in n for n in notices.notices)
    assert "ignored unknown file extra_data/notes.json" in notices.notices


@pytest.mark.parametrize(("file", "field", "value", "expected"), [
    ("datasets.json", "license", ["cc-by-sa-3.0"], "expected one value"),
    ("datasets.json", "size", ["1K<n<10K"], "expected one value"),
    ("models.json", "region", ["us"], "expected one value"),
    ("models.json", "license", ["mit"], "expected one value"),
    ("datasets.json", "tasks", "Text Generation", "expected a list of strings, got one value"),
    ("papers.json", "authors", "Jacob Devlin", "expected a list of strings, got one value"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None)
def test_a_field_of_the_wrong_shape_is_refused_naming_file_record_field_and_shape(
    file, field, value, expected, loaded_store: Path, release_copy: Path, tmp_path: Path,
):
    from conftest import store_triples

    records = read_json(release_copy / file)
    records[1][field] = value
    write_json(release_copy / file, records)
    before = store_triples(loaded_store)
    for result in (invoke("load", release_copy, "--store", loaded_store), invoke("convert", release_copy, "-o", tmp_path / "x.nt")):
        assert result.exit_code == 2, result.output
        assert f"{file}: record 1: field '{field}': wrong shape: {expected}" in result.stderr, result.stderr
    assert store_triples(loaded_store) == before


def test_dates_as_pythons_str_of_a_datetime_are_read_as_iso_8601(release_copy: Path, tmp_path: Path):
    """The constructor kept the client's datetime objects; a release dumped with default=str has '2022-03-02 23:29:04+00:00'."""
    records = read_json(release_copy / "models.json")
    records[0]["createdAt"] = "2022-03-02 23:29:04+00:00"
    write_json(release_copy / "models.json", records)
    result = must(invoke("convert", release_copy, "-o", tmp_path / "out.nt"))
    assert "space for the 'T'" in result.stderr
    assert '"2022-03-02T23:29:04Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>' in (tmp_path / "out.nt").read_text(encoding="utf-8")


@pytest.mark.parametrize("prop", ["licenseLabel", "sizeCategory"])
def test_the_shapes_allow_one_license_and_size_per_dataset(example_release: Path, tmp_path: Path, prop: str):
    from hkg_rdf.validate import validate_files

    must(invoke("convert", example_release, "-o", tmp_path / "example.nt"))
    dataset = "<https://w3id.org/huggingkg/resource/dataset/HuggingFaceFW/fineweb>"
    extra = f'{dataset} <https://w3id.org/huggingkg/ontology#{prop}> "second" .\n'
    (tmp_path / "two.nt").write_text((tmp_path / "example.nt").read_text(encoding="utf-8") + extra, encoding="utf-8")
    assert validate_files([tmp_path / "example.nt"]).conforms
    result = validate_files([tmp_path / "two.nt"])
    assert not result.conforms and f"hkg:{prop}" in result.summary()
