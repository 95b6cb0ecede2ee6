"""hkg-rdf serve, the parts that need no server: the SERVICE/LOAD check, negotiation, the sandbox."""

from __future__ import annotations

import ctypes
import errno
import mmap
import multiprocessing
import os
import platform
import socket
import sys
import threading

import pyoxigraph as ox
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

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


# RFC 9110 section 12.5.1: each offer takes the q of the MOST SPECIFIC range matching it, wherever
# that range stands in the header; q=0 means "not acceptable"; ties go to the server's order.
RFC9110_PRECEDENCE = [
    # what clients send: browsers, SPARQL libraries, a missing header
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
    # a less specific range first, a more specific one with a higher q after it
    ("text/*;q=0.5, text/html", media.SOLUTION_TYPES, media.HTML),
    ("*/*;q=0.1, text/turtle", media.GRAPH_TYPES, media.TURTLE),
    ("*/*;q=0.1, application/*;q=0.5, application/n-triples;q=0.2", media.GRAPH_TYPES, media.JSONLD),
    ("application/*;q=0.3, */*;q=0.9, application/rdf+xml", media.GRAPH_TYPES, media.RDFXML),
    ("*/*, text/*;q=0.2", media.GRAPH_TYPES, media.NTRIPLES),  # type/* is more specific than */*
    ("application/*;q=0.9, application/json;q=0.3, text/csv;q=0.5", media.SOLUTION_TYPES, media.SPARQL_XML),  # an alias beats type/*
    # ... and a more specific one with a LOWER q overrides the wildcard it falls under
    ("*/*, text/turtle;q=0.2", media.GRAPH_TYPES, media.NTRIPLES),
    ("text/*, text/csv;q=0.1", media.SOLUTION_TYPES, media.TSV),
    # q=0 excludes, even when a wildcard would accept
    ("*/*, text/turtle;q=0", media.GRAPH_TYPES, media.NTRIPLES),
    ("text/turtle;q=0, */*;q=0.1", media.GRAPH_TYPES, media.NTRIPLES),
    ("application/*;q=0, */*", media.GRAPH_TYPES, media.TURTLE),
    ("application/*;q=0, text/*;q=0", media.SOLUTION_TYPES, None),
    ("*/*;q=0", media.GRAPH_TYPES, None),
    ("*/*;q=0.5, application/sparql-results+json;q=0, application/sparql-results+xml;q=0", media.SOLUTION_TYPES, media.CSV),
    # an exact name beats an alias for the same format; the alias beats a wildcard
    ("application/json;q=0.5, application/sparql-results+json;q=0.2, application/sparql-results+xml;q=0.3", media.SOLUTION_TYPES, media.SPARQL_XML),
    ("*/*;q=0.4, application/json;q=0.6, text/csv;q=0.5", media.SOLUTION_TYPES, media.SPARQL_JSON),
    # equal q: the server's order decides, not the header's
    ("application/n-triples;q=0.8, text/turtle;q=0.8", media.GRAPH_TYPES, media.TURTLE),
    ("text/tab-separated-values, text/csv", media.SOLUTION_TYPES, media.CSV),
    # names and parameters are case-insensitive; media-type parameters do not hide the q
    ("TEXT/Turtle;Q=0.5, application/n-triples;q=0.4", media.GRAPH_TYPES, media.TURTLE),
    ("text/turtle;charset=utf-8;q=0.3, application/n-triples;q=0.2", media.GRAPH_TYPES, media.TURTLE),
    # no q means q=1; q out of range is clamped, an unreadable q is 0
    ("application/n-triples, text/turtle;q=1.0", media.GRAPH_TYPES, media.TURTLE),
    ("text/turtle;q=1.5, application/n-triples;q=0.9", media.GRAPH_TYPES, media.TURTLE),
    ("application/n-triples;q=1.5, text/turtle", media.GRAPH_TYPES, media.TURTLE),
    ("text/turtle;q=abc, application/n-triples;q=0.1", media.GRAPH_TYPES, media.NTRIPLES),
    ("text/turtle;q==0.9, application/n-triples;q=0.1", media.GRAPH_TYPES, media.NTRIPLES),  # the value is "=0.9": unreadable
    # a bare type is read as type/* (sent by some old clients)
    ("text, application/ld+json;q=0.5", media.GRAPH_TYPES, media.TURTLE),
    # empty members are ignored; nothing usable means no preference
    ("text/turtle;q=0.1,, ,application/n-triples;q=0.2", media.GRAPH_TYPES, media.NTRIPLES),
    (",,", media.GRAPH_TYPES, media.TURTLE),
    ("   ", media.SOLUTION_TYPES, media.SPARQL_JSON),
]


