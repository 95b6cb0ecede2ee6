"""The Starlette application: routes, negotiation, caching, errors, CORS, gzip and the access log.

Routes::

    /                       query page (bundled YASGUI, the example queries)
    /sparql                 SPARQL 1.1 Protocol; GET without query: service description
    /.well-known/void       VoID description of the dataset (also /void)
    <base path><type>/<id>  entity IRIs (with --base-iri pointing here): 303 See Other to
    /page/<type>/<id>         the HTML page, or
    /data/<type>/<id>         the RDF description (Turtle, N-Triples, JSON-LD, RDF/XML; Vary: Accept)
    /ontology, /shapes, /mapping   the ontology, SHACL shapes and release mapping (negotiated)
    /dumps/                 dumps of the store with SHA-256 checksums
    /search?q=              entities by id or name (HTML or JSON), from the version's search index
    /health                 liveness and store version (JSON)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..iris import DEFAULT_BASE_IRI, IriMinter, decode_id
from ..store import live_path
from ..vocab import MAPPING_FILE, ONTOLOGY_FILE, ONTOLOGY_IRI, SHAPES_FILE, data_path, vocabulary
from . import negotiation as media
from . import pages, rendering, search_page, void
from .limits import MIN_RATE, BodyResponse, ClientGone, ClientLimits, client_of, unless_client_leaves
from .policy import check_shape
from .sparql import MAX_ROWS_HEADER, TRUNCATED_HEADER, ProtocolError, query_form, read_operation, result_kind
from .workers import JobError, Overloaded, Pool, QueryTimeout, WorkerDied

HERE = Path(__file__).resolve().parent
log = logging.getLogger("hkg_rdf.serve")
access = logging.getLogger("hkg_rdf.serve.access")

HTML_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DOCUMENTS = {
    # path: (file, IRI it serves, title)
    "ontology": (ONTOLOGY_FILE, ONTOLOGY_IRI, "HuggingKG ontology"),
    "shapes": (SHAPES_FILE, void.SHAPES_IRI, "HuggingKG SHACL shapes"),
    "mapping": (MAPPING_FILE, "https://w3id.org/huggingkg/mapping", "HuggingKG release mapping"),
}
#: HTML documentation generated from a document (tools/ontology_docs.py), served to HTML clients
DOCUMENTATION = {"ontology": ("docs", "ontology.html")}


@dataclass
class ServeConfig:
    """Everything ``hkg-rdf serve`` can be told."""

    store_dir: Path | None
    host: str = "127.0.0.1"
    port: int = 8000
    timeout: float = 30.0
    max_rows: int = 10_000
    allow_update: str | None = None  # the bearer token that allows updates
    allow_remote: bool = False  # SERVICE and LOAD (the server fetching URLs a client names)
    base_iri: str | None = None  # None: read it from the store
    workers: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    max_queue: int = 32
    max_request_bytes: int = 1_000_000
    cors_origins: tuple[str, ...] = ("*",)
    access_log: Path | None = None  # None: standard error
    worker_memory_mb: int = 4096
    dumps_dir: Path | None = None  # None: STORE/dumps
    generate_dumps: bool = True
    public_url: str | None = None  # None: from the request's Host
    license_iri: str | None = None
    sparql: str | None = None  # a remote SPARQL endpoint to front instead of store_dir
    graph: str | None = None  # with sparql: the named graph to read
    auth: str | None = None  # with sparql: user:password
    token: str | None = None  # with sparql: bearer token
    # fair use (see workers.Pool): workers kept for cheap requests, seconds before a query counts
    # as long, concurrent queries per client address, bytes per response, seconds to send headers
    cheap_workers: int = 2
    long_query_after: float = 1.0
    max_client_queries: int = 4
    max_response_bytes: int = 64_000_000
    header_timeout: float = 10.0
    proxy_headers: bool = False  # trust X-Forwarded-For/-Proto (from the proxy on 127.0.0.1 only)


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _code_digest() -> str:
    """Digest of the serving code and templates: part of every ETag, so new code means new tags."""
    digest = hashlib.sha256()
    for path in sorted([*HERE.glob("*.py"), *(HERE / "templates").glob("*.html"), *(HERE / "static").glob("*.*")]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


class Server:
    """The state behind the routes: worker pools, base IRI, statistics, dumps."""

    def __init__(self, config: ServeConfig):
        self.config = config
        self.store_dir = Path(config.store_dir or ".")
        # --sparql: workers reach the remote endpoint (so they cannot be sandboxed from the
        # network; SERVICE and LOAD are still refused before a query is sent); the version,
        # in ETags and statistics, is fixed per server start
        self.remote = None
        if config.sparql:
            from ..sparql_store import DEFAULT_GRAPH

            self.remote = {"sparql": config.sparql, "graph": config.graph or DEFAULT_GRAPH, "auth": config.auth, "token": config.token,
                           "timeout": config.timeout + 5, "version": f"remote{time.time_ns()}"}
        sandbox = self.remote is None
        self.pool = Pool("query", self.store_dir, config.workers, config.max_queue, sandbox=sandbox and not config.allow_remote,
                         memory_mb=config.worker_memory_mb, remote=self.remote, reserved=config.cheap_workers, spare=1)
        self.clients = ClientLimits(config.max_client_queries)
        self.background = Pool("background", self.store_dir, 1, 1000, sandbox=sandbox, memory_mb=0, nice=10, remote=self.remote)
        self.minter = IriMinter(config.base_iri or DEFAULT_BASE_IRI)
        self.code = _code_digest()
        self._stats: dict[str, asyncio.Task] = {}
        self._dump_task: asyncio.Task | None = None
        self._dump_version: str | None = None
        self._checksums: dict[tuple[str, int, float], str] = {}
        self.dumps_dir = Path(config.dumps_dir) if config.dumps_dir else (None if self.remote else self.store_dir / "dumps")
        self.examples = self._examples()
        self.finder = search_page.Finder(None if self.remote else self.store_dir)

    # ---------------------------------------------------------------- life cycle

    async def startup(self) -> None:
        if self.remote is None:
            live_path(self.store_dir)  # an InputError here names the store that is not one
        await asyncio.gather(self.pool.start(), self.background.start())
        if self.config.base_iri is None:
            info = await self.pool.run("info", timeout=max(self.config.timeout, 60))
            if info["base_iri"]:
                self.minter = IriMinter(info["base_iri"])
        self.base_path = _path_of(self.minter.base)
        self.statistics_task(self.version())
        self.ensure_dump()
        self.finder.start()
        sandbox = "sandboxed (no network sockets)" if self.pool.sandboxed else ("SERVICE/LOAD allowed, not sandboxed" if self.config.allow_remote else "not sandboxed (unsupported platform)")
        if self.remote:
            sandbox = "not sandboxed (they query the remote endpoint)" + ("" if self.config.allow_remote else "; SERVICE/LOAD refused")
        source = f"remote SPARQL endpoint {self.remote['sparql']} graph <{self.remote['graph']}>" if self.remote else f"store {self.store_dir}"
        log.info("%s, version %s; entity IRIs %s; %d query workers, %s", source, self.version(), self.minter.base, self.pool.size, sandbox)

    async def shutdown(self) -> None:
        await asyncio.gather(self.pool.close(), self.background.close())

    def version(self) -> str:
        return self.remote["version"] if self.remote else live_path(self.store_dir).name

    # ---------------------------------------------------------------- helpers

    def public(self, request: Request) -> str:
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    def etag(self, request: Request, *parts: object) -> str:
        digest = hashlib.sha256("\x00".join(map(str, (self.code, request.url.path, request.url.query, self.public(request), *parts))).encode()).hexdigest()[:20]
        return f'W/"{self.version()}-{digest}"'

    @staticmethod
    def not_modified(request: Request, etag: str, vary: str | None = "Accept", exists: bool = True) -> Response | None:
        """304 if If-None-Match names ``etag``, or is ``*`` and the resource ``exists`` (RFC 9110 §13.1.2)."""
        header = request.headers.get("if-none-match")
        if header and ((header.strip() == "*" and exists) or etag in [t.strip() for t in header.split(",")]):
            headers = {"ETag": etag, "Cache-Control": "no-cache"}
            if vary:
                headers["Vary"] = vary
            return Response(status_code=304, headers=headers)
        return None

    def html(self, template: str, status: int = 200, headers: dict[str, str] | None = None, **context) -> Response:
        return self.html_response(rendering.render(template, **context), status, headers)

    @staticmethod
    def html_response(body: str | bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": HTML_CSP, **(headers or {})})

    def rdf_response(self, request: Request, triples: list, media_type: str, title: str, etag: str | None = None, extra: dict[str, str] | None = None, html_context: dict | None = None) -> Response:
        headers = {"Vary": "Accept", "Cache-Control": "no-cache", **(extra or {})}
        if etag:
            headers["ETag"] = etag
        if media_type == media.HTML:
            subjects: dict[str, dict] = {}
            for t in triples:
                entry = subjects.setdefault(str(t.subject), {"subject": pages.term_view(t.subject, self.minter), "properties": {}})
                entry["properties"].setdefault(t.predicate.value, []).append(pages.term_view(t.object, self.minter))
            return self.html("rdf.html", headers=headers, title=title, subjects=list(subjects.values()), alternates=rendering.alternates(request.url.path), **(html_context or {}))
        return Response(_serialize(triples, media_type), media_type=_with_charset(media_type), headers=headers)

    def _examples(self) -> list[dict]:
        try:
            directory = data_path("examples", "queries")
        except FileNotFoundError:
            return []
        examples = []
        for path in sorted(directory.glob("*.rq")):
            text = path.read_text(encoding="utf-8")
            title = _first_paragraph(text) or path.stem
            examples.append({"name": path.stem, "title": title, "text": text})
        return examples

    def examples_for_this_server(self) -> list[dict]:
        """The example queries, naming this server's entity IRIs instead of the default ones."""
        return [{**e, "text": e["text"].replace(DEFAULT_BASE_IRI, self.minter.base)} for e in self.examples]

    # ---------------------------------------------------------------- statistics and dumps

    def statistics_task(self, version: str) -> asyncio.Task:
        task = self._stats.get(version)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = asyncio.get_running_loop().create_task(self.background.run("statistics", timeout=24 * 3600, queue_timeout=24 * 3600))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no warnings
            self._stats = {version: task}
        return task

    async def statistics(self) -> dict:
        task = self.statistics_task(self.version())
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.config.timeout)
        except asyncio.TimeoutError:
            raise HttpError(503, "the dataset statistics are still being computed; retry in a while", {"Retry-After": "30"}) from None
        except (JobError, WorkerDied, QueryTimeout, Overloaded) as error:
            raise HttpError(500, f"the dataset statistics could not be computed: {error}") from None

    def ensure_dump(self) -> None:
        """Generate a dump of the live version in the background, once per version."""
        if not self.config.generate_dumps or self.remote:
            return
        version = self.version()
        if self._dump_version == version:
            return
        target = self.dumps_dir / f"huggingkg-{version}.nt.gz"
        self._dump_version = version
        if target.exists():
            return
        try:
            self.dumps_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            log.warning("no dump generation: cannot create %s (%s)", self.dumps_dir, error)
            return

        async def generate() -> None:
            try:
                await self.background.run("dump", timeout=24 * 3600, queue_timeout=24 * 3600, path=str(target))
                for old in self.dumps_dir.glob("huggingkg-v*.nt.gz*"):
                    if not old.name.startswith(target.name):
                        old.unlink(missing_ok=True)
                log.info("dump ready: %s", target)
            except Exception as error:  # logged; the listing shows what exists
                log.error("dump generation failed: %s", error)
                self._dump_version = None

        self._dump_task = asyncio.get_running_loop().create_task(generate())

    async def dump_list(self) -> list[dict]:
        self.ensure_dump()
        dumps = []
        for path in void.dump_files(self.dumps_dir):
            stat = path.stat()
            key = (path.name, stat.st_size, stat.st_mtime)
            checksum = self._checksums.get(key)
            sidecar = path.with_name(path.name + ".sha256")
            if checksum is None and sidecar.is_file() and sidecar.stat().st_mtime >= stat.st_mtime:
                checksum = sidecar.read_text(encoding="ascii", errors="replace").split()[0]
            if checksum is None:
                checksum = await asyncio.to_thread(void.sha256_file, path)
                try:
                    void.write_checksum(path, checksum)
                except OSError:
                    pass
            self._checksums[key] = checksum
            dumps.append({"name": path.name, "size": stat.st_size, "sha256": checksum, "media_type": void.dump_media_type(path.name),
                          "modified": formatdate(stat.st_mtime, usegmt=True), "compressed": path.name.endswith(".gz")})
        return dumps

    # ---------------------------------------------------------------- running jobs

    async def job(self, name: str, lane: str = "cheap", **kwargs):
        try:
            return await self.pool.run(name, timeout=self.config.timeout, lane=lane, **kwargs)
        except Overloaded as error:
            raise HttpError(503, f"the server is busy: {error}; retry shortly", {"Retry-After": "1"}) from None
        except QueryTimeout:
            raise HttpError(503, f"the query was stopped after {self.config.timeout:g} s, the server's time limit for a query; "
                                 "narrow it down (LIMIT, more specific patterns)") from None
        except WorkerDied as error:
            raise HttpError(503, f"the query was stopped: {error}; it may have needed more memory than a query may use "
                                 f"({self.config.worker_memory_mb} MB)") from None
        except JobError as error:
            if error.kind == "refused":
                raise HttpError(error.status, error.message) from None
            if error.kind == "syntax":
                raise HttpError(400, f"SPARQL syntax error: {error.message}") from None
            if error.kind == "input":
                raise HttpError(400, error.message) from None
            if error.kind == "busy":
                raise HttpError(503, f"the store is being written: {error.message}", {"Retry-After": "1"}) from None
            if error.kind == "memory":
                raise HttpError(503, error.message) from None
            log.error("%s failed: %s", name, error.message)  # the operator's to fix: a full disk, or a bug
            if error.kind == "storage":  # Insufficient Storage: the update was not applied, the store is as it was
                raise HttpError(507, error.message) from None
            raise HttpError(500, f"internal error: {error.message}") from None


