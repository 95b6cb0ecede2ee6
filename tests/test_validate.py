"""SHACL validation: the shipped example conforms, each kind of violation is found and counted
by shape and constraint component, and pyshacl agrees with every verdict and result."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from hkg_rdf.convert import convert
from hkg_rdf.errors import InputError
from hkg_rdf.iris import IriMinter
from hkg_rdf.load import load
from hkg_rdf.store import open_read_only
from hkg_rdf.validate import ValidationResult, validate_files, validate_store
from hkg_rdf.vocab import SHAPES_FILE, data_path

SH = Namespace("http://www.w3.org/ns/shacl#")
HKGSH = "https://w3id.org/huggingkg/shapes#"
SHAPES = data_path(*SHAPES_FILE)
PREFIXES = """\
@prefix hkg: <https://w3id.org/huggingkg/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@base <https://w3id.org/huggingkg/resource/> .
"""
MODEL = '<model/o/m> a hkg:Model ; hkg:id "o/m" '


# ---------------------------------------------------------------- helpers


def tallies(result: ValidationResult) -> dict[tuple[str, str], int]:
    """{(shape label without 'hkgsh:', component without 'ConstraintComponent'): count}."""
    return {
        (t.label.removeprefix("hkgsh:"), str(component).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")): t.count
        for (_, component), t in result.tallies.items()
    }


def our_results(result: ValidationResult) -> Counter:
    return Counter((r.focus, r.path, r.value, r.component) for t in result.tallies.values() for r in t.results)


def pyshacl_results(data: Path, shapes: Path = SHAPES) -> tuple[bool, Counter]:
    """pyshacl's verdict and (focus, path, value, component) results on the same data and shapes."""
    graph = Graph().parse(str(data))
    conforms, report, _ = pyshacl.validate(graph, shacl_graph=str(shapes))
    results = Counter(
        (report.value(r, SH.focusNode), report.value(r, SH.resultPath), report.value(r, SH.value), report.value(r, SH.sourceConstraintComponent))
        for r in report.objects(None, SH.result)
    )
    return conforms, results


def write(tmp_path: Path, turtle: str, name: str = "data.ttl") -> Path:
    path = tmp_path / name
    path.write_text(PREFIXES + turtle, encoding="utf-8")
    return path


def assert_agrees_with_pyshacl(data: Path, result: ValidationResult, shapes: Path = SHAPES) -> None:
    conforms, theirs = pyshacl_results(data, shapes)
    assert result.conforms == conforms
    assert our_results(result) == theirs


@pytest.fixture(scope="module")
def example_nt(tmp_path_factory: pytest.TempPathFactory, example_release: Path) -> Path:
    output = tmp_path_factory.mktemp("example") / "example.nt"
    convert(example_release, output, IriMinter())
    return output


# ---------------------------------------------------------------- the example conforms


def test_example_release_in_a_store_conforms(tmp_path: Path, example_nt: Path) -> None:
    load(tmp_path / "store", [example_nt], IriMinter())
    store = open_read_only(tmp_path / "store")
    assert len(store) > 800
    result = validate_store(store)
    assert result.conforms, result.summary(5)
    assert result.total == 0 and result.tallies == {}
    assert pyshacl_results(example_nt)[0] is True


def test_example_triples_txt_conforms(tmp_path: Path, example_triples_txt: Path) -> None:
    """Nodes known only from edges get their type and key, which is all the shapes require."""
    output = tmp_path / "edges.nt"
    convert(example_triples_txt, output, IriMinter())
    assert validate_files([output]).conforms
    assert pyshacl_results(output)[0] is True


# ---------------------------------------------------------------- one graph per kind of violation