@pytest.mark.parametrize("accept, offers, expected", RFC9110_PRECEDENCE)
def test_negotiation_precedence_by_specificity_and_q(accept, offers, expected):
    assert media.negotiate(accept, offers) == expected
    assert media.choose(None, accept, offers) == expected  # no ?format=: Accept decides


def test_format_parameter_overrides_accept():
    assert media.choose("csv", "application/sparql-results+json", media.SOLUTION_TYPES) == media.CSV
    assert media.choose("ttl", None, media.SOLUTION_TYPES) is None


@pytest.mark.parametrize("format_param, offers, expected", [
    ("TSV", media.SOLUTION_TYPES, media.TSV),  # short names, any case
    ("application/sparql-results+xml", media.SOLUTION_TYPES, media.SPARQL_XML),  # a media type
    ("Text/Turtle", media.GRAPH_TYPES, media.TURTLE),
    ("application/json", media.SOLUTION_TYPES, media.SPARQL_JSON),  # an alias
    ("Application/JSON", media.SOLUTION_TYPES, media.SPARQL_JSON),
    ("text/csv; charset=utf-8", media.SOLUTION_TYPES, media.CSV),  # a media type's parameters do not hide it
    ("image/png,text/csv", media.SOLUTION_TYPES, media.CSV),  # a list (as SPARQLWrapper's second one): the first known and offered
    ("image/png", media.SOLUTION_TYPES, media.SPARQL_JSON),  # unknown here: Accept (*/*) decides
    ("application/sparql-results+json", media.GRAPH_TYPES, media.JSONLD),  # a result format's name means its kind's JSON
])
def test_format_parameter_names(format_param, offers, expected):
    assert media.choose(format_param, "*/*", offers) == expected


def test_an_unknown_format_parameter_leaves_the_choice_to_accept():
    assert media.choose("image/png", "text/csv", media.SOLUTION_TYPES) == media.CSV
    assert media.choose("image/png", "image/gif", media.SOLUTION_TYPES) is None


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
    with pytest.raises(OSError):  # the listener closes without an answer
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


# ---------------------------------------------------------------- each seccomp rule, one syscall family at a time

SANDBOX_X86_64 = platform.machine() == "x86_64" and sys.platform.startswith("linux")
_AF = {"inet": socket.AF_INET, "inet6": socket.AF_INET6, "netlink": socket.AF_NETLINK, "packet": socket.AF_PACKET, "unix": socket.AF_UNIX}
# x86-64 numbers (asm/unistd_64.h): socket 41, io_uring_setup 425; an x32 call sets bit 30 (__X32_SYSCALL_BIT)
_SOCKET, _IO_URING_SETUP, _X32 = 41, 425, 0x40000000
# i386 socket (asm/unistd_32.h: 359) through ``int 0x80`` from this 64-bit process:
# push rbx; mov eax, 359; mov ebx, AF_INET; mov ecx, SOCK_STREAM; xor edx, edx; int 0x80; pop rbx; ret
_INT80_SOCKET = bytes.fromhex("53" "b867010000" "bb02000000" "b901000000" "31d2" "cd80" "5b" "c3")


def _outcome(result: int, error: int) -> str:
    """'allowed' (the call returned a descriptor) or the errno name it failed with."""
    if result >= 0:
        os.close(result)
        return "allowed"
    return errno.errorcode.get(error, str(error))


def _syscall(number: int, *args: int) -> str:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    result = libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in args))
    return _outcome(result, ctypes.get_errno())


