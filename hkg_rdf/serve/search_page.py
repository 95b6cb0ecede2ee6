"""``/search?q=``: the entities whose id or name matches, as HTML or JSON.

Answered from the live store version's own index (:mod:`hkg_rdf.search`), opened per request
read-only, so a load that swaps versions is seen by the next request and never mixes versions.
A live version without an index (a store from before indexes, or a version written without
one) gets one built in the background (503 with Retry-After until then). Each query runs in a thread, at most a few at a time, and is
interrupted past its time limit.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import search
from ..store import live_path
from ..vocab import vocabulary
from . import pages

log = logging.getLogger("hkg_rdf.serve")
PAGE_SIZE = 20
MAX_OFFSET = 500  # deeper than this, a query should be narrowed (or written in SPARQL)
TIME_LIMIT = 2.0  # seconds a search may take before it is interrupted


class Finder:
    """Search over the store the server serves; None-safe for ``serve --sparql`` (no index)."""

    def __init__(self, store_dir: Path | None):
        self.store_dir = store_dir
        self.building: asyncio.Task | None = None
        self.slots = asyncio.Semaphore(4)

    def start(self) -> None:
        """Build the live version's index in the background if it has none (a store written
        before there were indexes, or a version made by a SPARQL update that left it out)."""
        if self.store_dir is None or (self.building is not None and not self.building.done()):
            return
        version = live_path(self.store_dir)
        if search.index_path(version).is_file():
            return

        async def build() -> None:
            try:
                await asyncio.to_thread(search.ensure_index, self.store_dir)
                log.info("search index built for %s", version.name)
            except Exception as error:  # logged; /search says it has no index
                log.error("search index of %s could not be built: %s", version.name, error)

        self.building = asyncio.get_running_loop().create_task(build())

    async def find(self, query: str, types: tuple[str, ...], offset: int) -> search.Results:
        if self.store_dir is None:
            raise FinderError(501, "search needs the store itself (serve --store); this server fronts a remote SPARQL endpoint")
        self.start()
        if self.building is not None and not self.building.done():
            raise FinderError(503, "the search index of this store version is being built; retry in a while", {"Retry-After": "30"})
        async with self.slots:
            return await asyncio.to_thread(self._find, query, types, offset)

    def _find(self, query: str, types: tuple[str, ...], offset: int) -> search.Results:
        try:
            db = search.open_index(live_path(self.store_dir))
        except search.SearchError as error:
            raise FinderError(503, str(error)) from None
        deadline = time.monotonic() + TIME_LIMIT
        db.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
        try:
            return search.search(db, query, types, PAGE_SIZE, offset)
        except sqlite3.OperationalError as error:
            if "interrupted" in str(error):
                raise FinderError(503, f"the search was stopped after {TIME_LIMIT:g} s; use more specific words") from None
            raise
        finally:
            db.close()


class FinderError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _wants_json(request: Request) -> bool:
    fmt = request.query_params.get("format")
    if fmt:
        return fmt == "json"
    accept = request.headers.get("accept") or ""
    return "json" in accept and "html" not in accept


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() else default


async def endpoint(server, request: Request) -> Response:
    """GET /search?q=WORDS[&type=model&type=...][&offset=N][&format=json]."""
    segments = [t.segment for t in vocabulary().types]
    query = request.query_params.get("q", "").strip()
    types = tuple(t for t in request.query_params.getlist("type") if t in segments)
    offset = min(_int(request.query_params.get("offset"), 0), MAX_OFFSET)
    as_json = _wants_json(request)
    try:
        results = await server.finder.find(query, types, offset) if query else search.Results("", types, [], 0, False)
    except FinderError as error:
        if as_json:
            return JSONResponse({"error": error.message}, status_code=error.status, headers=error.headers)
        return server.html("error.html", status=error.status, headers=error.headers, status_code=error.status, message=error.message, title=str(error.status))
    if as_json:
        body = results.as_json()
        body.update(offset=offset, limit=PAGE_SIZE)
        for hit in body["results"]:
            hit["iri"] = server.minter.mint(vocabulary().type_by_segment(hit["type"]), hit["id"])
            hit["page"] = server.public(request) + pages.page_path(hit["type"], hit["id"])
        return JSONResponse(body, headers={"Cache-Control": "no-cache", "Vary": "Accept"})
    hits = [{**h.__dict__, "href": pages.page_path(h.type, h.id)} for h in results.hits]

    def page_href(to: int) -> str:
        return "/search?" + urlencode([("q", query), *(("type", t) for t in types), ("offset", to)])

    previous = page_href(max(0, offset - PAGE_SIZE)) if offset else None
    following = page_href(offset + PAGE_SIZE) if len(results.hits) == PAGE_SIZE and offset + PAGE_SIZE <= MAX_OFFSET else None
    return server.html("search.html", headers={"Cache-Control": "no-cache", "Vary": "Accept"}, title=f"Search: {query}" if query else "Search",
                       query=query, search_query=query, types=types, segments=segments, results=results, hits=hits, offset=offset,
                       previous=previous, following=following, json_href="/search?" + urlencode([("q", query), *(("type", t) for t in types), ("format", "json")]))
