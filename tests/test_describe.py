"""Every dump describes itself (VoID and DCAT): source release, snapshot time from the release
name (HuggingKG_V<YYYYmmddHHMMSS>, as the published zip HuggingKG_V20241215174821.zip), the
tool and its version, the data's license when given, and the conversion's counts."""

from __future__ import annotations

import json

import pyoxigraph as ox

from conftest import invoke, must
from hkg_rdf.describe import DCAT, PROV, SCHEMA, VOID, tool_version
from hkg_rdf.vocab import DCTERMS, RDF_TYPE

BASE = "https://w3id.org/huggingkg/resource/"


def _one(store: ox.Store, subject: str, prop: str) -> str:
    [quad] = list(store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(prop), None))
    return quad.object.value


def test_a_dump_carries_the_description_of_its_conversion(example_release, tmp_path) -> None:
    license_iri = "http://spdx.org/licenses/CC-BY-4.0"
    report = tmp_path / "report.json"
    must(invoke("load", example_release, "--store", tmp_path / "store", "--license", license_iri, "--report", report))
    must(invoke("dump", "--store", tmp_path / "store", "-o", tmp_path / "dump.ttl"))
    store = ox.Store()
    store.load(path=str(tmp_path / "dump.ttl"), format=ox.RdfFormat.TURTLE)
    node = f"{BASE}void/{example_release.name}"
    types = {q.object.value for q in store.quads_for_pattern(ox.NamedNode(node), ox.NamedNode(RDF_TYPE), None)}
    assert types == {VOID + "Dataset", DCAT + "Dataset"}
    assert _one(store, node, DCTERMS + "source") == example_release.name
    assert _one(store, node, DCTERMS + "temporal") == "2024-12-15T00:00:00Z"  # from HuggingKG_V20241215000000
    assert _one(store, node, DCTERMS + "license") == license_iri
    assert _one(store, node, VOID + "uriSpace") == BASE
    counts = json.loads(report.read_text(encoding="utf-8"))
    described = int(_one(store, node, VOID + "triples"))
    assert described == counts["triples"] - _description_size(store, node)  # the conversion's triples, but these
    assert int(_one(store, node, VOID + "entities")) == sum(counts["entities"].values())
    tool = _one(store, _one(store, node, PROV + "wasGeneratedBy"), PROV + "wasAssociatedWith")
    assert _one(store, tool, SCHEMA + "softwareVersion") == tool_version()
    models = f"{node}#model"
    assert _one(store, models, VOID + "class").endswith("#Model") and int(_one(store, models, VOID + "entities")) == counts["entities"]["model"]


def _description_size(store: ox.Store, node: str) -> int:
    return sum(1 for q in store.quads_for_pattern(None, None, None) if q.subject.value.split("#")[0] == node)


def test_a_license_that_is_not_an_iri_is_refused(example_release, tmp_path) -> None:
    result = invoke("convert", example_release, "-o", tmp_path / "out.nt", "--license", "CC BY 4.0")
    assert result.exit_code == 2 and "--license" in result.stderr
    assert not (tmp_path / "out.nt").exists()