def _int80_socket() -> str:
    """An i386 ``socket()`` via ``int 0x80``, in a forked child (a kernel without ia32 emulation kills it)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        code.write(_INT80_SOCKET)
        call = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(code)))
        result = call()  # the raw return: a descriptor, or minus the errno
        os.write(write, _outcome(result, -result).encode() if result < 0 else b"allowed")
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    answer = os.read(read, 100).decode()
    os.close(read)
    return answer or f"killed by signal {os.WTERMSIG(status)}"


def _probe_child(sandbox: bool, results) -> None:
    """Like a worker: sandbox this process, then try each syscall family the filter has a rule for."""
    from hkg_rdf.serve.sandbox import forbid_network

    outcome = {"sandboxed": forbid_network() if sandbox else False}
    for name, family in _AF.items():
        kind = socket.SOCK_RAW if name in ("netlink", "packet") else socket.SOCK_STREAM
        outcome[f"socket {name}"] = _syscall(_SOCKET, family, kind, 0)
    outcome["socket inet, x32 ABI"] = _syscall(_X32 | _SOCKET, socket.AF_INET, socket.SOCK_STREAM, 0)
    params = ctypes.create_string_buffer(120)  # struct io_uring_params, zeroed
    outcome["io_uring_setup"] = _syscall(_IO_URING_SETUP, 1, ctypes.addressof(params))
    outcome["socket inet, i386 ABI"] = _int80_socket()
    seen = {}
    thread = threading.Thread(target=lambda: seen.update(t=_syscall(_SOCKET, socket.AF_INET, socket.SOCK_STREAM, 0)))
    thread.start()
    thread.join()
    outcome["socket inet, from a thread started later"] = seen["t"]
    results.put(outcome)


def _probe(sandbox: bool) -> dict[str, str]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_probe_child, args=(sandbox, results))
    child.start()
    outcome = results.get(timeout=60)
    child.join(10)
    return outcome


@pytest.mark.skipif(not SANDBOX_X86_64, reason="the seccomp filter's rules are checked on Linux x86-64")
def test_each_seccomp_rule_denies_exactly_its_syscall_family():
    """Every rule of the filter, tried as a worker would: denied with the filter's own EACCES.

    The same probes without the filter show that each denial is the filter's doing (a removed
    rule would let the call through or fail otherwise, e.g. ENOSYS for x32, EPERM for io_uring
    under a container's profile), so a filter missing any one rule fails this test.
    """
    free, sandboxed = _probe(sandbox=False), _probe(sandbox=True)
    assert sandboxed.pop("sandboxed") is True and free.pop("sandboxed") is False
    denied = {probe: "EACCES" for probe in free if probe != "socket unix"}
    assert sandboxed == {**denied, "socket unix": "allowed"}
    assert free["socket unix"] == free["socket inet"] == "allowed"
    assert all(result != "EACCES" for result in free.values()), free


def _refusing_prctl_child(option: int, results) -> None:
    """A process whose own, earlier seccomp filter makes ``prctl(option, ...)`` fail with EPERM
    (as a container runtime's profile may), then asked to forbid the network."""
    import struct

    from hkg_rdf.serve import sandbox

    prctl_nr, ld, jeq, ret = 157, 0x20, 0x15, 0x06  # asm/unistd_64.h; BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_RET|K
    code = [(ld, 0, 0, 0), (jeq, 0, 3, prctl_nr), (ld, 0, 0, 16), (jeq, 0, 1, option), (ret, 0, 0, 0x00050000 | errno.EPERM), (ret, 0, 0, 0x7FFF0000)]
    program = b"".join(struct.pack("=HBBI", *instruction) for instruction in code)
    buffer = ctypes.create_string_buffer(program, len(program))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    fprog = sandbox._Filter(len(code), ctypes.cast(buffer, ctypes.c_void_p))
    assert libc.prctl(38, 1, None, 0, 0) == 0 and libc.prctl(22, 2, ctypes.addressof(fprog), 0, 0) == 0, ctypes.get_errno()
    results.put((sandbox.forbid_network(), _syscall(_SOCKET, socket.AF_INET, socket.SOCK_STREAM, 0)))


@pytest.mark.skipif(not SANDBOX_X86_64, reason="the seccomp filter's rules are checked on Linux x86-64")
@pytest.mark.parametrize("option", [38, 22], ids=["PR_SET_NO_NEW_PRIVS refused", "PR_SET_SECCOMP refused"])
def test_a_filter_that_cannot_be_installed_is_reported_as_not_installed(option):
    """Where the kernel refuses either prctl, forbid_network says False: the server must not claim a sandbox it lacks."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_refusing_prctl_child, args=(option, results))
    child.start()
    installed, socket_call = results.get(timeout=60)
    child.join(10)
    assert installed is False and socket_call == "allowed"


def _unsupported_child(machine: str, system: str, results) -> None:
    from hkg_rdf.serve import sandbox

    sandbox.platform.machine = lambda: machine
    sandbox.sys.platform = system
    outcome = sandbox.forbid_network()
    results.put((outcome, _syscall(_SOCKET, socket.AF_INET, socket.SOCK_STREAM, 0)))


@pytest.mark.parametrize("machine, system", [("sparc64", "linux"), ("x86_64", "darwin"), ("riscv64", "freebsd14")])
def test_no_seccomp_filter_where_it_is_not_supported_and_the_caller_is_told(machine, system):
    """Elsewhere than Linux on x86-64 / aarch64 no filter is installed, and forbid_network says so (False)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_unsupported_child, args=(machine, system, results))
    child.start()
    installed, socket_call = results.get(timeout=60)
    child.join(10)
    assert installed is False and socket_call == "allowed"


