"""HTTP content negotiation (RFC 9110 Accept with q-values and wildcards) and media types.

Besides Accept, clients name formats in a ``format`` parameter: short names (``json``,
``ttl``, SPARQLWrapper's ``json-ld`` and ``rdf+xml``) or media types, possibly several (SPARQLWrapper
repeats it, the second time as an Accept-like list). A format name that means nothing here is
ignored (Accept decides); one that names formats none of which is offered gets 406. Generic
names follow the kind of result: ``json`` / ``application/json`` is SPARQL JSON for solutions
and JSON-LD for graphs, ``xml`` SPARQL XML or RDF/XML.
"""

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
    "ttl": TURTLE, "turtle": TURTLE, "n3": TURTLE, "nt": NTRIPLES, "ntriples": NTRIPLES, "n-triples": NTRIPLES, "jsonld": JSONLD,
    "json-ld": JSONLD, "rdf": RDFXML, "rdfxml": RDFXML, "rdf+xml": RDFXML, "owl": RDFXML, "html": HTML,
}
EXTENSIONS = {TURTLE: "ttl", NTRIPLES: "nt", JSONLD: "jsonld", RDFXML: "rdf", HTML: "html"}

#: offers in server preference order (the first wins ties and a missing Accept)
SOLUTION_TYPES = (SPARQL_JSON, SPARQL_XML, CSV, TSV, HTML)
BOOLEAN_TYPES = (SPARQL_JSON, SPARQL_XML, CSV, TSV, HTML)
GRAPH_TYPES = (TURTLE, NTRIPLES, JSONLD, RDFXML, HTML)
DOCUMENT_TYPES = (TURTLE, NTRIPLES, JSONLD, RDFXML, HTML)
#: other names clients use for the same formats (generic ones: the first of them that is offered)
ALIASES = {
    JSON: (SPARQL_JSON, JSONLD), XML: (SPARQL_XML, RDFXML), "text/xml": (SPARQL_XML, RDFXML), "application/xhtml+xml": (HTML,),
    "text/plain": (NTRIPLES,), "application/x-turtle": (TURTLE,), "application/x-json+ld": (JSONLD,), "text/n3": (TURTLE,), "text/rdf+n3": (TURTLE,),
}
#: what a short name for a result format means for the other kinds of result
_ALSO = {SPARQL_JSON: (JSONLD, JSON), SPARQL_XML: (RDFXML, XML)}
_KNOWN = {*SHORT_NAMES.values(), *ALIASES, *RDF_FORMATS, SPARQL_JSON, SPARQL_XML, CSV, TSV, HTML}


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


def _quality(offer: str, ranges: list[tuple[str, str, float, int]], aliases: dict[str, str]) -> float:
    """The q of the most specific range matching ``offer`` (an alias is less specific than the name, more than a wildcard)."""
    kind, _, subtype = offer.partition("/")
    best: tuple[int, float] | None = None
    for rkind, rsub, q, _ in ranges:
        full = f"{rkind}/{rsub}"
        alias = aliases.get(full, ())
        if full == offer or offer == alias or offer in alias:
            specificity = 3 if full == offer else 2
        elif rkind == kind and rsub == "*":
            specificity = 1
        elif rkind == "*":
            specificity = 0
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, q)
    return 0.0 if best is None else best[1]


def negotiate(accept: str | None, offers: tuple[str, ...], aliases: dict[str, str] = ALIASES) -> str | None:
    """The offer the client prefers (server order breaks ties), or None if none is acceptable."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = _ranges(accept)
    if not ranges:
        return offers[0]
    best, best_q = None, 0.0
    for offer in offers:
        q = _quality(offer, ranges, aliases)
        if q > best_q:
            best, best_q = offer, q
    return best


def _meanings(name: str) -> tuple[str, ...]:
    """The media types a format name (short name or media type, parameters ignored) may mean; () if none."""
    name = name.split(";")[0].strip().lower()
    primary = SHORT_NAMES.get(name, name)
    if primary in ALIASES:
        return (primary, *ALIASES[primary])
    return (primary, *_ALSO.get(primary, ())) if primary in _KNOWN else ()


def choose(format_param: str | list[str] | None, accept: str | None, offers: tuple[str, ...]) -> str | None:
    """The format the ``format`` parameter(s) name, if any is known here, else Accept's choice; None if unacceptable."""
    values = [format_param] if isinstance(format_param, str) else list(format_param or ())
    meanings = [m for value in values for item in value.split(",") for m in _meanings(item)]
    if not meanings:
        return negotiate(accept, offers)
    return next((m for m in meanings if m in offers), None)