VIOLATIONS = {
    "missing key": (
        '<model/o/m> a hkg:Model ; hkg:name "m" .',
        {("Model-id", "MinCount"): 1},
    ),
    "two values where at most one": (
        MODEL + ', "o/n" .',
        {("Model-id", "MaxCount"): 1},
    ),
    "two creation times": (
        MODEL + '; hkg:createdAt "2024-01-01T00:00:00Z"^^xsd:dateTime, "2024-01-02T00:00:00Z"^^xsd:dateTime .',
        {("Model-createdAt", "MaxCount"): 1},
    ),
    "wrong datatype: a number as a name": (
        MODEL + "; hkg:name 5 .",
        {("Model-name", "Datatype"): 1},
    ),
    "wrong datatype: a plain string as a time": (
        MODEL + '; hkg:createdAt "2024-01-01T00:00:00Z" .',
        {("Model-createdAt", "Datatype"): 1},
    ),
    "ill-typed date-time": (
        MODEL + '; hkg:lastModified "2024-13-45"^^xsd:dateTime .',
        {("Model-lastModified", "Datatype"): 1},
    ),
    # an integer that is not one is not >= 0 either: SHACL's comparison fails, so both report
    "ill-typed integer": (
        MODEL + '; hkg:downloadCount "abc"^^xsd:integer .',
        {("Model-downloadCount", "Datatype"): 1, ("Model-downloadCount", "MinInclusive"): 1},
    ),
    "negative count": (
        '<paper/1810.04805> a hkg:Paper ; hkg:id "1810.04805" ; hkg:upvoteCount -3 .',
        {("Paper-upvoteCount", "MinInclusive"): 1},
    ),
    "repo id without owner": (
        '<model/bert> a hkg:Model ; hkg:id "bert-base-uncased" .',
        {("Model-id", "Pattern"): 1},
    ),
    "arXiv id of the wrong form": (
        '<paper/x> a hkg:Paper ; hkg:id "1810.048" .',
        {("Paper-id", "Pattern"): 1},
    ),
    "collection slug without its hex id": (
        '<collection/o/c> a hkg:Collection ; hkg:slug "google/embedding-models" .',
        {("Collection-slug", "Pattern"): 1},
    ),
    # each class its own page pattern on one path: a Space's page passes other shapes' patterns
    "a dataset's page under /spaces": (
        '<dataset/o/d> a hkg:Dataset ; hkg:id "o/d" ; <https://schema.org/url> <https://huggingface.co/spaces/o/d> .',
        {("Dataset-url", "Pattern"): 1},
    ),
    "task id with spaces": (
        '<task/t> a hkg:Task ; hkg:id "Text Generation" .',
        {("Task-id", "Pattern"): 1},
    ),
    "relation object of the wrong class": (
        MODEL + '; hkg:fineTunedFrom <dataset/o/d> . <dataset/o/d> a hkg:Dataset ; hkg:id "o/d" .',
        {("Model-fineTunedFrom", "Class"): 1},
    ),
    "relation object outside a union of classes": (
        '<org/o> a hkg:Organization ; hkg:id "o" ; hkg:publishes <paper/2106.09685> . '
        '<paper/2106.09685> a hkg:Paper ; hkg:id "2106.09685" .',
        {("Organization-publishes", "Or"): 1},
    ),
    "unknown property on a closed shape": (
        MODEL + '; <http://example.org/stars> 5 .',
        {("ModelShape", "Closed"): 1},
    ),
    "another class's property on a closed shape": (
        MODEL + '; hkg:slug "o/m" .',
        {("ModelShape", "Closed"): 1},
    ),
    "literal where an IRI is required": (
        MODEL + '; hkg:license "http://spdx.org/licenses/MIT" .',
        {("Model-license", "NodeKind"): 1},
    ),
    "license IRI outside SPDX and our license concepts": (
        MODEL + "; hkg:license <https://example.org/my-license> .",
        {("Model-license", "Pattern"): 1},
    ),
    # a literal object is neither an IRI nor an instance of a class
    "literal as a relation object": (
        MODEL + '; hkg:fineTunedFrom "o/base" .',
        {("Model-fineTunedFrom", "NodeKind"): 1, ("Model-fineTunedFrom", "Class"): 1},
    ),
    "untyped subject of an hkg property": (
        '<model/o/derived> hkg:fineTunedFrom <model/o/m> . ' + MODEL + ".",
        {("TypedSubjectShape", "Or"): 1},
    ),
}


@pytest.mark.parametrize("case", list(VIOLATIONS))
def test_each_violation_is_found_counted_and_agrees_with_pyshacl(tmp_path: Path, case: str) -> None:
    turtle, expected = VIOLATIONS[case]
    data = write(tmp_path, turtle)
    result = validate_files([data])
    assert not result.conforms
    assert tallies(result) == expected
    assert result.total == sum(expected.values())
    assert_agrees_with_pyshacl(data, result)


@pytest.mark.parametrize("case", ["ill-typed date-time", "relation object of the wrong class", "negative count"])
def test_big_files_go_through_an_on_disk_store_with_the_same_results(tmp_path: Path, case: str) -> None:
    """Files over the in-memory limit are validated in an on-disk temporary store, alike."""
    data = write(tmp_path, VIOLATIONS[case][0])
    in_memory, on_disk = validate_files([data]), validate_files([data], in_memory_below=0)
    assert tallies(on_disk) == tallies(in_memory) == VIOLATIONS[case][1]
    assert our_results(on_disk) == our_results(in_memory)


