"""hkg-rdf serve against a live server: real uvicorn processes on 127.0.0.1, real clients.

Two servers, each started by ``python -m hkg_rdf serve`` on an ephemeral port over a store
loaded from examples/ with ``--base-iri http://127.0.0.1:PORT/resource/``, so every entity IRI
dereferences on the server itself:

- ``live``: read-only, 2 workers, 2 s timeout, 200-row cap, 64 KB request limit;
- ``strict``: 1 worker (none kept for cheap requests), no waiting line, updates with a bearer
  token, 400 MB worker memory;

and, for the full-disk tests, one server per test under a file-size limit.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import http.client
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
from conftest import EXAMPLES, HKG, REPO, RELEASE_NAME, free_port, invoke, must, versions, writes_limited_to
from conftest import live as live_version
from test_serve_units import Listener

from hkg_rdf.iris import IriMinter
from hkg_rdf.vocab import vocabulary

RESULTS_NS = "{http://www.w3.org/2005/sparql-results#}"
VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
TIMEOUT = 2.0
MAX_ROWS = 200
TOKEN = "s3cret-token"
WEIRD_ID = "weird owner/ä b#c?d%e/../x"
XSS = "<script>alert('x')</script>"


@dataclass
class Server:
    url: str
    base: str
    store: Path
    process: subprocess.Popen
    access_log: Path
    stderr: Path

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=30, **kwargs)

    def query(self, text: str, accept: str = "application/sparql-results+json", method: str = "GET", **kwargs) -> httpx.Response:
        headers = {"Accept": accept, **kwargs.pop("headers", {})}
        if method == "GET":
            return httpx.get(self.url + "/sparql", params={"query": text}, headers=headers, timeout=30, **kwargs)
        return httpx.post(self.url + "/sparql", data={"query": text}, headers=headers, timeout=30, **kwargs)

    def rows(self, text: str) -> list[dict]:
        response = self.query(text)
        assert response.status_code == 200, response.text
        return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]

    def children(self) -> set[int]:
        """The server's worker processes."""
        pids = set()
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            pids |= {int(p) for p in (task / "children").read_text().split()}
        return pids


def _extra_triples(base: str) -> str:
    """An entity whose id needs every kind of escaping, a hostile literal and a javascript: IRI."""
    vocab = vocabulary()
    model = vocab.type_by_segment("model")
    iri = IriMinter(base).mint(model, WEIRD_ID)
    return (
        f'<{iri}> <{RDF_TYPE}> <{model.cls}> .\n'
        f'<{iri}> <{HKG}id> "{WEIRD_ID}" .\n'
        f'<{iri}> <{HKG}name> "{XSS}" .\n'
        f'<{iri}> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <javascript:alert(1)> .\n'
        f'<{iri}> <{HKG}fineTunedFrom> <{base}model/meta-llama/Llama-3.1-8B> .\n'
    )


def start_server(directory: Path, *options: str, more_triples=lambda base: "", **popen) -> Server:
    """A server over the example release, _extra_triples and ``more_triples(base)`` (N-Triples);
    ``popen``: more arguments for the server's Popen."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/resource/"
    store = directory / "store"
    extra = directory / "extra.nt"
    extra.write_text(_extra_triples(base) + more_triples(base), encoding="utf-8")
    must(invoke("load", EXAMPLES / RELEASE_NAME, "--store", store, "--base-iri", base))
    must(invoke("load", extra, "--store", store))
    access_log, stderr = directory / "access.log", directory / "stderr.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "hkg_rdf", "serve", "--store", str(store), "--port", str(port), "--access-log", str(access_log), *options],
        stdout=subprocess.DEVNULL, stderr=open(stderr, "wb"), cwd=REPO, env=env, **popen,
    )
    return wait_until_serving(Server(f"http://127.0.0.1:{port}", base, store, process, access_log, stderr))


def wait_until_serving(server: Server) -> Server:
    """The server, once /health answers (RuntimeError with its standard error if it never does)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if server.get("/health").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            server.process.kill()
            raise RuntimeError(f"server did not start:\n{server.stderr.read_text()}")
        time.sleep(0.1)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Server:
    server = start_server(
        tmp_path_factory.mktemp("serve"), "--timeout", str(TIMEOUT), "--max-rows", str(MAX_ROWS), "--workers", "2",
        "--max-request-bytes", "65536",
    )
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def strict(tmp_path_factory) -> Server:
    server = start_server(
        tmp_path_factory.mktemp("serve-strict"), "--timeout", "5", "--workers", "1", "--cheap-workers", "0", "--max-queue", "0",
        "--allow-update", TOKEN, "--worker-memory", "400", "--cors-origin", "https://allowed.example",
    )
    yield server
    stop_server(server)


