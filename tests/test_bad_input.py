"""Bad input: every case exits 2 with a message naming file, record (or line) and field, leaves a
store loaded beforehand exactly as it was, and makes ``convert`` write no output file.

Each test damages a private copy of the example release (or writes a small bad file), loads it
into a store that already holds the good example, then converts it.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from conftest import RELEASE_NAME, invoke, read_json, store_triples, write_json, zip_release

VERSION_DIR = re.compile(r"v\d+")


def assert_rejected(
    store: Path, source: Path, *fragments: str, tmp_path: Path, options: tuple = (), convert: bool = True, load_options: tuple = (),
) -> None:
    """``load`` and ``convert`` of ``source`` exit 2 naming every fragment; nothing is changed."""
    before = store_triples(store)
    assert len(before) > 800
    versions = sorted(p.name for p in store.iterdir() if VERSION_DIR.fullmatch(p.name))

    result = invoke("load", source, "--store", store, *options, *load_options)
    _assert_input_error(result, fragments)
    assert store_triples(store) == before
    assert sorted(p.name for p in store.iterdir() if VERSION_DIR.fullmatch(p.name)) == versions  # no leftover version

    if convert:
        out_dir = tmp_path / "converted"
        out_dir.mkdir(exist_ok=True)
        for name in ("out.nt", "out.ttl.gz"):
            result = invoke("convert", source, "-o", out_dir / name, *options)
            _assert_input_error(result, fragments)
        assert list(out_dir.iterdir()) == []  # no output, no partial file


def _assert_input_error(result, fragments) -> None:
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.output}\n{result.exception!r}"
    message = result.stderr
    assert message.startswith("error: "), message
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def _edit_json(path: Path, edit) -> None:
    records = read_json(path)
    edit(records)
    write_json(path, records)


# ---------------------------------------------------------------- JSON structure


def test_malformed_json_truncated_mid_record(loaded_store, release_copy, tmp_path):
    path = release_copy / "models.json"
    text = path.read_text(encoding="utf-8")
    cut = text.index('"id": "meta-llama/Llama-2-7b-hf"')  # inside record 8
    path.write_text(text[: cut + 20], encoding="utf-8")
    assert_rejected(loaded_store, release_copy, "models.json", "record 8", "malformed JSON", tmp_path=tmp_path)


def test_release_file_that_is_not_a_json_array(loaded_store, release_copy, tmp_path):
    """/api/tasks answers an object keyed by task id: it must not pass as an empty tasks.json."""
    tasks = read_json(release_copy / "tasks.json")
    write_json(release_copy / "tasks.json", {t["id"]: t for t in tasks})
    assert_rejected(loaded_store, release_copy, "tasks.json", "expected a JSON array", tmp_path=tmp_path)


def test_empty_release_file(loaded_store, release_copy, tmp_path):
    (release_copy / "user_follow_user.json").write_bytes(b"")
    assert_rejected(loaded_store, release_copy, "user_follow_user.json", "empty file", tmp_path=tmp_path)


# ---------------------------------------------------------------- entity records


def test_record_without_its_key(loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "models.json", lambda records: records[4].pop("id"))
    assert_rejected(loaded_store, release_copy, "models.json", "record 4", "field 'id'", tmp_path=tmp_path)


def test_collection_without_its_slug(loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "collections.json", lambda records: records[2].update(slug=""))
    assert_rejected(loaded_store, release_copy, "collections.json", "record 2", "field 'slug'", tmp_path=tmp_path)


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [("likes", "12", "'12'"), ("likes", True, "True"), ("downloads", -1, "-1"), ("likes", 1.5, "1.5")],
    ids=["likes-string", "likes-bool", "downloads-negative", "likes-float"],
)
def test_wrong_type(field, value, shown, loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "models.json", lambda records: records[5].update({field: value}))
    assert_rejected(
        loaded_store, release_copy, "models.json", "record 5", f"field '{field}'", "non-negative integer", shown, tmp_path=tmp_path,
    )


@pytest.mark.parametrize(
    "value", ["2024-13-45T00:00:00Z", "yesterday", "2023-02-29T00:00:00Z", "2024-04-31T10:00:00.000Z", "2024-12-15"],
)
def test_bad_date(value, loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "datasets.json", lambda records: records[3].update(createdAt=value))
    assert_rejected(loaded_store, release_copy, "datasets.json", "record 3", "field 'createdAt'", repr(value), tmp_path=tmp_path)


def test_leap_day_is_a_good_date(tmp_path, release_copy):
    _edit_json(release_copy / "datasets.json", lambda records: records[3].update(createdAt="2024-02-29T23:59:59.000Z"))
    result = invoke("convert", release_copy, "-o", tmp_path / "out.nt")
    assert result.exit_code == 0, result.output
    assert '"2024-02-29T23:59:59Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>' in (tmp_path / "out.nt").read_text(encoding="utf-8")


def test_list_field_that_is_a_string(loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "models.json", lambda records: records[2].update(libraries="transformers"))
    assert_rejected(loaded_store, release_copy, "models.json", "record 2", "field 'libraries'", "list of strings", tmp_path=tmp_path)


def test_list_with_a_non_string_item(loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "papers.json", lambda records: records[1].update(authors=["Ada", None]))
    assert_rejected(loaded_store, release_copy, "papers.json", "record 1", "field 'authors'", tmp_path=tmp_path)


def test_record_that_is_not_an_object(loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "users.json", lambda records: records.insert(3, "lewtun"))
    assert_rejected(loaded_store, release_copy, "users.json", "record 3", "expected a JSON object", tmp_path=tmp_path)


@pytest.mark.parametrize("raw", [b"caf\xe9", b"\xed\xa0\x80", b"\xc0\xaf"], ids=["latin-1", "utf8-surrogate", "overlong"])
def test_release_file_that_is_not_utf8(raw, loaded_store, release_copy, tmp_path):
    path = release_copy / "spaces.json"
    records = read_json(path)
    records[4]["name"] = "PLACEHOLDER"
    path.write_bytes(json.dumps(records).encode("utf-8").replace(b"PLACEHOLDER", raw))
    assert_rejected(loaded_store, release_copy, "spaces.json", "record 4", tmp_path=tmp_path)


# ---------------------------------------------------------------- relation records


def test_relation_file_with_wrong_keys(loaded_store, release_copy, tmp_path):
    def edit(records):
        records[1] = {"base_model": records[1]["base_model_id"], "model_id": records[1]["model_id"]}

    _edit_json(release_copy / "model_finetune_model.json", edit)
    assert_rejected(
        loaded_store, release_copy, "model_finetune_model.json", "record 1", "field 'base_model'", "base_model_id", tmp_path=tmp_path,
    )


def test_relation_record_with_a_third_key(loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "user_like_model.json", lambda records: records[0].update(weight=1))
    assert_rejected(loaded_store, release_copy, "user_like_model.json", "record 0", "field 'weight'", tmp_path=tmp_path)


def test_relation_record_that_is_not_an_object(loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "space_use_model.json", lambda records: records.insert(2, ["JeffreyXiang/TRELLIS", "a/b"]))
    assert_rejected(loaded_store, release_copy, "space_use_model.json", "record 2", "expected a JSON object", tmp_path=tmp_path)


def test_relation_record_with_a_non_string_id(loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "user_follow_user.json", lambda records: records[6].update(followee_id=42))
    assert_rejected(loaded_store, release_copy, "user_follow_user.json", "record 6", "field 'followee_id'", tmp_path=tmp_path)


# ---------------------------------------------------------------- triples.txt


def _triples_txt(tmp_path: Path, example_triples_txt: Path, extra: bytes, at: int = 100) -> Path:
    lines = example_triples_txt.read_bytes().splitlines(keepends=True)
    path = tmp_path / "triples.txt"
    path.write_bytes(b"".join(lines[:at]) + extra + b"".join(lines[at:]))
    return path


def test_unknown_relation_in_triples_txt(loaded_store, example_triples_txt, tmp_path):
    source = _triples_txt(tmp_path, example_triples_txt, b"a/b\tmodel_distill_model\tc/d\n")
    assert_rejected(loaded_store, source, "triples.txt", "line 101", "field 'relation'", "model_distill_model", tmp_path=tmp_path)


def test_triples_txt_line_with_2_columns(loaded_store, example_triples_txt, tmp_path):
    source = _triples_txt(tmp_path, example_triples_txt, b"a/b\tuser_like_model\n", at=7)
    assert_rejected(loaded_store, source, "triples.txt", "line 8", "2 column", tmp_path=tmp_path)


def test_triples_txt_line_with_an_empty_id(loaded_store, example_triples_txt, tmp_path):
    source = _triples_txt(tmp_path, example_triples_txt, b"lewtun\tuser_like_model\t\n", at=20)
    assert_rejected(loaded_store, source, "triples.txt", "line 21", "field 'tail'", tmp_path=tmp_path)


def test_non_utf8_triples_txt(loaded_store, example_triples_txt, tmp_path):
    source = _triples_txt(tmp_path, example_triples_txt, "caf\u00e9/x\tuser_follow_user\tlewtun\n".encode("latin-1"), at=150)
    assert_rejected(loaded_store, source, "triples.txt", "line 151", "not UTF-8", tmp_path=tmp_path)


# ---------------------------------------------------------------- archives, options, RDF files


def test_truncated_zip(loaded_store, example_release, tmp_path):
    whole = zip_release(example_release, tmp_path / "whole.zip")
    data = whole.read_bytes()
    half = tmp_path / f"{RELEASE_NAME}.zip"
    half.write_bytes(data[: len(data) // 2])
    assert_rejected(loaded_store, half, f"{RELEASE_NAME}.zip", "zip", tmp_path=tmp_path)


def test_corrupt_member_of_a_zip(loaded_store, example_release, tmp_path):
    archive = zip_release(example_release, tmp_path / f"{RELEASE_NAME}.zip")
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo(f"{RELEASE_NAME}/models.json")
    data = bytearray(archive.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 200, start + 260):
        data[i] ^= 0x55
    archive.write_bytes(bytes(data))
    assert_rejected(loaded_store, archive, f"{RELEASE_NAME}.zip!{RELEASE_NAME}/models.json", "corrupt archive", tmp_path=tmp_path)


@pytest.mark.parametrize(
    "base", ["not-an-iri", "http://example.org/no-trailing-slash", "http://exa mple.org/", "http://example.org/%zz/", "http://[::1/"],
)
def test_bad_base_iri(base, loaded_store, example_release, tmp_path):
    assert_rejected(loaded_store, example_release, "--base-iri", repr(base), tmp_path=tmp_path, options=("--base-iri", base))


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("bad.ttl", b"<http://example.org/a> <http://example.org/p> \"unterminated .\n", "invalid Turtle"),
        ("bad.nt", b"<http://example.org/a> <http://example.org/p> <http://example.org/b> .\nnot a triple\n", "invalid N-Triples"),
        ("bad.jsonld", b'{"@id": "http://example.org/a", ', "invalid JSON-LD"),
        ("bad.rdf", b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description></rdf:RDF>", "invalid RDF/XML"),
        ("bad.xyz", b"whatever", "unknown RDF format"),
    ],
)
def test_unparsable_rdf_file_passed_to_load(name, content, problem, loaded_store, tmp_path):
    source = tmp_path / name
    source.write_bytes(content)
    assert_rejected(loaded_store, source, name, problem, tmp_path=tmp_path, convert=False)


def test_a_bad_source_among_good_ones_loads_none_of_them(loaded_store, example_triples_txt, tmp_path):
    good = tmp_path / "good.nt"
    good.write_text("<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n", encoding="utf-8")
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix broken", encoding="utf-8")
    before = store_triples(loaded_store)
    result = invoke("load", good, example_triples_txt, bad, "--store", loaded_store)
    _assert_input_error(result, ["bad.ttl"])
    assert store_triples(loaded_store) == before


def test_replace_with_bad_input_keeps_the_old_content(loaded_store, release_copy, tmp_path):
    _edit_json(release_copy / "orgs.json", lambda records: records[0].update(fullname=["Meta"]))
    assert_rejected(loaded_store, release_copy, "orgs.json", "record 0", "field 'fullname'", tmp_path=tmp_path, load_options=("--replace",))


def test_bad_input_into_a_new_store_creates_no_version(example_release, tmp_path, release_copy):
    _edit_json(release_copy / "models.json", lambda records: records[0].update(createdAt="yesterday"))
    store = tmp_path / "new-store"
    result = invoke("load", release_copy, "--store", store)
    _assert_input_error(result, ["models.json", "record 0", "field 'createdAt'"])
    assert not any(VERSION_DIR.fullmatch(p.name) for p in store.iterdir())
    result = invoke("stats", "--store", store)
    _assert_input_error(result, ["not an hkg-rdf store"])
