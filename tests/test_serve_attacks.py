"""hkg-rdf serve attacked as a hostile client would, on loopback: real servers, real clients.

Two servers over the example release plus hostile literals:

- ``guarded``: store mode, 1 worker for long queries and 1 kept for cheap requests, 3 s query
  timeout, long after 0.5 s, 2 queries per client, 300 KB per response, 1 s for headers,
  updates with a token;
- ``front``: ``serve --sparql`` in front of a real Oxigraph server holding the same triples
  (pushed with ``hkg-rdf push``), with ``--proxy-headers``.

A TCP listener on 127.0.0.1 records every connection: no evasion of the SERVICE/LOAD ban may
reach it, in either mode (the Oxigraph server behind ``front`` does fetch SERVICE IRIs: shown
first, so that the test can fail). Clients connect from distinct loopback addresses
(127.0.0.x) where per-client limits matter.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import xml.dom.minidom
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import HKG, REPO, free_port, invoke, must
from sparql_servers import oxigraph_binary, start_oxigraph
from test_serve import CARTESIAN, WEIRD_ID, Server, start_server, stop_server, wait_until_serving
from test_serve_units import Listener

from hkg_rdf.iris import IriMinter
from hkg_rdf.serve.policy import MAX_DEPTH
from hkg_rdf.vocab import vocabulary

TOKEN = "attack-token"
TIMEOUT = 3.0
MAX_BYTES = 300_000
GRAPH = "https://w3id.org/huggingkg/graph"
HOSTILE_ID = "hostile/literals"
#: Literals that make naive XML output invalid: ANSI escapes (common in model cards), NUL and
#: the other C0 controls, U+FFFE/U+FFFF, CR, a CDATA end, edge whitespace.
HOSTILE = {
    "ansi": "\x1b[31mred\x1b[0m and \x1b[1mbold\x1b[0m",
    "nul": "before\x00after",
    "controls": "".join(chr(c) for c in range(32)),
    "nonchars": "a\ufffeb\uffffc",
    "markup": "]]> <tag attr='1'> & \r\n  ",
}
BIG_LITERAL = "x" * 1_000_000
#: More than MAX_BYTES of SPARQL JSON in rows of less than 1000 bytes
MANY_ROWS = "SELECT * WHERE { ?s ?p ?o FILTER(STRLEN(STR(?o)) < 1000) VALUES ?n { 1 2 3 4 5 6 7 8 9 10 } }"


def _xml_safe(value: str) -> str:
    """What our XML output carries for a literal: characters XML 1.0 cannot carry become U+FFFD."""
    return "".join(c if c in "\t\n\r" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or ord(c) >= 0x10000 else "\ufffd" for c in value)


def _hostile_triples(base: str) -> str:
    iri = IriMinter(base).mint(vocabulary().type_by_segment("model"), HOSTILE_ID)
    lines = [f"<{iri}> <{HKG}{name}> {json.dumps(value)} ." for name, value in HOSTILE.items()]
    lines.append(f'<{iri}> <{HKG}big> "{BIG_LITERAL}" .')
    return "\n".join(lines) + "\n"


def _hostile_iri(server: Server) -> str:
    return IriMinter(server.base).mint(vocabulary().type_by_segment("model"), HOSTILE_ID)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Server:
    server = start_server(
        tmp_path_factory.mktemp("guarded"), "--timeout", str(TIMEOUT), "--workers", "1", "--cheap-workers", "1", "--long-query-after", "0.5",
        "--max-client-queries", "2", "--max-response-bytes", str(MAX_BYTES), "--header-timeout", "1", "--max-request-bytes", "65536",
        "--allow-update", TOKEN, more_triples=_hostile_triples,
    )
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def backend(tmp_path_factory, guarded):
    if oxigraph_binary() is None:
        pytest.fail("no 'oxigraph' server binary (pip install oxigraph; .ci/run installs it)")
    server = start_oxigraph(tmp_path_factory.mktemp("backend"))
    must(invoke("push", "--store", guarded.store, "--graph", GRAPH, "--endpoint", server.endpoint))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def front(tmp_path_factory, guarded, backend) -> Server:
    directory = tmp_path_factory.mktemp("front")
    url = f"http://127.0.0.1:{free_port()}"
    access_log, stderr = directory / "access.log", directory / "stderr.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "hkg_rdf", "serve", "--sparql", backend.endpoint, "--graph", GRAPH, "--port", url.rsplit(":", 1)[1],
         "--base-iri", guarded.base, "--timeout", str(TIMEOUT), "--access-log", str(access_log), "--proxy-headers"],
        stdout=subprocess.DEVNULL, stderr=open(stderr, "wb"), cwd=REPO,
    )
    server = wait_until_serving(Server(url, guarded.base, guarded.store, process, access_log, stderr))
    yield server
    stop_server(server)


def _from(address: str, **kwargs) -> httpx.Client:
    """A client connecting from another loopback address (another client, as the server sees it)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30, **kwargs)


