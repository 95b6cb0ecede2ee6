"""Statistics of a store: entities per type, edges per release relation, triples (``hkg-rdf
stats``); and the counts its VoID description gives, kept beside each store version."""

from __future__ import annotations

import json
import os
from pathlib import Path

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


VOID_SUFFIX = ".void.json"


def void_statistics(store: ox.Store, version_dir: Path | None = None) -> dict:
    """Counts for VoID: triples, entities per class, triples per property, example entities.

    A version of the store never changes, so its counts are computed once (30 CPU s at scale
    1.0, one scan of every triple) and kept beside it (:func:`void_cache`). Every load writes
    them before the version goes live, so a server's first VoID request is as fast as the others
    (versions written otherwise, e.g. by a SPARQL update, get them from their first reader).
    """
    cache = void_cache(version_dir) if version_dir is not None else None
    if cache is not None:
        try:
            return json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    vocab = vocabulary()
    classes = {t.cls: _count(store, f"?s <{RDF_TYPE}> <{t.cls}>") for t in vocab.types}
    properties = {
        s["p"].value: int(s["n"].value)
        for s in store.query("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p")
    }
    examples = []
    for t in vocab.types:
        examples += [s["s"].value for s in store.query(f"SELECT ?s WHERE {{ ?s <{RDF_TYPE}> <{t.cls}> }} LIMIT 1")]
    result = {"triples": sum(properties.values()), "classes": classes, "properties": properties, "examples": examples}
    if cache is not None:
        try:
            partial = cache.with_name(f".partial-{os.getpid()}-{cache.name}")
            partial.write_text(json.dumps(result), encoding="utf-8")
            partial.replace(cache)
        except OSError:  # a read-only store directory: compute again next time
            pass
    return result


def void_cache(version_dir: Path) -> Path:
    """Where the VoID counts of a store version are kept: beside it, named after it."""
    return version_dir.with_name(version_dir.name + VOID_SUFFIX)
