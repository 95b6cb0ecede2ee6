"""Entity descriptions for linked-data pages: what an entity says, what points at it, its lineage.

:func:`entity_page` (run in a worker) renders an entity's HTML page from what :func:`describe`
gathers, bounded: at most ``per_property`` links shown per property and direction (with the full
count), literals cut for display at ``text_limit`` characters, lineage explored breadth-first up
to ``lineage_limit`` steps. :func:`entity_document` (also in a worker) writes the entity's RDF
description (its own triples and the triples pointing at it) in a negotiated format.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache, lru_cache
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from ..iris import IriMinter
from ..vocab import PREFIXES, RDF_TYPE, RDFS, XSD_STRING, data_path, vocabulary, ONTOLOGY_FILE
from . import cards, rendering, sparql
from .lineage import picture

FOAF = "http://xmlns.com/foaf/0.1/"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
HUB = "https://huggingface.co/"
#: Where each entity type lives on the Hub, by IRI segment ({id} is the Hub id, URL-quoted).
HUB_PATHS = {
    "model": "{id}", "dataset": "datasets/{id}", "space": "spaces/{id}", "paper": "papers/{id}",
    "collection": "collections/{id}", "user": "{id}", "org": "{id}", "task": "tasks/{id}",
}


def hub_url(segment: str, entity_id: str) -> str | None:
    path = HUB_PATHS.get(segment)
    return HUB + path.format(id=quote(entity_id, safe="/")) if path else None


def page_path(segment: str, entity_id: str) -> str:
    from ..iris import encode_id

    return f"/page/{segment}/{encode_id(entity_id)}"


def data_path_of(segment: str, entity_id: str) -> str:
    from ..iris import encode_id

    return f"/data/{segment}/{encode_id(entity_id)}"


@cache
def ontology_terms() -> dict[str, dict]:
    """Label, comment and super-properties of each term of the ontology."""
    terms: dict[str, dict] = {}
    for triple in ox.parse(path=str(data_path(*ONTOLOGY_FILE)), format=ox.RdfFormat.TURTLE):
        if not isinstance(triple.subject, ox.NamedNode):
            continue
        entry = terms.setdefault(triple.subject.value, {"label": None, "comment": None, "super": []})
        p = triple.predicate.value
        if p == RDFS + "label":
            entry["label"] = triple.object.value
        elif p == RDFS + "comment":
            entry["comment"] = triple.object.value
        elif p == RDFS + "subPropertyOf":
            entry["super"].append(triple.object.value)
    return terms


@cache
def lineage_properties() -> dict[str, str]:
    """The lineage properties (sub-properties of prov:wasDerivedFrom) -> kind (finetune, ...)."""
    terms = ontology_terms()
    return {
        r.prop: r.name.split("_")[1]
        for r in vocabulary().relations
        if r.subject == r.object and PROV_DERIVED in terms.get(r.prop, {}).get("super", [])
    }


@cache
def card_property() -> str:
    """The property holding a README (model and dataset cards), rendered as Markdown."""
    return next(f.prop for t in vocabulary().types for f in t.fields if f.name == "description")


#: Prefixes for display: the usual ones and those of VoID, service descriptions, OWL and SHACL.
DISPLAY_PREFIXES = {
    **PREFIXES, "owl": "http://www.w3.org/2002/07/owl#", "sh": "http://www.w3.org/ns/shacl#", "void": "http://rdfs.org/ns/void#",
    "sd": "http://www.w3.org/ns/sparql-service-description#", "spdx": "http://spdx.org/rdf/terms#", "formats": "http://www.w3.org/ns/formats/",
    "dcat": "http://www.w3.org/ns/dcat#", "hkgsh": "https://w3id.org/huggingkg/shapes#", "hkgm": "https://w3id.org/huggingkg/mapping#",
}


@lru_cache(maxsize=65536)
def curie(iri: str) -> str:
    for prefix, namespace in DISPLAY_PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def term_view(term: object, minter: IriMinter, text_limit: int = 5000) -> dict:
    """A term as the templates show it (entities of ours link to their pages)."""
    if isinstance(term, ox.NamedNode):
        parsed = minter.parse(term.value)
        if parsed:
            entity_type, entity_id = parsed
            return {"kind": "entity", "iri": term.value, "segment": entity_type.segment, "id": entity_id, "href": page_path(entity_type.segment, entity_id)}
        label = curie(term.value)
        return {"kind": "iri", "iri": term.value, "label": label, "href": term.value}
    if isinstance(term, ox.Literal):
        value = term.value
        view = {"kind": "literal", "value": value[:text_limit], "length": len(value), "cut": len(value) > text_limit}
        if term.language:
            view["lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            view["datatype"] = curie(term.datatype.value)
        return view
    if isinstance(term, ox.BlankNode):
        return {"kind": "bnode", "value": f"_:{term.value}"}
    if term is None:
        return {"kind": "none"}
    return {"kind": "literal", "value": str(term), "length": len(str(term)), "cut": False}


@lru_cache(maxsize=65536)
def property_view(iri: str) -> dict:
    """A property as the templates show it (shared between pages: never changed)."""
    entry = ontology_terms().get(iri, {})
    href = "/ontology#" + iri.rsplit("#", 1)[1] if iri in ontology_terms() and "#" in iri else iri
    return {"iri": iri, "href": href, "curie": curie(iri), "label": entry.get("label") or curie(iri), "comment": entry.get("comment")}


# ---------------------------------------------------------------- in a worker


def _lineage(store: ox.Store, iri: str, minter: IriMinter, up: bool, limit: int, known: dict[str, list] | None) -> dict:
    """The lineage tree above (bases) or below (derived models) an entity, breadth first.

    Each step is a lookup in the store's indexes (no SPARQL to parse and plan: most of a page's
    time when it was one query per generation). ``known``: the entity's own edges, by lineage
    property in index order, when describe() has read them already (None: look them up)."""
    props = lineage_properties()
    root = {"iri": iri, "children": []}
    nodes = {iri: root}
    frontier, steps = [iri], 0
    while frontier:
        next_frontier = []
        for parent, relation, far in _edges(store, frontier, props, up, known):
            if steps == limit:
                return {"tree": root["children"], "steps": steps, "truncated": True}
            steps += 1
            child = far.value
            node = {**term_view(far, minter), "relation": props[relation], "children": [], "repeat": child in nodes}
            nodes[parent]["children"].append(node)
            if child not in nodes and isinstance(far, ox.NamedNode):  # (a literal or blank node ends its branch)
                nodes[child] = node
                next_frontier.append(child)
        frontier, known = next_frontier, None
    return {"tree": root["children"], "steps": steps, "truncated": False}


def _edges(store: ox.Store, frontier: list[str], props: dict[str, str], up: bool, known: dict[str, list] | None = None) -> Iterator[tuple[str, str, ox.Term]]:
    """(node, lineage property, base or derived model) of each frontier node, in frontier order;
    ``known``, when given, holds the far ends of the (single) frontier node's edges."""
    default, predicates = ox.DefaultGraph(), [(prop, ox.NamedNode(prop)) for prop in props]
    for node in frontier:
        term = ox.NamedNode(node)
        for prop, predicate in predicates:
            if known is not None:
                ends = known.get(prop, ())
            else:
                pattern = (term, predicate, None) if up else (None, predicate, term)
                ends = (quad.object if up else quad.subject for quad in store.quads_for_pattern(*pattern, default))
            for far in ends:
                yield node, prop, far


