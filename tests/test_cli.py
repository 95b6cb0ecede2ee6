"""The command line: help, query in every format, dump, stats, and the example queries."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import EXAMPLES, HKG, invoke, model_iri, must, parse_rdf, read_json, run_module, write_json

from hkg_rdf.cli import main

QUERIES = sorted((EXAMPLES / "queries").glob("*.rq"))
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
SPARQL_RESULTS = "{http://www.w3.org/2005/sparql-results#}"
INSTRUCT = model_iri("meta-llama/Llama-3.1-8B-Instruct")
LIKES_QUERY = """
SELECT ?id ?likes WHERE {
  ?m hkg:fineTunedFrom <https://w3id.org/huggingkg/resource/model/meta-llama/Llama-3.1-8B> ; hkg:id ?id ; hkg:likeCount ?likes .
}"""


# ---------------------------------------------------------------- help


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help_with_an_example(command):
    result = must(invoke(command, "--help"))
    assert result.stdout.startswith(f"Usage: main {command}")
    assert re.search(r"Examples?: hkg-rdf " + command, result.stdout), result.stdout
    for path in re.findall(r"examples/\S+", result.stdout):  # example files named in help exist
        assert (EXAMPLES.parent / path).exists(), path


def test_the_module_runs_and_lists_every_command():
    result = run_module("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    for command in ("convert", "load", "validate", "query", "dump", "export", "stats"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.M), command
    assert run_module("--version").stdout.strip().endswith("0.1.0")


def test_unknown_command_is_a_usage_error():
    result = run_module("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr


# ---------------------------------------------------------------- query formats


def query(store: Path, sparql: str, fmt: str | None = None) -> str:
    args = ["query", "--store", store, sparql] + (["--format", fmt] if fmt else [])
    return must(invoke(*args)).stdout


def test_query_table(example_store):
    out = query(example_store, LIKES_QUERY + " ORDER BY ?id")
    lines = out.splitlines()
    assert re.fullmatch(r"id\s+\| likes", lines[0])
    rows = [tuple(cell.strip() for cell in line.split("|")) for line in lines[2:-1]]
    assert rows == [("meta-llama/Llama-3.1-8B-Instruct", "3198")]
    assert lines[-1] == "(1 row)"


def test_query_table_shortens_long_cells_and_keeps_one_line_per_row(example_store):
    out = query(example_store, f"SELECT ?d WHERE {{ <{model_iri('TheBloke/Llama-2-7B-Chat-GGUF')}> hkg:description ?d }}")
    lines = out.splitlines()
    assert len(lines) == 4 and lines[-1] == "(1 row)"
    assert lines[2].endswith("\u2026") and len(lines[2]) <= 80


def test_query_table_shows_control_characters_harmlessly(tmp_path, release_copy):
    models = read_json(release_copy / "models.json")
    models[0]["description"] = "red \x1b[31mALERT\x1b[0m\r\nline two\rthree\x00"
    write_json(release_copy / "models.json", models)
    store = tmp_path / "store"
    must(invoke("load", release_copy, "--store", store))
    out = query(store, f"SELECT ?d WHERE {{ <{model_iri(models[0]['id'])}> hkg:description ?d }}")
    assert out.splitlines()[2] == "red \u241b[31mALERT\u241b[0m\u23celine two\u23cethree\u2400"
    assert not any(ord(c) < 0x20 for c in out.replace("\n", ""))


def test_query_json(example_store):
    data = json.loads(query(example_store, LIKES_QUERY, "json"))
    assert data["head"]["vars"] == ["id", "likes"]
    (row,) = data["results"]["bindings"]
    assert row["id"] == {"type": "literal", "value": "meta-llama/Llama-3.1-8B-Instruct"}
    assert row["likes"] == {"type": "literal", "value": "3198", "datatype": XSD_INTEGER}


def test_query_csv(example_store):
    rows = list(csv.reader(io.StringIO(query(example_store, LIKES_QUERY + " ORDER BY ?id", "csv"))))
    assert rows == [["id", "likes"], ["meta-llama/Llama-3.1-8B-Instruct", "3198"]]


def test_query_csv_quotes_values_with_commas_and_newlines(example_store):
    sparql = f"SELECT ?d WHERE {{ <{model_iri('google-bert/bert-base-uncased')}> hkg:description ?d }}"
    (header, (value,)) = list(csv.reader(io.StringIO(query(example_store, sparql, "csv"), newline="")))
    assert header == ["d"]
    store = ox.Store.read_only(str(example_store / "current"))
    (expected,) = store.query(sparql, prefixes={"hkg": HKG})
    assert value.replace("\r\n", "\n") == expected["d"].value.replace("\r\n", "\n")
    assert "\t" in value and '"' in value and "\\" in value


def test_query_tsv(example_store):
    lines = query(example_store, LIKES_QUERY + " ORDER BY ?id", "tsv").splitlines()
    assert lines == ["?id\t?likes", '"meta-llama/Llama-3.1-8B-Instruct"\t3198']


def test_query_xml(example_store):
    root = ET.fromstring(query(example_store, LIKES_QUERY, "xml"))
    assert [v.get("name") for v in root.iter(f"{SPARQL_RESULTS}variable")] == ["id", "likes"]
    (result,) = root.iter(f"{SPARQL_RESULTS}result")
    bindings = {b.get("name"): b[0] for b in result}
    assert bindings["id"].text == "meta-llama/Llama-3.1-8B-Instruct"
    assert (bindings["likes"].text, bindings["likes"].get("datatype")) == ("3198", XSD_INTEGER)


def test_query_xml_keeps_carriage_returns(example_store):
    sparql = f"SELECT ?d WHERE {{ <{model_iri('TheBloke/Llama-2-7B-Chat-GGUF')}> hkg:description ?d }}"
    (binding,) = ET.fromstring(query(example_store, sparql, "xml")).iter(f"{SPARQL_RESULTS}literal")
    assert "\r\n" in binding.text


CONSTRUCT = f"""
CONSTRUCT {{ ?base hkg:hasDerivative ?m }}
WHERE {{ ?m hkg:fineTunedFrom ?base . FILTER(?m = <{INSTRUCT}>) }}"""
CONSTRUCTED = {(rdflib.URIRef(model_iri("meta-llama/Llama-3.1-8B")), rdflib.URIRef(HKG + "hasDerivative"), rdflib.URIRef(INSTRUCT))}


@pytest.mark.parametrize(("fmt", "rdflib_format"), [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), (None, "turtle")])
def test_query_construct(fmt, rdflib_format, example_store):
    out = query(example_store, CONSTRUCT, fmt)
    assert set(rdflib.Graph().parse(data=out, format=rdflib_format)) == CONSTRUCTED
    if fmt == "ttl":
        assert "@prefix hkg:" in out


def test_query_describe(example_store):
    out = query(example_store, f"DESCRIBE <{INSTRUCT}>", "nt")
    graph = rdflib.Graph().parse(data=out, format="nt")
    assert (rdflib.URIRef(INSTRUCT), rdflib.URIRef(HKG + "likeCount"), rdflib.Literal(3198)) in graph


@pytest.mark.parametrize(("sparql", "expected"), [
    (f"ASK {{ <{INSTRUCT}> hkg:fineTunedFrom ?base }}", True),
    (f"ASK {{ ?base hkg:fineTunedFrom <{INSTRUCT}> . ?base hkg:id 'meta-llama/Llama-3.1-8B' }}", False),
])
def test_query_ask(sparql, expected, example_store):
    assert query(example_store, sparql) == f"{str(expected).lower()}\n"
    assert json.loads(query(example_store, sparql, "json"))["boolean"] is expected
    root = ET.fromstring(query(example_store, sparql, "xml"))
    assert root.find(f"{SPARQL_RESULTS}boolean").text == str(expected).lower()


def test_a_select_in_a_graph_format_is_refused(example_store):
    result = invoke("query", "--store", example_store, "--format", "ttl", LIKES_QUERY)
    assert result.exit_code == 2
    assert "CONSTRUCT" in result.stderr


def test_query_from_a_file(example_store, tmp_path):
    path = tmp_path / "likes.rq"
    path.write_text("# a comment first\n" + LIKES_QUERY, encoding="utf-8")
    data = json.loads(must(invoke("query", "--store", example_store, "-f", path, "--format", "json")).stdout)
    assert [b["likes"]["value"] for b in data["results"]["bindings"]] == ["3198"]


def test_query_needs_exactly_one_of_text_and_file(example_store, tmp_path):
    path = tmp_path / "q.rq"
    path.write_text("ASK {}", encoding="utf-8")
    for args in ([], ["ASK {}", "-f", path]):
        result = invoke("query", "--store", example_store, *args)
        assert result.exit_code == 2
        assert "give a QUERY or -f FILE" in result.output


@pytest.mark.parametrize("from_file", [False, True], ids=["argument", "file"])
def test_query_syntax_error(from_file, example_store, tmp_path):
    bad = "SELECT ?s WHERE { ?s hkg:likeCount }"
    if from_file:
        path = tmp_path / "broken.rq"
        path.write_text(bad, encoding="utf-8")
        result = invoke("query", "--store", example_store, "-f", path)
    else:
        result = invoke("query", "--store", example_store, bad)
    assert result.exit_code == 2
    assert "SPARQL syntax error" in result.stderr
    assert re.search(r"1:\d+", result.stderr)  # where the problem is
    assert ("broken.rq" in result.stderr) == from_file
    assert result.stdout == ""


def test_query_with_an_undeclared_prefix(example_store):
    result = invoke("query", "--store", example_store, "SELECT * WHERE { ?s nope:p ?o }")
    assert result.exit_code == 2
    assert "Prefix not found" in result.stderr and "1:27" in result.stderr


# ---------------------------------------------------------------- dump


@pytest.mark.parametrize("name", ["dump.nt", "dump.ttl", "dump.nq", "dump.nt.gz", "dump.trig", "dump.jsonld", "dump.rdf"])
def test_dump_round_trips(name, example_store, tmp_path, read_store):
    output = tmp_path / name
    must(invoke("dump", "--store", example_store, "-o", output))
    stored = read_store(example_store)
    dumped = parse_rdf(output)
    assert len(dumped) == len(stored) > 800
    assert dumped == stored
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no partial file left
    if name.endswith(".gz"):
        assert gzip.decompress(output.read_bytes())


def test_dump_to_an_unknown_format_writes_nothing(example_store, tmp_path):
    result = invoke("dump", "--store", example_store, "-o", tmp_path / "dump.csv")
    assert result.exit_code == 2
    assert "unknown RDF format" in result.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- stats

SEGMENTS = {"tasks": "task", "models": "model", "datasets": "dataset", "spaces": "space", "papers": "paper",
            "collections": "collection", "users": "user", "orgs": "org"}


def test_stats_json_equals_the_release_counts(example_store, release_counts, read_store):
    stats = json.loads(must(invoke("stats", "--store", example_store, "--json")).stdout)
    assert stats["entities"] == {segment: release_counts[stem] for stem, segment in SEGMENTS.items()}
    relations = {stem: n for stem, n in release_counts.items() if stem not in SEGMENTS}
    assert len(relations) == 30
    assert stats["edges"] == relations
    assert stats["total_entities"] == sum(release_counts[stem] for stem in SEGMENTS) == 70
    assert stats["total_edges"] == sum(relations.values()) == 166
    assert stats["triples"] == len(read_store(example_store))


def test_stats_text_equals_the_release_counts(example_store, release_counts):
    out = must(invoke("stats", "--store", example_store)).stdout
    counts = dict(re.findall(r"^\s*(\w+)\s+([\d,]+)$", out, re.M))
    for stem, n in release_counts.items():
        assert counts[SEGMENTS.get(stem, stem)] == f"{n:,}", stem
    assert counts["entities"] == "70" and counts["edges"] == "166"


# ---------------------------------------------------------------- example queries


def test_there_are_5_to_8_example_queries_with_a_header():
    assert 5 <= len(QUERIES) <= 8
    for path in QUERIES:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), path.name
        assert f"-f examples/queries/{path.name}" in text, path.name
        used = set(re.findall(r"\b([a-z]+):[A-Za-z]", re.sub(r"<[^>]*>|#.*", "", text)))
        declared = set(re.findall(r"^PREFIX (\w+):", text, re.M))
        assert used <= declared, (path.name, used - declared)  # runnable by any SPARQL tool


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.name)
def test_example_query_runs_and_finds_something(path, example_store):
    data = json.loads(must(invoke("query", "--store", example_store, "-f", path, "--format", "json")).stdout)
    assert data["results"]["bindings"], path.name
    # the file alone, without the predeclared prefixes, is a valid query too
    store = ox.Store.read_only(str(example_store / "current"))
    assert list(store.query(path.read_text(encoding="utf-8")))


def rows(store: Path, name: str) -> list[tuple]:
    data = json.loads(must(invoke("query", "--store", store, "-f", EXAMPLES / "queries" / name, "--format", "json")).stdout)
    names = data["head"]["vars"]
    return [tuple(b[n]["value"] if n in b else None for n in names) for b in data["results"]["bindings"]]


def test_lineage_up(example_store):
    assert set(rows(example_store, "lineage-up.rq")) == {
        ("mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated-GGUF", "quantized", "mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated"),
        ("mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated", "finetune", "meta-llama/Llama-3.1-8B-Instruct"),
        ("meta-llama/Llama-3.1-8B-Instruct", "finetune", "meta-llama/Llama-3.1-8B"),
    }


def test_lineage_down(example_store):
    assert sorted(rows(example_store, "lineage-down.rq")) == sorted([
        ("meta-llama/Llama-3.1-8B-Instruct", "finetune", "meta-llama/Llama-3.1-8B"),
        ("zoe-angstrom/llama-3.1-8b-imdb-lora", "adapter", "meta-llama/Llama-3.1-8B"),
        ("mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated", "finetune", "meta-llama/Llama-3.1-8B-Instruct"),
        ("zoe-angstrom/Llama-3.1-8B-SLERP-merge", "merge", "meta-llama/Llama-3.1-8B-Instruct"),
        ("zoe-angstrom/Llama-3.1-8B-SLERP-merge", "merge", "mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated"),
        ("mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated-GGUF", "quantized", "mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated"),
    ])


def test_most_liked_models_of_a_task(example_store):
    found = rows(example_store, "most-liked-models-of-a-task.rq")
    assert found[0][:2] == ("meta-llama/Llama-2-7b-chat-hf", "4119")
    likes = [int(r[1]) for r in found if r[1] is not None]
    assert likes == sorted(likes, reverse=True)
    assert found[-1][0] == "zoe-angstrom/Llama-3.1-8B-SLERP-merge"  # likes unknown: last
    assert len(found) == 11


def test_training_data_of_descendants(example_store):
    assert sorted(r[0] for r in rows(example_store, "training-data-of-descendants.rq")) == ["stanfordnlp/imdb", "zoe-angstrom/imdb-fr"]


def test_publishers_of_derived_llama_models(example_store):
    assert sorted(rows(example_store, "publishers-of-derived-llama-models.rq")) == [
        ("TheBloke", "user", "1"), ("lewtun", "user", "1"), ("mlabonne", "user", "2"), ("zoe-angstrom", "user", "2"),
    ]


def test_most_cited_papers(example_store):
    found = rows(example_store, "most-cited-papers.rq")
    assert {r[0] for r in found[:3]} == {"1810.04805", "2106.09685", "2407.21783"}
    assert [r[2] for r in found] == ["2", "2", "2", "1", "1"]


def test_model_licenses(example_store):
    assert rows(example_store, "model-licenses.rq") == [
        ("http://spdx.org/licenses/Apache-2.0", "4"), ("http://spdx.org/licenses/CC-BY-NC-4.0", "1"), ("http://spdx.org/licenses/MIT", "1"),
    ]


# ---------------------------------------------------------------- unwritable outputs


def test_output_in_a_missing_directory_is_a_clear_error(example_release, example_store, tmp_path):
    for args in (("convert", example_release, "-o", tmp_path / "missing" / "x.nt"), ("dump", "--store", example_store, "-o", tmp_path / "missing" / "x.nt")):
        result = invoke(*args)
        assert result.exit_code == 2, result.output
        assert "missing/x.nt" in result.stderr and "cannot write" in result.stderr
        assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_cannot_be_created_is_a_clear_error(example_triples_txt, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    result = invoke("load", example_triples_txt, "--store", blocker / "store")
    assert result.exit_code == 2, result.output
    assert "a-file/store" in result.stderr and "cannot create or lock the store directory" in result.stderr
