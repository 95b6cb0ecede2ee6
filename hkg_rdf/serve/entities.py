"""The linked-data routes of entities: their IRIs (303 to a page or a document), their HTML
pages and their RDF documents, both rendered in the workers (:mod:`.pages`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..iris import decode_id
from ..vocab import vocabulary
from . import negotiation as media
from . import pages
from .server import HttpError, Server, not_acceptable, raw_path, with_charset
from .sparql import MAX_ROWS_HEADER, TRUNCATED_HEADER


def entity_from_path(server: Server, request: Request, prefix: str) -> tuple[str, str, str]:
    """(segment, id, canonical IRI) from the raw path after ``prefix``; HttpError 404 otherwise."""
    raw = raw_path(request)
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


async def entity_page(server: Server, request: Request) -> Response:
    segment, entity_id, iri = entity_from_path(server, request, "/page/")
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


async def entity_data(server: Server, request: Request) -> Response:
    segment, entity_id, iri = entity_from_path(server, request, "/data/")
    offers = media.DOCUMENT_TYPES
    chosen = media.choose(request.query_params.getlist("format"), request.headers.get("accept"), offers)
    if chosen is None:
        raise HttpError(406, not_acceptable(request.headers.get("accept"), offers))
    if chosen == media.HTML:
        return RedirectResponse(pages.page_path(segment, entity_id), status_code=303, headers={"Vary": "Accept"})
    etag = server.etag(request, chosen)
    if (cached := server.not_modified(request, etag, exists=False)) is not None:  # "*": once it is known to exist
        return cached
    document = server.public(request) + pages.data_path_of(segment, entity_id)
    result = await server.job("entity_document", iri=iri, document=document, media_type=chosen, max_triples=server.config.max_rows)
    if not result["exists"]:
        raise HttpError(404, f"the graph says nothing about {iri}")
    if (cached := server.not_modified(request, etag)) is not None:
        return cached
    headers = {"Vary": "Accept", "ETag": etag, "Cache-Control": "no-cache", TRUNCATED_HEADER: "true" if result["truncated"] else "false",
               MAX_ROWS_HEADER: str(server.config.max_rows)}
    return Response(result["body"], media_type=with_charset(chosen), headers=headers)


async def entity_iri(server: Server, request: Request) -> Response:
    """Any other path: an entity IRI under the base path is redirected (303) to its page or data."""
    if not raw_path(request).startswith(server.base_path):
        raise HttpError(404, f"nothing here: {request.url.path}")
    segment, entity_id, _ = entity_from_path(server, request, server.base_path)
    chosen = media.negotiate(request.headers.get("accept"), media.DOCUMENT_TYPES)
    if chosen is None:
        raise HttpError(406, not_acceptable(request.headers.get("accept"), media.DOCUMENT_TYPES))
    target = pages.page_path(segment, entity_id) if chosen == media.HTML else pages.data_path_of(segment, entity_id)
    return RedirectResponse(target, status_code=303, headers={"Vary": "Accept", "Cache-Control": "max-age=3600"})
