"""``hkg-rdf serve``: the store as Linked Data over HTTP, safe for the public.

A Starlette application on uvicorn (``app.py``) with a SPARQL 1.1 Protocol endpoint
(``sparql.py``), VoID and Service Description (``void.py``), dereferenceable entity IRIs with
HTML pages and RDF documents (``pages.py``, ``templates/``; the family picture ``lineage.py``,
README cards ``cards.py``), search over the store version's index (``search_page.py``) and a
query page with bundled YASGUI (``static/``). All store work runs in sandboxed worker processes (``workers.py``,
``sandbox.py``) that are killed and replaced when a query outlives its timeout.
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
    uvicorn.run(
        create_app(config), host=config.host, port=config.port, log_level="warning", access_log=False,
        server_header=False, timeout_keep_alive=5, limit_concurrency=256, backlog=512,
        # a GET may carry a query as long as a POST body may be; the app answers 414 beyond that
        h11_max_incomplete_event_size=config.max_request_bytes + 65536,
    )