# ---------------------------------------------------------------- SERVICE, LOAD and remote access


# {T}: the listener's IRI, {H}: its host:port
QUERY_EVASIONS = [
    "SELECT * WHERE {{ SERVICE <{T}> {{ ?s ?p ?o }} }}",
    "select * where {{ service silent <{T}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SeRvIcE <{T}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p 1SERVICE <{T}> {{ ?a ?b ?c }} }}",  # the lexer reads 1, then the keyword
    "SELECT * WHERE {{ ?s ?p 1.SERVICE <{T}> {{ ?a ?b ?c }} }}",
    "SELECT * WHERE {{ ?s ?p 1e1SERVICE <{T}> {{ ?a ?b ?c }} }}",
    "SELECT * WHERE {{ ?s ?p trueSERVICE <{T}> {{ ?a ?b ?c }} }}",
    'SELECT * WHERE {{ ?s ?p "x"SERVICE <{T}> {{ ?a ?b ?c }} }}',
    "SELECT * WHERE {{ ?s ?p <x:y>SERVICE <{T}> {{ ?a ?b ?c }} }}",
    "SELECT * WHERE {{ ?s ?p ?o.SERVICE<{T}>{{?a ?b ?c}} }}",
    "SELECT * WHERE {{ ?s ?p ?o #comment\nSERVICE <{T}> {{ ?a ?b ?c }} }}",
    "SELECT * WHERE {{ ?s ?p ?o #comment\rSERVICE <{T}> {{ ?a ?b ?c }} }}",  # CR ends a comment
    "SELECT * WHERE {{ \\u0053ERVICE <{T}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ \\U00000053ervice <{T}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE <\\u0068ttp://{H}/x> {{ ?s ?p ?o }} }}",  # escapes inside the IRI
    'SELECT * WHERE {{ ?s ?p "abc\\u005C" SERVICE <{T}> {{ ?a ?b ?c }} " }}',  # an escaped backslash ends the string
    'SELECT * WHERE {{ ?s ?p """a"""SERVICE <{T}> {{ ?a ?b ?c }} }}',
    "PREFIX : <{T}#>\nSELECT * WHERE {{ SERVICE:x {{ ?s ?p ?o }} }}",
    "PREFIX service: <{T}#>\nSELECT * WHERE {{ SERVICE service:x {{ ?s ?p ?o }} }}",
    "BASE <http://{H}/>\nSELECT * WHERE {{ SERVICE <x> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ VALUES ?e {{ <{T}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ {{ {{ {{ SERVICE <{T}> {{ ?s ?p ?o }} }} }} }} }}",
    "SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{T}> {{ ?s ?p ?o }} }} }} }}",
    "SELECT * WHERE {{ OPTIONAL {{ SERVICE <{T}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ {{}} UNION {{ SERVICE <{T}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ FILTER EXISTS {{ SERVICE <{T}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ MINUS {{ SERVICE <{T}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{T}> {{ ?s ?p ?o }} }} }}",
    "ASK {{ SERVICE <{T}> {{ ?s ?p ?o }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{T}> {{ ?s ?p ?o }} }}",
    "DESCRIBE ?s WHERE {{ SERVICE <{T}> {{ ?s ?p ?o }} }}",
]
#: remote access that no store here performs: answered, and the listener hears nothing
QUIET = [
    "SELECT * FROM <{T}> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <{T}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ GRAPH <{T}> {{ ?s ?p ?o }} }}",
    "DESCRIBE <{T}>",
]
UPDATE_EVASIONS = [
    "LOAD <{T}>",
    "load silent <{T}> INTO GRAPH <http://g/>",
    "#x\nLOAD\n<{T}>",
    "\\u004cOAD <{T}>",
    "INSERT DATA {{ <x:a> <x:b> 1 }} ; LOAD <{T}>",
    "INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{T}> {{ ?s ?p ?o }} }}",
    "INSERT {{ ?s ?p ?o }} WHERE {{ ?s ?p 1SERVICE <{T}> {{ ?a ?b ?c }} }}",
    "DELETE {{ ?s ?p ?o }} WHERE {{ {{ SERVICE <{T}> {{ ?s ?p ?o }} }} }}",
]


