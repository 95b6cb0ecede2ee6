"""Stores the read commands run on: the embedded Oxigraph store, or a remote SPARQL endpoint.

Both offer what ``query``, ``stats``, ``validate``, ``serve`` (and ``bench export``) use of a
``pyoxigraph.Store``, and no more: :class:`RemoteStore` refuses any other ``query`` keyword
(a TypeError), and a graph or dataset the protocol cannot name (a blank node, an empty
dataset: a ValueError), rather than answer as if it had applied it::

    store.query(sparql, prefixes=..., substitutions=..., use_default_graph_as_union=...,
                default_graph=..., named_graphs=...)                    # QuerySolutions | QueryBoolean | QueryTriples
    store.quads_for_pattern(s, p, o)                                    # the entity pages of ``serve``
    store.named_graphs()                                                # iterator of graph names
    iter(store)                                                         # the quads

:class:`RemoteStore` speaks the SPARQL 1.1 Protocol only. It queries one named graph of the
remote store as the default graph (``default-graph-uri``), so our queries run unchanged, and
parses the answers with pyoxigraph (``parse_query_results`` / ``parse``): the results are
real pyoxigraph objects, indistinguishable from the embedded store's.

:func:`open_store` is the one place the commands turn ``--store DIR`` / ``--sparql URL`` into
a store.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import httpx
import pyoxigraph as ox

from .errors import InputError

#: The named graph ``push`` writes and ``--sparql`` reads unless ``--graph`` says otherwise.
DEFAULT_GRAPH = "https://w3id.org/huggingkg/graph"

SPARQL_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
#: A graph as ``query`` takes it: by IRI, or the store's default graph.
GraphName = ox.NamedNode | ox.DefaultGraph


class ReadableStore(Protocol):
    """What the read commands need of a store (a ``pyoxigraph.Store`` satisfies it).

    ``query`` names graphs as every such store can apply them: by IRI, or ``DefaultGraph()``
    for the store's default graph (a RemoteStore's is the named graph it reads). pyoxigraph
    also takes blank nodes, which the SPARQL 1.1 Protocol cannot carry: RemoteStore refuses
    them (ValueError).
    """

    def query(self, query: str, *, prefixes: dict[str, str] | None = None, use_default_graph_as_union: bool = False,
              default_graph: GraphName | list[GraphName] | None = None, named_graphs: list[ox.NamedNode] | None = None,
              substitutions: dict[ox.Variable, ox.NamedNode | ox.Literal] | None = None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples: ...

    def quads_for_pattern(self, subject=None, predicate=None, obj=None, graph=None) -> Iterator[ox.Quad]: ...

    def named_graphs(self) -> Iterator[ox.NamedNode]: ...

    def __iter__(self) -> Iterator[ox.Quad]: ...


def _prologue(prefixes: dict[str, str] | None) -> str:
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in (prefixes or {}).items())


def _values(substitutions: dict | None) -> str:
    """pyoxigraph's substitutions (variable -> term) as a trailing VALUES clause."""
    if not substitutions:
        return ""
    return f"\nVALUES ({' '.join(map(str, substitutions))}) {{ ({' '.join(map(str, substitutions.values()))}) }}\n"


def parse_auth(auth: str | None, token: str | None) -> httpx.Auth | dict[str, str] | None:
    """``--auth user:pass`` (Basic, or Digest when the server asks for it) or ``--token T`` (Bearer)."""
    if auth and token:
        raise InputError("--auth/--token", "give one of them, not both")
    if token:
        return {"Authorization": f"Bearer {token}"}
    if auth:
        if ":" not in auth:
            raise InputError("--auth", "expected user:password")
        user, password = auth.split(":", 1)
        return _DigestAfterBasic(user, password)
    return None


class _DigestAfterBasic(httpx.Auth):
    """Basic auth; after a 401, Digest (for good) if the server challenges with it (Virtuoso)."""

    requires_response_body = False

    def __init__(self, user: str, password: str):
        self.basic = httpx.BasicAuth(user, password)
        self.digest = httpx.DigestAuth(user, password)
        self.use_digest = False

    def auth_flow(self, request: httpx.Request):
        if not self.use_digest:
            request.headers["Authorization"] = self.basic._auth_header
            response = yield request
            if response.status_code != 401:  # Virtuoso answers Basic with a bare 401: try Digest's challenge
                return
            self.use_digest = True
            del request.headers["Authorization"]
        yield from self.digest.auth_flow(request)