# ---------------------------------------------------------------- small helpers


def _path_of(iri: str) -> str:
    after_scheme = iri.split("://", 1)[1]
    slash = after_scheme.find("/")
    return after_scheme[slash:] if slash >= 0 else "/"


def _first_paragraph(text: str, limit: int = 110) -> str:
    """The first paragraph of a query's leading comment, cut at a word near ``limit``."""
    words: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        content = line.lstrip("#").strip()
        if not content:
            if words:
                break
            continue
        words += content.split()
    title = " ".join(words)
    return title if len(title) <= limit else title[:limit].rsplit(" ", 1)[0] + " …"


def _with_charset(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json", "n-triples")) else media_type


def _serialize(triples: list, media_type: str) -> bytes:
    from .sparql import write_graph

    return write_graph(triples, media_type)


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else quote(request.url.path)


def _error_response(request: Request, server: Server | None, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    wants_html = server is not None and not request.url.path.startswith("/sparql") and media.negotiate(request.headers.get("accept"), (media.HTML, "text/plain")) == media.HTML
    if wants_html:
        return server.html("error.html", status=status, headers=headers, status_code=status, message=message, title=f"{status}")
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


# ---------------------------------------------------------------- routes


def create_app(config: ServeConfig) -> Starlette:
    server = Server(config)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": server.version(), "base_iri": server.minter.base, "workers": server.pool.workers, "busy": server.pool.busy,
                             "long_queries": server.pool.heavy, "sandboxed": server.pool.sandboxed})

    async def index(request: Request) -> Response:
        etag = server.etag(request, "index")
        if (cached := server.not_modified(request, etag, vary=None)) is not None:
            return cached
        return server.html(
            "query.html", headers={"ETag": etag, "Cache-Control": "no-cache"}, title="HuggingKG SPARQL",
            config_json=json.dumps({"endpoint": server.public(request) + "/sparql", "examples": server.examples_for_this_server()}).replace("</", "<\\/"),
            examples=server.examples_for_this_server(), timeout=config.timeout, max_rows=config.max_rows, base=server.minter.base,
        )

    async def sparql_endpoint(request: Request) -> Response:
        try:
            return await _sparql(request)
        except ProtocolError as error:
            return _error_response(request, server, error.status, error.message, error.headers)
        except HttpError as error:
            return _error_response(request, server, error.status, error.message, error.headers)
        except ClientGone:
            return Response(status_code=499)  # nginx's "client closed request": for the access log only

    async def _read_body(request: Request) -> bytes:
        limit = config.max_request_bytes
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            raise ProtocolError(413, f"the request body is larger than the server accepts ({limit:,} bytes)")
        chunks, size = [], 0

        async def read() -> None:
            nonlocal size
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ProtocolError(413, f"the request body is larger than the server accepts ({limit:,} bytes)")
                chunks.append(chunk)

        try:  # a body trickling in holds a connection as slow headers would
            await asyncio.wait_for(read(), config.header_timeout + limit / MIN_RATE)
        except asyncio.TimeoutError:
            raise ProtocolError(408, f"the request body arrived too slowly ({size:,} bytes in time)", {"Connection": "close"}) from None
        return b"".join(chunks)

    async def _sparql(request: Request) -> Response:
        raw_query = request.scope.get("query_string", b"")
        if len(raw_query) > config.max_request_bytes:
            raise ProtocolError(414, f"the request URL is longer than the server accepts ({config.max_request_bytes:,} bytes); POST the query instead")
        try:
            url_params = parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict") if raw_query else []
        except UnicodeDecodeError as error:
            raise ProtocolError(400, f"the query string is not UTF-8 once percent-decoded: {error}") from None
        body = await _read_body(request) if request.method == "POST" else None
        operation = read_operation(request.method, url_params, request.headers.get("content-type"), body)
        format_param = [v for k, v in url_params if k == "format"]
        accept = request.headers.get("accept")
        if operation is None:
            return await _service_description(request, format_param, accept)
        check_shape(operation.text)
        if operation.kind == "update":
            return await _update(request, operation)
        kind = result_kind(query_form(operation.text))
        offers = {"solutions": media.SOLUTION_TYPES, "boolean": media.BOOLEAN_TYPES, "graph": media.GRAPH_TYPES}
        chosen = {k: media.choose(format_param, accept, v) for k, v in offers.items()}
        if kind and chosen[kind] is None:
            raise ProtocolError(406, _not_acceptable(accept, offers[kind]))
        etag = None
        if request.method in ("GET", "HEAD") and kind:
            etag = server.etag(request, chosen[kind], config.max_rows, accept)
            if (cached := server.not_modified(request, etag)) is not None:
                return cached
        client = client_of(request)
        with server.clients.query(client) as lane:
            result = await unless_client_leaves(request, server.job(
                "query", lane=lane, promote_after=config.long_query_after, on_long=lambda: server.clients.long_query(client),
                text=operation.text, default_graphs=operation.default_graphs, named_graphs=operation.named_graphs,
                media_types=chosen, max_rows=config.max_rows, endpoint=server.public(request) + "/sparql",
                max_bytes=config.max_response_bytes, allow_remote=config.allow_remote,
            ))
        if result.media_type is None:
            raise ProtocolError(406, _not_acceptable(accept, offers[result.kind]))
        headers = {TRUNCATED_HEADER: "true" if result.truncated else "false", MAX_ROWS_HEADER: str(config.max_rows), "Vary": "Accept", "Cache-Control": "no-cache"}
        if etag and result.kind == kind:
            headers["ETag"] = etag
        if result.media_type == media.HTML:
            rows = [[pages.term_view(term, server.minter, 2000) for term in row] for row in result.table]
            return server.html("results.html", headers=headers, title="Query results", query=operation.text, variables=result.variables,
                               rows=rows, truncated=result.truncated, max_rows=config.max_rows, kind=result.kind,
                               edit_href="/?" + urlencode({"query": operation.text}))
        return BodyResponse(result.body, media_type=_with_charset(result.media_type), headers=headers, send_timeout=config.timeout)

    async def _service_description(request: Request, format_param: list[str], accept: str | None) -> Response:
        chosen = media.choose(format_param, accept, media.DOCUMENT_TYPES)
        if chosen is None:
            raise ProtocolError(406, _not_acceptable(accept, media.DOCUMENT_TYPES))
        task = server.statistics_task(server.version())
        triples = task.result()["triples"] if task.done() and not task.cancelled() and task.exception() is None else None
        etag = server.etag(request, chosen, triples)
        if (cached := server.not_modified(request, etag)) is not None:
            return cached
        description = void.service_description(server.public(request), triples, config.allow_update is not None, config.timeout, config.max_rows)
        return server.rdf_response(request, description, chosen, "SPARQL service description", etag, html_context={"intro": "sd"})

    async def _update(request: Request, operation) -> Response:
        if config.allow_update is None:
            raise ProtocolError(403, "this endpoint is read-only: SPARQL updates are not accepted")
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ProtocolError(401, "updates need an Authorization: Bearer token", {"WWW-Authenticate": 'Bearer realm="hkg-rdf"'})
        if not hmac.compare_digest(token.strip().encode(), config.allow_update.encode()):
            raise ProtocolError(403, "the bearer token does not allow updates", {"WWW-Authenticate": 'Bearer realm="hkg-rdf", error="invalid_token"'})
        version = await server.job("update", text=operation.text, allow_remote=config.allow_remote)
        server.ensure_dump()
        return PlainTextResponse(f"update applied; the store is now at version {version}\n")

    async def void_document(request: Request) -> Response:
        try:
            chosen = media.choose(request.query_params.getlist("format"), request.headers.get("accept"), media.DOCUMENT_TYPES)
            if chosen is None:
                raise HttpError(406, _not_acceptable(request.headers.get("accept"), media.DOCUMENT_TYPES))
            stats = await server.statistics()
            dumps = await server.dump_list()
            etag = server.etag(request, chosen, json.dumps(dumps, sort_keys=True), config.license_iri)
            if (cached := server.not_modified(request, etag)) is not None:
                return cached
            triples = void.void_triples(server.public(request), server.minter.base, stats, dumps, config.license_iri, server.version())
            return server.rdf_response(request, triples, chosen, "VoID description of HuggingKG", etag)
        except HttpError as error:
            return _error_response(request, server, error.status, error.message, error.headers)

    def _document(name: str):
        file_parts, iri, title = DOCUMENTS[name]

        async def endpoint(request: Request) -> Response:
            ext = request.path_params.get("ext")
            if ext is not None:
                chosen = media.SHORT_NAMES.get(ext)
                if chosen not in media.DOCUMENT_TYPES:
                    return _error_response(request, server, 404, f"no such document: /{name}.{ext}")
            else:
                chosen = media.choose(request.query_params.getlist("format"), request.headers.get("accept"), media.DOCUMENT_TYPES)
            if chosen is None:
                return _error_response(request, server, 406, _not_acceptable(request.headers.get("accept"), media.DOCUMENT_TYPES))
            etag = server.etag(request, chosen)
            if (cached := server.not_modified(request, etag)) is not None:
                return cached
            path = data_path(*file_parts)
            extra = {"Content-Location": f"/{name}.{media.EXTENSIONS[chosen]}"} if ext is None else {}
            if chosen == media.HTML and name in DOCUMENTATION:  # the pyLODE documentation (docs/)
                headers = {"Vary": "Accept", "ETag": etag, "Cache-Control": "no-cache", "Content-Security-Policy": HTML_CSP, **extra}
                return Response(data_path(*DOCUMENTATION[name]).read_bytes(), media_type=_with_charset(media.HTML), headers=headers)
            if chosen == media.TURTLE:  # the file itself, comments and all
                return Response(path.read_bytes(), media_type=_with_charset(media.TURTLE), headers={"Vary": "Accept", "ETag": etag, "Cache-Control": "no-cache", **extra})
            triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
            return server.rdf_response(request, triples, chosen, title, etag, extra, html_context={"document_iri": iri})

        return endpoint

    def _entity_from_path(request: Request, prefix: str) -> tuple[str, str, str]:
        """(segment, id, canonical IRI) from the raw path after ``prefix``; HttpError 404 otherwise."""
        raw = _raw_path(request)
        tail = raw[len(prefix):] if raw.startswith(prefix) else ""
        segment, _, encoded = tail.partition("/")
        try:
            entity_type = vocabulary().type_by_segment(segment)
            entity_id = decode_id(encoded)
        except (KeyError, UnicodeDecodeError, ValueError):
            raise HttpError(404, f"no such entity: {raw}") from None
        if not encoded:
            raise HttpError(404, f"no such entity: {raw}")
        return segment, entity_id, server.minter.mint(entity_type, entity_id)

    async def entity_page(request: Request) -> Response:
        try:
            segment, entity_id, iri = _entity_from_path(request, "/page/")
            etag = server.etag(request, "page")
            if (cached := server.not_modified(request, etag, vary=None, exists=False)) is not None:  # "*": once it is known to exist
                return cached
            gzipped = "gzip" in request.headers.get("accept-encoding", "")  # as the GZip middleware decides
            page = await server.job("entity_page", iri=iri, base_iri=server.minter.base, segment=segment, entity_id=entity_id, gzipped=gzipped,
                                    **pages.paging(request.query_params))
            if not page["exists"]:
                raise HttpError(404, f"the graph says nothing about {iri}")
            if (cached := server.not_modified(request, etag, vary=None)) is not None:
                return cached
            headers = {"ETag": etag, "Cache-Control": "no-cache", "Link": f'<{page["data"]}>; rel="alternate"; type="text/turtle"', "Vary": "Accept-Encoding"}
            if page["encoding"]:
                headers["Content-Encoding"] = page["encoding"]
            return server.html_response(page["body"], headers=headers)
        except HttpError as error:
            return _error_response(request, server, error.status, error.message, error.headers)

    async def entity_data(request: Request) -> Response:
        try:
            segment, entity_id, iri = _entity_from_path(request, "/data/")
            offers = media.DOCUMENT_TYPES
            chosen = media.choose(request.query_params.getlist("format"), request.headers.get("accept"), offers)
            if chosen is None:
                raise HttpError(406, _not_acceptable(request.headers.get("accept"), offers))
            if chosen == media.HTML:
                return RedirectResponse(pages.page_path(segment, entity_id), status_code=303, headers={"Vary": "Accept"})
            etag = server.etag(request, chosen)
            if (cached := server.not_modified(request, etag, exists=False)) is not None:  # "*": once it is known to exist
                return cached
            document = server.public(request) + pages.data_path_of(segment, entity_id)
            result = await server.job("entity_document", iri=iri, document=document, media_type=chosen, max_triples=config.max_rows)
            if not result["exists"]:
                raise HttpError(404, f"the graph says nothing about {iri}")
            if (cached := server.not_modified(request, etag)) is not None:
                return cached
            headers = {"Vary": "Accept", "ETag": etag, "Cache-Control": "no-cache", TRUNCATED_HEADER: "true" if result["truncated"] else "false", MAX_ROWS_HEADER: str(config.max_rows)}
            return Response(result["body"], media_type=_with_charset(chosen), headers=headers)
        except HttpError as error:
            return _error_response(request, server, error.status, error.message, error.headers)

    async def search_entities(request: Request) -> Response:
        return await search_page.endpoint(server, request)

    async def dumps_index(request: Request) -> Response:
        dumps = await server.dump_list()
        chosen = media.choose(request.query_params.getlist("format"), request.headers.get("accept"), (media.HTML, media.JSON))
        if chosen == media.JSON or (chosen is None and "json" in (request.headers.get("accept") or "")):
            return JSONResponse({"dumps": [{**d, "url": f"{server.public(request)}/dumps/{d['name']}"} for d in dumps]})
        pending = server._dump_task is not None and not server._dump_task.done()
        return server.html("dumps.html", title="Dumps", dumps=dumps, pending=pending)

    async def dump_file(request: Request) -> Response:
        name = request.path_params["name"]
        files = {p.name: p for p in void.dump_files(server.dumps_dir)}
        if name.endswith(".sha256") and name[:-7] in files:
            dumps = {d["name"]: d for d in await server.dump_list()}
            return PlainTextResponse(f"{dumps[name[:-7]]['sha256']}  {name[:-7]}\n")
        if name not in files:
            return _error_response(request, server, 404, f"no such dump: {name}")
        return FileResponse(files[name], media_type="application/gzip" if name.endswith(".gz") else void.dump_media_type(name), filename=name)

    async def entity_iri(request: Request) -> Response:
        """Any other path: an entity IRI under the base path is redirected (303) to its page or data."""
        base_path = server.base_path
        raw = _raw_path(request)
        if not raw.startswith(base_path):
            return _error_response(request, server, 404, f"nothing here: {request.url.path}")
        try:
            segment, entity_id, _ = _entity_from_path(request, base_path)
        except HttpError as error:
            return _error_response(request, server, error.status, error.message)
        chosen = media.negotiate(request.headers.get("accept"), media.DOCUMENT_TYPES)
        if chosen is None:
            return _error_response(request, server, 406, _not_acceptable(request.headers.get("accept"), media.DOCUMENT_TYPES))
        target = pages.page_path(segment, entity_id) if chosen == media.HTML else pages.data_path_of(segment, entity_id)
        return RedirectResponse(target, status_code=303, headers={"Vary": "Accept", "Cache-Control": "max-age=3600"})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await server.startup()
        url = f"http://{config.host if ':' not in config.host else '[' + config.host + ']'}:{config.port}/"
        print(f"hkg-rdf: serving {config.sparql or config.store_dir} at {url}  (SPARQL endpoint {url}sparql)", file=sys.stderr, flush=True)
        try:
            yield
        finally:
            await server.shutdown()

    routes = [
        Route("/", index),
        Route("/health", health),
        Route("/search", search_entities),
        Route("/sparql", sparql_endpoint, methods=["GET", "POST"]),
        Route("/.well-known/void", void_document),
        Route("/void", void_document),
        Route("/page/{rest:path}", entity_page),
        Route("/data/{rest:path}", entity_data),
        Route("/dumps", lambda request: RedirectResponse("/dumps/", status_code=301)),
        Route("/dumps/", dumps_index),
        Route("/dumps/{name}", dump_file),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    for name in DOCUMENTS:
        routes += [Route(f"/{name}", _document(name)), Route(f"/{name}.{{ext}}", _document(name))]
    routes.append(Route("/{rest:path}", entity_iri))

    middleware = [Middleware(AccessLog, config=config)]
    if config.cors_origins:
        middleware.append(Middleware(
            CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["Accept", "Content-Type", "If-None-Match"], max_age=86400,
            expose_headers=["ETag", "Content-Location", "Link", TRUNCATED_HEADER, MAX_ROWS_HEADER, "Retry-After"],
        ))
    middleware += [Middleware(GZipMiddleware, minimum_size=rendering.GZIP_MINIMUM, compresslevel=6), Middleware(SecurityHeaders)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.server = server
    return app


def _not_acceptable(accept: str | None, offers: tuple[str, ...]) -> str:
    return f"none of the media types in Accept: {accept!r} is available here; available: {', '.join(offers)}"


class SecurityHeaders:
    """nosniff on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, sending)


class AccessLog:
    """One line per request, Combined Log Format plus the time taken."""

    def __init__(self, app, config: ServeConfig):
        self.app = app
        if not access.handlers:
            handler = logging.FileHandler(config.access_log) if config.access_log else logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            access.addHandler(handler)
            access.setLevel(logging.INFO)
            access.propagate = False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.monotonic()
        state = {"status": 500, "bytes": 0}

        async def sending(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            headers = dict(scope.get("headers") or [])
            client = (scope.get("client") or ("-", 0))[0]
            target = scope.get("raw_path", b"").decode("latin-1") + (("?" + scope["query_string"].decode("latin-1")) if scope.get("query_string") else "")
            if len(target) > 1000:
                target = target[:1000] + "..."
            when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
            referer = headers.get(b"referer", b"-").decode("latin-1")
            agent = headers.get(b"user-agent", b"-").decode("latin-1")
            access.info('%s - - [%s] "%s %s HTTP/%s" %d %d "%s" "%s" %.3f',
                        client, when, scope["method"], target.replace('"', "%22"), scope.get("http_version", "1.1"),
                        state["status"], state["bytes"], referer.replace('"', "%22"), agent.replace('"', "%22"), time.monotonic() - started)