#: Links in that describe() reads from the index itself; an entity with more is counted by SPARQL.
SCANNED_LINKS_IN = 2000


def _scan_in(store: ox.Store, node: ox.NamedNode) -> dict[str, list] | None:
    """The subjects of the links into ``node`` (default graph), by property IRI in index order
    (the order of a ``(None, p, node)`` lookup), or None past SCANNED_LINKS_IN links."""
    by_property: dict[str, list] = {}
    for number, quad in enumerate(store.quads_for_pattern(None, None, node, ox.DefaultGraph())):
        if number == SCANNED_LINKS_IN:
            return None
        by_property.setdefault(quad.predicate.value, []).append(quad.subject)
    return by_property


def _links_in(store: ox.Store, node: ox.NamedNode, scanned: dict[str, list] | None, offset, per_property: int) -> Iterator[tuple[str, int, int, list]]:
    """(property, count, offset, the subjects shown from ``offset(property)`` on) of the links into ``node``, by property IRI.

    Most entities have a few links in: one index scan (``scanned``) gives them all, ordered as
    SPARQL's ``ORDER BY`` orders subjects (blank nodes first, then IRIs by code point), without
    parsing and planning a query per property. Past SCANNED_LINKS_IN, Oxigraph counts and pages them."""
    if scanned is not None:
        for p in sorted(scanned):
            subjects = sorted(scanned[p], key=lambda s: (isinstance(s, ox.NamedNode), s.value))
            start = offset(p)
            yield p, len(subjects), start, subjects[start:start + per_property]
        return
    iri = node.value
    for solution in store.query(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ ?s ?p <{iri}> }} GROUP BY ?p ORDER BY ?p"):
        p, start = solution["p"].value, offset(solution["p"].value)
        subjects = [s["s"] for s in store.query(f"SELECT ?s WHERE {{ ?s <{p}> <{iri}> }} ORDER BY ?s OFFSET {start} LIMIT {per_property}")]
        yield p, int(solution["n"].value), start, subjects


def paging(params) -> dict:
    """describe()'s arguments for one list paged on (``?in=PROPERTY&from=N`` or ``?out=...``)."""
    for direction in ("in", "out"):
        prop = params.get(direction)
        start = params.get("from", "0")
        if prop and start.isdigit():
            return {"page": (direction, prop, min(int(start), 10_000_000))}
    return {}


