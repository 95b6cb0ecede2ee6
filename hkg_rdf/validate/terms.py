"""Terms between the shapes graph (rdflib), SPARQL text and the store (pyoxigraph), kept exact.

Oxigraph stores literals by value: ``"0300"^^xsd:short`` and ``"300"^^xsd:byte`` both come back
as ``"300"^^xsd:integer``, ``"1.50"`` as ``"1.5"``. SHACL compares terms, datatypes and lexical
forms as written, so while reading input files every literal that the store would rewrite (and
every integer-derived one, whose range Oxigraph cannot check) is stored as a *stand-in*: the
lexical form as written, typed with an IRI that records the original datatype and whether the
value is in its lexical space. The compiled expressions read datatype and value through the
helpers below when stand-ins exist, and results decode them back to the original terms.
(Language tags are lower-cased by the store, which RDF 1.1 allows: "hi"@EN is "hi"@en.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import rdflib

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

PREFIX = "urn:x-hkg-rdf:literal:"
WELL_FORMED, ILL_FORMED = "ok:", "ill:"
XSD_NS = str(XSD)
#: Integer-derived types: Oxigraph keeps only their value (as xsd:integer), so their ranges.
INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    XSD_NS + name: bounds for name, bounds in {
        "nonNegativeInteger": (0, None), "positiveInteger": (1, None), "nonPositiveInteger": (None, 0),
        "negativeInteger": (None, -1), "long": (-(2**63), 2**63 - 1), "int": (-(2**31), 2**31 - 1),
        "short": (-(2**15), 2**15 - 1), "byte": (-128, 127), "unsignedLong": (0, 2**64 - 1),
        "unsignedInt": (0, 2**32 - 1), "unsignedShort": (0, 2**16 - 1), "unsignedByte": (0, 255),
    }.items()
}
INTEGER_LEXICAL = re.compile(r"[+-]?[0-9]+")
#: Lexical forms Oxigraph keeps as they are (the usual ones), checked without a round trip.
CANONICAL = {
    XSD_NS + "integer": re.compile(r"0|-?[1-9][0-9]*"),
    XSD_NS + "dateTime": re.compile(r"-?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?(Z|[+-][0-9]{2}:[0-9]{2})?"),
    XSD_NS + "boolean": re.compile(r"true|false"),
}
PLAIN = {XSD_NS + "string", str(RDF.langString)}
_SCRATCH = ox.Store()
_S, _P = ox.NamedNode("urn:x-hkg-rdf:s"), ox.NamedNode("urn:x-hkg-rdf:p")


@lru_cache(maxsize=1 << 16)
def _stored(value: str, datatype: str) -> bool:
    """Whether Oxigraph stores this typed literal as it is (a round trip through a scratch store)."""
    literal = ox.Literal(value, datatype=ox.NamedNode(datatype))
    quad = ox.Quad(_S, _P, literal)
    _SCRATCH.add(quad)
    try:
        return next(iter(_SCRATCH)).object == literal
    finally:
        _SCRATCH.clear()


def _integer_in_range(value: str, datatype: str) -> bool:
    if not INTEGER_LEXICAL.fullmatch(value):
        return False
    low, high = INTEGER_RANGES[datatype]
    number = int(value)
    return (low is None or number >= low) and (high is None or number <= high)


def stand_in(literal: ox.Literal) -> ox.Literal | None:
    """The stand-in for a literal the store would not keep as written, or None to store it as it is."""
    if literal.language:
        return None
    datatype = literal.datatype.value
    if datatype in PLAIN or not datatype.startswith(XSD_NS):
        return None
    if datatype in INTEGER_RANGES:
        kind = WELL_FORMED if _integer_in_range(literal.value, datatype) else ILL_FORMED
        return ox.Literal(literal.value, datatype=ox.NamedNode(PREFIX + kind + datatype))
    canonical = CANONICAL.get(datatype)
    if canonical is not None and canonical.fullmatch(literal.value):
        return None
    if _stored(literal.value, datatype):
        return None
    return ox.Literal(literal.value, datatype=ox.NamedNode(PREFIX + WELL_FORMED + datatype))


def exact_quads(quads, flag: list[bool]):
    """The quads with stand-ins for the literals the store would rewrite; ``flag[0]`` set when any."""
    literal_type = ox.Literal
    for quad in quads:
        value = quad.object
        if type(value) is literal_type:
            replacement = stand_in(value)
            if replacement is not None:
                flag[0] = True
                quad = ox.Quad(quad.subject, quad.predicate, replacement, quad.graph_name)
        yield quad


@contextmanager
def as_written() -> Iterator[None]:
    """rdflib parsing that keeps lexical forms ("1"^^xsd:boolean stays "1", not "true")."""
    before, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        yield
    finally:
        rdflib.NORMALIZE_LITERALS = before


# ---------------------------------------------------------------- SPARQL text


def to_ox(term: Node, exact: bool = False) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    """A shapes-graph term as an Oxigraph term (a stand-in where the data has them)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        literal = ox.Literal(str(term), language=term.language)
    else:
        literal = ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD.string)))
    return (stand_in(literal) or literal) if exact else literal


def sparql(term: Node, exact: bool = False) -> str:
    """A shapes-graph IRI or literal as SPARQL text (escaped by Oxigraph)."""
    if isinstance(term, BNode):
        raise ValueError(f"a blank node {term.n3()} cannot be written in a query")
    return str(to_ox(term, exact))


def to_rdflib(term) -> Node | None:
    """An Oxigraph term as an rdflib term, the original literal for a stand-in."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype.startswith(PREFIX):
        return Literal(term.value, datatype=URIRef(datatype[len(PREFIX):].split(":", 1)[1]))
    if datatype == XSD_NS + "string":
        return Literal(term.value)  # rdflib's form of a plain literal, as its parsers make it
    return Literal(term.value, datatype=URIRef(datatype))


class Terms:
    """SPARQL expressions reading a value as written: through stand-ins when ``exact``."""

    def __init__(self, exact: bool):
        self.exact = exact

    def term(self, term: Node) -> str:
        return sparql(term, self.exact)

    def _is_stand_in(self, var: str) -> str:
        return f'STRSTARTS(STR(DATATYPE({var})), "{PREFIX}")'

    def value(self, var: str) -> str:
        """The value to compare (a stand-in becomes its original literal again)."""
        if not self.exact:
            return var
        original = f'IRI(STRAFTER(STRAFTER(STR(DATATYPE({var})), "{PREFIX}"), ":"))'
        return f"IF(isLiteral({var}) && {self._is_stand_in(var)}, STRDT(STR({var}), {original}), {var})"

    def has_datatype(self, var: str, datatype: URIRef, stored: str) -> str:
        """``var`` is a literal of ``datatype`` in its lexical space (``stored``: the check of a stored literal)."""
        if not self.exact:
            return stored
        stand_in_ok = f'STR(DATATYPE({var})) = "{PREFIX}{WELL_FORMED}{datatype}"'
        return f"IF(isLiteral({var}) && {self._is_stand_in(var)}, {stand_in_ok}, {stored})"
