"""Describing the dataset and the service: VoID, SPARQL Service Description, dumps with SHA-256.

The worker-side functions (:func:`store_info`, :func:`make_dump`, and
:func:`hkg_rdf.stats.void_statistics`) read the store; the server-side ones build the RDF
descriptions from their results.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyoxigraph as ox

from ..iris import encode_id
from ..vocab import DCTERMS, ONTOLOGY_IRI, RDF_TYPE, vocabulary

VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
SPDX = "http://spdx.org/rdf/terms#"
FOAF = "http://xmlns.com/foaf/0.1/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SHAPES_IRI = "https://w3id.org/huggingkg/shapes"
DUMP_SUFFIXES = (".nt", ".nt.gz", ".ttl", ".ttl.gz", ".nq", ".nq.gz", ".trig", ".trig.gz", ".jsonld", ".jsonld.gz", ".rdf", ".rdf.gz")
DUMP_TYPES = {".nt": "application/n-triples", ".ttl": "text/turtle", ".nq": "application/n-quads", ".trig": "application/trig", ".jsonld": "application/ld+json", ".rdf": "application/rdf+xml"}


# ---------------------------------------------------------------- in a worker


def store_info(store: ox.Store, version: str) -> dict:
    """The store version and the base IRI its entities were minted with (None if it has none)."""
    vocab = vocabulary()
    for t in vocab.types:
        for solution in store.query(f"SELECT ?s ?k WHERE {{ ?s <{RDF_TYPE}> <{t.cls}> ; <{t.key.prop}> ?k }} LIMIT 1"):
            iri, key = solution["s"].value, solution["k"].value
            tail = f"{t.segment}/{encode_id(key)}"
            if iri.endswith(tail):
                return {"version": version, "base_iri": iri[: -len(tail)]}
    return {"version": version, "base_iri": None}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_dump(store: ox.Store, path: str) -> dict:
    """Write the store to ``path`` (format by extension) and its ``.sha256`` beside it."""
    from ..dump import dump

    target = Path(path)
    dump(store, target)
    checksum = sha256_file(target)
    write_checksum(target, checksum)
    return {"name": target.name, "sha256": checksum, "size": target.stat().st_size}


def write_checksum(path: Path, checksum: str) -> None:
    partial = path.with_name(f".partial-{path.name}.sha256")
    partial.write_text(f"{checksum}  {path.name}\n", encoding="ascii")
    partial.replace(path.with_name(path.name + ".sha256"))


# ---------------------------------------------------------------- on the server


def dump_files(directory: Path | None) -> list[Path]:
    if directory is None or not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(DUMP_SUFFIXES) and not p.name.startswith("."))


def dump_media_type(name: str) -> str:
    stem = name[:-3] if name.endswith(".gz") else name
    return DUMP_TYPES.get(os.path.splitext(stem)[1], "application/octet-stream")


def _nn(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _lit(value, datatype: str | None = None) -> ox.Literal:
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=_nn(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=_nn(XSD + "integer"))
    return ox.Literal(str(value), datatype=_nn(datatype)) if datatype else ox.Literal(str(value))


def void_triples(public: str, base_iri: str, stats: dict, dumps: list[dict], license_iri: str | None, version: str) -> list[ox.Triple]:
    """The VoID description of the dataset this server publishes."""
    T = ox.Triple
    doc, dataset = _nn(f"{public}/.well-known/void"), _nn(f"{public}/.well-known/void#HuggingKG")
    rdf_type = _nn(RDF_TYPE)
    out = [
        T(doc, rdf_type, _nn(VOID + "DatasetDescription")),
        T(doc, _nn(FOAF + "primaryTopic"), dataset),
        T(doc, _nn(DCTERMS + "title"), _lit("VoID description of HuggingKG as Linked Data")),
        T(dataset, rdf_type, _nn(VOID + "Dataset")),
        T(dataset, _nn(DCTERMS + "title"), _lit("HuggingKG: the Hugging Face Hub knowledge graph")),
        T(dataset, _nn(DCTERMS + "description"), _lit(
            "Models, datasets, spaces, collections, papers, users, organizations and tasks of the Hugging Face Hub "
            "and their relations (lineage, citations, usage, publication, likes, follows), from the HuggingKG release, as RDF.")),
        T(dataset, _nn(DCTERMS + "source"), _nn("https://arxiv.org/abs/2505.17507")),
        T(dataset, _nn(DCTERMS + "rights"), _lit(
            "Metadata of public Hugging Face Hub repositories as crawled for the HuggingKG release (Chen et al., arXiv:2505.17507). "
            "Each model and dataset keeps its own license (hkg:licenseLabel, dcterms:license).")),
        T(dataset, _nn(DCTERMS + "hasVersion"), _lit(version)),
        T(dataset, _nn(VOID + "sparqlEndpoint"), _nn(f"{public}/sparql")),
        T(dataset, _nn(VOID + "uriSpace"), _lit(base_iri)),
        T(dataset, _nn(VOID + "vocabulary"), _nn(ONTOLOGY_IRI)),
        T(dataset, _nn(VOID + "feature"), _nn(FORMATS + "Turtle")),
        T(dataset, _nn(VOID + "feature"), _nn(FORMATS + "N-Triples")),
        T(dataset, _nn(VOID + "feature"), _nn(FORMATS + "JSON-LD")),
        T(dataset, _nn(VOID + "feature"), _nn(FORMATS + "RDF_XML")),
        T(dataset, _nn(VOID + "triples"), _lit(stats["triples"])),
        T(dataset, _nn(VOID + "entities"), _lit(sum(stats["classes"].values()))),
        T(dataset, _nn(VOID + "classes"), _lit(sum(1 for n in stats["classes"].values() if n))),
        T(dataset, _nn(VOID + "properties"), _lit(len(stats["properties"]))),
        T(_nn(ONTOLOGY_IRI), _nn(DCTERMS + "license"), _nn("http://spdx.org/licenses/CC-BY-4.0")),
    ]
    if license_iri:
        out.append(T(dataset, _nn(DCTERMS + "license"), _nn(license_iri)))
    for namespace in sorted({p.rsplit("#", 1)[0] + "#" if "#" in p else p.rsplit("/", 1)[0] + "/" for p in stats["properties"]}):
        if namespace != VOID:
            out.append(T(dataset, _nn(VOID + "vocabulary"), _nn(namespace)))
    for iri in stats["examples"]:
        out.append(T(dataset, _nn(VOID + "exampleResource"), _nn(iri)))
    for i, (cls, n) in enumerate(sorted(stats["classes"].items())):
        part = _nn(f"{public}/.well-known/void#class-{cls.rsplit('#', 1)[-1]}")
        out += [T(dataset, _nn(VOID + "classPartition"), part), T(part, _nn(VOID + "class"), _nn(cls)), T(part, _nn(VOID + "entities"), _lit(n))]
    for i, (prop, n) in enumerate(sorted(stats["properties"].items())):
        part = _nn(f"{public}/.well-known/void#property-{i}")
        out += [T(dataset, _nn(VOID + "propertyPartition"), part), T(part, _nn(VOID + "property"), _nn(prop)), T(part, _nn(VOID + "triples"), _lit(n))]
    for dump in dumps:
        url = _nn(f"{public}/dumps/{dump['name']}")
        checksum = _nn(f"{public}/dumps/{dump['name']}#sha256")
        out += [
            T(dataset, _nn(VOID + "dataDump"), url),
            T(url, _nn(DCTERMS + "format"), _lit(dump["media_type"])),
            T(url, _nn(DCTERMS + "extent"), _lit(dump["size"])),
            T(url, _nn(SPDX + "checksum"), checksum),
            T(checksum, rdf_type, _nn(SPDX + "Checksum")),
            T(checksum, _nn(SPDX + "algorithm"), _nn(SPDX + "checksumAlgorithm_sha256")),
            T(checksum, _nn(SPDX + "checksumValue"), _lit(dump["sha256"], XSD + "hexBinary")),
        ]
    return out


def service_description(public: str, triples: int | None, update: bool, timeout: float, max_rows: int) -> list[ox.Triple]:
    """The SPARQL 1.1 Service Description of the endpoint."""
    T = ox.Triple
    endpoint = _nn(f"{public}/sparql")
    service = _nn(f"{public}/sparql#service")
    dataset, graph = _nn(f"{public}/sparql#dataset"), _nn(f"{public}/sparql#default-graph")
    rdf_type = _nn(RDF_TYPE)
    out = [
        T(service, rdf_type, _nn(SD + "Service")),
        T(service, _nn(SD + "endpoint"), endpoint),
        T(service, _nn(SD + "supportedLanguage"), _nn(SD + "SPARQL11Query")),
        T(service, _nn(SD + "defaultEntailmentRegime"), _nn("http://www.w3.org/ns/entailment/Simple")),
        T(service, _nn(RDFS + "label"), _lit("HuggingKG SPARQL endpoint")),
        T(service, _nn(RDFS + "comment"), _lit(
            f"SPARQL 1.1 Query over HuggingKG. Queries run at most {timeout:g} s and return at most {max_rows} rows or triples; "
            "a result cut at that cap carries the header X-SPARQL-Truncated: true (and, in JSON results, \"truncated\": true). "
            "SERVICE (federated query) is refused. The prefixes hkg:, rdf:, rdfs:, xsd:, dcterms:, prov:, schema:, foaf:, skos: are predeclared.")),
        T(service, _nn(SD + "defaultDataset"), dataset),
        T(dataset, rdf_type, _nn(SD + "Dataset")),
        T(dataset, _nn(SD + "defaultGraph"), graph),
        T(graph, rdf_type, _nn(SD + "Graph")),
        T(dataset, _nn(_VOID_SEE_ALSO), _nn(f"{public}/.well-known/void#HuggingKG")),
    ]
    if triples is not None:
        out.append(T(graph, _nn(VOID + "triples"), _lit(triples)))
    if update:
        out.append(T(service, _nn(SD + "supportedLanguage"), _nn(SD + "SPARQL11Update")))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        out.append(T(service, _nn(SD + "resultFormat"), _nn(FORMATS + name)))
    return out


_VOID_SEE_ALSO = RDFS + "seeAlso"
