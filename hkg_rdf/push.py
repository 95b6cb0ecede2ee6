"""Push the graph into an external SPARQL store, in bounded chunks, resumably, atomically.

The upload goes to a temporary named graph, chunk by chunk, as N-Triples through the SPARQL
1.1 Graph Store HTTP Protocol (``POST ?graph=TMP``), or as ``INSERT DATA`` through SPARQL
Update when the store has no Graph Store endpoint. Each chunk is retried on network errors,
5xx and 429 with exponential back-off. After the last chunk the temporary graph's triple count
is checked, then one SPARQL Update swaps it in::

    MOVE SILENT <TMP> TO <GRAPH>            (a single update: atomic where the store's updates are)

falling back to ``DROP SILENT GRAPH <GRAPH> ; ADD <TMP> TO <GRAPH> ; DROP SILENT GRAPH <TMP>``
in one request. Until the swap, the target graph keeps serving its previous content; a failed
or killed push changes only the temporary graph.

Resume: a small JSON state file (``--state``, by default in the user's cache directory, keyed
by endpoint, graph and source) records the temporary graph and the chunks acknowledged. The
chunks are cut from the store's deterministic triple order, so the rerun of the same command
skips what was sent and continues (a chunk sent twice is harmless: RDF graphs are sets).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import pyoxigraph as ox

from .errors import InputError
from .sparql_store import N_TRIPLES, RemoteStore, client

DEFAULT_CHUNK = 50_000


class PushError(Exception):
    """The store refused or kept failing; the target graph is unchanged."""


@dataclass
class Endpoints:
    query: str
    update: str | None
    gsp: str | None

    @classmethod
    def guess(cls, endpoint: str, update: str | None = None, gsp: str | None = None, authenticated: bool = False) -> Endpoints:
        """The update and Graph Store URLs of well-known layouts, unless given.

        ``.../query`` (Oxigraph, Fuseki): ``.../update`` and ``.../store``;
        ``.../sparql`` (Virtuoso): ``.../sparql`` and ``.../sparql-graph-crud``, their ``-auth``
        variants with credentials; otherwise SPARQL Update at the endpoint itself and no GSP.
        """
        if not endpoint.startswith(("http://", "https://")):
            raise InputError("--endpoint", f"not an http(s) URL: {endpoint}")
        base, _, last = endpoint.rstrip("/").rpartition("/")
        guessed_update, guessed_gsp = endpoint, None
        if last == "query":
            guessed_update, guessed_gsp = f"{base}/update", f"{base}/store"
        elif last == "sparql":
            suffix = "-auth" if authenticated else ""
            guessed_update, guessed_gsp = f"{base}/sparql{suffix}", f"{base}/sparql-graph-crud{suffix}"
        return cls(endpoint, update or guessed_update, gsp if gsp is not None else guessed_gsp)


@dataclass
class State:
    key: str  # the endpoint, graph, source and chunk size it is for (state_key)
    temp_graph: str
    total: int
    done: int = 0
    started: float = field(default_factory=time.time)


@dataclass
class PushResult:
    graph: str
    triples: int
    chunks: int
    resumed_at: int
    seconds: float
    swap: str
    upload_seconds: float = 0.0
    swap_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.triples / self.seconds if self.seconds else 0.0


def default_state_path(key: str) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hkg-rdf" / "push"
    return root / f"{key[:16]}.json"


def state_key(endpoint: str, graph: str, fingerprint: str, chunk: int) -> str:
    return hashlib.sha256(json.dumps([endpoint, graph, fingerprint, chunk]).encode()).hexdigest()


def _read_state(path: Path, key: str) -> State | None:
    try:
        data = json.loads(path.read_text())
        state = State(**data)
    except (OSError, ValueError, TypeError):
        return None
    return state if state.key == key else None


def _write_state(path: Path, state: State) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".push-")
    with os.fdopen(fd, "w") as out:
        json.dump(asdict(state), out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def chunks(store: ox.Store, size: int) -> Iterator[bytes]:
    """The default graph's triples as N-Triples documents of at most ``size`` triples, in store order."""
    quads = store.quads_for_pattern(None, None, None, ox.DefaultGraph())
    while batch := [q.triple for q in itertools.islice(quads, size)]:
        yield ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES)


def triple_count(store: ox.Store) -> int:
    return int(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value)


