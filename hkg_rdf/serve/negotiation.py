"""HTTP content negotiation (RFC 9110 Accept with q-values and wildcards) and media types."""

from __future__ import annotations

import pyoxigraph as ox

# SPARQL results
SPARQL_JSON = "application/sparql-results+json"
SPARQL_XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
# RDF
TURTLE = "text/turtle"
NTRIPLES = "application/n-triples"
JSONLD = "application/ld+json"
RDFXML = "application/rdf+xml"
HTML = "text/html"
JSON = "application/json"
XML = "application/xml"

#: media type -> pyoxigraph RDF format, for graph documents
RDF_FORMATS = {TURTLE: ox.RdfFormat.TURTLE, NTRIPLES: ox.RdfFormat.N_TRIPLES, JSONLD: ox.RdfFormat.JSON_LD, RDFXML: ox.RdfFormat.RDF_XML}
#: short names accepted in ?format= (and file extensions of document variants)
SHORT_NAMES = {
    "json": SPARQL_JSON, "srj": SPARQL_JSON, "xml": SPARQL_XML, "srx": SPARQL_XML, "csv": CSV, "tsv": TSV,
    "ttl": TURTLE, "turtle": TURTLE, "nt": NTRIPLES, "ntriples": NTRIPLES, "jsonld": JSONLD, "rdf": RDFXML,
    "rdfxml": RDFXML, "owl": RDFXML, "html": HTML,
}
EXTENSIONS = {TURTLE: "ttl", NTRIPLES: "nt", JSONLD: "jsonld", RDFXML: "rdf", HTML: "html"}

#: offers in server preference order (the first wins ties and a missing Accept)
SOLUTION_TYPES = (SPARQL_JSON, SPARQL_XML, CSV, TSV, HTML)
BOOLEAN_TYPES = (SPARQL_JSON, SPARQL_XML, CSV, TSV, HTML)
GRAPH_TYPES = (TURTLE, NTRIPLES, JSONLD, RDFXML, HTML)
DOCUMENT_TYPES = (TURTLE, NTRIPLES, JSONLD, RDFXML, HTML)
#: other names clients use for the same formats
ALIASES = {JSON: SPARQL_JSON, XML: SPARQL_XML, "text/xml": SPARQL_XML, "application/xhtml+xml": HTML, "text/plain": NTRIPLES, "application/x-turtle": TURTLE}


def _ranges(accept: str) -> list[tuple[str, str, float, int]]:
    """(type, subtype, q, order) for each media range of an Accept header."""
    ranges = []
    for order, item in enumerate(accept.split(",")):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            continue
        kind, _, subtype = parts[0].lower().partition("/")
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append((kind, subtype or "*", q, order))
    return ranges


def _quality(offer: str, ranges: list[tuple[str, str, float, int]], aliases: dict[str, str]) -> tuple[float, int]:
    """The q of the most specific range matching ``offer`` (aliases count as exact), and its specificity."""
    kind, _, subtype = offer.partition("/")
    best: tuple[int, float] | None = None
    for rkind, rsub, q, _ in ranges:
        full = f"{rkind}/{rsub}"
        if full == offer or aliases.get(full) == offer:
            specificity = 3 if full == offer else 2
        elif rkind == kind and rsub == "*":
            specificity = 1
        elif rkind == "*":
            specificity = 0
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, q)
    return (0.0, -1) if best is None else (best[1], best[0])


def negotiate(accept: str | None, offers: tuple[str, ...], aliases: dict[str, str] = ALIASES) -> str | None:
    """The offer the client prefers (server order breaks ties), or None if none is acceptable."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = _ranges(accept)
    if not ranges:
        return offers[0]
    best, best_q = None, 0.0
    for offer in offers:
        q, _ = _quality(offer, ranges, aliases)
        if q > best_q:
            best, best_q = offer, q
    return best


def choose(format_param: str | None, accept: str | None, offers: tuple[str, ...]) -> str | None:
    """An explicit ``?format=`` (short name or media type) wins over Accept; None if unacceptable."""
    if format_param:
        wanted = SHORT_NAMES.get(format_param.lower(), ALIASES.get(format_param.lower(), format_param.lower()))
        return wanted if wanted in offers else None
    return negotiate(accept, offers)
