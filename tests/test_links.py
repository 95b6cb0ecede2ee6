"""Links from each entity to its pages elsewhere (ontology/mapping.ttl, hkgm:link): the Hub page
of every type, a paper's arXiv abstract and arXiv DOI, a dataset's Croissant document. URL forms
as the Hub serves them: huggingface.co/<id> (models), /datasets/<id>, /spaces/<id>,
/collections/<slug>, /papers/<arxiv id>, /<user or org>; /api/datasets/<id>/croissant
(huggingface_hub and the Hub's docs); https://arxiv.org/abs/<id>; DOI 10.48550/arXiv.<id>."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import invoke, must
from hkg_rdf.iris import IriMinter, link
from hkg_rdf.vocab import vocabulary

SCHEMA = "https://schema.org/"
MINTER = IriMinter()


@pytest.fixture(scope="module")
def graph(example_release, tmp_path_factory) -> ox.Store:
    out = tmp_path_factory.mktemp("links") / "links.nt"
    must(invoke("convert", example_release, "-o", out))
    store = ox.Store()
    store.bulk_load(path=str(out), format=ox.RdfFormat.N_TRIPLES)
    return store


def _objects(store: ox.Store, subject: str, prop: str) -> set[str]:
    return {q.object.value for q in store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(SCHEMA + prop), None)}


EXPECTED = {
    "model": {"url": "https://huggingface.co/{}"},
    "dataset": {"url": "https://huggingface.co/datasets/{}", "subjectOf": "https://huggingface.co/api/datasets/{}/croissant"},
    "space": {"url": "https://huggingface.co/spaces/{}"},
    "collection": {"url": "https://huggingface.co/collections/{}"},
    "paper": {"url": "https://huggingface.co/papers/{}", "sameAs": ("https://arxiv.org/abs/{}", "https://doi.org/10.48550/arXiv.{}")},
    "user": {"url": "https://huggingface.co/{}"},
    "org": {"url": "https://huggingface.co/{}"},
}


@pytest.mark.parametrize("segment", sorted(EXPECTED))
def test_every_entity_links_to_its_pages(segment: str, example_release: Path, graph: ox.Store) -> None:
    entity_type = vocabulary().type_by_segment(segment)
    records = json.loads((example_release / entity_type.file).read_text(encoding="utf-8"))
    assert records
    for record in records:
        entity_id = record[entity_type.key.name]
        subject = MINTER.mint(entity_type, entity_id)
        for prop, templates in EXPECTED[segment].items():
            templates = templates if isinstance(templates, tuple) else (templates,)
            assert _objects(graph, subject, prop) == {t.format(entity_id) for t in templates}, (subject, prop)


def test_old_style_arxiv_ids_link_to_arxiv_and_their_doi() -> None:
    paper = vocabulary().type_by_segment("paper")
    templates = dict.fromkeys(t for p, t in paper.links if p == SCHEMA + "sameAs")
    assert {link(t, "hep-th/9901001") for t in templates} == {"https://arxiv.org/abs/hep-th/9901001", "https://doi.org/10.48550/arXiv.hep-th/9901001"}


@pytest.mark.parametrize("entity_id", ["a b/c#d?e", "org/name%41", "ünï/cödé", "x/.."])
def test_any_id_gives_a_valid_link(entity_id: str) -> None:
    for entity_type in vocabulary().types:
        for _, template in entity_type.links:
            ox.NamedNode(link(template, entity_id))  # raises on an invalid IRI


def test_registered_authors_are_linked_to_their_user(example_release: Path, graph: ox.Store) -> None:
    """A user_publish_paper user is linked at the one position whose name is their full name."""
    hkg = "https://w3id.org/huggingkg/ontology#"
    users = {u["id"]: u["fullname"] for u in json.loads((example_release / "users.json").read_text(encoding="utf-8"))}
    papers = {p["id"]: p["authors"] for p in json.loads((example_release / "papers.json").read_text(encoding="utf-8"))}
    expected = set()
    for edge in json.loads((example_release / "user_publish_paper.json").read_text(encoding="utf-8")):
        positions = [n for n, name in enumerate(papers.get(edge["paper_id"], []), 1) if name == users.get(edge["user_id"])]
        if len(positions) == 1:
            paper = MINTER.mint(vocabulary().type_by_segment("paper"), edge["paper_id"])
            expected.add((MINTER.item(paper, hkg + "author", positions[0]), MINTER.mint(vocabulary().type_by_segment("user"), edge["user_id"])))
    found = {(q.subject.value, q.object.value) for q in graph.quads_for_pattern(None, ox.NamedNode(hkg + "authorUser"), None)}
    assert found == expected and expected
