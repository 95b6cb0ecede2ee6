"""``hkg-rdf push`` and ``--sparql`` against real SPARQL servers started here on 127.0.0.1.

For each server (Oxigraph's own server from PyPI's ``oxigraph``; OpenLink Virtuoso 7 from
Debian's ``virtuoso-opensource``, both installed by ``.ci/run``): push the example graph and a
synthetic one, then the example queries, ``stats`` and ``validate`` must answer exactly as the
embedded store does; a killed push resumes, and until it finishes the graph keeps serving its
previous content. A server whose binary is missing skips its tests, saying so.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import EXAMPLES, REPO, invoke, load_store, must
from recording_proxy import Proxy, Request
from sparql_servers import oxigraph_binary, start_oxigraph, start_virtuoso, virtuoso_binary

from hkg_rdf.errors import InputError
from hkg_rdf.push import Endpoints, State, default_state_path, source_fingerprint, state_key
from hkg_rdf.sparql_store import ReadableStore, RemoteStore, _query_form, parse_auth
from hkg_rdf.store import open_read_only

QUERIES = sorted((EXAMPLES / "queries").glob("*.rq"))
SYNTHETIC_SCALE = "0.001"  # ~36,000 triples


# ---------------------------------------------------------------- servers and data


@pytest.fixture(scope="session", params=["oxigraph", "virtuoso"])
def server(request, tmp_path_factory):
    name = request.param
    if name == "oxigraph" and oxigraph_binary() is None:
        pytest.skip("Oxigraph server binary not found: pip install oxigraph (.ci/run does)")
    if name == "virtuoso" and virtuoso_binary() is None:
        pytest.skip("virtuoso-t not found: apt-get install virtuoso-opensource (.ci/run does)")
    started = (start_oxigraph if name == "oxigraph" else start_virtuoso)(tmp_path_factory.mktemp(name))
    yield started
    started.stop()


def credentials(server) -> list[str]:
    return ["--auth", server.auth] if server.auth else []


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Push state files go to a private cache directory, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def synthetic_release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), "--scale", SYNTHETIC_SCALE, "-o", str(out)],
                   check=True, capture_output=True, timeout=120)
    return next(out.glob("HuggingKG_V*"))


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory, synthetic_release) -> Path:
    return load_store(tmp_path_factory.mktemp("synthetic-store") / "store", synthetic_release)


def push(server, *args) -> str:
    result = must(invoke("push", *args, "--endpoint", server.endpoint, *credentials(server)))
    return result.output


def same_answers(store_dir: Path, server, graph: str) -> None:
    """Every example query, stats and validate: byte-identical output from the store and the server."""
    remote = ["--sparql", server.endpoint, "--graph", graph, *credentials(server)]
    for query in QUERIES:
        local = must(invoke("query", "--store", store_dir, "-f", query, "--format", "json")).output
        assert must(invoke("query", *remote, "-f", query, "--format", "json")).output == local, query.name
    local = json.loads(must(invoke("stats", "--store", store_dir, "--json")).output)
    assert local["triples"] > 0
    assert json.loads(must(invoke("stats", *remote, "--json")).output) == local
    local = invoke("validate", "--store", store_dir)
    there = invoke("validate", *remote)
    assert (there.exit_code, there.output) == (local.exit_code, local.output)


def same_bench_exports(store_dir: Path, server, graph: str, out: Path) -> None:
    """bench export of every collection: byte-identical files from the store and the server."""
    remote = ["--sparql", server.endpoint, "--graph", graph, *credentials(server)]
    for task in ("recommendation", "classification", "tracing"):
        local, there = out / f"{task}-local", out / f"{task}-remote"
        must(invoke("bench", "export", task, "--store", store_dir, "-o", local, "--seed", "3"))
        must(invoke("bench", "export", task, *remote, "-o", there, "--seed", "3"))
        files = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
        assert files and files == sorted(p.relative_to(there) for p in there.rglob("*") if p.is_file()), task
        for name in files:
            assert (there / name).read_bytes() == (local / name).read_bytes(), f"{task}/{name}"


# ---------------------------------------------------------------- no server needed, first: these kill most mutants (benchmarks/mutation.py) fastest


def _varied_store(n: int) -> ox.Store:
    """An in-memory store of ``n`` triples of every kind of term (made without a conversion: quick)."""
    objects = ('"{i}"^^<http://www.w3.org/2001/XMLSchema#integer>', '"name {i}"@en', '"tab\\there \\"{i}\\""', "<http://example.org/o{i}>")
    lines = [f"<http://example.org/s{i % 97}> <http://example.org/p{i % 5}> {objects[i % 4].format(i=i)} ." for i in range(n)]
    store = ox.Store()
    store.load("\n".join(lines).encode(), ox.RdfFormat.N_TRIPLES)
    assert len(store) == n
    return store


def test_retries_transient_failures(tmp_path):
    """A store that answers 503 / 429 now and then, then accepts: every chunk arrives once acknowledged."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlparse

    from hkg_rdf.push import Pusher

    graphs: dict[str, set] = {}
    calls = {"n": 0}

    class Flaky(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, status: int, body: bytes = b"", media: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            url = urlparse(self.path)
            calls["n"] += 1
            if calls["n"] % 3 == 0:  # every third request fails, alternately 503 and 429
                return self._reply(503 if calls["n"] % 2 else 429)
            if url.path == "/store":
                graph = parse_qs(url.query)["graph"][0]
                graphs.setdefault(graph, set()).update(str(t) for t in ox.parse(body, ox.RdfFormat.N_TRIPLES))
                return self._reply(204)
            form = parse_qs(body.decode())
            if url.path == "/update":
                text = form["update"][0]
                if text.startswith("MOVE"):
                    source, target = text.split("<")[1].split(">")[0], text.split("<")[2].split(">")[0]
                    graphs[target] = graphs.pop(source, set())
                return self._reply(204)
            graph = parse_qs(url.query)["default-graph-uri"][0]
            n = len(graphs.get(graph, ()))
            answer = json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": [
                {"n": {"type": "literal", "value": str(n), "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]}})
            return self._reply(200, answer.encode(), "application/sparql-results+json")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        messages: list[str] = []
        pusher = Pusher(Endpoints.guess(base + "/query"), None, retries=3, backoff=0.01, echo=messages.append)
        store = _varied_store(950)
        example_total = len(store)
        before = time.monotonic()
        result = pusher.push(store, "https://example.org/g", "test", chunk=100, state_path=tmp_path / "state.json")
        took = time.monotonic() - before
        assert result.triples == example_total and result.chunks == -(-example_total // 100) and result.swap == "MOVE"
        assert (result.graph, result.resumed_at) == ("https://example.org/g", 0)
        # the reported durations are parts of the time the call took (no threshold: consistency only)
        assert 0 < result.upload_seconds and 0 < result.swap_seconds and result.upload_seconds + result.swap_seconds <= result.seconds <= took
        assert result.rate == result.triples / result.seconds
        assert graphs["https://example.org/g"] == {str(q.triple) for q in store}
        assert any("HTTP 503" in m for m in messages) and any("HTTP 429" in m for m in messages)
    finally:
        httpd.shutdown()


def test_the_state_file_is_in_the_users_cache_directory_one_per_push(monkeypatch, tmp_path):
    key = state_key("http://h/query", "urn:g", "fingerprint", 100)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_state_path(key) == tmp_path / "xdg" / "hkg-rdf" / "push" / f"{key[:16]}.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_state_path(key) == tmp_path / "home" / ".cache" / "hkg-rdf" / "push" / f"{key[:16]}.json"
    # the key changes with each part of the command that changes what is sent, and only with them
    assert key == state_key("http://h/query", "urn:g", "fingerprint", 100)
    others = [state_key("http://h2/query", "urn:g", "fingerprint", 100), state_key("http://h/query", "urn:g2", "fingerprint", 100),
              state_key("http://h/query", "urn:g", "fingerprint2", 100), state_key("http://h/query", "urn:g", "fingerprint", 200)]
    assert len({key, *others}) == 5 and all(len(k) == 64 for k in others)


def test_the_source_fingerprint_changes_with_the_files_of_the_sources(tmp_path):
    release = tmp_path / "release"
    (release / "sub").mkdir(parents=True)
    (release / "models.json").write_text("[]")
    (release / "sub" / "spaces.json").write_text("[]")
    single = tmp_path / "extra.nt"
    single.write_text("")
    first = source_fingerprint([release, single])
    assert first == source_fingerprint([release, single]) and len(first) == 64
    seen = {first}
    for change in (lambda: (release / "sub" / "spaces.json").write_text("[ ]"),  # a size, deep in the directory
                   lambda: os.utime(single, ns=(0, 123_456_789)),  # a modification time only
                   lambda: (release / "datasets.json").write_text("[]"),  # a file more
                   lambda: single.rename(tmp_path / "other.nt")):  # another name
        change()
        current = source_fingerprint([release, single if single.exists() else tmp_path / "other.nt"])
        assert current not in seen
        seen.add(current)
    assert source_fingerprint([tmp_path / "other.nt", release]) not in seen  # the order of the sources counts


# ---------------------------------------------------------------- against the servers


@pytest.fixture(scope="session")
def example_total(example_store) -> int:
    """The example graph's triple count, read from the store (the example data may change)."""
    return len(open_read_only(example_store))


def test_example_graph_answers_as_embedded(server, example_store, example_total):
    graph = "https://example.org/graph/example"
    output = push(server, "--store", example_store, "--graph", graph, "--chunk", "100")
    assert f"pushed {example_total:,} triples" in output and f"in {-(-example_total // 100)} chunks" in output
    same_answers(example_store, server, graph)
    # pushing again replaces the graph (not adds to it)
    push(server, "--store", example_store, "--graph", graph)
    assert RemoteStore(server.endpoint, graph).count() == example_total


def test_synthetic_source_answers_as_embedded(server, synthetic_release, synthetic_store, tmp_path):
    graph = "https://example.org/graph/synthetic"
    push(server, synthetic_release, "--graph", graph, "--chunk", "5000")  # a release: converted, then pushed
    same_answers(synthetic_store, server, graph)
    same_bench_exports(synthetic_store, server, graph, tmp_path)


def test_violations_found_the_same(server, tmp_path, example_store):
    """A graph that breaks the shapes: same results listed remotely as locally."""
    data = tmp_path / "broken.nt"
    must(invoke("dump", "--store", example_store, "-o", data))
    model = "<https://w3id.org/huggingkg/resource/model/google-bert/bert-base-uncased>"
    with data.open("a") as out:
        out.write(f'{model} <https://w3id.org/huggingkg/ontology#likeCount> "-3"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
        out.write(f'{model} <https://w3id.org/huggingkg/ontology#notAProperty> "x" .\n')
    store = load_store(tmp_path / "store", data)
    graph = "https://example.org/graph/broken"
    push(server, data, "--graph", graph)
    local = invoke("validate", "--store", store)
    assert local.exit_code == 1
    there = invoke("validate", "--sparql", server.endpoint, "--graph", graph, *credentials(server))
    assert (there.exit_code, there.output) == (local.exit_code, local.output)


def test_killed_push_keeps_previous_graph_then_resumes(server, tmp_path, example_store, example_total, synthetic_store):
    graph = "https://example.org/graph/resume"
    push(server, "--store", example_store, "--graph", graph)
    remote = RemoteStore(server.endpoint, graph)
    assert remote.count() == example_total
    state = tmp_path / "push-state.json"
    args = ["push", "--store", synthetic_store, "--graph", graph, "--chunk", "200", "--state", state,
            "--endpoint", server.endpoint, *credentials(server)]
    scratch = tmp_path / "tmp"  # the killed push cannot remove its scratch directory: keep it here
    scratch.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "hkg_rdf", *map(str, args)], cwd=REPO, env={**os.environ, "TMPDIR": str(scratch)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            done = json.loads(state.read_text())["done"]
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= 3:
            break
        time.sleep(0.002)
    assert process.poll() is None, "the push finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # killed mid-way: the graph still serves the previous content, untouched
    assert remote.count() == example_total
    done = json.loads(state.read_text())["done"]
    assert 3 <= done < 180
    result = must(invoke(*args))
    assert f"resuming: {done} of " in result.output and f"resumed at chunk {done + 1}" in result.output
    assert not state.exists()
    total = json.loads(must(invoke("stats", "--store", synthetic_store, "--json")).output)["triples"]
    assert remote.count() == total


def test_refused_push_leaves_graph_unchanged(server, example_store, example_total, synthetic_store):
    graph = "https://example.org/graph/refused"
    push(server, "--store", example_store, "--graph", graph)
    bad = server.endpoint.rsplit("/", 1)[0] + "/no-such-graph-store"
    result = invoke("push", "--store", synthetic_store, "--graph", graph, "--endpoint", server.endpoint,
                    "--gsp-endpoint", bad, "--retries", "0", *credentials(server))
    assert result.exit_code == 3, result.output
    assert "is unchanged" in result.output
    assert RemoteStore(server.endpoint, graph).count() == example_total


def test_update_only_store(server, example_store):
    """Without a Graph Store endpoint the chunks go as INSERT DATA through SPARQL Update."""
    graph = "https://example.org/graph/update-only"
    push(server, "--store", example_store, "--graph", graph, "--gsp-endpoint", "none", "--chunk", "300")
    expected = sorted(str(q.triple) for q in open_read_only(example_store))  # every term as it was, escapes and all
    assert _graph_fingerprint(server, graph) == (len(expected), hashlib.sha256("\n".join(expected).encode()).hexdigest())


# ---------------------------------------------------------------- what the server received


def _graph_fingerprint(server, graph: str) -> tuple[int, str]:
    """The triple count and a digest of the graph's triples, read from the server itself."""
    triples = sorted(str(q.triple) for q in RemoteStore(server.endpoint, graph, parse_auth(server.auth, None)))
    return len(triples), hashlib.sha256("\n".join(triples).encode()).hexdigest()


@pytest.fixture
def proxied(server):
    """A recording proxy in front of the real server: ``(proxy, endpoint through it)``."""
    upstream = server.endpoint.split("/", 3)
    proxy = Proxy("/".join(upstream[:3])).start()
    yield proxy, proxy.url(server.endpoint)
    proxy.stop()


def _push_through(server, endpoint: str, store: Path, graph: str, state: Path, *options: str):
    return invoke("push", "--store", store, "--graph", graph, "--endpoint", endpoint, "--state", state, "--retries", "0",
                  *options, *credentials(server))


def _triples(request: Request) -> set[str]:
    return {str(t) for t in ox.parse(request.body, ox.RdfFormat.N_TRIPLES)}


@pytest.fixture(scope="session")
def previous_store(tmp_path_factory, example_triples_txt) -> Path:
    """What the target graph holds before a push: the example's triples.txt (not the example graph)."""
    return load_store(tmp_path_factory.mktemp("previous") / "store", example_triples_txt)


def _answer_chunk(n: int, status: int, body: bytes, uploads: list[Request]):
    """A proxy fault: record each chunk upload; answer the ``n``-th with ``(status, body)``, unforwarded."""

    def fault(request: Request):
        if request.method == "POST" and request.graph is not None:
            uploads.append(request)
            if len(uploads) == n:
                return status, body
        return None

    return fault


def test_resume_sends_only_the_chunks_not_acknowledged(server, proxied, tmp_path, previous_store, example_store, example_total):
    """A push failing at chunk 4, rerun: the server receives chunks 4.. only, never 1-3 again."""
    proxy, endpoint = proxied
    graph = "https://example.org/graph/resume-at-the-wire"
    push(server, "--store", previous_store, "--graph", graph)
    before = _graph_fingerprint(server, graph)
    state, chunk = tmp_path / "state.json", "100"
    uploads: list[Request] = []


    proxy.fault = _answer_chunk(4, 400, b"refused by the test", uploads)
    first = _push_through(server, endpoint, example_store, graph, state, "--chunk", chunk)
    assert first.exit_code == 3, first.output
    assert "chunk 4: HTTP 400" in first.output and "is unchanged" in first.output
    assert _graph_fingerprint(server, graph) == before
    sent_first = proxy.chunk_uploads()
    assert len(sent_first) == 3

    proxy.fault, proxy.requests = None, []
    second = must(_push_through(server, endpoint, example_store, graph, state, "--chunk", chunk))
    sent_again = proxy.chunk_uploads()
    assert example_total > 500  # enough chunks of 100 for the test to mean something
    assert len(sent_again) == -(-example_total // 100) - 3, "chunks acknowledged before the failure were sent again"
    assert {r.graph for r in sent_again} == {sent_first[0].graph}  # the same temporary graph, continued
    first_triples = set().union(*map(_triples, sent_first))
    again_triples = set().union(*map(_triples, sent_again))
    assert first_triples.isdisjoint(again_triples)
    assert first_triples | again_triples == {str(q.triple) for q in open_read_only(example_store)}
    assert "resumed at chunk 4" in second.output
    assert _graph_fingerprint(server, graph)[0] == example_total
    assert not state.exists()


def test_a_wrong_count_stops_the_push_before_the_swap(server, proxied, tmp_path, previous_store, example_store, example_total):
    """A chunk lost on the way (acknowledged, never stored): exit 3, the target graph as it was, no swap sent."""
    proxy, endpoint = proxied
    graph = "https://example.org/graph/count-check"
    push(server, "--store", previous_store, "--graph", graph)
    before = _graph_fingerprint(server, graph)
    uploads: list[Request] = []


    proxy.fault = _answer_chunk(2, 204, b"", uploads)
    state = tmp_path / "state.json"
    result = _push_through(server, endpoint, example_store, graph, state, "--chunk", "200")
    assert result.exit_code == 3, result.output
    assert f"holds {example_total - 200:,} triples, expected {example_total:,}" in result.output and "is unchanged" in result.output
    assert not any(r.mentions(graph) for r in proxy.requests), "a request touched the target graph"
    assert _graph_fingerprint(server, graph) == before
    assert state.exists()  # kept: the rerun resumes (or the user deletes it to start over)


def test_the_target_graph_is_untouched_until_the_count_matches(server, proxied, tmp_path, previous_store, example_store, example_total):
    """Before each request of a push reaches the server, the target still holds its previous
    triples; the swap is the first request naming it, after a count of the temporary graph that
    answered the full count."""
    proxy, endpoint = proxied
    graph = "https://example.org/graph/untouched-until-counted"
    push(server, "--store", previous_store, "--graph", graph)
    before = _graph_fingerprint(server, graph)
    seen: list[tuple[int, str]] = []
    proxy.before = lambda request: seen.append(_graph_fingerprint(server, graph))  # read around the proxy
    must(_push_through(server, endpoint, example_store, graph, tmp_path / "state.json", "--chunk", "200"))

    requests = proxy.requests
    swap = next(i for i, r in enumerate(requests) if r.mentions(graph))
    assert requests[swap].update and "MOVE" in requests[swap].update
    assert seen[: swap + 1] == [before] * (swap + 1)
    temp = proxy.chunk_uploads()[0].graph
    counts = [r for r in requests[:swap] if r.query and "COUNT" in r.query.upper()]
    assert counts and counts[-1].params["default-graph-uri"] == [temp]
    assert f'"{example_total}"'.encode() in counts[-1].answer
    expected = sorted(str(q.triple) for q in open_read_only(example_store))
    assert _graph_fingerprint(server, graph) == (len(expected), hashlib.sha256("\n".join(expected).encode()).hexdigest())


def test_a_chunk_failing_past_its_retries_stops_the_push(server, proxied, tmp_path, previous_store, example_store):
    """5xx (here 500) every time for one chunk: tried 1 + --retries times, then exit 3 with the target as it was."""
    proxy, endpoint = proxied
    graph = "https://example.org/graph/retries-exhausted"
    push(server, "--store", previous_store, "--graph", graph)
    before = _graph_fingerprint(server, graph)
    chunks_seen: list[bytes] = []  # distinct chunk bodies in the order they first came
    attempts: list[bytes] = []

    def third_chunk_always_500(request: Request):
        if request.method == "POST" and request.graph is not None:
            attempts.append(request.body)
            if request.body not in chunks_seen:
                chunks_seen.append(request.body)
            if len(chunks_seen) == 3 and request.body == chunks_seen[2]:
                return 500, b"internal error (the test)"
        return None

    proxy.fault = third_chunk_always_500
    result = _push_through(server, endpoint, example_store, graph, tmp_path / "state.json", "--chunk", "200",
                           "--retries", "2", "--backoff", "0.1")
    assert result.exit_code == 3, result.output
    assert "chunk 3: HTTP 500: internal error (the test) (after 2 retries)" in result.output
    # exponential back-off, as announced (the waits themselves are not timed here)
    assert [line.rsplit(" retrying in ", 1)[1] for line in result.output.splitlines() if " retrying in " in line] == ["0.1 s", "0.2 s"]
    assert attempts.count(chunks_seen[2]) == 3 and len(chunks_seen) == 3  # no chunk after it was sent
    assert _graph_fingerprint(server, graph) == before


def test_every_request_carries_the_credentials_and_counting_obeys_the_retries(server, proxied, tmp_path, example_store, example_total):
    """--auth goes with every request, the count query included; --retries 0 holds for the count too."""
    proxy, endpoint = proxied
    graph = "https://example.org/graph/credentials"
    auth = [] if server.auth else ["--auth", "tester:secret"]  # Virtuoso: its dba account (_push_through); Oxigraph takes any
    result = _push_through(server, endpoint, example_store, graph, tmp_path / "state.json", *auth)
    assert result.exit_code == 0, result.output
    counts = [r for r in proxy.requests if r.query and "COUNT" in r.query.upper()]
    assert counts and all(r.authorization for r in counts)
    if not server.auth:  # Basic on every request (Virtuoso's Digest sends some first requests bare, to be challenged)
        assert all(r.authorization for r in proxy.requests), [r.path for r in proxy.requests if not r.authorization]

    def counting_the_pushed_graph(r: Request) -> bool:
        return bool(r.query) and "COUNT" in r.query.upper() and "urn:hkg-rdf:push:" in r.query + str(r.params)

    proxy.fault, proxy.requests = lambda r: (503, b"busy (the test)") if counting_the_pushed_graph(r) else None, []
    result = _push_through(server, endpoint, example_store, graph + "/2", tmp_path / "state2.json")
    assert result.exit_code == 3 and "counting the triples of <urn:hkg-rdf:push:" in result.output, result.output
    assert "HTTP 503 from the endpoint: busy (the test)" in result.output
    assert len([r for r in proxy.requests if counting_the_pushed_graph(r)]) == 1  # asked once: no retry behind --retries 0


def test_an_error_names_the_chunk_and_shows_the_start_of_the_answer(server, proxied, tmp_path, example_store):
    """Through SPARQL Update (no Graph Store endpoint) as through the Graph Store Protocol: the
    failing chunk is named, and the server's answer is shown up to 300 characters."""
    proxy, endpoint = proxied
    uploads: list[Request] = []

    def second_insert_refused(request: Request):
        if (request.update or "").startswith("INSERT DATA"):
            uploads.append(request)
            if len(uploads) == 2:
                return 400, b"<" + b"x" * 1000 + b">"
        return None

    proxy.fault = second_insert_refused
    result = _push_through(server, endpoint, example_store, "https://example.org/graph/refused-insert", tmp_path / "state.json",
                           "--gsp-endpoint", "none", "--chunk", "300")
    assert result.exit_code == 3, result.output
    assert f"chunk 2: HTTP 400: <{'x' * 299}" in result.output and "x" * 300 not in result.output, result.output


def test_a_store_refusing_move_gets_drop_add_in_one_update(server, proxied, tmp_path, previous_store, example_store):
    """MOVE refused (as by a store without it): the swap falls back to DROP + ADD + DROP in one request."""
    proxy, endpoint = proxied
    graph = "https://example.org/graph/drop-add"
    push(server, "--store", previous_store, "--graph", graph)
    proxy.fault = lambda request: (400, b"MOVE not supported (the test)") if (request.update or "").startswith("MOVE") else None
    result = must(_push_through(server, endpoint, example_store, graph, tmp_path / "state.json"))
    assert "swap by DROP+ADD" in result.output
    assert "swapping the graph in (MOVE): HTTP 400: MOVE not supported (the test); swapping with DROP + ADD instead" in result.output
    swaps = [r.update for r in proxy.requests if r.update and r.mentions(graph)]
    assert len(swaps) == 2 and swaps[0].startswith("MOVE") and "DROP SILENT GRAPH" in swaps[1] and "ADD <" in swaps[1]
    expected = sorted(str(q.triple) for q in open_read_only(example_store))
    assert _graph_fingerprint(server, graph) == (len(expected), hashlib.sha256("\n".join(expected).encode()).hexdigest())
    temp = proxy.chunk_uploads()[0].graph
    assert RemoteStore(server.endpoint, temp, parse_auth(server.auth, None)).count() == 0  # the temporary graph is gone


# ---------------------------------------------------------------- no server needed


def test_endpoint_layouts():
    ox = Endpoints.guess("http://h:7878/query")
    assert (ox.update, ox.gsp) == ("http://h:7878/update", "http://h:7878/store")
    vt = Endpoints.guess("http://h:8890/sparql", authenticated=True)
    assert (vt.update, vt.gsp) == ("http://h:8890/sparql-auth", "http://h:8890/sparql-graph-crud-auth")
    other = Endpoints.guess("http://h/ds", gsp="http://h/ds/data")
    assert (other.update, other.gsp) == ("http://h/ds", "http://h/ds/data")
    assert (Endpoints.guess("https://h:7878/query/").update, Endpoints.guess("https://h:7878/query/").gsp) == ("https://h:7878/update", "https://h:7878/store")
    vt = Endpoints.guess("http://h:8890/sparql")
    assert (vt.query, vt.update, vt.gsp) == ("http://h:8890/sparql", "http://h:8890/sparql", "http://h:8890/sparql-graph-crud")
    given = Endpoints.guess("http://h:7878/query", update="http://h/u", gsp="")
    assert (given.update, given.gsp) == ("http://h/u", "")  # given ones win, even an empty one (no Graph Store: --gsp-endpoint none)
    assert Endpoints.guess("http://h/ds").gsp is None
    with pytest.raises(InputError, match="not an http\\(s\\) URL: ftp://h/query") as error:
        Endpoints.guess("ftp://h/query")
    assert error.value.file == "--endpoint"  # the option to fix is named


def test_a_store_that_never_answers_is_given_up_on_after_the_timeout(tmp_path):
    """A server that accepts the connection and never answers: the request times out (a
    transport error, retried like one), then the push stops with an error naming it."""
    import socket

    from hkg_rdf.push import PushError, Pusher

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}/query"
        messages: list[str] = []
        pusher = Pusher(Endpoints.guess(endpoint), None, retries=1, backoff=0.01, timeout=0.2, echo=messages.append)
        with pytest.raises(PushError, match=r"^clearing the temporary graph: ReadTimeout: .* \(after 1 retries\)$"):
            pusher.push(_varied_store(3), "urn:g", "test", chunk=2, state_path=tmp_path / "state.json")
        assert len(messages) == 1 and messages[0].startswith("clearing the temporary graph: ReadTimeout")


def test_without_an_update_endpoint_nothing_is_sent():
    from hkg_rdf.push import PushError, Pusher

    pusher = Pusher(Endpoints("http://127.0.0.1:9/query", None, None), None, retries=0, backoff=0.0)
    with pytest.raises(PushError, match="^clearing: no SPARQL Update endpoint$"):
        pusher.update("DROP SILENT GRAPH <urn:x>", "clearing")


def test_query_forms():
    assert _query_form("PREFIX a: <x:>\n# SELECT\nBASE <y:> construct { } where { }") == "CONSTRUCT"
    assert _query_form("  ask {}") == "ASK"
    assert _query_form("describe <x:a>") == "DESCRIBE"
    assert _query_form("SELECT * {}") == "SELECT"


def test_remote_store_refuses_query_options_it_does_not_apply():
    """Every keyword of RemoteStore.query is pyoxigraph's and the protocol's; any other one
    (pyoxigraph's ``base_iri``, a typo) is a TypeError before a request is made, not an answer
    that ignored it (as ``substitutions`` once was). No server: the supported keywords get as
    far as the closed port."""
    keywords = lambda f: [name for name, p in inspect.signature(f).parameters.items() if p.kind is p.KEYWORD_ONLY]
    assert keywords(RemoteStore.query) == keywords(ReadableStore.query)
    assert set(keywords(RemoteStore.query)) < set(keywords(ox.Store.query))
    store = RemoteStore("http://127.0.0.1:9/sparql", retries=0)
    for option in ("base_iri", "custom_functions", "substitution"):
        with pytest.raises(TypeError, match=f"unexpected keyword argument '{option}'"):
            store.query("ASK { }", **{option: None})
    with pytest.raises(InputError, match="cannot reach"):
        store.query("SELECT * { ?s ?p ?o }", prefixes={"ex": "http://example.org/"}, use_default_graph_as_union=True,
                    default_graph=[ox.NamedNode("urn:g")], named_graphs=[ox.NamedNode("urn:h")],
                    substitutions={ox.Variable("s"): ox.NamedNode("urn:s")})


UNION = "SELECT ?g ?s WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


def _two_graphs(server, tmp_path: Path) -> tuple[str, str, ox.Store]:
    """Two graphs pushed to the server, one triple each: the graph a RemoteStore reads, another;
    and the embedded store holding the same, the first as its default graph."""
    from hkg_rdf.push import Pusher

    auth = parse_auth(server.auth, None)
    pusher = Pusher(Endpoints.guess(server.endpoint, authenticated=auth is not None), auth, retries=0, backoff=0.0)
    embedded = ox.Store()
    read, other = "https://example.org/graph/read", "https://example.org/graph/other"
    for graph, to_graph in ((read, ox.DefaultGraph()), (other, ox.NamedNode(other))):
        triple = f"<{graph}#s> <http://example.org/p> \"{graph}\" .".encode()
        one = ox.Store()
        one.load(triple, ox.RdfFormat.N_TRIPLES)
        pusher.push(one, graph, "test", state_path=tmp_path / "state.json")
        embedded.load(triple, ox.RdfFormat.N_TRIPLES, to_graph=to_graph)
    return read, other, embedded


def test_remote_store_applies_the_graphs_it_is_given_or_refuses_them(server, proxied, tmp_path):
    """``default_graph`` / ``named_graphs`` as pyoxigraph takes them: a NamedNode is that graph of
    the server, ``DefaultGraph()`` (and ``default_graph`` not given) the graph the RemoteStore
    reads, so the answers are the embedded store's. A blank node names a graph only its own
    store knows, and the protocol's default-graph-uri and named-graph-uri take IRIs only: a
    ValueError naming it, as for an empty dataset, which no request asks for; what is no graph
    name a TypeError; all before any request (they were once left out, silently)."""
    proxy, endpoint = proxied
    read, other, embedded = _two_graphs(server, tmp_path)
    remote = RemoteStore(endpoint, read, parse_auth(server.auth, None))
    applied = [
        ("SELECT ?s WHERE { ?s ?p ?o }", {}),
        ("SELECT ?s WHERE { ?s ?p ?o }", {"default_graph": ox.DefaultGraph()}),
        ("SELECT ?s WHERE { ?s ?p ?o }", {"default_graph": ox.NamedNode(other)}),
        ("SELECT ?s WHERE { ?s ?p ?o }", {"default_graph": [ox.DefaultGraph(), ox.NamedNode(other)]}),
        ("SELECT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } }", {"default_graph": [ox.DefaultGraph()], "named_graphs": [ox.NamedNode(other)]}),
        (UNION, {"named_graphs": [ox.NamedNode(other)]}),  # the default graph stays the one read
        (UNION, {"default_graph": [], "named_graphs": [ox.NamedNode(other)]}),  # an empty default graph
    ]
    for query, dataset in applied:
        assert _rows(remote.query(query, **dataset)) == _rows(embedded.query(query, **dataset)), dataset
    query, both = applied[3]
    assert _rows(remote.query(query, **both)) == [(f"<{other}#s>",), (f"<{read}#s>",)]  # both graphs, neither left out

    sent = len(proxy.requests)
    refused = [
        (ValueError, "^default_graph: the blank node _:g names no graph", {"default_graph": ox.BlankNode("g")}),
        (ValueError, "^default_graph: the blank node _:g names no graph", {"default_graph": [ox.NamedNode(other), ox.BlankNode("g")]}),
        (ValueError, "^named_graphs: the blank node _:g names no graph", {"named_graphs": [ox.BlankNode("g")]}),
        (TypeError, f"^default_graph: '{other}' is not a NamedNode or DefaultGraph", {"default_graph": other}),
        (TypeError, "^named_graphs: <DefaultGraph> is not a NamedNode", {"named_graphs": [ox.DefaultGraph()]}),
        (ValueError, r"^default_graph=\[\] and no named_graphs \(an empty dataset\)", {"default_graph": []}),
    ]
    for error, message, dataset in refused:
        with pytest.raises(error, match=message):
            remote.query("SELECT ?s WHERE { ?s ?p ?o }", **dataset)
    with pytest.raises(ValueError, match="DefaultGraph.. is the endpoint's own default graph"):  # a RemoteStore of no graph
        RemoteStore(endpoint, None).query("SELECT ?s WHERE { ?s ?p ?o }", default_graph=[ox.DefaultGraph(), ox.NamedNode(other)])
    assert len(proxy.requests) == sent


def _rows(solutions) -> list[tuple[str, ...]]:
    return sorted(tuple(str(row[v]) for v in solutions.variables) for row in solutions)


def test_credentials():
    assert parse_auth(None, "T") == {"Authorization": "Bearer T"}
    assert parse_auth(None, None) is None
    with pytest.raises(InputError, match="expected user:password"):
        parse_auth("user-without-password", None)
    with pytest.raises(InputError, match="not both"):
        parse_auth("u:p", "T")


def test_sparql_needs_a_reachable_endpoint():
    result = invoke("stats", "--sparql", "http://127.0.0.1:9/sparql")
    assert result.exit_code == 2 and "cannot reach" in result.output
    result = invoke("stats")
    assert result.exit_code == 2 and "--store DIR or --sparql URL" in result.output


# ---------------------------------------------------------------- serve in front of a remote store


def _bindings(body: dict) -> list[dict]:
    return [{k: (v["type"].replace("typed-literal", "literal"), v["value"], v.get("datatype"), v.get("xml:lang")) for k, v in b.items()}
            for b in body["results"]["bindings"]]


def test_serve_fronts_a_remote_store(server, example_store, example_total, tmp_path):
    import httpx

    from conftest import free_port

    graph = "https://example.org/graph/served"
    push(server, "--store", example_store, "--graph", graph)
    port = free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "hkg_rdf", "serve", "--sparql", server.endpoint, "--graph", graph, *credentials(server),
         "--port", str(port), "--workers", "1", "--access-log", str(tmp_path / "access.log")],
        stdout=subprocess.DEVNULL, stderr=open(log, "wb"), cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        for query in QUERIES:
            local = json.loads(must(invoke("query", "--store", example_store, "-f", query, "--format", "json")).output)
            response = httpx.post(url + "/sparql", data={"query": query.read_text()}, headers={"Accept": "application/sparql-results+json"}, timeout=30)
            assert response.status_code == 200, response.text
            assert _bindings(response.json()) == _bindings(local), query.name
        entity = "https://w3id.org/huggingkg/resource/model/google-bert/bert-base-uncased"
        page = httpx.get(url + "/page/model/google-bert/bert-base-uncased", timeout=30)
        assert page.status_code == 200 and "bert-base-uncased" in page.text
        data = httpx.get(url + "/data/model/google-bert/bert-base-uncased", headers={"Accept": "application/n-triples"}, timeout=30)
        assert data.status_code == 200
        served = {str(t) for t in ox.parse(data.content, ox.RdfFormat.N_TRIPLES) if not t.subject.value.startswith(url)}
        local_store = open_read_only(example_store)
        node = ox.NamedNode(entity)
        expected = {str(q.triple) for q in [*local_store.quads_for_pattern(node, None, None), *local_store.quads_for_pattern(None, None, node)]}
        assert served == expected
        void = httpx.get(url + "/.well-known/void", headers={"Accept": "application/n-triples"}, timeout=30)
        assert void.status_code == 200 and f'<http://rdfs.org/ns/void#triples> "{example_total}"' in void.text
        service = httpx.get(url + "/sparql", params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}, timeout=30)
        assert service.status_code == 403
    finally:
        process.terminate()
        process.wait(15)


def test_serve_remote_refuses_updates():
    result = invoke("serve", "--sparql", "http://127.0.0.1:9/sparql", "--allow-update", "secret")
    assert result.exit_code == 2 and "--allow-update needs --store" in result.output


def test_a_state_file_that_is_not_this_pushs_is_ignored_and_the_push_starts_over(server, proxied, tmp_path, example_store, example_total):
    """Unreadable, another push's (other options), or this push's for a graph of another size:
    every chunk is sent again, into a new temporary graph, and no "resuming" is claimed."""
    from hkg_rdf.store import live_path

    proxy, endpoint = proxied
    graph, chunk = "https://example.org/graph/state-not-ours", 100
    state = tmp_path / "state.json"
    key = state_key(endpoint, graph, f"store:{live_path(example_store).resolve()}", chunk)
    ours_but_other_size = State(key, "urn:hkg-rdf:push:earlier", example_total + 1, done=2)
    others = ["{not json", json.dumps({"key": key}),
              json.dumps({**ours_but_other_size.__dict__, "key": "another push's", "total": example_total}), json.dumps(ours_but_other_size.__dict__)]
    temps = set()
    for text in others:
        state.write_text(text)
        proxy.requests = []
        result = must(_push_through(server, endpoint, example_store, graph, state, "--chunk", str(chunk)))
        assert "resum" not in result.output, text
        sent = proxy.chunk_uploads()
        assert len(sent) == -(-example_total // chunk), text
        assert len({r.graph for r in sent}) == 1 and sent[0].graph != "urn:hkg-rdf:push:earlier"
        temps.add(sent[0].graph)
        assert not state.exists()
    assert len(temps) == len(others)
    assert RemoteStore(server.endpoint, graph, parse_auth(server.auth, None)).count() == example_total
    # the control: the same state for the right size is this push's, resumed, and its temporary
    # graph (never filled here) fails the count check before any swap
    state.write_text(json.dumps({**ours_but_other_size.__dict__, "total": example_total}))
    proxy.requests = []
    result = _push_through(server, endpoint, example_store, graph, state, "--chunk", str(chunk))
    assert result.exit_code == 3 and "expected" in result.output, result.output
    assert f"resuming: 2 of {-(-example_total // chunk)} chunks already in urn:hkg-rdf:push:earlier" in result.output
    assert {r.graph for r in proxy.chunk_uploads()} == {"urn:hkg-rdf:push:earlier"}


def test_a_refused_clearing_or_a_non_2xx_answer_stops_the_push(server, proxied, tmp_path, previous_store, example_store):
    """The first update (clearing the temporary graph) refused: nothing is sent. A chunk answered
    with a 3xx (here 300): not acknowledged, the push stops there. The target graph as it was."""
    proxy, endpoint = proxied
    graph = "https://example.org/graph/not-acknowledged"
    push(server, "--store", previous_store, "--graph", graph)
    before = _graph_fingerprint(server, graph)
    proxy.fault = lambda request: (403, b"read-only (the test)") if (request.update or "").startswith("DROP") else None
    result = _push_through(server, endpoint, example_store, graph, tmp_path / "one.json", "--chunk", "200")
    assert result.exit_code == 3 and "clearing the temporary graph: HTTP 403: read-only (the test)" in result.output, result.output
    assert proxy.chunk_uploads() == [] and len(proxy.requests) == 1

    uploads: list[Request] = []


    proxy.fault, proxy.requests = _answer_chunk(2, 300, b"multiple choices (the test)", uploads), []
    result = _push_through(server, endpoint, example_store, graph, tmp_path / "two.json", "--chunk", "200")
    assert result.exit_code == 3 and "chunk 2: HTTP 300" in result.output, result.output
    assert len(uploads) == 2 and json.loads((tmp_path / "two.json").read_text())["done"] == 1
    assert _graph_fingerprint(server, graph) == before


class _Renames:
    """The renames this process makes (audit events), while the block runs."""

    installed, active = False, None

    def __init__(self):
        self.seen: list[tuple[str, str]] = []
        if not _Renames.installed:  # audit hooks cannot be removed: one, inert unless a block is active
            sys.addaudithook(lambda event, args: _Renames.active is not None and event == "os.rename" and _Renames.active.seen.append((str(args[0]), str(args[1]))))
            _Renames.installed = True

    def __enter__(self):
        _Renames.active = self
        return self

    def __exit__(self, *exc):
        _Renames.active = None


def test_the_state_file_is_replaced_whole_and_its_loss_before_the_swap_is_harmless(server, proxied, tmp_path, example_store, example_total):
    """Each state write is a file in the state's own directory renamed over it (atomic: a kill
    leaves the old state or the new one); a state file deleted by the user while the push runs
    does not stop the push from finishing."""
    proxy, endpoint = proxied
    graph, state = "https://example.org/graph/state-writes", tmp_path / "states" / "state.json"
    proxy.before = lambda request: state.unlink() if (request.update or "").startswith("MOVE") else None
    with _Renames() as renames:
        must(_push_through(server, endpoint, example_store, graph, state, "--chunk", "200"))
    onto_state = [source for source, target in renames.seen if target == str(state)]
    assert len(onto_state) == 1 + -(-example_total // 200)  # the new state, then one per chunk
    assert all(Path(source).parent == state.parent and source != str(state) for source in onto_state)
    assert not state.exists() and list(state.parent.iterdir()) == []
    assert RemoteStore(server.endpoint, graph, parse_auth(server.auth, None)).count() == example_total


def test_only_the_default_graph_is_pushed(server, tmp_path):
    """The pushed graph is the store's default graph: a named graph's quads stay behind, and the count agrees."""
    from hkg_rdf.push import Pusher

    store = ox.Store()
    default = [f"<http://example.org/s{i}> <http://example.org/p> \"{i}\" ." for i in range(5)]
    store.load("\n".join(default).encode(), ox.RdfFormat.N_TRIPLES)
    store.load(b"<http://example.org/other> <http://example.org/p> \"named\" .", ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("http://example.org/g"))
    graph = "https://example.org/graph/default-only"
    auth = parse_auth(server.auth, None)
    pusher = Pusher(Endpoints.guess(server.endpoint, authenticated=auth is not None), auth, retries=0, backoff=0.0)
    result = pusher.push(store, graph, "test", chunk=2, state_path=tmp_path / "state.json")
    assert (result.triples, result.chunks) == (5, 3)
    assert {str(q.triple) for q in RemoteStore(server.endpoint, graph, auth)} == {str(t) for t in ox.parse("\n".join(default).encode(), ox.RdfFormat.N_TRIPLES)}


def test_a_store_refusing_both_swaps_leaves_the_target_and_the_state(server, proxied, tmp_path, previous_store, example_store):
    """MOVE and the DROP + ADD fallback both refused: exit 3 naming the fallback, the target graph
    as it was, the state kept for a rerun."""
    proxy, endpoint = proxied
    graph = "https://example.org/graph/no-swap"
    push(server, "--store", previous_store, "--graph", graph)
    before = _graph_fingerprint(server, graph)
    proxy.fault = lambda request: (400, b"no swap (the test)") if request.update and request.mentions(graph) else None
    state = tmp_path / "state.json"
    result = _push_through(server, endpoint, example_store, graph, state)
    assert result.exit_code == 3, result.output
    assert "swapping the graph in (DROP + ADD): HTTP 400: no swap (the test)" in result.output
    assert _graph_fingerprint(server, graph) == before and state.exists()