@pytest.fixture
def listener():
    spy = Listener()
    yield spy
    spy.close()


def _fill(template: str, spy: Listener) -> str:
    host = f"127.0.0.1:{spy.port}"
    return template.format(T=f"http://{host}/sparql", H=host)


def test_the_backend_would_fetch_a_service_iri(backend, listener):
    """Why --sparql mode needs the check: the Oxigraph server behind it sends SERVICE requests."""
    httpx.post(backend.endpoint, data={"query": _fill(QUERY_EVASIONS[0], listener)}, timeout=30)
    time.sleep(0.3)
    assert listener.connections, "the backend did not fetch the SERVICE IRI: this test could not fail"


def test_no_evasion_reaches_a_listener_in_either_mode(guarded, front, listener):
    for server in (guarded, front):
        for template in QUERY_EVASIONS:
            text = _fill(template, listener)
            for method in ("GET", "POST"):
                response = server.query(text, accept="*/*", method=method)
                assert response.status_code == 403 and "SERVICE" in response.text, (server.url, text, response.text)
        for template in QUIET:
            assert server.query(_fill(template, listener), accept="*/*").status_code == 200, template
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}
    version = guarded.get("/health").json()["version"]
    for template in UPDATE_EVASIONS:
        response = httpx.post(guarded.url + "/sparql", content=_fill(template, listener).encode(), headers=auth, timeout=30)
        assert response.status_code == 403 and ("SERVICE" in response.text or "LOAD" in response.text), (template, response.text)
    time.sleep(0.5)
    assert listener.connections == []
    assert guarded.get("/health").json()["version"] == version  # nothing applied


def test_the_front_end_refuses_extension_functions(guarded, front, listener):
    call = f"SELECT (<http://127.0.0.1:{listener.port}/f>(1) AS ?x) WHERE {{}}"
    assert front.query(call).status_code == 403
    assert front.query("PREFIX bif: <bif:> SELECT (bif:http_get('http://127.0.0.1/') AS ?x) WHERE {}").status_code == 403
    assert front.query("SELECT (xsd:integer('1') AS ?x) WHERE {}").json()["results"]["bindings"][0]["x"]["value"] == "1"
    assert listener.connections == []


def test_a_lone_surrogate_cannot_enter(guarded):
    assert guarded.get("/sparql?query=" + quote("ASK { ?s ?p '") + "%ED%A0%80'%20}").status_code == 400  # not UTF-8
    assert guarded.query("SELECT * WHERE { BIND('\\uD800' AS ?x) }").status_code == 400
    with pytest.raises(SyntaxError):
        list(ox.parse(b'<x:a> <x:b> "\\uD800" .', ox.RdfFormat.N_TRIPLES))


# ---------------------------------------------------------------- shapes that crash parsers


CRASHERS = {
    "nested groups": "SELECT * WHERE " + "{" * 3000 + "}" * 3000,
    "nested subqueries": "SELECT * WHERE " + "{ SELECT * WHERE " * 3000 + "{}" + "}" * 3000,
    "nested lists": "SELECT * WHERE { ?s ?p " + "(" * 600 + ")" * 600 + " }",
    "sum chain": "SELECT * WHERE { FILTER(" + "1+" * 30_000 + "1) }",
}