def truth(server: Server, text: str):
    """The answer of pyoxigraph itself, on the same store (opened read-only beside the server)."""
    from hkg_rdf.query import run
    from hkg_rdf.store import open_read_only

    store = open_read_only(server.store)
    results = run(store, text)
    if isinstance(results, ox.QueryTriples):
        return {str(t) for t in results}
    variables = [v.value for v in results.variables]
    return sorted(tuple(str(s[v]) if s[v] is not None else "" for v in variables) for s in results)


def _terms(results) -> list[tuple]:
    variables = [v.value for v in results.variables]
    return sorted(tuple(str(s[v]) if s[v] is not None else "" for v in variables) for s in results)


LITERALS = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER(isLiteral(?o)) FILTER(?p != <{HKG}description>) }} ORDER BY ?s ?p ?o LIMIT 150"
DESCRIPTIONS = f"SELECT ?s ?o WHERE {{ ?s <{HKG}description> ?o }}"
LINEAGE_UP = (EXAMPLES / "queries" / "lineage-up.rq").read_text(encoding="utf-8")
CONSTRUCT = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o ; a <{HKG}Paper> }}"


# ---------------------------------------------------------------- SPARQLWrapper and rdflib


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_sparqlwrapper_select(live, method, fmt):
    from SPARQLWrapper import GET, JSON, POST, SPARQLWrapper, XML

    client = SPARQLWrapper(live.url + "/sparql")
    client.setMethod(GET if method == "GET" else POST)
    client.setReturnFormat(JSON if fmt == "json" else XML)
    client.setQuery(LITERALS)
    result = client.queryAndConvert()
    if fmt == "json":
        rows = [tuple(b[v]["value"] for v in ("s", "p", "o")) for b in result["results"]["bindings"]]
    else:
        rows = []
        for r in result.getElementsByTagName("result"):
            values = {}
            for binding in r.getElementsByTagName("binding"):
                node = next(n for n in binding.childNodes if n.nodeType == n.ELEMENT_NODE)
                values[binding.getAttribute("name")] = "".join(t.data for t in node.childNodes)
            rows.append((values["s"], values["p"], values["o"]))
    expected = [(s["s"].value, s["p"].value, s["o"].value) for s in _open_query(live, LITERALS)]
    assert rows == expected and len(rows) == 150


def _open_query(server: Server, text: str):
    from hkg_rdf.query import run
    from hkg_rdf.store import open_read_only

    return list(run(open_read_only(server.store), text))


def test_sparqlwrapper_ask_and_construct(live):
    from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(live.url + "/sparql")
    client.setReturnFormat(JSON)
    client.setQuery(f"ASK {{ ?m <{HKG}fineTunedFrom> ?b }}")
    assert client.queryAndConvert()["boolean"] is True
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(TURTLE)
    turtle = client.queryAndConvert()
    got = {str(t) for t in ox.parse(turtle, ox.RdfFormat.TURTLE)}
    assert got == truth(live, CONSTRUCT) and got


def test_rdflib_sparqlstore(live):
    import rdflib
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = rdflib.Graph(store=SPARQLStore(live.url + "/sparql", returnFormat="xml"))
    rows = {(str(r.model), str(r.kind), str(r.base)) for r in graph.query(LINEAGE_UP.replace("https://w3id.org/huggingkg/resource/", live.base))}
    assert rows == {("meta-llama/Llama-3.1-8B-Instruct", "finetune", "meta-llama/Llama-3.1-8B"),
                    ("mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated", "finetune", "meta-llama/Llama-3.1-8B-Instruct"),
                    ("mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated-GGUF", "quantized", "mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated")}
    llama = rdflib.URIRef(live.base + "model/meta-llama/Llama-3.1-8B")
    derived = set(graph.subjects(rdflib.URIRef(HKG + "fineTunedFrom"), llama))
    assert rdflib.URIRef(live.base + "model/meta-llama/Llama-3.1-8B-Instruct") in derived
    assert graph.query(f"ASK {{ <{llama}> ?p ?o }}").askAnswer is True


# ---------------------------------------------------------------- plain HTTP, every format


