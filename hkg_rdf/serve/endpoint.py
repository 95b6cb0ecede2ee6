"""The /sparql route: the SPARQL 1.1 Protocol over HTTP (queries, updates, the service
description). The request is read and bounded here; the operation runs in a worker, where its
results are written in the negotiated format (:mod:`.sparql`)."""

from __future__ import annotations

import asyncio
import hmac
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from . import negotiation as media
from . import pages, void
from .limits import MIN_RATE, BodyResponse, client_of, unless_client_leaves
from .policy import check_shape
from .server import Server, not_acceptable, with_charset
from .sparql import MAX_ROWS_HEADER, TRUNCATED_HEADER, Operation, ProtocolError, query_form, read_operation, result_kind


async def sparql(server: Server, request: Request) -> Response:
    """A query or update by GET or POST (SPARQL 1.1 Protocol); without one, the service description."""
    config = server.config
    raw_query = request.scope.get("query_string", b"")
    if len(raw_query) > config.max_request_bytes:
        raise ProtocolError(414, f"the request URL is longer than the server accepts ({config.max_request_bytes:,} bytes); POST the query instead")
    try:
        url_params = parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict") if raw_query else []
    except UnicodeDecodeError as error:
        raise ProtocolError(400, f"the query string is not UTF-8 once percent-decoded: {error}") from None
    body = await read_body(server, request) if request.method == "POST" else None
    operation = read_operation(request.method, url_params, request.headers.get("content-type"), body)
    format_param = [v for k, v in url_params if k == "format"]
    accept = request.headers.get("accept")
    if operation is None:
        return await service_description(server, request, format_param, accept)
    check_shape(operation.text)
    if operation.kind == "update":
        return await update(server, request, operation)
    kind = result_kind(query_form(operation.text))
    offers = {"solutions": media.SOLUTION_TYPES, "boolean": media.BOOLEAN_TYPES, "graph": media.GRAPH_TYPES}
    chosen = {k: media.choose(format_param, accept, v) for k, v in offers.items()}
    if kind and chosen[kind] is None:
        raise ProtocolError(406, not_acceptable(accept, offers[kind]))
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
        raise ProtocolError(406, not_acceptable(accept, offers[result.kind]))
    headers = {TRUNCATED_HEADER: "true" if result.truncated else "false", MAX_ROWS_HEADER: str(config.max_rows), "Vary": "Accept", "Cache-Control": "no-cache"}
    if etag and result.kind == kind:
        headers["ETag"] = etag
    if result.media_type == media.HTML:
        rows = [[pages.term_view(term, server.minter, 2000) for term in row] for row in result.table]
        return server.html("results.html", headers=headers, title="Query results", query=operation.text, variables=result.variables,
                           rows=rows, truncated=result.truncated, max_rows=config.max_rows, kind=result.kind,
                           edit_href="/?" + urlencode({"query": operation.text}))
    return BodyResponse(result.body, media_type=with_charset(result.media_type), headers=headers, send_timeout=config.timeout)


async def read_body(server: Server, request: Request) -> bytes:
    """The POST body, bounded in bytes and in time (a body trickling in holds a connection as slow headers would)."""
    config = server.config
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


async def service_description(server: Server, request: Request, format_param: list[str], accept: str | None) -> Response:
    """The SPARQL service description, with the triple count once the statistics are known."""
    config = server.config
    chosen = media.choose(format_param, accept, media.DOCUMENT_TYPES)
    if chosen is None:
        raise ProtocolError(406, not_acceptable(accept, media.DOCUMENT_TYPES))
    task = server.statistics_task(server.version())
    triples = task.result()["triples"] if task.done() and not task.cancelled() and task.exception() is None else None
    etag = server.etag(request, chosen, triples)
    if (cached := server.not_modified(request, etag)) is not None:
        return cached
    description = void.service_description(server.public(request), triples, config.allow_update is not None, config.timeout, config.max_rows)
    return server.rdf_response(request, description, chosen, "SPARQL service description", etag, html_context={"intro": "sd"})


async def update(server: Server, request: Request, operation: Operation) -> Response:
    """An update, for a client holding the bearer token the server was started with."""
    config = server.config
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
