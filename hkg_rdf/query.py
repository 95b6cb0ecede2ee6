"""Run SPARQL on the store and write the results as a table, SPARQL JSON, CSV/TSV or RDF."""

from __future__ import annotations

from typing import IO

import pyoxigraph as ox

from .errors import InputError
from .rdfio import XmlWriter
from .vocab import PREFIXES

RESULT_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML, "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
GRAPH_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}
FORMATS = ("table", *RESULT_FORMATS, *GRAPH_FORMATS)
CELL_WIDTH = 80


def run(store: ox.Store, sparql: str, label: str = "query", substitutions: dict | None = None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Evaluate a query; the usual prefixes (hkg:, rdfs:, prov:, ...) need no declaration;
    ``substitutions`` bind variables before evaluation (SEP-0007)."""
    try:
        return store.query(sparql, prefixes=PREFIXES, substitutions=substitutions or None)
    except SyntaxError as error:
        raise InputError(label, f"SPARQL syntax error: {error}") from error


def csv_value(term: object) -> str:
    """A result cell as SPARQL 1.1 CSV writes it: an IRI or a literal's lexical form, a blank
    node as _:id, an unbound variable as the empty string."""
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return term.value
    return str(term)


# one table row per result row: line breaks become a visible mark, other control characters
# (a README's CR or ANSI escapes, which a terminal would act on) their Unicode control pictures
_CELL_CHARS = {c: chr(0x2400 + c) for c in range(0x20)} | {0x7F: "\u2421", 0x0A: "\u23ce", 0x09: " ", 0x85: "\u23ce", 0x2028: "\u23ce", 0x2029: "\u23ce"}


def _cell(term: object) -> str:
    if term is None:
        return ""
    text = term.value if isinstance(term, (ox.NamedNode, ox.Literal)) else str(term)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_CELL_CHARS)
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "\u2026"


def _table(solutions: ox.QuerySolutions, out: IO[str]) -> int:
    names = [v.value for v in solutions.variables]
    rows = [[_cell(row[name]) for name in names] for row in solutions]
    widths = [max([len(name), *(len(r[i]) for r in rows)]) for i, name in enumerate(names)]
    out.write(" | ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip() + "\n")
    out.write("-+-".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write(" | ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' * (len(rows) != 1)})\n")
    return len(rows)


def write_results(results: object, fmt: str, text_out: IO[str], binary_out: IO[bytes]) -> None:
    """Write query results in ``fmt``; graph results default to Turtle in table mode."""
    if fmt == "xml":  # a CR in a literal must reach XML parsers as &#13;, not as a raw byte
        binary_out = XmlWriter(binary_out, "--format xml", strict=False)
    if isinstance(results, ox.QueryBoolean):
        if fmt in RESULT_FORMATS:
            results.serialize(binary_out, RESULT_FORMATS[fmt])
        else:
            text_out.write(("true" if bool(results) else "false") + "\n")
    elif isinstance(results, ox.QueryTriples):
        rdf_fmt = GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE)
        ox.serialize(results, binary_out, rdf_fmt, prefixes=PREFIXES if rdf_fmt != ox.RdfFormat.N_TRIPLES else None)
    elif fmt in RESULT_FORMATS:
        results.serialize(binary_out, RESULT_FORMATS[fmt])
    elif fmt == "table":
        _table(results, text_out)
    else:
        raise InputError("--format", f"{fmt} is for CONSTRUCT/DESCRIBE results; SELECT gives table, json, xml, csv or tsv")