class Pusher:
    def __init__(self, endpoints: Endpoints, auth, *, retries: int, backoff: float, timeout: float = 600.0,
                 echo: Callable[[str], None] = lambda m: None):
        """``retries`` and ``backoff`` have no defaults here: the CLI's options are their one source."""
        self.endpoints = endpoints
        self.auth = auth
        self.http = client(auth, timeout)
        self.retries = retries
        self.backoff = backoff
        self.echo = echo

    # -------------------------------------------------------------- HTTP with retries

    def _send(self, method: str, url: str, what: str, **kwargs) -> httpx.Response:
        for attempt in itertools.count():  # ends by returning, or raising at attempt == retries
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.status_code < 300:
                    return response
                problem = f"HTTP {response.status_code}: {response.text.strip()[:300]}"
                if response.status_code < 500 and response.status_code != 429:
                    raise PushError(f"{what}: {problem}")
            if attempt == self.retries:
                raise PushError(f"{what}: {problem} (after {self.retries} retries)")
            wait = self.backoff * 2**attempt
            self.echo(f"{what}: {problem}; retrying in {wait:.1f} s")
            time.sleep(wait)

    def update(self, text: str, what: str) -> httpx.Response:
        if not self.endpoints.update:
            raise PushError(f"{what}: no SPARQL Update endpoint")
        return self._send("POST", self.endpoints.update, what, data={"update": text})

    def upload(self, graph: str, data: bytes, what: str) -> None:
        if self.endpoints.gsp:
            self._send("POST", self.endpoints.gsp, what, params={"graph": graph}, content=data, headers={"Content-Type": N_TRIPLES})
        else:
            self.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{data.decode()}\n}} }}", what)

    def count(self, graph: str) -> int:
        """Triples in ``graph`` on the server. Failing to count fails the push (exit 3, resumable),
        as any other request of it does."""
        try:
            return RemoteStore(self.endpoints.query, graph, self.auth, retries=self.retries).count()
        except InputError as error:
            raise PushError(f"counting the triples of <{graph}>: {error.message}") from error

    # -------------------------------------------------------------- the push

    def push(self, store: ox.Store, graph: str, fingerprint: str, chunk: int = DEFAULT_CHUNK, state_path: Path | None = None) -> PushResult:
        key = state_key(self.endpoints.query, graph, fingerprint, chunk)
        state_path = state_path or default_state_path(key)
        total = triple_count(store)
        state = _read_state(state_path, key)
        if state is None or state.total != total:
            state = State(key, f"urn:hkg-rdf:push:{uuid.uuid4()}", total)
            self.update(f"DROP SILENT GRAPH <{state.temp_graph}>", "clearing the temporary graph")
            _write_state(state_path, state)
        else:
            self.echo(f"resuming: {state.done} of {-(-total // chunk)} chunks already in {state.temp_graph}")
        resumed_at = state.done
        start = time.monotonic()
        from tqdm import tqdm

        # the progress bar is display only, drawn on a terminal alone: not mutated (benchmarks/mutation.py)
        with tqdm(total=total, initial=min(state.done * chunk, total), desc="pushing", unit=" triples", unit_scale=True,  # pragma: no mutate
                  disable=None, leave=False) as bar:  # pragma: no mutate
            for index, data in enumerate(chunks(store, chunk)):
                if index < state.done:
                    continue
                self.upload(state.temp_graph, data, f"chunk {index + 1}")
                state.done = index + 1
                _write_state(state_path, state)
                bar.update(min(chunk, total - index * chunk))  # pragma: no mutate
        uploaded = time.monotonic()
        stored = self.count(state.temp_graph)
        if stored != total:
            raise PushError(f"the temporary graph <{state.temp_graph}> holds {stored:,} triples, expected {total:,}; "
                            f"rerun to resume, or delete {state_path} to start over")
        counted = time.monotonic()
        swap = self._swap(state.temp_graph, graph)
        end = time.monotonic()
        state_path.unlink(missing_ok=True)
        return PushResult(graph, total, state.done, resumed_at, end - start, swap, uploaded - start, end - counted)

    def _swap(self, temp: str, graph: str) -> str:
        try:
            self.update(f"MOVE SILENT <{temp}> TO <{graph}>", "swapping the graph in (MOVE)")
            return "MOVE"
        except PushError as error:
            self.echo(f"{error}; swapping with DROP + ADD instead")
        self.update(f"DROP SILENT GRAPH <{graph}> ;\nADD <{temp}> TO <{graph}> ;\nDROP SILENT GRAPH <{temp}>", "swapping the graph in (DROP + ADD)")
        return "DROP+ADD"


def source_fingerprint(paths: list[Path]) -> str:
    """Names, sizes and modification times of the files of the sources (cheap, changes with them)."""
    parts = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        parts += [f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
