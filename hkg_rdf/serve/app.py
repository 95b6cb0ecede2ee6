"""The Starlette application: which route does what, and the middleware around them.

Routes::

    /                       query page (bundled YASGUI, the example queries)
    /sparql                 SPARQL 1.1 Protocol; GET without query: service description   (endpoint.py)
    /.well-known/void       VoID description of the dataset (also /void)                   (documents.py)
    <base path><type>/<id>  entity IRIs (with --base-iri pointing here): 303 See Other to  (entities.py)
    /page/<type>/<id>         the HTML page, or
    /data/<type>/<id>         the RDF description (Turtle, N-Triples, JSON-LD, RDF/XML; Vary: Accept)
    /ontology, /shapes, /mapping   the ontology, SHACL shapes and release mapping (negotiated)  (documents.py)
    /dumps/                 dumps of the store with SHA-256 checksums                       (documents.py)
    /search?q=              entities by id or name (HTML or JSON), from the version's search index  (search_page.py)
    /health                 liveness and store version (JSON)

Each route's handler takes the :class:`~.server.Server` and the request, and raises
:class:`~.server.HttpError` (or the protocol's ProtocolError) for any answer but its own;
:func:`_endpoint` turns those into error responses, the same for every route.
"""

from __future__ import annotations

import contextlib
import json
import sys

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import documents, endpoint, entities, rendering, search_page
from .limits import ClientGone
from .middleware import AccessLog, SecurityHeaders
from .server import HERE, Handler, HttpError, ServeConfig, Server, error_response
from .sparql import MAX_ROWS_HEADER, TRUNCATED_HEADER, ProtocolError

__all__ = ["ServeConfig", "create_app"]


async def health(server: Server, request: Request) -> Response:
    """Liveness, the store version and the workers' state, for monitoring."""
    return JSONResponse({"status": "ok", "version": server.version(), "base_iri": server.minter.base, "workers": server.pool.workers, "busy": server.pool.busy,
                         "long_queries": server.pool.heavy, "sandboxed": server.pool.sandboxed})


async def index(server: Server, request: Request) -> Response:
    """The query page."""
    etag = server.etag(request, "index")
    if (cached := server.not_modified(request, etag, vary=None)) is not None:
        return cached
    examples, config = server.examples_for_this_server(), server.config
    return server.html(
        "query.html", headers={"ETag": etag, "Cache-Control": "no-cache"}, title="HuggingKG SPARQL",
        config_json=json.dumps({"endpoint": server.public(request) + "/sparql", "examples": examples}).replace("</", "<\\/"),
        examples=examples, timeout=config.timeout, max_rows=config.max_rows, base=server.minter.base,
    )


def _endpoint(server: Server, handler: Handler):
    """The Starlette endpoint of a handler: it runs on this server, its errors become responses."""
    async def run(request: Request) -> Response:
        try:
            return await handler(server, request)
        except (HttpError, ProtocolError) as error:
            return error_response(request, server, error.status, error.message, error.headers)
        except ClientGone:
            return Response(status_code=499)  # nginx's "client closed request": for the access log only

    return run


def create_app(config: ServeConfig) -> Starlette:
    server = Server(config)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await server.startup()
        url = f"http://{config.host if ':' not in config.host else '[' + config.host + ']'}:{config.port}/"
        print(f"hkg-rdf: serving {config.sparql or config.store_dir} at {url}  (SPARQL endpoint {url}sparql)", file=sys.stderr, flush=True)
        try:
            yield
        finally:
            await server.shutdown()

    def route(path: str, handler: Handler, **options) -> Route:
        return Route(path, _endpoint(server, handler), **options)

    routes = [
        route("/", index),
        route("/health", health),
        route("/search", search_page.endpoint),
        route("/sparql", endpoint.sparql, methods=["GET", "POST"]),
        route("/.well-known/void", documents.void_document),
        route("/void", documents.void_document),
        route("/page/{rest:path}", entities.entity_page),
        route("/data/{rest:path}", entities.entity_data),
        Route("/dumps", lambda request: RedirectResponse("/dumps/", status_code=301)),
        route("/dumps/", documents.dumps_index),
        route("/dumps/{name}", documents.dump_file),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    for name in documents.DOCUMENTS:
        routes += [route(f"/{name}", documents.document(name)), route(f"/{name}.{{ext}}", documents.document(name))]
    routes.append(route("/{rest:path}", entities.entity_iri))

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
