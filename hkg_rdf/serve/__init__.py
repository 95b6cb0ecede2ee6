"""``hkg-rdf serve``: the store as Linked Data over HTTP, safe for the public.

A Starlette application on uvicorn (``app.py``: the routes and middleware, ``middleware.py``:
nosniff and the access log; ``server.py``: the state behind the routes) with a SPARQL 1.1
Protocol endpoint (``endpoint.py``; operations read, run and written by ``sparql.py``), VoID and
Service Description (``void.py``; served with the ontology, shapes and dumps by
``documents.py``), dereferenceable entity IRIs with HTML pages and RDF documents
(``entities.py``; described by ``pages.py``, rendered by ``rendering.py`` from ``templates/``;
the family picture ``lineage.py``, README cards ``cards.py``), search over the store version's
index (``search_page.py``) and a query page with bundled YASGUI (``static/``). What a client's
SPARQL may do is decided on its parse (``policy.py``); all store work runs in sandboxed worker
processes (``workers.py``, ``sandbox.py``) that are killed and replaced when a query outlives
its timeout or its client; per-client limits, chunked bounded bodies and header deadlines keep
one client from holding the server (``limits.py``).
"""

from __future__ import annotations

import logging
import sys

from .app import ServeConfig, create_app

__all__ = ["ServeConfig", "create_app", "serve"]


def serve(config: ServeConfig) -> None:
    """Run the server until interrupted."""
    import uvicorn

    logger = logging.getLogger("hkg_rdf.serve")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("hkg-rdf: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    from .limits import protocol

    uvicorn.run(
        create_app(config), host=config.host, port=config.port, log_level="warning", access_log=False,
        server_header=False, timeout_keep_alive=5, limit_concurrency=256, backlog=512, http=protocol(config.header_timeout),
        # X-Forwarded-For/-Proto only from a proxy on this machine, and only when told there is one
        proxy_headers=config.proxy_headers, forwarded_allow_ips="127.0.0.1,::1",
        # a GET may carry a query as long as a POST body may be; the app answers 414 beyond that
        h11_max_incomplete_event_size=config.max_request_bytes + 65536,
    )