def describe(store: ox.Store, iri: str, base_iri: str, per_property: int = 50, lineage_limit: int = 200, text_limit: int = 5000,
             page: tuple[str, str, int] | None = None) -> dict:
    """Everything the entity page shows, bounded (see the module docstring).

    ``page``: (direction "in" or "out", property IRI, offset): that list shows the
    ``per_property`` items from the offset on, the others their first ones.
    """
    def offset(direction: str, p: str) -> int:
        return page[2] if page and page[0] == direction and page[1] == p else 0

    minter = IriMinter(base_iri)
    node = ox.NamedNode(iri)
    attributes: dict[str, list] = {}
    links_out: dict[str, dict] = {}
    types = []
    card = None
    props = lineage_properties()
    bases: dict[str, list] = {}  # the entity's own lineage edges, for _lineage
    for quad in store.quads_for_pattern(node, None, None):
        p, o = quad.predicate.value, quad.object
        if p in props and isinstance(quad.graph_name, ox.DefaultGraph):
            bases.setdefault(p, []).append(o)
        if p == RDF_TYPE:
            types.append(term_view(o, minter))
        elif p == card_property() and isinstance(o, ox.Literal) and card is None:
            parsed = minter.parse(iri)
            card = cards.render(o.value, hub_url(parsed[0].segment, parsed[1]) if parsed else None)
        elif isinstance(o, ox.Literal):
            attributes.setdefault(p, []).append(term_view(o, minter, text_limit))
        else:
            group = links_out.get(p)
            if group is None:
                group = links_out[p] = {"property": property_view(p), "count": 0, "items": [], "offset": offset("out", p)}
            group["count"] += 1
            if group["offset"] < group["count"] <= group["offset"] + per_property:
                group["items"].append(term_view(o, minter))
    links_in = {}
    scanned = _scan_in(store, node)
    for p, count, start, subjects in _links_in(store, node, scanned, lambda p: offset("in", p), per_property):
        links_in[p] = {"property": property_view(p), "count": count, "items": [term_view(s, minter) for s in subjects], "offset": start}
    lineage = None
    if any(p in props for p in links_out) or any(p in props for p in links_in):
        lineage = {"up": _lineage(store, iri, minter, True, lineage_limit, bases),
                   "down": _lineage(store, iri, minter, False, lineage_limit, scanned)}
        direct = {"up": sum(g["count"] for p, g in links_out.items() if p in props), "down": sum(g["count"] for p, g in links_in.items() if p in props)}
        lineage["picture"] = picture(term_view(node, minter), lineage, direct, props)
    return {
        "exists": bool(types or attributes or links_out or links_in or card),
        "card": card,
        "types": types,
        "attributes": [{"property": property_view(p), "values": v} for p, v in sorted(attributes.items(), key=lambda kv: curie(kv[0]))],
        "links_out": sorted(links_out.values(), key=lambda g: g["property"]["curie"]),
        "links_in": sorted(links_in.values(), key=lambda g: g["property"]["curie"]),
        "lineage": lineage,
        "per_property": per_property,
    }


def entity_document(store: ox.Store, iri: str, document: str, media_type: str, max_triples: int) -> dict:
    """The entity's RDF description: its triples and those pointing at it, at most ``max_triples`` each way."""
    node = ox.NamedNode(iri)
    triples = [
        ox.Triple(ox.NamedNode(document), ox.NamedNode(RDF_TYPE), ox.NamedNode(FOAF + "Document")),
        ox.Triple(ox.NamedNode(document), ox.NamedNode(FOAF + "primaryTopic"), node),
    ]
    found, truncated = 0, False
    for pattern in ((node, None, None), (None, None, node)):
        count = 0
        for quad in store.quads_for_pattern(*pattern):
            if pattern[0] is None and quad.subject == node:  # a loop, already written
                continue
            if count == max_triples:
                truncated = True
                break
            triples.append(quad.triple)
            count += 1
        found += count
    if not found:
        return {"exists": False}
    return {"exists": True, "truncated": truncated, "body": sparql.write_graph(triples, media_type, truncated)}


def entity_page(store: ox.Store, iri: str, base_iri: str, segment: str, entity_id: str, gzipped: bool, page: tuple[str, str, int] | None = None) -> dict:
    """The entity's HTML page, rendered here in the worker; ``body`` gzipped if ``gzipped`` (and not tiny)."""
    facts = describe(store, iri, base_iri, page=page)
    if not facts["exists"]:
        return {"exists": False}
    data = data_path_of(segment, entity_id)
    html = rendering.render(
        "entity.html", title=f"{segment} {entity_id}", iri=iri, segment=segment, entity_id=entity_id, facts=facts,
        hub=hub_url(segment, entity_id), data=data, alternates=rendering.alternates(data),
        query_href={"in": lambda prop: "/?" + urlencode({"query": f"SELECT ?s WHERE {{\n  ?s <{prop}> <{iri}> .\n}}"}),
                    "out": lambda prop: "/?" + urlencode({"query": f"SELECT ?o WHERE {{\n  <{iri}> <{prop}> ?o .\n}}"})},
    )
    body, encoding = rendering.encoded(html, gzipped)
    return {"exists": True, "body": body, "encoding": encoding, "data": data}
