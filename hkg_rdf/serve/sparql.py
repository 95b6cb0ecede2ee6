"""The SPARQL 1.1 Protocol: reading requests, refusing what is unsafe, running and writing results.

Reading (server side): :func:`read_operation` turns a GET or POST into an :class:`Operation`
(a query or an update, with its dataset IRIs), or raises :class:`ProtocolError` with the HTTP
status to answer (400, 405, 413, 414, 415).

Checking (server side, before any evaluation): :func:`check_operation` refuses ``SERVICE``
(pyoxigraph would send the query to any URL a client names) and, in updates, ``LOAD`` (it would
fetch any URL), unless remote access was allowed. The check reads the text as SPARQL's lexer
does (strings, IRIs and comments are not code) and also reads it once more with ``\\uXXXX``
escapes decoded, refusing if either reading shows the keyword; it errs towards refusing.

Running (in a worker process): :func:`run_query` evaluates the query on the store and writes
the results in the negotiated format, stopping after ``max_rows`` rows (or triples): a result
cut there is marked as truncated, never silently (see :data:`TRUNCATED_HEADER`).
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

from ..vocab import PREFIXES, RDF, XSD_STRING
from . import negotiation as media

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


class ProtocolError(Exception):
    """A request the protocol cannot serve; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


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


# The lexer's view of SPARQL: comments, IRIs and strings are not code. IRIREF excludes
# whitespace, so "?a < ?b" stays an operator; strings may use any backslash escape.
_LEXEME = re.compile(
    r"""(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
      | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$) | \"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|$)
                  | '(?:[^'\\\n\r]|\\.)*(?:'|$) | "(?:[^"\\\n\r]|\\.)*(?:"|$))
      | (?P<comment>\#[^\n\r]*)
      | (?P<code>[^<'"\#]+|.)""",
    re.X | re.S,
)
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# A keyword is where a word starts: not after a letter/digit/_ (inside a word), ':' (a local
# name), '?' or '$' (a variable). "Starts with" rather than "is": Oxigraph's parser may read
# "SERVICE:x" as the keyword and a prefixed name, so a prefix named service* is refused too.
_FORM = re.compile(r"(?<![\w:?$])(select|construct|describe|ask)(?![\w:])", re.I)
_QUERY_FORBIDDEN = re.compile(r"(?<![\w:?$])service", re.I)
_UPDATE_FORBIDDEN = re.compile(r"(?<![\w:?$])(service|load)", re.I)


def code_of(text: str) -> str:
    """The text with comments, IRIs and string literals blanked out (each becomes a space)."""
    return "".join(m.group("code") or " " for m in _LEXEME.finditer(text))


def _unescape(text: str) -> str:
    def char(match: re.Match) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except (ValueError, OverflowError):
            return match.group(0)

    return _UCHAR.sub(char, text)


def query_form(text: str) -> str | None:
    """'select', 'construct', 'describe' or 'ask' (the first form keyword in code), or None."""
    match = _FORM.search(code_of(text))
    return match.group(1).lower() if match else None


def result_kind(form: str | None) -> str | None:
    return {"select": "solutions", "ask": "boolean", "construct": "graph", "describe": "graph"}.get(form or "")


def check_operation(operation: Operation, allow_remote: bool) -> None:
    """Refuse (ProtocolError 403) SERVICE, and LOAD in updates, unless remote access is allowed."""
    if allow_remote:
        return
    forbidden = _QUERY_FORBIDDEN if operation.kind == "query" else _UPDATE_FORBIDDEN
    for reading in {operation.text, _unescape(operation.text)}:
        match = forbidden.search(code_of(reading))
        if match:
            keyword = match.group(0).upper()
            raise ProtocolError(
                403,
                f"{keyword} is refused: this endpoint fetches nothing from other servers "
                f"({'federated queries' if keyword == 'SERVICE' else 'loading from URLs'} are off; the operator can allow them with --allow-remote)",
            )


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


def _xml_text(value: str) -> str:
    # a CR must reach XML parsers as &#13; (a raw CR is read back as LF), and whitespace at
    # either end as character references (some parsers, Oxigraph's among them, trim it)
    text = escape(value).replace("\r", "&#13;")
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


