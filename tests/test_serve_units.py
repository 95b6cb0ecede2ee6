"""hkg-rdf serve, the parts that need no server: the SERVICE/LOAD check, negotiation, the sandbox."""

from __future__ import annotations

import multiprocessing
import socket
import threading

import pyoxigraph as ox
import pytest

from hkg_rdf.serve import negotiation as media
from hkg_rdf.serve.sparql import Operation, ProtocolError, check_operation, code_of, query_form, read_operation

# ---------------------------------------------------------------- SERVICE and LOAD are refused

REFUSED_QUERIES = [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?a ?b ?c . SeRvIcE ?endpoint { ?s ?p ?o } VALUES ?endpoint { <http://127.0.0.1:9/> } }",
    "SELECT * WHERE { ?a ?b ?c .SERVICE<http://127.0.0.1:9/>{ ?s ?p ?o } }",
    "SELECT * WHERE { { SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } } }",
    "PREFIX : <http://127.0.0.1:9/>\nSELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
    "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",  # codepoint escape
    "SELECT * WHERE { ?s ?p \"x\" } # a comment\nSELECT * WHERE { SERVICE <http://127.0.0.1:9/> {} }",
    "SELECT * WHERE { FILTER(?a<?b) SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p 1.SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p 'unterminated \n SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
]
ALLOWED_QUERIES = [
    "SELECT ?service WHERE { ?service <http://example.org/service> 'SERVICE <http://x/> {}' }",
    "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o } # SERVICE <http://x/> { }",
    "PREFIX schema: <https://schema.org/> SELECT * WHERE { ?s a schema:Service ; schema:serviceType ?t }",
    'SELECT * WHERE { ?s ?p """a long\nSERVICE <http://x/> { ?s ?p ?o }\nstring""" }',
    "SELECT * WHERE { ?s ?p ?o FILTER(?o < 3 && ?o > 1) }",
    "SELECT ?load WHERE { ?load ?p ?o }",
]


@pytest.mark.parametrize("text", REFUSED_QUERIES)
def test_service_is_refused_however_written(text):
    with pytest.raises(ProtocolError) as refused:
        check_operation(Operation("query", text), allow_remote=False)
    assert refused.value.status == 403 and "SERVICE" in refused.value.message


@pytest.mark.parametrize("text", ALLOWED_QUERIES)
def test_service_in_strings_iris_comments_and_names_is_not_refused(text):
    check_operation(Operation("query", text), allow_remote=False)


@pytest.mark.parametrize("text", ["LOAD <http://127.0.0.1:9/data.ttl>", "load silent <http://127.0.0.1:9/x> INTO GRAPH <http://g>",
                                  "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"])
def test_load_and_service_in_updates_are_refused(text):
    with pytest.raises(ProtocolError) as refused:
        check_operation(Operation("update", text), allow_remote=False)
    assert refused.value.status == 403


def test_remote_access_can_be_allowed():
    check_operation(Operation("query", REFUSED_QUERIES[0]), allow_remote=True)
    check_operation(Operation("update", "LOAD <http://127.0.0.1:9/x>"), allow_remote=True)


def test_code_of_blanks_strings_iris_and_comments():
    code = code_of('SELECT ?s WHERE { ?s <http://e/#x> "say # SELECT" } # ASK\nLIMIT 1')
    assert "http" not in code and "say" not in code and "ASK" not in code
    assert "SELECT" in code and "LIMIT 1" in code


@pytest.mark.parametrize("text, form", [
    ("PREFIX ex: <http://e/select#> # ASK\nSELECT * WHERE { ?s ?p ?o }", "select"),
    ("prefix ask: <http://e/> construct { ?s ?p ?o } where { ?s ?p ?o }", "construct"),
    ("DESCRIBE <http://e/x>", "describe"),
    ("ASK { ?s ?p 'SELECT' }", "ask"),
    ("not sparql", None),
])
def test_query_form(text, form):
    assert query_form(text) == form


# ---------------------------------------------------------------- reading protocol requests


def test_protocol_requests():
    assert read_operation("GET", [], None, None) is None  # the service description
    op = read_operation("GET", [("query", "ASK {}"), ("default-graph-uri", "http://g/1"), ("named-graph-uri", "http://g/2")], None, None)
    assert (op.kind, op.text, op.default_graphs, op.named_graphs) == ("query", "ASK {}", ["http://g/1"], ["http://g/2"])
    op = read_operation("POST", [], "application/x-www-form-urlencoded; charset=UTF-8", b"query=ASK+%7B%7D")
    assert (op.kind, op.text) == ("query", "ASK {}")
    op = read_operation("POST", [("default-graph-uri", "http://g/1")], "application/sparql-query", "ASK { 'é' }".encode())
    assert (op.text, op.default_graphs) == ("ASK { 'é' }", ["http://g/1"])
    assert read_operation("POST", [], "application/sparql-update", b"CLEAR ALL").kind == "update"
    for args, status in [
        (("POST", [], "text/plain", b"ASK {}"), 415),
        (("POST", [], None, b"ASK {}"), 415),
        (("POST", [], "application/x-www-form-urlencoded", b"query=a&update=b"), 400),
        (("POST", [], "application/x-www-form-urlencoded", b"nothing=here"), 400),
        (("GET", [("query", "a"), ("query", "b")], None, None), 400),
        (("GET", [("update", "CLEAR ALL")], None, None), 405),
        (("GET", [("query", "ASK {}"), ("default-graph-uri", "not an iri")], None, None), 400),
        (("POST", [], "application/sparql-query", b"\xff\xfe"), 400),
        (("PUT", [], "application/sparql-query", b"ASK {}"), 405),
    ]:
        with pytest.raises(ProtocolError) as error:
            read_operation(*args)
        assert error.value.status == status, args


# ---------------------------------------------------------------- negotiation


@pytest.mark.parametrize("accept, offers, expected", [
    (None, media.SOLUTION_TYPES, media.SPARQL_JSON),
    ("*/*", media.GRAPH_TYPES, media.TURTLE),
    ("application/sparql-results+xml", media.SOLUTION_TYPES, media.SPARQL_XML),
    ("application/sparql-results+json,application/json,text/javascript,application/javascript", media.SOLUTION_TYPES, media.SPARQL_JSON),
    ("application/xml", media.SOLUTION_TYPES, media.SPARQL_XML),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", media.SOLUTION_TYPES, media.HTML),
    ("text/csv;q=0.5, text/tab-separated-values", media.SOLUTION_TYPES, media.TSV),
    ("application/ld+json, text/turtle;q=0.9", media.GRAPH_TYPES, media.JSONLD),
    ("text/*;q=0.4, application/n-triples;q=0.5", media.GRAPH_TYPES, media.NTRIPLES),
    ("image/png", media.SOLUTION_TYPES, None),
    ("text/turtle;q=0", media.GRAPH_TYPES, None),
])
def test_negotiation(accept, offers, expected):
    assert media.negotiate(accept, offers) == expected


def test_format_parameter_overrides_accept():
    assert media.choose("csv", "application/sparql-results+json", media.SOLUTION_TYPES) == media.CSV
    assert media.choose("ttl", None, media.SOLUTION_TYPES) is None


# ---------------------------------------------------------------- the sandbox


class Listener:
    """A local TCP listener that records every connection made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(65536))
                except OSError:
                    self.connections.append(b"")

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    spy = Listener()
    yield spy
    spy.close()


def _sandboxed_child(port: int, results) -> None:
    from hkg_rdf.serve.sandbox import forbid_network

    outcome = {"sandboxed": forbid_network()}
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        outcome["tcp"] = "connected"
    except OSError as error:
        outcome["tcp"] = type(error).__name__
    try:
        list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"))
        outcome["service"] = "answered"
    except Exception as error:  # noqa: BLE001 - whatever pyoxigraph raises
        outcome["service"] = type(error).__name__
    a, b = socket.socketpair()  # local IPC still works
    a.send(b"ok")
    outcome["unix"] = b.recv(2).decode()
    results.put(outcome)


def test_pyoxigraph_would_fetch_a_service_url(listener):
    """The reason for the check and the sandbox: pyoxigraph connects to any SERVICE IRI."""
    with pytest.raises(Exception):
        list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"))
    assert any(b"POST /sparql" in c for c in listener.connections)


def test_a_sandboxed_worker_cannot_reach_any_host(listener):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_sandboxed_child, args=(listener.port, results))
    child.start()
    outcome = results.get(timeout=60)
    child.join(10)
    assert outcome["sandboxed"] is True
    assert outcome["tcp"] == "PermissionError"
    assert outcome["service"] != "answered"
    assert outcome["unix"] == "ok"
    assert listener.connections == []