def test_every_result_names_focus_path_value_shape_and_message(tmp_path: Path) -> None:
    data = write(tmp_path, '<paper/p> a hkg:Paper ; hkg:id "2106.09685" ; hkg:upvoteCount -3 .')
    [result] = [r for t in validate_files([data]).tallies.values() for r in t.results]
    assert result.focus == URIRef("https://w3id.org/huggingkg/resource/paper/p")
    assert result.path == URIRef("https://w3id.org/huggingkg/ontology#upvoteCount")
    assert result.value == Literal(-3)
    assert result.shape == URIRef(HKGSH + "Paper-upvoteCount")
    assert result.component == SH.MinInclusiveConstraintComponent
    assert result.severity == SH.Violation
    assert "non-negative" in result.message


# ---------------------------------------------------------------- dangling edges kept by convert


def dangling_release(release: Path, edge: dict) -> Path:
    """The example release with one more fine-tune edge (base -> derived) in model_finetune_model.json."""
    path = release / "model_finetune_model.json"
    path.write_text(json.dumps([*json.loads(path.read_text(encoding="utf-8")), edge]), encoding="utf-8")
    return release


@pytest.mark.parametrize(
    ("edge", "expected"),
    [
        # the base is missing: derived hkg:fineTunedFrom <untyped base>
        ({"base_model_id": "nobody/missing-base", "model_id": "meta-llama/Llama-3.1-8B-Instruct"}, {("Model-fineTunedFrom", "Class"): 1}),
        # the derived model is missing: <untyped derived> hkg:fineTunedFrom base
        ({"base_model_id": "meta-llama/Llama-3.1-8B", "model_id": "nobody/missing-derived"}, {("TypedSubjectShape", "Or"): 1}),
    ],
)
def test_a_kept_dangling_edge_is_a_violation(tmp_path: Path, release_copy: Path, edge: dict, expected: dict) -> None:
    output = tmp_path / "dangling.nt"
    report = convert(dangling_release(release_copy, edge), output, IriMinter(), keep_dangling=True)
    assert sum(report.kept.values()) == 1
    result = validate_files([output])
    assert tallies(result) == expected
    [dangling] = [r for t in result.tallies.values() for r in t.results]
    missing = edge["base_model_id"] if "missing-base" in edge["base_model_id"] else edge["model_id"]
    assert dangling.value == URIRef(IriMinter().base + "model/" + missing)
    assert_agrees_with_pyshacl(output, result)


def test_a_skipped_dangling_edge_leaves_a_conforming_graph(tmp_path: Path, release_copy: Path) -> None:
    output = tmp_path / "skipped.nt"
    convert(dangling_release(release_copy, {"base_model_id": "nobody/missing", "model_id": "meta-llama/Llama-3.1-8B"}), output, IriMinter())
    assert validate_files([output]).conforms


# ---------------------------------------------------------------- the SHACL the compiler handles, against pyshacl