def _csv_value(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return term.value
    return str(term)


def write_solutions(variables: list[str], rows: list[list], media_type: str, truncated: bool, endpoint: str) -> bytes:
    """SELECT results in SPARQL JSON, SPARQL XML, CSV or TSV; ``rows`` hold terms or None."""
    link = [endpoint + TRUNCATED_FRAGMENT] if truncated else []
    if media_type == media.SPARQL_JSON:
        out = io.StringIO()
        head = {"vars": variables, **({"link": link} if link else {})}
        out.write('{"head":' + json.dumps(head, ensure_ascii=False) + ',"results":{"bindings":[')
        for i, row in enumerate(rows):
            binding = {name: _json_term(term) for name, term in zip(variables, row) if term is not None}
            out.write(("," if i else "") + "\n" + json.dumps(binding, ensure_ascii=False))
        out.write("\n]}" + (',"truncated":true' if truncated else "") + "}\n")
        return out.getvalue().encode("utf-8")
    if media_type == media.SPARQL_XML:
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n<head>']
        parts += [f"<variable name={_xml_attr(name)}/>" for name in variables]
        parts += [f"<link href={_xml_attr(href)}/>" for href in link]
        parts.append("</head>\n<results>\n")
        for row in rows:
            bindings = "".join(f"<binding name={_xml_attr(name)}>{_xml_term(term)}</binding>" for name, term in zip(variables, row) if term is not None)
            parts.append(f"<result>{bindings}</result>\n")
        parts.append("</results>\n</sparql>\n")
        return "".join(parts).encode("utf-8")
    if media_type == media.CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_csv_value(term) for term in row] for row in rows)
        return out.getvalue().encode("utf-8")
    if media_type == media.TSV:
        lines = ["\t".join("?" + name for name in variables)]
        lines += ["\t".join("" if term is None else str(term) for term in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"no solution writer for {media_type}")


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


class _CrAsReference:
    """RDF/XML from pyoxigraph writes a CR raw; XML parsers would read it back as LF."""

    def __init__(self, out: io.BytesIO):
        self._out = out

    def write(self, data) -> int:
        self._out.write(bytes(data).replace(b"\r", b"&#13;"))
        return len(data)

    def flush(self) -> None:
        pass


def write_graph(triples: list, media_type: str, truncated: bool = False) -> bytes:
    """Triples as Turtle, N-Triples, JSON-LD or RDF/XML (prefixes where the format has them)."""
    fmt = media.RDF_FORMATS[media_type]
    out = io.BytesIO()
    if truncated and media_type in (media.TURTLE, media.NTRIPLES):
        out.write(b"# truncated: more triples matched than the server's row cap (see the X-SPARQL-Truncated header)\n")
    prefixes = None if fmt == ox.RdfFormat.N_TRIPLES else PREFIXES
    ox.serialize(triples, _CrAsReference(out) if fmt == ox.RdfFormat.RDF_XML else out, fmt, prefixes=prefixes)
    return out.getvalue()


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


def run_query(store: ox.Store, text: str, default_graphs: list[str], named_graphs: list[str], media_types: dict[str, str | None], max_rows: int, endpoint: str) -> QueryResult:
    """Evaluate and write a query; ``media_types`` maps each result kind to the negotiated type.

    Raises SyntaxError with the parser's message for a malformed query.
    """
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
        triples = []
        for triple in results:
            if len(triples) == max_rows:
                return _graph_result(triples, mt, True)
            triples.append(triple)
        return _graph_result(triples, mt, False)
    mt = media_types.get("solutions")
    if mt is None:
        return QueryResult("solutions", None)
    variables = [v.value for v in results.variables]
    rows, truncated = [], False
    for solution in results:
        if len(rows) == max_rows:
            truncated = True
            break
        rows.append([solution[name] for name in variables])
    if mt == media.HTML:
        return QueryResult("solutions", mt, truncated=truncated, rows=len(rows), variables=variables, table=rows)
    return QueryResult("solutions", mt, write_solutions(variables, rows, mt, truncated, endpoint), truncated, len(rows))


def _graph_result(triples: list, media_type: str, truncated: bool) -> QueryResult:
    if media_type == media.HTML:
        return QueryResult("graph", media_type, truncated=truncated, rows=len(triples), variables=["subject", "predicate", "object"], table=[[t.subject, t.predicate, t.object] for t in triples])
    return QueryResult("graph", media_type, write_graph(triples, media_type, truncated), truncated, len(triples))


def run_update(store_dir, text: str) -> str:
    """Apply an update atomically (a new store version, swapped in when it succeeds)."""
    from pathlib import Path

    from ..store import load_atomically

    version = load_atomically(Path(store_dir), lambda store: store.update(text, prefixes=PREFIXES))
    return version.name
