"""Statistics of a store: entities per type, edges per release relation, triples."""

from __future__ import annotations

import pyoxigraph as ox

from .vocab import RDF_TYPE, Vocabulary, vocabulary


def _count(store: ox.Store, where: str) -> int:
    return int(next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")))["n"].value)


def stats(store: ox.Store, vocab: Vocabulary | None = None) -> dict:
    """Counts by rdf:type, and edges per release relation by the types of their ends."""
    vocab = vocab or vocabulary()
    entities = {t.segment: _count(store, f"?s <{RDF_TYPE}> <{t.cls}>") for t in vocab.types}
    edges = {}
    for r in vocab.relations:
        subject, obj = (r.object, r.subject) if r.inverse else (r.subject, r.object)
        edges[r.name] = _count(store, f"?s <{r.prop}> ?o . ?s <{RDF_TYPE}> <{subject.cls}> . ?o <{RDF_TYPE}> <{obj.cls}>")
    return {
        "triples": _count(store, "?s ?p ?o"),
        "entities": entities,
        "edges": edges,
        "total_entities": sum(entities.values()),
        "total_edges": sum(edges.values()),
    }


def format_stats(result: dict) -> str:
    lines = [f"triples   {result['triples']:>12,}", f"entities  {result['total_entities']:>12,}"]
    lines += [f"  {name:<34}{count:>12,}" for name, count in result["entities"].items()]
    lines.append(f"edges     {result['total_edges']:>12,}")
    lines += [f"  {name:<34}{count:>12,}" for name, count in result["edges"].items()]
    return "\n".join(lines)