EXTRA_SHAPES = """
ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:colour ; sh:in ( "red" "green" ) ; sh:minCount 2 ] ;
    sh:property [ sh:path ex:code ; sh:minLength 2 ; sh:maxLength 3 ; sh:pattern "^ab" ; sh:flags "i" ] ;
    sh:property [ sh:path ex:size ; sh:datatype xsd:decimal ; sh:minExclusive 0 ; sh:maxInclusive 10 ; sh:maxExclusive 9.5 ] ;
    sh:property [ sh:path ex:tag ; sh:hasValue "core" ] ;
    sh:property [ sh:path ex:link ; sh:nodeKind sh:BlankNodeOrIRI ; sh:class ex:Thing ] ;
    sh:property [ sh:path ex:alt ; sh:xone ( [ sh:datatype xsd:string ] [ sh:minLength 3 ] ) ] ;
    sh:property [ sh:path ex:safe ; sh:not [ sh:in ( "bad" ) ] ; sh:and ( [ sh:nodeKind sh:Literal ] [ sh:maxLength 5 ] ) ] ;
    sh:property [ sh:path ex:either ; sh:or ( [ sh:datatype xsd:integer ] [ sh:datatype xsd:string ; sh:minLength 2 ] ) ] ;
    sh:property [ sh:path ex:off ; sh:datatype xsd:integer ; sh:deactivated true ] ;
    sh:property [ sh:path ex:note ; sh:maxCount 1 ; sh:severity sh:Warning ; sh:message "one note"@en ] .
ex:Special a rdfs:Class, sh:NodeShape ; sh:property [ sh:path ex:code ; sh:minCount 1 ] .
ex:Chosen a sh:NodeShape ; sh:targetNode ex:a, ex:missing ; sh:hasValue ex:a ; sh:nodeKind sh:IRI .
ex:Pointed a sh:NodeShape ; sh:targetObjectsOf ex:link ; sh:class ex:Thing .
ex:Off a sh:NodeShape ; sh:targetClass ex:Thing ; sh:deactivated true ; sh:closed true .
"""
EXTRA_DATA = """
ex:Special rdfs:subClassOf ex:Thing .
ex:a a ex:Thing ; ex:colour "red", "blue" ; ex:code "ABc" ; ex:size 5.0 ; ex:tag "core" ; ex:link ex:b ;
    ex:alt "ok" ; ex:safe "fine" ; ex:either 7 ; ex:off "not checked" ; ex:note "n1", "n2" .
ex:b a ex:Special ; ex:colour "red", "green" ; ex:code "x" ; ex:size 9.7, "2"^^xsd:integer, -1.5 ; ex:tag "extra" ;
    ex:link ex:c, _:anon, "lit" ; ex:alt 12, "x" ; ex:safe "bad", "toolongvalue" ; ex:either "y", 3.5 .
ex:c ex:code "abcd" .
ex:d a ex:Special ; ex:colour "red", "green" ; ex:tag "core" .
ex:e a ex:Thing ; ex:colour "red" ; ex:tag "core" .
_:anon a ex:Thing ; ex:colour "red", "green" ; ex:tag "core" .
"""


def test_the_compiled_shacl_subset_agrees_with_pyshacl(tmp_path: Path) -> None:
    shapes = write(tmp_path, EXTRA_SHAPES, "shapes.ttl")
    data = write(tmp_path, EXTRA_DATA)
    result = validate_files([data], shapes)
    thing = "ex:ThingShape [sh:path ex:{}]".format
    assert tallies(result) == {
        (thing("colour"), "In"): 1,  # a: "blue"
        (thing("colour"), "MinCount"): 1,  # e: one colour
        (thing("code"), "MinLength"): 1,  # b: "x" (c is no Thing)
        (thing("code"), "Pattern"): 1,  # b: "x"; a's "ABc" matches ^ab with flag i
        (thing("size"), "Datatype"): 1,  # b: 2 is an integer
        (thing("size"), "MinExclusive"): 1,  # b: -1.5
        (thing("size"), "MaxExclusive"): 1,  # b: 9.7 (<= 10 though)
        (thing("tag"), "HasValue"): 1,  # b
        (thing("link"), "NodeKind"): 1,  # b: "lit"
        (thing("link"), "Class"): 2,  # b: ex:c untyped, "lit"
        (thing("alt"), "Xone"): 1,  # b: 12 is neither; "x" is a string of length 1: exactly one
        (thing("safe"), "Not"): 1,  # b: "bad"
        (thing("safe"), "And"): 1,  # b: "toolongvalue"
        (thing("either"), "Or"): 2,  # b: "y" too short, 3.5 neither
        (thing("note"), "MaxCount"): 1,  # a, as a warning
        ("ex:Special [sh:path ex:code]", "MinCount"): 1,  # d, by the implicit class target
        ("ex:Chosen", "HasValue"): 1,  # ex:missing is not ex:a
        ("ex:Pointed", "Class"): 2,  # ex:c and "lit" are objects of ex:link
    }
    assert_agrees_with_pyshacl(data, result, shapes)
    [note] = [t for t in result.tallies.values() if t.component == SH.MaxCountConstraintComponent]
    assert note.severity == SH.Warning and note.results[0].message == "one note"
    assert not any(r.value == Literal("not checked") for t in result.tallies.values() for r in t.results)


def test_summary_counts_warnings_apart(tmp_path: Path) -> None:
    shapes = write(tmp_path, EXTRA_SHAPES, "shapes.ttl")
    summary = validate_files([write(tmp_path, EXTRA_DATA)], shapes).summary(1)
    assert summary.startswith("Conforms: no (")
    assert "1 Warning" in summary and "MaxCountConstraintComponent  [Warning]" in summary


# ---------------------------------------------------------------- fallback, graphs, formats, caps


