"""The state behind the routes (:class:`Server`: worker pools, base IRI, ETags, statistics,
dumps), what ``hkg-rdf serve`` can be told (:class:`ServeConfig`), and the helpers every route
shares: HTML and RDF responses, errors as pages or text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..iris import DEFAULT_BASE_IRI, IriMinter
from ..store import live_path
from ..vocab import data_path
from . import negotiation as media
from . import pages, rendering, search_page, void
from .limits import ClientLimits
from .sparql import write_graph
from .workers import JobError, Overloaded, Pool, QueryTimeout, WorkerDied

HERE = Path(__file__).resolve().parent
log = logging.getLogger("hkg_rdf.serve")

HTML_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


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
    """An answer other than 200 a route gives: its status, message and headers."""

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
        return Response(write_graph(triples, media_type), media_type=with_charset(media_type), headers=headers)

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

    def dump_pending(self) -> bool:
        return self._dump_task is not None and not self._dump_task.done()

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


#: A route's work: the answer to a request, given the server; HttpError for any other answer.
Handler = Callable[[Server, Request], Awaitable[Response]]


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


def with_charset(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json", "n-triples")) else media_type


def raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else quote(request.url.path)


def error_response(request: Request, server: Server, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error as an HTML page for browsers, as plain text for the SPARQL endpoint and other clients."""
    wants_html = not request.url.path.startswith("/sparql") and media.negotiate(request.headers.get("accept"), (media.HTML, "text/plain")) == media.HTML
    if wants_html:
        return server.html("error.html", status=status, headers=headers, status_code=status, message=message, title=f"{status}")
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def not_acceptable(accept: str | None, offers: tuple[str, ...]) -> str:
    return f"none of the media types in Accept: {accept!r} is available here; available: {', '.join(offers)}"