def test_select_in_every_result_format(live):
    expected = truth(live, DESCRIPTIONS)  # README texts: tabs, quotes, newlines, emoji, CR LF
    assert len(expected) > 5
    for accept, fmt in [("application/sparql-results+json", ox.QueryResultsFormat.JSON), ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
                        ("text/tab-separated-values", ox.QueryResultsFormat.TSV)]:
        response = live.query(DESCRIPTIONS, accept)
        assert response.status_code == 200 and response.headers["content-type"].startswith(accept), (accept, response.text[:300])
        assert _terms(ox.parse_query_results(response.content, fmt)) == expected, accept
    response = live.query(DESCRIPTIONS, "text/csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert rows[0] == ["s", "o"]
    plain = sorted((s["s"].value, s["o"].value) for s in _open_query(live, DESCRIPTIONS))
    assert sorted(map(tuple, rows[1:])) == plain
    # XML parsers see the same text (a CR survives as &#13;)
    tree = ET.fromstring(live.query(DESCRIPTIONS, "application/sparql-results+xml").content)
    texts = sorted(b.find(f"{RESULTS_NS}literal").text or "" for b in tree.iter(f"{RESULTS_NS}binding") if b.get("name") == "o")
    assert texts == sorted(o for _, o in plain)


def test_ask_in_every_result_format(live):
    for accept, check in [("application/sparql-results+json", lambda r: r.json()["boolean"] is False),
                          ("application/sparql-results+xml", lambda r: ET.fromstring(r.content).find(f"{RESULTS_NS}boolean").text == "false"),
                          ("text/csv", lambda r: r.text.split() == ["_askResult", "false"]),
                          ("text/tab-separated-values", lambda r: r.text.split() == ["?_askResult", "false"])]:
        response = live.query("ASK { ?s a <http://example.org/Nothing> }", accept)
        assert response.status_code == 200 and check(response), (accept, response.text)


@pytest.mark.parametrize("accept, fmt", [("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
                                         ("application/ld+json", ox.RdfFormat.JSON_LD), ("application/rdf+xml", ox.RdfFormat.RDF_XML)])
def test_construct_and_describe_in_every_rdf_format(live, accept, fmt):
    for text in (CONSTRUCT, f"DESCRIBE <{live.base}model/meta-llama/Llama-3.1-8B>"):
        for method in ("GET", "POST"):
            response = live.query(text, accept, method)
            assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
            assert {str(t) for t in ox.parse(response.content, fmt)} == truth(live, text), (accept, text)


def test_post_sparql_query_body_and_dataset_parameters(live):
    response = httpx.post(live.url + "/sparql", content=LITERALS.encode(), headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
    assert response.status_code == 200 and len(response.text.strip().splitlines()) == 151
    # a default graph that holds nothing: the data is in the store's default graph
    response = httpx.get(live.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": "http://example.org/empty"})
    assert response.status_code == 200 and response.json()["results"]["bindings"] == []


def test_predeclared_prefixes(live):
    assert live.rows("SELECT ?id WHERE { ?t a hkg:Task ; hkg:id ?id } ORDER BY ?id LIMIT 1")


# ---------------------------------------------------------------- errors


def test_syntax_error_is_400_with_the_parser_message(live):
    for method in ("GET", "POST"):
        response = live.query("SELECT * WHERE { ?s ?p }", method=method)
        assert response.status_code == 400
        assert "syntax error" in response.text and re.search(r"\d+:\d+", response.text), response.text


def test_not_acceptable_is_406(live):
    assert live.query("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "image/png").status_code == 406
    assert live.query(CONSTRUCT, "application/sparql-results+json").status_code == 406
    response = live.get("/resource/model/meta-llama/Llama-3.1-8B", headers={"Accept": "image/png"}, follow_redirects=False)
    assert response.status_code == 406


def test_unsupported_media_type_is_415(live):
    response = httpx.post(live.url + "/sparql", content=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415 and "application/sparql-query" in response.text


def test_too_large_request_is_413_and_too_long_url_414(live):
    big = "ASK { ?s ?p ?o }" + " " * 70_000
    response = httpx.post(live.url + "/sparql", content=big.encode(), headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413
    response = httpx.post(live.url + "/sparql", data={"query": big})
    assert response.status_code == 413
    connection = http.client.HTTPConnection("127.0.0.1", int(live.url.rsplit(":", 1)[1]), timeout=30)
    connection.request("GET", "/sparql?query=" + quote("ASK { ?s ?p ?o }" + " " * 66_000))
    assert connection.getresponse().status == 414
    connection.close()
    assert live.query("ASK { ?s ?p ?o }").status_code == 200


def test_overloaded_is_503(strict):
    """One worker and no waiting line: a second query while one runs is refused at once."""
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(strict.query, CARTESIAN)
        deadline = time.monotonic() + 5
        while strict.get("/health").json()["busy"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        response = strict.query("ASK { ?s ?p ?o }")  # refused, not queued: no waiting line
        assert response.status_code == 503 and response.headers.get("retry-after") == "1", response.text
        assert "busy" in response.text
        assert slow.result().status_code == 503  # stopped at its 5 s timeout


# ---------------------------------------------------------------- safety


def test_updates_are_refused_and_data_unchanged(live):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    before, version = live.rows(count), live.get("/health").json()["version"]
    victim = f"{live.base}model/meta-llama/Llama-3.1-8B"
    for request in [
        dict(data={"update": "CLEAR ALL"}),
        dict(content=f"DELETE WHERE {{ <{victim}> ?p ?o }}".encode(), headers={"Content-Type": "application/sparql-update"}),
        dict(content=b"INSERT DATA { <http://e/x> <http://e/p> 1 }", headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer anything"}),
    ]:
        response = httpx.post(live.url + "/sparql", **request)
        assert response.status_code == 403 and "read-only" in response.text
    assert httpx.get(live.url + "/sparql", params={"update": "CLEAR ALL"}).status_code == 405
    # an update sent as a query is a syntax error, not an update
    assert live.query("DELETE WHERE { ?s ?p ?o }").status_code == 400
    assert live.rows(count) == before and live.get("/health").json()["version"] == version


def test_service_makes_no_request_to_a_local_listener(live):
    spy = Listener()
    try:
        target = f"http://127.0.0.1:{spy.port}/sparql"
        for text in [f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
                     f"SELECT * WHERE {{ ?x ?y ?z . service silent <{target}> {{ ?s ?p ?o }} }}",
                     f"PREFIX : <{target}#>\nSELECT * WHERE {{ SERVICE:x {{ ?s ?p ?o }} }}",
                     f"SELECT * WHERE {{ \\u0053ERVICE <{target}> {{ ?s ?p ?o }} }}"]:
            for method in ("GET", "POST"):
                response = live.query(text, method=method)
                assert response.status_code == 403 and "SERVICE" in response.text, response.text
        # a barrier, not a sleep: the listener accepts in order, so once our own connection is
        # recorded, any connection made during the requests above would be recorded before it
        socket.create_connection(("127.0.0.1", spy.port), timeout=5).sendall(b"barrier")
        deadline = time.monotonic() + 30
        while b"barrier" not in spy.connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert spy.connections == [b"barrier"]
        assert live.get("/health").json()["sandboxed"] is True
    finally:
        spy.close()


def test_cartesian_product_is_stopped_at_the_timeout_and_the_worker_killed(live):
    workers = live.children()
    count = live.get("/health").json()["workers"]
    response = live.query(CARTESIAN)
    assert response.status_code == 503 and f"stopped after {TIMEOUT:g} s" in response.text
    assert live.query("ASK { ?s ?p ?o }").json()["boolean"] is True  # answered by the other worker
    killed = workers - live.children()
    assert len(killed) == 1 and not Path(f"/proc/{killed.pop()}").exists()
    deadline = time.monotonic() + 20  # a fresh worker takes its place
    while live.get("/health").json()["workers"] < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live.get("/health").json()["workers"] == count


def test_a_query_needing_too_much_memory_is_stopped(strict):
    hungry = "SELECT ?a ?b ?c ?d ?e ?f ?g WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?b ?c ?d ?e ?f ?g"
    response = strict.query(hungry, "text/csv")
    assert response.status_code == 503, response.text[:200]
    assert "memory" in response.text and "stopped after" not in response.text  # the memory limit, not the timeout
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = strict.query("ASK { ?s ?p ?o }")
        if response.status_code == 200:
            break
        time.sleep(0.1)
    assert response.json()["boolean"] is True


def test_truncation_is_signalled(live):
    full = live.query("SELECT * WHERE { ?s ?p ?o }")
    assert full.headers["x-sparql-truncated"] == "true" and full.headers["x-sparql-max-rows"] == str(MAX_ROWS)
    body = full.json()
    assert len(body["results"]["bindings"]) == MAX_ROWS and body["truncated"] is True
    assert body["head"]["link"] == [live.url + "/sparql#truncated"]
    xml = ET.fromstring(live.query("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+xml").content)
    assert xml.find(f"{RESULTS_NS}head/{RESULTS_NS}link").get("href").endswith("#truncated")
    assert len(xml.findall(f".//{RESULTS_NS}result")) == MAX_ROWS
    graph = live.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "application/n-triples")
    assert graph.headers["x-sparql-truncated"] == "true" and len(list(ox.parse(graph.content, ox.RdfFormat.N_TRIPLES))) == MAX_ROWS
    exact = live.query(f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {MAX_ROWS}")
    assert exact.headers["x-sparql-truncated"] == "false" and "truncated" not in exact.json()
    assert len(exact.json()["results"]["bindings"]) == MAX_ROWS


def test_cors(live, strict):
    response = live.query("ASK {}", headers={"Origin": "https://elsewhere.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "x-sparql-truncated" in response.headers["access-control-expose-headers"].lower()
    preflight = httpx.options(live.url + "/sparql", headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]
    # credentials never cross origins: a preflight asking for Authorization is refused
    preflight = httpx.options(live.url + "/sparql", headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 400
    # configured origins only
    assert strict.get("/health", headers={"Origin": "https://allowed.example"}).headers["access-control-allow-origin"] == "https://allowed.example"
    assert "access-control-allow-origin" not in strict.get("/health", headers={"Origin": "https://other.example"}).headers


def test_etag_and_304(live):
    for path, headers in [("/sparql?query=" + quote(LITERALS), {"Accept": "text/csv"}), ("/page/model/meta-llama/Llama-3.1-8B", {}),
                          ("/data/model/meta-llama/Llama-3.1-8B", {"Accept": "text/turtle"}), ("/.well-known/void", {}), ("/ontology", {}), ("/", {})]:
        first = live.get(path, headers=headers)
        assert first.status_code == 200 and first.headers["etag"].startswith('W/"v'), path
        again = live.get(path, headers={**headers, "If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"], path
        assert live.get(path, headers={**headers, "If-None-Match": 'W/"other"'}).status_code == 200
    # another representation, another tag
    json_tag = live.get("/data/model/meta-llama/Llama-3.1-8B", headers={"Accept": "application/ld+json"}).headers["etag"]
    assert json_tag != live.get("/data/model/meta-llama/Llama-3.1-8B", headers={"Accept": "text/turtle"}).headers["etag"]


@pytest.mark.parametrize("path, params", [("/sparql", {"query": "SELECT * WHERE { ?s ?p ?o }"}), ("/page/model/meta-llama/Llama-3.1-8B", {})],
                         ids=["middleware", "entity-page-from-the-worker"])
def test_gzip(live, path, params):
    plain = httpx.get(live.url + path, params=params, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    with httpx.stream("GET", live.url + path, params=params, headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip" and "accept-encoding" in response.headers["vary"].lower()
    assert gzip.decompress(raw) == plain.content and len(raw) < len(plain.content) / 3


def test_access_log(live):
    live.get("/health?probe=access-log")
    deadline = time.monotonic() + 30  # the line is written after the answer: poll for it
    while not (lines := [l for l in live.access_log.read_text().splitlines() if "probe=access-log" in l]) and time.monotonic() < deadline:
        time.sleep(0.01)
    line = lines[0]
    assert re.match(r'127\.0\.0\.1 - - \[[^]]+\] "GET /health\?probe=access-log HTTP/1\.1" 200 \d+ "-" "python-httpx/[^"]+" \d+\.\d{3}$', line), line


# ---------------------------------------------------------------- updates with a token


def test_updates_need_the_token_and_are_atomic(strict):
    iri = f"{strict.base}model/new/model"
    update = f'INSERT DATA {{ <{iri}> a hkg:Model ; hkg:id "new/model" }}'
    send = lambda headers: httpx.post(strict.url + "/sparql", content=update.encode(), headers={"Content-Type": "application/sparql-update", **headers}, timeout=30)
    assert send({}).status_code == 401 and "www-authenticate" in send({}).headers
    assert send({"Authorization": "Bearer wrong"}).status_code == 403
    assert strict.query(f"ASK {{ <{iri}> ?p ?o }}").json()["boolean"] is False
    page_tag = strict.get("/page/model/meta-llama/Llama-3.1-8B").headers["etag"]
    version = strict.get("/health").json()["version"]
    response = send({"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert strict.query(f"ASK {{ <{iri}> ?p ?o }}").json()["boolean"] is True
    assert strict.get("/health").json()["version"] != version
    assert strict.get("/page/model/meta-llama/Llama-3.1-8B").headers["etag"] != page_tag  # a new store version, new tags
    assert strict.get("/page/model/new/model").status_code == 200
    # LOAD would fetch a URL: refused even with the token
    load = httpx.post(strict.url + "/sparql", data={"update": "LOAD <http://127.0.0.1:9/x.ttl>"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert load.status_code == 403 and "LOAD" in load.text
    bad = httpx.post(strict.url + "/sparql", data={"update": "INSERT DATA { oops }"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400 and "syntax error" in bad.text


SMALL_UPDATE = "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }"
BIG_UPDATE = "INSERT { ?a <http://example.org/near> ?b } WHERE { { SELECT ?a ?b WHERE { ?a ?p ?o . ?b ?q ?r } LIMIT 20000 } }"


@pytest.mark.parametrize("size, update", [(32 << 10, SMALL_UPDATE), (1 << 20, BIG_UPDATE)])  # the new version cannot be created / the update's writes fail
def test_a_full_disk_during_an_update_is_507_and_the_live_version_is_still_served(tmp_path, size, update):
    """The server under a file-size limit, test_store's stand-in for a full disk (the limit holds
    for its workers too, which apply the update)."""
    server = start_server(tmp_path, "--allow-update", TOKEN, "--workers", "1", "--no-dump-generation", preexec_fn=writes_limited_to(size))
    try:
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        before, version = server.rows(count), server.get("/health").json()["version"]
        live_before, versions_before = live_version(server.store), versions(server.store)
        response = httpx.post(server.url + "/sparql", content=update.encode(), timeout=60,
                              headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 507, response.text
        [line] = response.text.splitlines()
        assert line.startswith(f"{server.store}: writing the new version failed, so the store is left as it was: ")
        assert line.endswith("File too large")
        assert server.rows(count) == before and server.get("/health").json()["version"] == version
        assert live_version(server.store) == live_before
        assert versions(server.store) == versions_before  # the half-written version is gone
    finally:
        stop_server(server)
    assert "Traceback" not in server.stderr.read_text()


# ---------------------------------------------------------------- service description, VoID, documents, dumps


def test_service_description(live):
    response = live.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    triples = {(t.subject.value, t.predicate.value, t.object.value) for t in ox.parse(response.content, ox.RdfFormat.TURTLE)}
    service = next(s for s, p, o in triples if p == RDF_TYPE and o == SD + "Service")
    assert (service, SD + "endpoint", live.url + "/sparql") in triples
    assert (service, SD + "supportedLanguage", SD + "SPARQL11Query") in triples
    assert (service, SD + "supportedLanguage", SD + "SPARQL11Update") not in triples
    assert (service, SD + "resultFormat", "http://www.w3.org/ns/formats/SPARQL_Results_JSON") in triples
    assert "text/html" in live.get("/sparql", headers={"Accept": "text/html"}).headers["content-type"]


def test_void(live):
    response = live.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = list(ox.parse(response.content, ox.RdfFormat.TURTLE))
    index: dict[tuple[str, str], list[str]] = {}
    for t in graph:
        index.setdefault((t.subject.value, t.predicate.value), []).append(t.object.value)
    dataset = next(t.subject.value for t in graph if t.predicate.value == RDF_TYPE and t.object.value == VOID + "Dataset")
    one = lambda s, p: index[(s, p)][0]
    assert int(one(dataset, VOID + "triples")) == int(live.rows("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"])
    assert one(dataset, VOID + "sparqlEndpoint") == live.url + "/sparql"
    assert one(dataset, VOID + "uriSpace") == live.base
    assert "https://w3id.org/huggingkg/ontology" in index[(dataset, VOID + "vocabulary")]
    assert index.get((dataset, "http://purl.org/dc/terms/rights")) or index.get((dataset, "http://purl.org/dc/terms/license"))
    classes = {one(p, VOID + "class"): int(one(p, VOID + "entities")) for p in index[(dataset, VOID + "classPartition")]}
    assert classes[HKG + "Model"] == int(live.rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?m a <{HKG}Model> }}")[0]["n"])
    properties = {one(p, VOID + "property"): int(one(p, VOID + "triples")) for p in index[(dataset, VOID + "propertyPartition")]}
    assert properties[HKG + "fineTunedFrom"] == int(live.rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a <{HKG}fineTunedFrom> ?b }}")[0]["n"])
    # the dump is downloadable and its SHA-256 is right
    dumps = index[(dataset, VOID + "dataDump")]
    assert dumps
    for url in dumps:
        body = httpx.get(url).content
        checksum = one(url, "http://spdx.org/rdf/terms#checksum")
        assert one(checksum, "http://spdx.org/rdf/terms#checksumValue") == hashlib.sha256(body).hexdigest()
        assert httpx.get(url + ".sha256").text.split()[0] == hashlib.sha256(body).hexdigest()
        triples = list(ox.parse(gzip.decompress(body), ox.RdfFormat.N_TRIPLES))
        assert len(triples) == int(one(dataset, VOID + "triples"))
    assert live.get("/dumps/", headers={"Accept": "application/json"}).json()["dumps"]
    assert live.get("/dumps/../store").status_code == 404


@pytest.mark.parametrize("path, iri, source", [("/ontology", "https://w3id.org/huggingkg/ontology", REPO / "ontology" / "hkg.ttl"),
                                               ("/shapes", None, REPO / "shapes" / "hkg-shapes.ttl")])
def test_ontology_and_shapes_are_served_with_negotiation(live, path, iri, source):
    expected = _isomorphism_key(ox.parse(path=str(source), format=ox.RdfFormat.TURTLE))
    turtle = live.get(path, headers={"Accept": "text/turtle"})
    assert turtle.content == source.read_bytes() and turtle.headers["vary"].startswith("Accept")
    assert turtle.headers["content-location"] == f"{path}.ttl"
    for accept, fmt in [("application/ld+json", ox.RdfFormat.JSON_LD), ("application/n-triples", ox.RdfFormat.N_TRIPLES), ("application/rdf+xml", ox.RdfFormat.RDF_XML)]:
        response = live.get(path, headers={"Accept": accept})
        assert response.headers["content-type"].startswith(accept)
        assert _isomorphism_key(ox.parse(response.content, fmt)) == expected, accept
    html = live.get(path, headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and "<h1>" in html.text
    if iri:
        assert iri in html.text and 'id="Model"' in html.text
    assert live.get(f"{path}.nt").headers["content-type"].startswith("application/n-triples")


def _isomorphism_key(triples) -> tuple:
    """Triples without blank nodes, and how many there are with: enough to tell two parses apart."""
    triples = list(triples)
    ground = {str(t) for t in triples if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}
    return ground, len(triples)


# ---------------------------------------------------------------- linked data


@pytest.mark.parametrize("accept, fmt", [("text/turtle", ox.RdfFormat.TURTLE), ("application/ld+json", ox.RdfFormat.JSON_LD),
                                         ("application/n-triples", ox.RdfFormat.N_TRIPLES), ("application/rdf+xml", ox.RdfFormat.RDF_XML)])
def test_entity_iri_dereferences_to_rdf(live, accept, fmt):
    iri = live.base + "model/meta-llama/Llama-3.1-8B"
    redirect = httpx.get(iri, headers={"Accept": accept})
    assert redirect.status_code == 303 and "accept" in redirect.headers["vary"].lower()
    assert redirect.headers["location"] == "/data/model/meta-llama/Llama-3.1-8B"
    response = httpx.get(iri, headers={"Accept": accept}, follow_redirects=True)
    assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
    triples = {str(t) for t in ox.parse(response.content, fmt)}
    own = truth(live, f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}")
    incoming = truth(live, f"CONSTRUCT {{ ?s ?p <{iri}> }} WHERE {{ ?s ?p <{iri}> }}")
    assert own and incoming and own | incoming <= triples
    assert f"<{live.url}/data/model/meta-llama/Llama-3.1-8B> <http://xmlns.com/foaf/0.1/primaryTopic> <{iri}>" in triples


def test_entity_iri_dereferences_to_an_html_page(live):
    iri = live.base + "model/meta-llama/Llama-3.1-8B"
    redirect = httpx.get(iri, headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert redirect.status_code == 303 and redirect.headers["location"] == "/page/model/meta-llama/Llama-3.1-8B"
    page = httpx.get(iri, headers={"Accept": "text/html"}, follow_redirects=True)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "https://huggingface.co/meta-llama/Llama-3.1-8B" in html
    assert "1021436" in html  # an attribute (downloads)
    assert 'href="/page/task/text-generation"' in html  # a link out
    assert 'href="/page/model/meta-llama/Llama-3.1-8B-Instruct"' in html  # a link in (fine-tuned from it)
    assert 'href="/page/org/meta-llama"' in html  # its publisher
    lineage = html[html.index("Lineage"):]
    assert "mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated-GGUF" in lineage  # two steps down
    up = httpx.get(live.url + "/page/model/mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated-GGUF").text
    assert 'href="/page/model/meta-llama/Llama-3.1-8B"' in up[up.index("Lineage"):]  # three steps up
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_hub_links_for_every_entity_type(live):
    expected = {"dataset": "https://huggingface.co/datasets/", "space": "https://huggingface.co/spaces/", "paper": "https://huggingface.co/papers/",
                "collection": "https://huggingface.co/collections/", "user": "https://huggingface.co/", "org": "https://huggingface.co/",
                "task": "https://huggingface.co/tasks/"}
    for segment, prefix in expected.items():
        entity_type = vocabulary().type_by_segment(segment)
        row = live.rows(f"SELECT ?e ?k WHERE {{ ?e a <{entity_type.cls}> ; <{entity_type.key.prop}> ?k }} ORDER BY ?k LIMIT 1")[0]
        page = httpx.get(row["e"], headers={"Accept": "text/html"}, follow_redirects=True)
        assert page.status_code == 200, row
        assert f'href="{prefix}{quote(row["k"], safe="/")}"' in page.text, (segment, row)


def test_any_id_dereferences_and_hostile_values_are_harmless(live):
    iri = IriMinter(live.base).mint(vocabulary().type_by_segment("model"), WEIRD_ID)
    page = httpx.get(iri, headers={"Accept": "text/html"}, follow_redirects=True)
    assert page.status_code == 200
    assert XSS not in page.text and "&lt;script&gt;" in page.text
    assert 'href="javascript:' not in page.text
    data = httpx.get(iri, headers={"Accept": "application/n-triples"}, follow_redirects=True)
    ids = [t.object.value for t in ox.parse(data.content, ox.RdfFormat.N_TRIPLES) if t.predicate.value == HKG + "id"]
    assert ids == [WEIRD_ID]


def test_unknown_entities_and_paths_are_404(live):
    assert httpx.get(live.base + "model/no/such-model", headers={"Accept": "text/turtle"}, follow_redirects=True).status_code == 404
    assert live.get("/page/model/no/such-model").status_code == 404
    assert live.get("/page/nosuchtype/x").status_code == 404
    assert live.get("/resource/model/%ZZ", follow_redirects=True).status_code == 404
    assert live.get("/no/such/path").status_code == 404


def test_html_results_for_browsers(live):
    response = live.query(LINEAGE_UP.replace("https://w3id.org/huggingkg/resource/", live.base), "text/html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.text.count("<tr>") == 4 and "mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated" in response.text


# ---------------------------------------------------------------- under load


def test_bounded_load_has_no_errors(live):
    """benchmarks/load_test.py's scenarios, small: concurrent clients, every answer a 200."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("load_test", REPO / "benchmarks" / "load_test.py")
    load_test = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load_test)
    results = load_test.run_all(live.url, live.base, requests=150, concurrency=6, duration=600)  # a bound, not a measure
    assert {r["scenario"] for r in results} == {"entity-page", "entity-turtle", "lineage-query"}
    for r in results:
        assert r["requests"] == 150 and r["errors"] == 0, r


# ---------------------------------------------------------------- the query page in a browser


def test_query_page_in_headless_chromium(live):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        try:
            page = browser.new_page()
            requests, errors = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(live.url + "/")
            page.wait_for_selector(".CodeMirror", timeout=20_000)
            page.get_by_role("button", name=re.compile("^Lineage up")).click()
            rows = page.locator(".yasr table tbody tr")
            rows.first.wait_for(timeout=20_000)
            assert rows.count() == 3
            assert "mlabonne/Meta-Llama-3.1-8B-Instruct-abliterated-GGUF" in page.locator(".yasr").inner_text()
            page.goto(live.base + "model/meta-llama/Llama-3.1-8B")  # the entity IRI itself
            assert page.url == live.url + "/page/model/meta-llama/Llama-3.1-8B"
            assert page.locator("h1").inner_text().endswith("meta-llama/Llama-3.1-8B")
            page.get_by_role("link", name="meta-llama/Llama-3.1-8B-Instruct").first.click()
            page.wait_for_url("**/page/model/meta-llama/Llama-3.1-8B-Instruct")
            assert errors == []
            assert all(url.startswith(live.url) or url.startswith("data:") for url in requests), [u for u in requests if not u.startswith(live.url)]
        finally:
            browser.close()