def test_nested_shapes_and_language_constraints_compile_and_agree_with_pyshacl(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    shapes = write(tmp_path, """
        ex:NamedShape a sh:NodeShape ; sh:targetClass ex:Thing ; sh:node [ sh:property [ sh:path ex:name ; sh:minCount 1 ] ] ;
            sh:property [ sh:path ex:name ; sh:languageIn ( "en" ) ] .
    """, "shapes.ttl")
    data = write(tmp_path, 'ex:a a ex:Thing ; ex:name "x"@fr . ex:b a ex:Thing .')
    result = validate_files([data], shapes)
    assert "pyshacl" not in capsys.readouterr().err
    assert {t.component for t in result.tallies.values()} == {SH.NodeConstraintComponent, SH.LanguageInConstraintComponent}
    assert_agrees_with_pyshacl(data, result, shapes)


SPARQL_SHAPES = """
ex:NoSelfLinks a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:sparql [ sh:select "SELECT $this ?value WHERE { $this <http://example.org/link> ?value . FILTER (?value = $this) }" ] .
"""


def test_shacl_sparql_falls_back_to_pyshacl_on_the_data_as_written(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Beyond SHACL Core: pyshacl, with a notice, reading the file itself ("0300" stays "0300")."""
    shapes = write(tmp_path, SPARQL_SHAPES + 'ex:Short a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:n ; sh:maxInclusive 10 ] .', "shapes.ttl")
    data = write(tmp_path, '<a> a ex:Thing ; ex:link <a> ; ex:n "0300"^^xsd:short .')
    result = validate_files([data], shapes)
    err = capsys.readouterr().err
    assert "sh:sparql" in err and "pyshacl" in err
    assert {(t.component, t.count) for t in result.tallies.values()} == {(SH.SPARQLConstraintComponent, 1), (SH.MaxInclusiveConstraintComponent, 1)}
    values = {r.value for t in result.tallies.values() for r in t.results}
    assert Literal("0300", datatype=URIRef("http://www.w3.org/2001/XMLSchema#short"), normalize=False) in values


def test_integer_derived_datatypes_are_checked_as_written_in_files(tmp_path: Path) -> None:
    """Oxigraph stores "5"^^xsd:nonNegativeInteger as "5"^^xsd:integer; the file's own datatypes count."""
    shapes = write(tmp_path, "ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:n ; sh:datatype xsd:nonNegativeInteger ] .", "shapes.ttl")
    data = write(tmp_path, 'ex:a a ex:Thing ; ex:n "5"^^xsd:nonNegativeInteger, 7, "-1"^^xsd:nonNegativeInteger, "x" .')
    result = validate_files([data], shapes)
    assert sorted(r.value.n3() for t in result.tallies.values() for r in t.results) == [
        '"-1"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>', '"7"^^<http://www.w3.org/2001/XMLSchema#integer>', '"x"',
    ]
    assert_agrees_with_pyshacl(data, result, shapes)


def test_a_store_checks_integer_derived_datatypes_by_range_with_a_notice(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    shapes = write(tmp_path, "ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:n ; sh:datatype xsd:nonNegativeInteger ] .", "shapes.ttl")
    load(tmp_path / "store", [write(tmp_path, 'ex:a a ex:Thing ; ex:n "5"^^xsd:nonNegativeInteger, 7, -1, "x" .')], IriMinter())
    result = validate_store(open_read_only(tmp_path / "store"), shapes)
    assert "xsd:nonNegativeInteger" in capsys.readouterr().err
    assert sorted(str(r.value) for t in result.tallies.values() for r in t.results) == ["-1", "x"]


def test_blank_nodes_and_iris_fail_pattern_length_and_datatype_without_guards(tmp_path: Path) -> None:
    """On Oxigraph the compiled checks leave out `isBlank`/`isLiteral` guards (SPARQL makes STR of a
    blank node and DATATYPE of an IRI errors, which count as failures): the verdicts stay SHACL's."""
    shapes = write(tmp_path, """ex:S a sh:NodeShape ; sh:targetClass ex:Thing ;
        sh:property [ sh:path ex:p ; sh:pattern ".*" ] , [ sh:path ex:p ; sh:minLength 0 ] ,
        [ sh:path ex:p ; sh:datatype xsd:string ] , [ sh:path ex:t ; sh:datatype xsd:dateTime ] .""", "shapes.ttl")
    data = write(tmp_path, 'ex:a a ex:Thing ; ex:p [ ex:x 1 ], ex:iri, "text" ; ex:t ex:iri, "soon"^^xsd:dateTime, "2024-01-01T00:00:00Z"^^xsd:dateTime .')
    load(tmp_path / "store", [data], IriMinter())
    for result in (validate_files([data], shapes), validate_store(open_read_only(tmp_path / "store"), shapes)):
        found = Counter((r.component.rsplit("#", 1)[-1], type(r.value).__name__) for t in result.tallies.values() for r in t.results)
        assert found == {("PatternConstraintComponent", "BNode"): 1, ("MinLengthConstraintComponent", "BNode"): 1,
                         ("DatatypeConstraintComponent", "BNode"): 1, ("DatatypeConstraintComponent", "URIRef"): 2,
                         ("DatatypeConstraintComponent", "Literal"): 1}


def test_lexical_forms_and_language_tags_are_those_of_the_file(tmp_path: Path) -> None:
    """"0300" and "300" are two values (maxCount), "1.50" keeps its length; "Hi"@EN-GB is "Hi"@en-gb (RDF 1.1)."""
    shapes = write(tmp_path, """ex:S a sh:NodeShape ; sh:targetNode ex:a ;
        sh:property [ sh:path ex:n ; sh:maxCount 1 ] ; sh:property [ sh:path ex:d ; sh:maxLength 3 ] ;
        sh:property [ sh:path ex:t ; sh:in ( "Hi"@en-gb ) ] .""", "shapes.ttl")
    data = write(tmp_path, 'ex:a ex:n "0300"^^xsd:short, "300"^^xsd:short ; ex:d 1.50 ; ex:t "Hi"@EN-GB .')
    result = validate_files([data], shapes)
    found = {(r.component.rsplit("#", 1)[-1], r.value.n3() if r.value is not None else None) for t in result.tallies.values() for r in t.results}
    assert found == {
        ("MaxCountConstraintComponent", None),
        ("MaxLengthConstraintComponent", '"1.50"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
    }


def test_relative_iris_resolve_against_the_file_or_the_base(tmp_path: Path) -> None:
    shapes = write(tmp_path, "ex:S a sh:NodeShape ; sh:targetNode <http://example.org/base/x> ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .", "shapes.ttl")
    data = tmp_path / "relative.ttl"
    data.write_text("@prefix ex: <http://example.org/> .\n<x> ex:q <> .\n", encoding="utf-8")
    [result] = [r for t in validate_files([data], shapes).tallies.values() for r in t.results]
    assert result.focus == URIRef("http://example.org/base/x")
    assert validate_files([data], shapes, base="http://example.org/other/").conforms is False
    data.write_text("@prefix ex: <http://example.org/> .\n<x> ex:p <> .\n", encoding="utf-8")
    assert validate_files([data], shapes, base="http://example.org/base/").conforms
    assert not validate_files([data], shapes).conforms  # <x> is file:///.../x then: the target has no ex:p


def test_shapes_files_may_hold_other_triples(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A manifest and an expected report beside the shapes (sh: terms included) change nothing."""
    shapes = write(tmp_path, """ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .
        ex:expected a sh:ValidationReport ; sh:conforms false ;
            sh:result [ a sh:ValidationResult ; sh:focusNode ex:a ; sh:resultPath [ sh:inversePath ex:p ] ; sh:value "x" ] .""", "shapes.ttl")
    result = validate_files([write(tmp_path, "ex:a a ex:Thing .")], shapes)
    assert "pyshacl" not in capsys.readouterr().err
    assert tallies(result) == {("ex:S [sh:path ex:p]", "MinCount"): 1}


@pytest.mark.parametrize(("pattern", "flags", "matching", "failing"), [
    ("^[a-z-[aeiou]]+$", None, ["xyz"], ["axe"]),  # class subtraction
    ("^a b$", "x", ["ab"], ["a b"]),  # whitespace removed, not a Rust comment
    ("^a.c$", None, ["abc"], ["a\rc"]),  # XPath's dot matches no carriage return
    ("^\\w+$", None, ["a+b"], ["a_b"]),  # \w: everything but punctuation, separators, others
    ("^\\s$", None, [" "], ["\u00a0"]),  # \s: four characters only
    ("a.b[", "q", ["xa.b[y"], ["axb["]),  # q: the pattern as a plain string
])
def test_patterns_mean_what_xpath_says(tmp_path: Path, pattern: str, flags: str | None, matching: list[str], failing: list[str]) -> None:
    shapes = write(tmp_path, f"ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:p ; sh:pattern {Literal(pattern).n3()} "
                   + (f"; sh:flags {Literal(flags).n3()} " if flags else "") + "] .", "shapes.ttl")
    values = ", ".join(Literal(v).n3() for v in matching + failing)
    result = validate_files([write(tmp_path, f"ex:a a ex:Thing ; ex:p {values} .")], shapes)
    assert sorted(str(r.value) for t in result.tallies.values() for r in t.results) == sorted(failing)


@pytest.mark.parametrize("pattern", ["\\p{IsBasicLatin}+", "^\\i\\c*$", "(a)\\1", "\\b"])
def test_patterns_without_an_exact_translation_are_refused_naming_shape_and_pattern(cli, tmp_path: Path, pattern: str) -> None:
    shapes = write(tmp_path, f"ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property ex:S-p . ex:S-p sh:path ex:p ; sh:pattern {Literal(pattern).n3()} .", "shapes.ttl")
    run = cli("validate", write(tmp_path, 'ex:a a ex:Thing ; ex:p "x" .'), "--shapes", shapes)
    assert run.exit_code == 2, run.output
    assert "ex:S-p" in run.output and pattern in run.output


def test_recursive_shapes_are_refused_naming_the_shape(cli, tmp_path: Path) -> None:
    shapes = write(tmp_path, "ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:or ( [ sh:class ex:A ] ex:S ) ; sh:property [ sh:path ex:p ; sh:node ex:S ] .", "shapes.ttl")
    run = cli("validate", write(tmp_path, "ex:a a ex:Thing ; ex:p ex:a ."), "--shapes", shapes)
    assert run.exit_code == 2, run.output
    assert "ex:S" in run.output and "recursive" in run.output


def test_reports_carry_the_paths_and_shapes_they_name(tmp_path: Path) -> None:
    """A blank-node path and a blank source shape come with their description: the report stands alone."""
    shapes = write(tmp_path, "ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ( ex:p [ sh:inversePath ex:q ] ) ; sh:minCount 1 ] .", "shapes.ttl")
    result = validate_files([write(tmp_path, "ex:a a ex:Thing .")], shapes)
    out = tmp_path / "report.ttl"
    result.write_report(out)
    report = Graph().parse(out)
    [node] = report.objects(None, SH.resultPath)
    first, rest = report.value(node, RDF.first), report.value(node, RDF.rest)
    assert first == URIRef("http://example.org/p")
    assert report.value(report.value(rest, RDF.first), SH.inversePath) == URIRef("http://example.org/q")
    [shape] = report.objects(None, SH.sourceShape)
    assert report.value(shape, SH.minCount) == Literal(1)


def test_a_subset_of_the_shapes_or_components_can_be_checked(tmp_path: Path) -> None:
    """What #14's load-time checks leave to the store: a shapes graph and/or constraint components."""
    data = write(tmp_path, MODEL + '; hkg:downloadCount -1 ; <http://example.org/x> "y" .')
    assert tallies(validate_files([data], components={SH.ClosedConstraintComponent})) == {("ModelShape", "Closed"): 1}
    graph = Graph().parse(SHAPES)
    graph.remove((URIRef(HKGSH + "ModelShape"), SH.closed, None))
    assert tallies(validate_files([data], graph)) == {("Model-downloadCount", "MinInclusive"): 1}


def test_named_graphs_are_validated_too(tmp_path: Path) -> None:
    data = tmp_path / "data.trig"
    data.write_text(PREFIXES + '<https://example.org/g> { <model/o/m> a hkg:Model ; hkg:id "o/m" ; hkg:likeCount -1 . }', encoding="utf-8")
    assert tallies(validate_files([data])) == {("Model-likeCount", "MinInclusive"): 1}


def test_several_files_any_format_and_gzip_form_one_graph(tmp_path: Path, example_nt: Path) -> None:
    """The key of a model in one file and its second key in another make one maxCount violation."""
    gz = tmp_path / "example.nt.gz"
    gz.write_bytes(gzip.compress(example_nt.read_bytes()))
    extra = write(tmp_path, '<model/google-bert/bert-base-uncased> hkg:id "google-bert/bert-base-uncased-2" .', "extra.ttl")
    assert validate_files([gz]).conforms
    assert tallies(validate_files([gz, extra])) == {("Model-id", "MaxCount"): 1}


def test_unusable_files_are_input_errors_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> .", encoding="utf-8")
    with pytest.raises(InputError, match="broken.ttl"):
        validate_files([broken])
    with pytest.raises(InputError, match="data.csv"):
        validate_files([tmp_path / "data.csv"])
    with pytest.raises(InputError, match="shapes.ttl"):
        validate_files([write(tmp_path, MODEL + ".")], write(tmp_path, "this is not turtle", "shapes.ttl"))


def test_results_are_capped_per_shape_and_component_but_all_counted(tmp_path: Path) -> None:
    data = write(tmp_path, " ".join(f'<model/o/m{i}> a hkg:Model ; hkg:id "o/m{i}" ; hkg:likeCount -{i + 1} .' for i in range(5)))
    result = validate_files([data], cap=2)
    [tally] = result.tallies.values()
    assert (tally.count, len(tally.results), result.total, result.listed) == (5, 2, 5, 2)
    assert "(first 2 kept)" in result.summary(5)
    assert "2 of 5 kept" in result.summary(5)
    report = result.report_graph()
    assert len(list(report.objects(None, SH.result))) == 2
    [comment] = report.objects(None, RDFS.comment)
    assert "5 found, 2 listed" in str(comment)


def test_summary_shows_counts_and_examples(tmp_path: Path) -> None:
    data = write(tmp_path, " ".join(f'<model/o/m{i}> a hkg:Model ; hkg:id "o m{i}" .' for i in range(4)))
    summary = validate_files([data]).summary(examples=2)
    lines = summary.splitlines()
    assert lines[0] == "Conforms: no (4 results: 4 Violation)"
    assert lines[1].split() == ["4", "hkgsh:Model-id", "PatternConstraintComponent", "[Violation]"]
    assert len([line for line in lines if "focus <https://w3id.org/huggingkg/resource/model/o/m" in line]) == 2
    assert 'path hkg:id  value "o m' in summary


# ---------------------------------------------------------------- the CLI


def test_cli_exit_codes(cli, tmp_path: Path, example_nt: Path) -> None:
    ok = cli("validate", example_nt)
    assert ok.exit_code == 0, ok.output
    assert "Conforms: yes" in ok.output
    bad = cli("validate", write(tmp_path, MODEL + "; hkg:downloadCount -1 ."))
    assert bad.exit_code == 1
    assert "hkgsh:Model-downloadCount  MinInclusiveConstraintComponent" in bad.output
    broken = tmp_path / "broken.nt"
    broken.write_text("<not a triple", encoding="utf-8")
    unusable = cli("validate", broken)
    assert unusable.exit_code == 2
    assert "broken.nt" in unusable.output


def test_cli_validates_a_store(cli, tmp_path: Path, example_nt: Path) -> None:
    store_dir = tmp_path / "store"
    load(store_dir, [example_nt], IriMinter())
    assert cli("validate", "--store", store_dir).exit_code == 0
    load(store_dir, [write(tmp_path, '<model/google-bert/bert-base-uncased> hkg:likeCount -4 .')], IriMinter())
    result = cli("validate", "--store", store_dir)
    assert result.exit_code == 1
    assert "Model-likeCount" in result.output


@pytest.mark.parametrize("violating", [False, True])
def test_cli_report_is_a_shacl_validation_report(cli, tmp_path: Path, example_nt: Path, violating: bool) -> None:
    files = [example_nt]
    if violating:  # a second, negative download count and an unknown property
        files.append(write(tmp_path, '<model/google-bert/bert-base-uncased> hkg:downloadCount -2 ; <http://example.org/x> "y" .'))
    out = tmp_path / "report.ttl"
    result = cli("validate", *files, "--report", out)
    assert result.exit_code == (1 if violating else 0)
    report = Graph().parse(out, format="turtle")
    [node] = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms) == Literal(not violating)
    results = list(report.objects(node, SH.result))
    assert len(results) == (3 if violating else 0)
    focus = URIRef("https://w3id.org/huggingkg/resource/model/google-bert/bert-base-uncased")
    for r in results:
        assert report.value(r, RDF.type) == SH.ValidationResult
        assert report.value(r, SH.focusNode) == focus
        assert report.value(r, SH.resultSeverity) == SH.Violation
        assert report.value(r, SH.resultMessage) is not None
        assert report.value(r, SH.value) in (Literal(-2), Literal("y"), None)
    components = {report.value(r, SH.sourceConstraintComponent) for r in results}
    shapes = {report.value(r, SH.sourceShape) for r in results}
    if violating:
        assert components == {SH.MinInclusiveConstraintComponent, SH.MaxCountConstraintComponent, SH.ClosedConstraintComponent}
        assert shapes == {URIRef(HKGSH + "Model-downloadCount"), URIRef(HKGSH + "ModelShape")}
