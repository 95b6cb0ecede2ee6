"""Terms at the edges: language tags and blank nodes in SPARQL results, date-times with offsets.

The results are read back by third-party consumers, rdflib's SPARQL results parsers (JSON and
XML, as SPARQLWrapper users get them) and pyoxigraph's, never by our own code; the date-times
are compared with what Oxigraph itself makes of the raw value.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
import rdflib
from conftest import invoke, load_store, must
from rdflib.query import Result

from hkg_rdf.serve import negotiation as media
from hkg_rdf.serve.sparql import run_query
from hkg_rdf.store import open_read_only

EX = "http://example.org/"
DATA = f"""
@prefix ex: <{EX}> .
_:cat ex:label "chat"@fr, "Katze"@de-CH, "cat" ; ex:owner _:alice ; ex:size "3"^^<http://www.w3.org/2001/XMLSchema#integer> .
_:alice ex:label "Alice"@en-Latn-US ; ex:owner _:cat .
ex:named ex:label "named" .
"""
QUERY = f"SELECT ?s ?label ?owner WHERE {{ ?s <{EX}label> ?label OPTIONAL {{ ?s <{EX}owner> ?owner }} }} ORDER BY ?label"
SPARQL_NS = "{http://www.w3.org/2005/sparql-results#}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    store.load(DATA.encode(), ox.RdfFormat.TURTLE)
    return store


def _answer(store: ox.Store, media_type: str) -> bytes:
    return run_query(store, QUERY, [], [], {"solutions": media_type}, 100, "http://127.0.0.1/sparql").body


def _expected(store: ox.Store) -> list[tuple]:
    """(subject, label, owner) per row, blank nodes by their identity in the store."""
    return [(row["s"], row["label"], row["owner"]) for row in store.query(QUERY)]


def _same_shape(expected: list[tuple], got: list[tuple], is_blank, label_of) -> None:
    """Equal rows, with blank nodes compared up to a consistent renaming (one label per node)."""
    assert len(got) == len(expected)
    renaming: dict = {}
    for want, have in zip(expected, got):
        for w, h in zip(want, have):
            if isinstance(w, ox.BlankNode):
                assert is_blank(h), (w, h)
                assert renaming.setdefault(w.value, label_of(h)) == label_of(h), "one blank node, two labels"
            else:
                assert (w is None and h is None) or str(w) == h, (w, h)
    assert len(set(renaming.values())) == len(renaming), "two blank nodes, one label"


def _rdflib_text(term) -> str | None:
    """An rdflib term as N-Triples text (our side's str(term) of pyoxigraph)."""
    if term is None:
        return None
    if isinstance(term, rdflib.Literal) and term.datatype is None and term.language is None:
        return f'"{term}"'
    return term.n3()


@pytest.mark.parametrize("media_type, fmt", [(media.SPARQL_JSON, "json"), (media.SPARQL_XML, "xml")])
def test_language_tags_and_blank_nodes_reach_rdflib(store, media_type, fmt):
    parsed = Result.parse(io.BytesIO(_answer(store, media_type)), format=fmt)
    names = [rdflib.Variable(v) for v in ("s", "label", "owner")]
    rows = [tuple(t if isinstance(t, rdflib.BNode) else _rdflib_text(t) for t in (row.get(v) for v in names)) for row in parsed.bindings]
    _same_shape(_expected(store), rows, lambda t: isinstance(t, rdflib.BNode), str)
    languages = {row[names[1]].language.lower() for row in parsed.bindings if row[names[1]].language}
    assert languages == {"fr", "de-ch", "en-latn-us"}


@pytest.mark.parametrize("media_type, fmt", [(media.SPARQL_JSON, ox.QueryResultsFormat.JSON), (media.SPARQL_XML, ox.QueryResultsFormat.XML)])
def test_language_tags_and_blank_nodes_reach_pyoxigraph(store, media_type, fmt):
    parsed = ox.parse_query_results(_answer(store, media_type), fmt)
    rows = [tuple(t if isinstance(t, ox.BlankNode) else (None if t is None else str(t)) for t in (r["s"], r["label"], r["owner"])) for r in parsed]
    _same_shape(_expected(store), rows, lambda t: isinstance(t, ox.BlankNode), lambda t: t.value)


def test_the_json_and_xml_terms_are_written_as_the_specs_say(store):
    """SPARQL 1.1 JSON: "xml:lang" and "bnode"; SPARQL XML: an xml:lang attribute and <bnode>."""
    bindings = json.loads(_answer(store, media.SPARQL_JSON))["results"]["bindings"]
    fr = next(b for b in bindings if b["label"]["value"] == "chat")
    assert fr["label"] == {"type": "literal", "value": "chat", "xml:lang": "fr"}
    assert fr["s"]["type"] == "bnode" and fr["owner"]["type"] == "bnode" and fr["s"]["value"] != fr["owner"]["value"]
    plain = next(b for b in bindings if b["label"]["value"] == "cat")
    assert plain["label"] == {"type": "literal", "value": "cat"}
    root = ET.fromstring(_answer(store, media.SPARQL_XML))
    literals = {lit.text: lit.get(XML_LANG) for lit in root.iter(f"{SPARQL_NS}literal")}
    assert literals["chat"] == "fr" and literals["Katze"].lower() == "de-ch" and literals["cat"] is None
    assert all(b.text for b in root.iter(f"{SPARQL_NS}bnode"))


# ---------------------------------------------------------------- date-times with an offset

OFFSETS = [
    "2024-06-01T12:00:00+02:00",
    "2024-06-01T12:00:00.120+05:30",
    "2024-06-01T23:59:59.000-11:00",
    "2024-06-01T12:00:00+14:00",
    "2024-06-01T12:00:00+00:00",
    "2024-06-01T12:00:00.5-00:00",
    "2024-06-01T12:00:00",
]
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
CREATED = "https://w3id.org/huggingkg/ontology#createdAt"


def _oxigraph_form(value: str) -> str:
    """What Oxigraph stores for the raw value (its canonical lexical form)."""
    scratch = ox.Store()
    scratch.load(f'<{EX}s> <{EX}p> "{value}"^^<{XSD_DATETIME}> .'.encode(), ox.RdfFormat.N_TRIPLES)
    (quad,) = scratch
    return quad.object.value


@pytest.fixture(scope="module")
def offset_release(tmp_path_factory):
    release = tmp_path_factory.mktemp("offsets") / "HuggingKG_V20990101000000"
    release.mkdir()
    models = [{"id": f"tz/m{i}", "name": f"m{i}", "createdAt": value, "lastModified": None, "downloads": 0, "likes": 0, "region": None,
               "license": None, "libraries": [], "languages": [], "other": [], "pipeline_tag": [], "description": None}
              for i, value in enumerate(OFFSETS)]
    (release / "models.json").write_text(json.dumps(models), encoding="utf-8")
    return release


def test_offset_date_times_convert_to_the_terms_oxigraph_stores(offset_release, tmp_path):
    """convert's file and the store carry the same term for each +hh:mm value (counts and joins agree)."""
    must(invoke("convert", offset_release, "-o", tmp_path / "out.nt"))
    converted = {str(t.subject).rsplit("/", 1)[1][:-1]: t.object.value
                 for t in ox.parse((tmp_path / "out.nt").read_bytes(), ox.RdfFormat.N_TRIPLES) if t.predicate.value == CREATED}
    store = load_store(tmp_path / "store", offset_release)
    stored = {str(q.subject).rsplit("/", 1)[1][:-1]: q.object.value
              for q in open_read_only(store).quads_for_pattern(None, ox.NamedNode(CREATED), None)}
    for i, value in enumerate(OFFSETS):
        assert converted[f"m{i}"] == stored[f"m{i}"] == _oxigraph_form(value), value
    assert stored["m0"].endswith("+02:00") and stored["m4"].endswith("Z") and stored["m2"] == "2024-06-01T23:59:59-11:00"


def test_offset_date_times_are_exported_as_the_same_instant(offset_release, tmp_path):
    store = load_store(tmp_path / "store", offset_release)
    must(invoke("export", "--store", store, "-o", tmp_path / "again"))
    exported = {m["id"]: m["createdAt"] for m in json.loads((tmp_path / "again" / "models.json").read_text(encoding="utf-8"))}
    for i, value in enumerate(OFFSETS):
        again, original = exported[f"tz/m{i}"], value
        assert _oxigraph_form(again) == _oxigraph_form(original), (original, again)
    assert exported["tz/m0"] == "2024-06-01T12:00:00+02:00"  # an offset other than zero is kept, not shifted to UTC