def test_crashing_shapes_are_400_and_no_worker_dies(guarded):
    workers = guarded.children()
    for name, text in CRASHERS.items():
        response = httpx.post(guarded.url + "/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=30)
        assert response.status_code == 400 and ("nests" in response.text or "tokens" in response.text), (name, response.text[:200])
    deepest = "SELECT * WHERE " + "{" * MAX_DEPTH + "}" * MAX_DEPTH  # at the bound: the worker's stack holds
    assert guarded.query(deepest).status_code == 200
    assert guarded.children() == workers


# ---------------------------------------------------------------- fair scheduling


def test_cheap_requests_are_answered_while_long_queries_run(guarded):
    with ThreadPoolExecutor(2) as pool, _from("127.0.0.2") as first, _from("127.0.0.3") as second, _from("127.0.0.9") as cheap:
        slow = [pool.submit(client.get, guarded.url + "/sparql", params={"query": CARTESIAN}) for client in (first, second)]
        time.sleep(1.0)  # past --long-query-after: one holds the long-query place, the other was stopped
        page = cheap.get(guarded.url + "/page/model/meta-llama/Llama-3.1-8B")
        small = cheap.get(guarded.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"})
        data = cheap.get(guarded.url + "/data/model/meta-llama/Llama-3.1-8B", headers={"Accept": "text/turtle"})
        assert not all(f.done() for f in slow)  # answered while a long query still runs
        assert (page.status_code, small.status_code, data.status_code) == (200, 200, 200)
        statuses = sorted(f.result().status_code for f in slow)
    assert statuses == [503, 503]  # one stopped for want of a long-query place, one at the timeout
    texts = [f.result().text for f in slow]
    assert any("places for long queries" in t for t in texts) and any("stopped after" in t for t in texts)


def test_concurrent_queries_per_client_are_limited(guarded):
    with ThreadPoolExecutor(3) as pool, _from("127.0.0.4") as client:
        slow = [pool.submit(client.get, guarded.url + "/sparql", params={"query": CARTESIAN + f" # {i}"}) for i in range(3)]
        answers = [f.result() for f in slow]
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == 1 and refused[0].headers["retry-after"] == "2", [a.status_code for a in answers]


def test_a_query_whose_client_left_is_stopped(guarded):
    workers = guarded.children()
    with socket.create_connection(("127.0.0.1", int(guarded.url.rsplit(":", 1)[1]))) as raw:
        raw.sendall(f"GET /sparql?query={quote(CARTESIAN + ' # gone')} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while "gone" not in guarded.access_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next(line for line in guarded.access_log.read_text().splitlines() if "%23+gone" in line or "%23%20gone" in line)
    assert '" 499 ' in line, line  # cancelled when the client left, not answered 503 at the timeout
    deadline = time.monotonic() + 20
    while guarded.get("/health").json()["workers"] < len(workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    while len(guarded.children() - workers) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(guarded.children() - workers) == 1  # its worker was killed and replaced


# ---------------------------------------------------------------- bounded responses


def test_responses_are_bounded_in_bytes_with_the_truncation_signal(guarded):
    iri = _hostile_iri(guarded)
    big = f"SELECT ?o WHERE {{ <{iri}> <{HKG}big> ?o }}"
    for accept in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"):
        response = guarded.query(big, accept)
        assert response.status_code == 200 and response.headers["x-sparql-truncated"] == "true", accept
        assert len(response.content) < 1000 and "xxxxxxxxxx" not in response.text, accept
    assert guarded.query(big).json()["truncated"] is True
    everything = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    for accept, marker in [("text/turtle", b"# truncated"), ("application/n-triples", b"# truncated"), ("application/rdf+xml", b"<!-- truncated"),
                           ("application/ld+json", None)]:
        response = guarded.query(everything, accept)
        assert response.headers["x-sparql-truncated"] == "true" and len(response.content) <= 1.5 * MAX_BYTES, accept  # bound on N-Triples bytes
        if marker:
            assert marker in response.content, accept
    rows = guarded.query(MANY_ROWS)
    assert rows.headers["x-sparql-truncated"] == "true" and MAX_BYTES - 2000 < len(rows.content) <= MAX_BYTES


def test_a_client_that_never_reads_is_dropped(front):
    """10 MB of results for a client that reads nothing: dropped after the send timeout, not held."""
    port = int(front.url.rsplit(":", 1)[1])
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    query = quote(f"SELECT * WHERE {{ ?s <{HKG}big> ?o VALUES ?n {{ 1 2 3 4 5 6 7 8 9 10 }} }}")
    raw.sendall(f"GET /sparql?query={query} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n".encode())
    time.sleep(TIMEOUT + 5)  # the send timeout passes
    raw.settimeout(20)
    received = b""
    while chunk := raw.recv(1 << 20):
        received += chunk
    raw.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"200 OK" in head and 0 < len(body) < 5_000_000, len(body)  # cut off, then the connection closed


def test_slow_headers_and_bodies_are_cut_off(guarded):
    port = int(guarded.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        raw.settimeout(15)
        assert raw.recv(100) == b""  # closed after --header-timeout
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\nContent-Length: 100\r\n\r\nASK")
        raw.settimeout(15)
        assert raw.recv(100).startswith(b"HTTP/1.1 408")


# ---------------------------------------------------------------- XML every client parses


def test_hostile_literals_give_xml_that_every_client_parses(guarded):
    from SPARQLWrapper import JSON, XML, SPARQLWrapper

    iri = _hostile_iri(guarded)
    query = f"SELECT ?name ?value WHERE {{ <{iri}> ?p ?value FILTER(?p != <{HKG}big>) BIND(STRAFTER(STR(?p), '#') AS ?name) }}"
    expected = {name: _xml_safe(value) for name, value in HOSTILE.items()}
    # SPARQL XML results: SPARQLWrapper (minidom), rdflib's parser
    wrapper = SPARQLWrapper(guarded.url + "/sparql")
    wrapper.setQuery(query)
    wrapper.setReturnFormat(XML)
    document = wrapper.query().convert()
    assert isinstance(document, xml.dom.minidom.Document)
    xml_body = guarded.query(query, "application/sparql-results+xml").content
    parsed = rdflib.query.Result.parse(source=io.BytesIO(xml_body), format="xml")
    assert {str(row["name"]): str(row["value"]) for row in parsed} == expected
    # JSON carries them exactly
    wrapper.setReturnFormat(JSON)
    exact = {b["name"]["value"]: b["value"]["value"] for b in wrapper.query().convert()["results"]["bindings"]}
    assert exact == HOSTILE
    # RDF/XML: a CONSTRUCT result and the entity's data document
    construct = guarded.query(f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o FILTER(?p != <{HKG}big>) }}", "application/rdf+xml").content
    document = guarded.get(f"/data/model/{HOSTILE_ID}", headers={"Accept": "application/rdf+xml"}).content
    for body in (construct, document):
        graph = rdflib.Graph().parse(data=body, format="xml")
        values = {str(p)[len(HKG):]: str(o) for _, p, o in graph if str(p)[len(HKG):] in HOSTILE}
        assert values == expected


# ---------------------------------------------------------------- protocol details


def test_sparqlwrapper_json_ld_and_rdf_xml_formats(guarded):
    from SPARQLWrapper import JSONLD, RDFXML, SPARQLWrapper

    for fmt in (JSONLD, RDFXML):
        wrapper = SPARQLWrapper(guarded.url + "/sparql")
        wrapper.setQuery("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 5")
        wrapper.setReturnFormat(fmt)
        graph = wrapper.query().convert()
        assert isinstance(graph, rdflib.Graph) and len(graph) == 5, fmt


def test_format_names(guarded):
    select = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
    response = guarded.get("/sparql", params={"query": select, "format": "no-such-format"}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")  # an unknown format does not override Accept
    response = guarded.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "format": "json"})
    assert response.headers["content-type"].startswith("application/ld+json")  # json for a graph: JSON-LD
    assert guarded.get("/sparql", params={"query": select, "format": "ttl"}).status_code == 406  # known, not for solutions


def test_bad_percent_escapes_are_400(guarded):
    assert guarded.get("/sparql?query=ASK%20%7B%7D%ff").status_code == 400
    response = httpx.post(guarded.url + "/sparql", content=b"query=ASK%20%7B%7D%ff", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400


def test_if_none_match_star(guarded):
    assert guarded.get("/data/model/no-such/model", headers={"If-None-Match": "*", "Accept": "text/turtle"}).status_code == 404
    assert guarded.get("/page/model/no-such/model", headers={"If-None-Match": "*"}).status_code == 404
    assert guarded.get("/data/model/meta-llama/Llama-3.1-8B", headers={"If-None-Match": "*", "Accept": "text/turtle"}).status_code == 304


def test_application_json_on_an_entity_is_json_ld(guarded):
    response = guarded.get("/resource/model/meta-llama/Llama-3.1-8B", headers={"Accept": "application/json"}, follow_redirects=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/ld+json")
    assert len(rdflib.Graph().parse(data=response.text, format="json-ld")) > 0


def test_forwarded_headers_only_with_proxy_headers(guarded, front):
    spoof = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "Accept": "text/turtle"}
    mine = guarded.get("/data/model/meta-llama/Llama-3.1-8B?spoof=1", headers=spoof)
    assert "https://" not in mine.text.split("model/meta-llama")[0].rsplit("<", 1)[-1]
    proxied = front.get("/data/model/meta-llama/Llama-3.1-8B?spoof=1", headers=spoof)
    assert proxied.status_code == 200
    time.sleep(0.2)
    guarded_line = next(line for line in guarded.access_log.read_text().splitlines() if "spoof=1" in line)
    front_line = next(line for line in front.access_log.read_text().splitlines() if "spoof=1" in line)
    assert guarded_line.startswith("127.0.0.1 ") and front_line.startswith("203.0.113.7 ")


def test_dot_segment_ids_dereference_in_chromium(guarded):
    """Chromium (WHATWG URLs) collapses %2E%2E like ..: the ids with dot segments must not have one."""
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    iri = IriMinter(guarded.base).mint(vocabulary().type_by_segment("model"), WEIRD_ID)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page()
            response = page.goto(iri)
            assert response.status == 200 and WEIRD_ID in page.locator("h1").inner_text()
        finally:
            browser.close()