def client(auth: httpx.Auth | dict[str, str] | None, timeout: float = 300.0) -> httpx.Client:
    headers = {"User-Agent": "hkg-rdf"}
    kwargs: dict = {}
    if isinstance(auth, dict):
        headers |= auth
    elif auth is not None:
        kwargs["auth"] = auth
    return httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=10.0), **kwargs)


class RemoteStore:
    """A named graph of a remote SPARQL endpoint, read through the SPARQL 1.1 Protocol."""

    def __init__(self, endpoint: str, graph: str | None = DEFAULT_GRAPH, auth: httpx.Auth | dict[str, str] | None = None,
                 timeout: float = 300.0, retries: int = 3):
        if not endpoint.startswith(("http://", "https://")):
            raise InputError("--sparql", f"not an http(s) URL: {endpoint}")
        self.endpoint = endpoint
        self.graph = graph
        self.retries = retries
        self.http = client(auth, timeout)

    def __repr__(self) -> str:
        return f"RemoteStore({self.endpoint!r}, graph={self.graph!r})"

    def _post(self, query: str, accept: str, dataset: list[tuple[str, str]] | None = None) -> httpx.Response:
        params = dataset if dataset is not None else ([("default-graph-uri", self.graph)] if self.graph else [])
        for attempt in range(self.retries + 1):
            try:
                response = self.http.post(self.endpoint, params=params, data={"query": query}, headers={"Accept": accept})
            except httpx.TransportError as error:
                if attempt == self.retries:
                    raise InputError(self.endpoint, f"cannot reach the SPARQL endpoint: {error}") from error
            else:
                if response.status_code < 500 or attempt == self.retries:
                    break
            time.sleep(0.5 * 2**attempt)
        if response.status_code == 400:
            raise InputError(self.endpoint, f"the endpoint refused the query: {response.text.strip()[:500]}")
        if response.status_code >= 300:
            raise InputError(self.endpoint, f"HTTP {response.status_code} from the endpoint: {response.text.strip()[:500]}")
        return response

    def query(self, query: str, *, prefixes: dict[str, str] | None = None, use_default_graph_as_union: bool = False,
              default_graph: GraphName | list[GraphName] | None = None, named_graphs: list[ox.NamedNode] | None = None,
              substitutions: dict[ox.Variable, ox.NamedNode | ox.Literal] | None = None) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a query remotely; the answer is parsed into pyoxigraph's own result objects.

        The keywords are those of pyoxigraph's that the read commands pass; any other
        (``base_iri``, ``custom_functions``, ...) is a TypeError, not dropped unnoticed.
        ``use_default_graph_as_union`` is accepted for compatibility: the default graph here is
        the pushed named graph. ``default_graph`` / ``named_graphs`` (as pyoxigraph takes
        them) become the protocol's ``default-graph-uri`` / ``named-graph-uri`` (see
        :meth:`_graph_iri`); ``substitutions`` (variable -> term, as pyoxigraph takes them) a
        trailing VALUES clause, SPARQL 1.1's portable form of binding them.
        """
        text = _prologue(prefixes) + query + _values(substitutions)
        kind = _query_form(text)
        dataset = self._dataset(default_graph, named_graphs)
        if kind in ("CONSTRUCT", "DESCRIBE"):
            response = self._post(text, f"{N_TRIPLES}, text/turtle;q=0.9", dataset)
            fmt = ox.RdfFormat.N_TRIPLES if N_TRIPLES in response.headers.get("content-type", "") else ox.RdfFormat.TURTLE
            graph = ox.Store()
            graph.load(response.content, fmt, to_graph=ox.DefaultGraph())
            return graph.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")  # real QueryTriples
        response = self._post(text, SPARQL_JSON, dataset)
        try:
            return ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
        except SyntaxError as error:
            raise InputError(self.endpoint, f"unreadable SPARQL results: {error}") from error

    def _dataset(self, default_graph: GraphName | list[GraphName] | None, named_graphs: list[ox.NamedNode] | None) -> list[tuple[str, str]] | None:
        """The protocol's dataset parameters for ``query``'s graphs; None: none given, read ``self.graph``.

        As in pyoxigraph, ``named_graphs`` alone keeps the store's default graph: a request
        naming graphs has the default graph it names, none if it names none."""
        if default_graph is None and named_graphs is None:
            return None
        graphs = [ox.DefaultGraph()] if default_graph is None else default_graph if isinstance(default_graph, (list, tuple)) else [default_graph]
        dataset = ([("default-graph-uri", self._graph_iri(g, "default_graph")) for g in graphs]
                   + [("named-graph-uri", self._graph_iri(g, "named_graphs")) for g in named_graphs or ()])
        if not dataset:
            raise ValueError("default_graph=[] and no named_graphs (an empty dataset): a request naming no graph "
                             "reads the endpoint's own default dataset instead")
        return dataset

    def _graph_iri(self, graph: object, keyword: str) -> str:
        """The IRI naming ``graph`` in a request, whose ``default-graph-uri`` and ``named-graph-uri``
        take IRIs only: a NamedNode's own; ``DefaultGraph()`` in ``default_graph``, the graph this
        store reads as its default graph. What a request cannot name raises, so that no graph is
        left out unnoticed: a blank node (a graph only its own store can name) a ValueError,
        anything else a TypeError."""
        if isinstance(graph, ox.NamedNode):
            return graph.value
        if isinstance(graph, ox.DefaultGraph) and keyword == "default_graph":
            if self.graph is None:
                raise ValueError("default_graph: DefaultGraph() is the endpoint's own default graph here (no graph given), "
                                 "which default-graph-uri cannot name")
            return self.graph
        if isinstance(graph, ox.BlankNode):
            raise ValueError(f"{keyword}: the blank node {graph} names no graph a SPARQL 1.1 Protocol request can name "
                             "(default-graph-uri and named-graph-uri take IRIs)")
        expected = "a NamedNode or DefaultGraph()" if keyword == "default_graph" else "a NamedNode"
        raise TypeError(f"{keyword}: {graph!r} is not {expected}")

    def quads_for_pattern(self, subject=None, predicate=None, obj=None, graph=None) -> Iterator[ox.Quad]:
        """The triples matching a pattern (None: any), as quads in the default graph."""
        terms = [(t, f"?{v}") for t, v in ((subject, "s"), (predicate, "p"), (obj, "o"))]
        pattern = " ".join(str(t) if t is not None else v for t, v in terms)
        for row in self.query(f"SELECT * WHERE {{ {pattern} }}"):
            s, p, o = (t if t is not None else row[v[1:]] for t, v in terms)
            yield ox.Quad(s, p, o, ox.DefaultGraph())

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        """None: the store's default graph is the one named graph it reads."""
        return iter(())

    def __iter__(self) -> Iterator[ox.Quad]:
        for triple in self.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"):
            yield ox.Quad(triple.subject, triple.predicate, triple.object, ox.DefaultGraph())

    def count(self) -> int:
        return int(next(iter(self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value)


_PROLOGUE = re.compile(r"(?:\s+|#[^\n]*|(?i:PREFIX)\s*[^\s:]*:\s*<[^>]*>|(?i:BASE)\s*<[^>]*>)*")


def _query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first keyword after the prologue and comments."""
    rest = text[_PROLOGUE.match(text).end():]
    word = re.match(r"[A-Za-z]*", rest).group(0).upper()
    return word if word in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE") else "SELECT"


def open_store(store_dir: Path | None, sparql: str | None, graph: str | None = None, auth: str | None = None,
               token: str | None = None) -> ReadableStore:
    """``--store DIR`` (the embedded store, read-only) or ``--sparql URL`` (a remote endpoint)."""
    if bool(store_dir) == bool(sparql):
        raise InputError("--store/--sparql", "give --store DIR or --sparql URL (one of them)")
    if sparql:
        return RemoteStore(sparql, graph or DEFAULT_GRAPH, parse_auth(auth, token))
    from .store import open_read_only

    return open_read_only(store_dir)
