"""The SPARQL 1.1 Protocol: reading requests, refusing what is unsafe, running and writing results.

Reading (server side): :func:`read_operation` turns a GET or POST into an :class:`Operation`
(a query or an update, with its dataset IRIs), or raises :class:`ProtocolError` with the HTTP
status to answer (400, 405, 413, 414, 415).

Checking: :mod:`hkg_rdf.serve.policy` (``SERVICE`` and ``LOAD`` refused on the parsed
operation, in the worker, before any store sees the text; too deep or too long texts refused
by the server before any worker does).

Running (in a worker process): :func:`run_query` checks, evaluates the query on the store and
writes the results in the negotiated format, stopping after ``max_rows`` rows (or triples) or
``max_bytes`` bytes: a result cut there is marked as truncated, never silently (see
:data:`TRUNCATED_HEADER`). Where the format has room for it the body says so too: SPARQL JSON
(``"truncated": true`` and ``head.link``), SPARQL XML (``<link href="...#truncated">``),
Turtle and N-Triples (a first comment line), RDF/XML (a trailing XML comment). CSV, TSV and
JSON-LD have no place for it that every reader ignores: there only the header says it.

XML: XML 1.0 cannot carry some characters at all, not even as character references: C0
controls other than tab, LF and CR (ANSI escapes, NUL), U+FFFE and U+FFFF (lone surrogates
cannot be in the store: RDF literals are Unicode strings). In SPARQL XML results and RDF/XML
each is written as U+FFFD REPLACEMENT CHARACTER, so that every XML parser reads the document;
JSON, CSV, TSV, Turtle, N-Triples and JSON-LD carry them exactly.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ..query import csv_value
from ..vocab import PREFIXES, RDF, XSD_STRING
from . import negotiation as media
from .policy import ProtocolError, check_operation, code_of  # noqa: F401 - check_operation, code_of: part of this module's interface

#: Response header on every query result: "true" if rows were cut at the cap, else "false".
TRUNCATED_HEADER = "X-SPARQL-Truncated"
#: Response header on every query result: the row cap in force.
MAX_ROWS_HEADER = "X-SPARQL-Max-Rows"
#: In JSON and XML results of a truncated query, head.link / <link href> names this fragment of
#: the endpoint (and JSON results also carry a top-level "truncated": true).
TRUNCATED_FRAGMENT = "#truncated"

RDF_LANG_STRING = RDF + "langString"
FORM_TYPE = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"


@dataclass
class Operation:
    """A query or an update as the protocol delivered it."""

    kind: str  # "query" or "update"
    text: str
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading requests


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise ProtocolError(400, f"give the parameter '{name}' once (got {len(values)})")
    return values[0] if values else None


def _dataset(params: list[tuple[str, str]], kind: str) -> tuple[list[str], list[str]]:
    if kind == "query":
        names = ("default-graph-uri", "named-graph-uri")
    else:
        names = ("using-graph-uri", "using-named-graph-uri")
    graphs = ([v for k, v in params if k == names[0]], [v for k, v in params if k == names[1]])
    for iri in graphs[0] + graphs[1]:
        try:
            ox.NamedNode(iri)
        except ValueError as error:
            raise ProtocolError(400, f"not an absolute IRI in a graph parameter: {iri!r} ({error})") from None
    if kind == "update" and (graphs[0] or graphs[1]):
        raise ProtocolError(400, "using-graph-uri and using-named-graph-uri are not supported; use USING in the update")
    return graphs


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(400, f"the {what} is not UTF-8: {error}") from None


def read_operation(method: str, url_params: list[tuple[str, str]], content_type: str | None, body: bytes | None) -> Operation | None:
    """The operation of a protocol request; None for a GET without query (service description).

    ``url_params`` are the decoded query-string parameters; ``body`` the request body (POST).
    """
    if method in ("GET", "HEAD"):
        if _one(url_params, "update") is not None:
            raise ProtocolError(405, "updates must be sent with POST", {"Allow": "GET, HEAD, POST"})
        query = _one(url_params, "query")
        if query is None:
            return None
        return Operation("query", query, *_dataset(url_params, "query"))
    if method != "POST":
        raise ProtocolError(405, f"{method} is not a SPARQL protocol method", {"Allow": "GET, HEAD, POST"})
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime == FORM_TYPE:
        params = parse_qsl(_decode(body or b"", "form body"), keep_blank_values=True)
        query, update = _one(params, "query"), _one(params, "update")
        if (query is None) == (update is None):
            raise ProtocolError(400, "a form POST needs exactly one of the parameters 'query' and 'update'")
        kind = "query" if query is not None else "update"
        return Operation(kind, query if query is not None else update, *_dataset(params + url_params, kind))
    if mime == QUERY_TYPE:
        return Operation("query", _decode(body or b"", "query"), *_dataset(url_params, "query"))
    if mime == UPDATE_TYPE:
        return Operation("update", _decode(body or b"", "update"), *_dataset(url_params, "update"))
    raise ProtocolError(
        415,
        f"unsupported content type {content_type or '(none)'!r}: POST {FORM_TYPE}, {QUERY_TYPE} or {UPDATE_TYPE}",
        {"Accept-Post": f"{FORM_TYPE}, {QUERY_TYPE}, {UPDATE_TYPE}"},
    )


# ---------------------------------------------------------------- looking at the text


# The first form keyword in code, for negotiation only (what a query may do is decided on its
# parse, in policy.check_operation): not after a letter, digit, '_', ':', '?' or '$'.
_FORM = re.compile(r"(?<![\w:?$])(select|construct|describe|ask)(?![\w:])", re.I)


def query_form(text: str) -> str | None:
    """'select', 'construct', 'describe' or 'ask' (the first form keyword in code), or None."""
    match = _FORM.search(code_of(text))
    return match.group(1).lower() if match else None


def result_kind(form: str | None) -> str | None:
    return {"select": "solutions", "ask": "boolean", "construct": "graph", "describe": "graph"}.get(form or "")


# ---------------------------------------------------------------- writing results


def _json_term(term: object) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            if getattr(term, "direction", None):
                out["its:dir"] = str(term.direction.value if hasattr(term.direction, "value") else term.direction)
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject), "predicate": _json_term(term.predicate), "object": _json_term(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


_EDGE_SPACE = re.compile(r"^\s+|\s+$")
#: Characters XML 1.0 cannot carry (Char production of XML 1.0 §2.2); written as U+FFFD.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_XML_UTF8 = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def _xml_text(value: str) -> str:
    # a CR must reach XML parsers as &#13; (a raw CR is read back as LF), and whitespace at
    # either end as character references (some parsers, Oxigraph's among them, trim it)
    text = escape(_NOT_XML.sub("\ufffd", value)).replace("\r", "&#13;")
    return _EDGE_SPACE.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), text)


def _xml_attr(value: str) -> str:
    return quoteattr(value, {"\r": "&#13;", "\n": "&#10;", "\t": "&#9;"})


def _xml_term(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{_xml_text(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{_xml_text(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={_xml_attr(term.language)}>{_xml_text(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={_xml_attr(term.datatype.value)}>{_xml_text(term.value)}</literal>"
        return f"<literal>{_xml_text(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}</predicate><object>{_xml_term(term.object)}</object></triple>"
    raise TypeError(f"not an RDF term: {term!r}")


class SolutionWriter:
    """SELECT results in SPARQL JSON, SPARQL XML, CSV or TSV, one row at a time.

    ``row`` gives the text of one row (terms or None), ``document`` the whole body around
    the rows; the caller counts bytes, so that a result can be cut at a byte budget too.
    """

    def __init__(self, variables: list[str], media_type: str, endpoint: str):
        if media_type not in (media.SPARQL_JSON, media.SPARQL_XML, media.CSV, media.TSV):
            raise ValueError(f"no solution writer for {media_type}")
        self.variables, self.media_type, self.endpoint = variables, media_type, endpoint

    def row(self, row: list) -> str:
        pairs = [(name, term) for name, term in zip(self.variables, row) if term is not None]
        if self.media_type == media.SPARQL_JSON:
            return "\n" + json.dumps({name: _json_term(term) for name, term in pairs}, ensure_ascii=False)
        if self.media_type == media.SPARQL_XML:
            return "<result>" + "".join(f"<binding name={_xml_attr(name)}>{_xml_term(term)}</binding>" for name, term in pairs) + "</result>\n"
        if self.media_type == media.CSV:
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerow([csv_value(term) for term in row])
            return out.getvalue()
        return "\t".join("" if term is None else str(term) for term in row) + "\n"

    def document(self, rows: list[str], truncated: bool) -> bytes:
        link = [self.endpoint + TRUNCATED_FRAGMENT] if truncated else []
        if self.media_type == media.SPARQL_JSON:
            head = {"vars": self.variables, **({"link": link} if link else {})}
            text = ('{"head":' + json.dumps(head, ensure_ascii=False) + ',"results":{"bindings":[' + ",".join(rows)
                    + "\n]}" + (',"truncated":true' if truncated else "") + "}\n")
        elif self.media_type == media.SPARQL_XML:
            head = "".join(f"<variable name={_xml_attr(name)}/>" for name in self.variables) + "".join(f"<link href={_xml_attr(h)}/>" for h in link)
            text = ('<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'
                    f"<head>{head}</head>\n<results>\n" + "".join(rows) + "</results>\n</sparql>\n")
        elif self.media_type == media.CSV:
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerow(self.variables)
            text = out.getvalue() + "".join(rows)
        else:
            text = "\t".join("?" + name for name in self.variables) + "\n" + "".join(rows)
        return text.encode("utf-8")


def write_solutions(variables: list[str], rows: list[list], media_type: str, truncated: bool, endpoint: str) -> bytes:
    """SELECT results in SPARQL JSON, SPARQL XML, CSV or TSV; ``rows`` hold terms or None."""
    writer = SolutionWriter(variables, media_type, endpoint)
    return writer.document([writer.row(row) for row in rows], truncated)


def write_boolean(value: bool, media_type: str) -> bytes:
    text = "true" if value else "false"
    if media_type == media.SPARQL_JSON:
        return f'{{"head":{{}},"boolean":{text}}}\n'.encode()
    if media_type == media.SPARQL_XML:
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head/>\n<boolean>{text}</boolean>\n</sparql>\n'.encode()
    if media_type == media.CSV:
        return f"_askResult\r\n{text}\r\n".encode()
    if media_type == media.TSV:
        return f"?_askResult\n{text}\n".encode()
    raise ValueError(f"no boolean writer for {media_type}")


def write_graph(triples: list, media_type: str, truncated: bool = False) -> bytes:
    """Triples as Turtle, N-Triples, JSON-LD or RDF/XML (prefixes where the format has them)."""
    fmt = media.RDF_FORMATS[media_type]
    prefixes = None if fmt == ox.RdfFormat.N_TRIPLES else PREFIXES
    body = ox.serialize(triples, format=fmt, prefixes=prefixes)
    if fmt == ox.RdfFormat.RDF_XML:
        # pyoxigraph writes CR raw (XML parsers would read it back as LF) and characters
        # XML 1.0 cannot carry at all (they become U+FFFD: see the module's docstring)
        body = _NOT_XML_UTF8.sub("\ufffd".encode(), body.replace(b"\r", b"&#13;"))
        if truncated:
            body += b"<!-- truncated: more triples matched than the server sends (see the X-SPARQL-Truncated header) -->\n"
    elif truncated and fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES):
        body = b"# truncated: more triples matched than the server sends (see the X-SPARQL-Truncated header)\n" + body
    return body


# ---------------------------------------------------------------- running (in a worker)


@dataclass
class QueryResult:
    """What a worker sends back for a query."""

    kind: str  # "solutions", "boolean", "graph"
    media_type: str | None  # None: the client accepts no format of this kind (406)
    body: bytes = b""
    truncated: bool = False
    rows: int = 0
    variables: list[str] | None = None
    table: list[list] | None = None  # for HTML rendering by the server: the rows' terms


def _bounded(items, size, max_rows: int, max_bytes: int) -> tuple[list, bool]:
    """The first items that fit in ``max_rows`` and ``max_bytes`` (as ``size`` counts them); whether more were left."""
    kept, used = [], 0
    for item in items:
        used += size(item)
        if len(kept) == max_rows or used > max_bytes:
            return kept, True
        kept.append(item)
    return kept, False


def run_query(store: ox.Store, text: str, default_graphs: list[str], named_graphs: list[str], media_types: dict[str, str | None], max_rows: int,
              endpoint: str, max_bytes: int = 1 << 62, allow_remote: bool = False, strict: bool = False) -> QueryResult:
    """Check, evaluate and write a query; ``media_types`` maps each result kind to the negotiated type.

    Raises ProtocolError for a refused query (policy.check_operation), SyntaxError with the
    parser's message for a malformed one. Graph results are cut at ``max_bytes`` of their
    N-Triples form (the other formats are of the same order), solutions at ``max_bytes`` of
    the negotiated format.
    """
    check_operation(Operation("query", text), allow_remote, strict, PREFIXES)
    options = {}
    if default_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
    if named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
    results = store.query(text, prefixes=PREFIXES, **options)
    if isinstance(results, ox.QueryBoolean):
        mt = media_types.get("boolean")
        if mt is None:
            return QueryResult("boolean", None)
        if mt == media.HTML:
            return QueryResult("boolean", mt, variables=["result"], table=[[ox.Literal("true" if bool(results) else "false")]], rows=1)
        return QueryResult("boolean", mt, write_boolean(bool(results), mt), rows=1)
    if isinstance(results, ox.QueryTriples):
        mt = media_types.get("graph")
        if mt is None:
            return QueryResult("graph", None)
        triples, truncated = _bounded(results, lambda t: len(str(t).encode()) + 3, max_rows, max_bytes)
        return _graph_result(triples, mt, truncated)
    mt = media_types.get("solutions")
    if mt is None:
        return QueryResult("solutions", None)
    variables = [v.value for v in results.variables]
    rows = ([solution[name] for name in variables] for solution in results)
    if mt == media.HTML:
        table, truncated = _bounded(rows, lambda row: sum(len(t.value) if hasattr(t, "value") else 0 for t in row) + 1, max_rows, max_bytes)
        return QueryResult("solutions", mt, truncated=truncated, rows=len(table), variables=variables, table=table)
    writer = SolutionWriter(variables, mt, endpoint)
    frame = len(writer.document([], True))  # head and tail count too
    lines, truncated = _bounded((writer.row(row) for row in rows), lambda line: len(line.encode()) + 1, max_rows, max_bytes - frame)
    return QueryResult("solutions", mt, writer.document(lines, truncated), truncated, len(lines))


def _graph_result(triples: list, media_type: str, truncated: bool) -> QueryResult:
    if media_type == media.HTML:
        return QueryResult("graph", media_type, truncated=truncated, rows=len(triples), variables=["subject", "predicate", "object"], table=[[t.subject, t.predicate, t.object] for t in triples])
    return QueryResult("graph", media_type, write_graph(triples, media_type, truncated), truncated, len(triples))


def run_update(store_dir, text: str, allow_remote: bool = False) -> str:
    """Check and apply an update atomically (a new store version, swapped in when it succeeds).

    The new version's search index is left to its first reader (built in the background by
    the server): rebuilding it here, inside a worker bounded by the query timeout, would get
    a large store's update killed and lost.
    """
    from pathlib import Path

    from ..store import load_atomically

    check_operation(Operation("update", text), allow_remote, False, PREFIXES)
    version = load_atomically(Path(store_dir), lambda store, _version: store.update(text, prefixes=PREFIXES), derive=False)
    return version.name