# ---------------------------------------------------------------- entity pages' links in


def test_links_in_read_from_the_index_equal_what_sparql_counts_and_orders(monkeypatch):
    """describe() reads an entity's few links in from the index; past SCANNED_LINKS_IN it asks
    SPARQL. Both give the same counts, order (blank nodes first, IRIs by code point: "a" before
    "a!", which their N-Triples forms would swap) and pages."""
    from hkg_rdf.serve import pages

    base, hkg = "https://example.org/r/", "https://w3id.org/huggingkg/ontology#"
    node, likes, contains = ox.NamedNode(base + "model/x"), ox.NamedNode(hkg + "likes"), ox.NamedNode(hkg + "contains")
    store = ox.Store()
    store.add(ox.Quad(node, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(hkg + "Model")))
    for name in ("user/b", "user/a!", "user/a", "user/é", "user/Z", "user/a/b"):
        store.add(ox.Quad(ox.NamedNode(base + name), likes, node))
    for blank in ("b2", "b1"):
        store.add(ox.Quad(ox.BlankNode(blank), contains, node))
    store.add(ox.Quad(ox.NamedNode(base + "collection/c"), contains, node))
    for page in (None, ("in", likes.value, 0), ("in", likes.value, 2), ("in", contains.value, 1)):
        scanned = pages.describe(store, node.value, base, per_property=2, page=page)
        monkeypatch.setattr(pages, "SCANNED_LINKS_IN", 0)
        counted = pages.describe(store, node.value, base, per_property=2, page=page)
        monkeypatch.undo()
        assert scanned == counted
        assert [g["count"] for g in scanned["links_in"]] == [3, 6]


