"""The ontology's documentation (docs/ontology.html, made by pyLODE with tools/ontology_docs.py):
current with ontology/hkg.ttl, and what ``serve`` answers HTML clients at the ontology IRI."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from hkg_rdf.vocab import HKG, ONTOLOGY_FILE, ONTOLOGY_IRI, data_path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "ontology.html"


def test_the_documentation_covers_every_hkg_term_and_the_current_version() -> None:
    """Rerun ``python tools/ontology_docs.py`` when this fails: the ontology changed."""
    ontology = Graph().parse(data_path(*ONTOLOGY_FILE), format="turtle")
    html = DOCS.read_text(encoding="utf-8")
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    terms = {s for kind in kinds for s in ontology.subjects(RDF.type, kind) if isinstance(s, URIRef) and s.startswith(HKG)}
    assert len(terms) > 40
    anchors = html.lower()  # pyLODE lower-cases some anchors (downloadcount)
    missing = [t for t in sorted(terms) if f'id="{t.removeprefix(HKG).lower()}"' not in anchors]
    assert not missing
    version = str(ontology.value(URIRef(ONTOLOGY_IRI), OWL.versionInfo))
    assert version in html and "pyLODE" in html


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from test_serve import start_server

    running = start_server(tmp_path_factory.mktemp("serve-docs"), "--workers", "1")
    yield running
    running.process.terminate()
    running.process.wait(10)


def test_serve_answers_html_clients_at_the_ontology_iri_with_the_documentation(server) -> None:
    page = server.get("/ontology", headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.content == DOCS.read_bytes()
    assert "default-src 'self'" in page.headers["content-security-policy"]
    turtle = server.get("/ontology", headers={"Accept": "text/turtle"})
    assert turtle.content == data_path(*ONTOLOGY_FILE).read_bytes()  # RDF clients still get RDF