def test_lineage_from_the_entity_scans_equals_lineage_looked_up(monkeypatch):
    """describe() starts each lineage tree from the edges its own scans of the entity read: the
    same trees, in the same order, as one lookup per lineage property gives, a named graph's
    lineage triples left out as the lookups leave them out (here and past SCANNED_LINKS_IN)."""
    from hkg_rdf.iris import IriMinter
    from hkg_rdf.serve import pages

    base, hkg = "https://example.org/r/", "https://w3id.org/huggingkg/ontology#"
    model = lambda name: ox.NamedNode(f"{base}model/{name}")  # noqa: E731
    store = ox.Store()
    store.add(ox.Quad(model("x"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(hkg + "Model")))
    edges = [("x", "fineTunedFrom", "b2"), ("x", "fineTunedFrom", "b1"), ("x", "quantizedFrom", "b3"), ("b1", "mergedFrom", "b0"),
             ("d2", "adapterOf", "x"), ("d1", "fineTunedFrom", "x"), ("d3", "quantizedFrom", "d1"), ("d1", "adapterOf", "x")]
    for derived, prop, parent in edges:
        store.add(ox.Quad(model(derived), ox.NamedNode(hkg + prop), model(parent)))
    store.add(ox.Quad(ox.BlankNode("n"), ox.NamedNode(hkg + "adapterOf"), model("x")))
    for derived, parent in (("x", "elsewhere"), ("elsewhere", "x")):
        store.add(ox.Quad(model(derived), ox.NamedNode(hkg + "fineTunedFrom"), model(parent), ox.NamedNode(base + "graph")))
    minter = IriMinter(base)
    looked_up = {way: pages._lineage(store, model("x").value, minter, way == "up", 200, None) for way in ("up", "down")}
    assert [n["id"] for n in looked_up["up"]["tree"]] and "elsewhere" not in str(looked_up)
    for scanned_links_in in (pages.SCANNED_LINKS_IN, 0):
        monkeypatch.setattr(pages, "SCANNED_LINKS_IN", scanned_links_in)
        lineage = pages.describe(store, model("x").value, base)["lineage"]
        assert {way: lineage[way] for way in looked_up} == looked_up


# ---------------------------------------------------------------- the worker pool's lanes


def test_cheap_jobs_run_at_most_cheap_at_once_together_and_queries_beside_them(example_store):
    """Three idle workers, cheap_at_once=1: three cheap jobs run one after another (more at once
    on fewer CPUs only cost CPU), while a query in its own lane runs beside them."""
    import asyncio

    from hkg_rdf.serve.workers import Pool

    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?b ?f . FILTER(?a != ?d) }"  # about a second
    job = {"text": slow, "default_graphs": [], "named_graphs": [], "max_rows": 10, "endpoint": "http://127.0.0.1/sparql",
           "media_types": {"solutions": "application/sparql-results+json", "boolean": None, "graph": None}}

    async def run() -> tuple[list[int], list[int]]:
        pool = Pool("test", example_store, size=1, max_queue=10, sandbox=False, reserved=2, cheap_at_once=1)
        await pool.start()
        cheap, busy = [], []

        async def watch() -> None:
            while True:
                cheap.append(pool.running["cheap"])
                busy.append(pool.busy)
                await asyncio.sleep(0.002)

        watcher = asyncio.ensure_future(watch())
        try:
            results = await asyncio.gather(*(pool.run("query", timeout=60, lane="cheap", **job) for _ in range(3)),
                                           pool.run("query", timeout=60, lane="query", **job))
            assert len({r.body for r in results}) == 1
        finally:
            watcher.cancel()
            await pool.close()
        return cheap, busy

    cheap, busy = asyncio.run(run())
    assert max(cheap) == 1 and max(busy) == 2


# ---------------------------------------------------------------- a term as HTML

def _parsed(html: str) -> tuple[list[tuple[str, dict]], str]:
    """The start tags (name, attributes) and the text of an HTML fragment, as a browser's parser reads them."""
    from html.parser import HTMLParser

    tags, text = [], []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: tags.append((tag, dict(attrs)))
    parser.handle_data = text.append
    parser.feed(html)
    parser.close()
    return tags, "".join(text)


_MARKUP = st.text(st.sampled_from("<>&\"'=/ ab;#") | st.characters())


@given(value=_MARKUP, iri=_MARKUP, label=_MARKUP)
@example(value="<b>bold</b> &amp;", iri='"><img src=x>', label="<script>alert('x')</script>")
def test_a_term_is_written_as_its_elements_whatever_its_strings(value, iri, label):
    """Every string of a term comes back as the same text or attribute value, inside exactly the elements of its kind."""
    from hkg_rdf.serve.rendering import term

    value = value.replace("\r", "")  # (a parser reads CR as LF)
    iri, label = iri.replace("\r", ""), label.replace("\r", "")
    tags, text = _parsed(term({"kind": "entity", "iri": iri, "segment": label, "id": value, "href": "/page/" + iri}))
    assert tags == [("a", {"class": "entity", "href": "/page/" + iri, "title": iri}), ("span", {"class": "type"})] and text == f"{label} {value}"
    tags, text = _parsed(term({"kind": "iri", "iri": iri, "label": label, "href": "javascript:" + iri}))
    assert tags == [("span", {"class": "iri", "title": iri})] and text == label
    tags, text = _parsed(term({"kind": "literal", "value": value, "length": 12345, "cut": True, "lang": label}))
    assert [t for t, _ in tags] == ["span", "span"] + (["span"] if label else []) and text.startswith(value + " … (12,345 characters")
    assert text.endswith(f"@{label}" if label else "see the data document)")
    tags, text = _parsed(term({"kind": "literal", "value": value, "length": len(value), "cut": False, "datatype": label or "xsd:int"}))
    assert tags == [("span", {"class": "literal"}), ("span", {"class": "datatype"})] and text == value + (label or "xsd:int")
    tags, text = _parsed(term({"kind": "bnode", "value": value}))
    assert tags == [("span", {"class": "bnode"})] and text == value
