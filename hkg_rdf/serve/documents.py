"""The dataset's documents: its VoID description, the ontology, shapes and mapping (negotiated,
with the ontology's HTML documentation), and the dumps with their checksums."""

from __future__ import annotations

import json

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from ..vocab import MAPPING_FILE, ONTOLOGY_FILE, ONTOLOGY_IRI, SHAPES_FILE, data_path
from . import negotiation as media
from . import void
from .server import HTML_CSP, Handler, HttpError, Server, not_acceptable, with_charset

DOCUMENTS = {
    # path: (file, IRI it serves, title)
    "ontology": (ONTOLOGY_FILE, ONTOLOGY_IRI, "HuggingKG ontology"),
    "shapes": (SHAPES_FILE, void.SHAPES_IRI, "HuggingKG SHACL shapes"),
    "mapping": (MAPPING_FILE, "https://w3id.org/huggingkg/mapping", "HuggingKG release mapping"),
}
#: HTML documentation generated from a document (tools/ontology_docs.py), served to HTML clients
DOCUMENTATION = {"ontology": ("docs", "ontology.html")}


async def void_document(server: Server, request: Request) -> Response:
    chosen = media.choose(request.query_params.getlist("format"), request.headers.get("accept"), media.DOCUMENT_TYPES)
    if chosen is None:
        raise HttpError(406, not_acceptable(request.headers.get("accept"), media.DOCUMENT_TYPES))
    stats = await server.statistics()
    dumps = await server.dump_list()
    etag = server.etag(request, chosen, json.dumps(dumps, sort_keys=True), server.config.license_iri)
    if (cached := server.not_modified(request, etag)) is not None:
        return cached
    triples = void.void_triples(server.public(request), server.minter.base, stats, dumps, server.config.license_iri, server.version())
    return server.rdf_response(request, triples, chosen, "VoID description of HuggingKG", etag)


def document(name: str) -> Handler:
    """The route of one of DOCUMENTS: /NAME negotiated (Content-Location names the variant), /NAME.EXT one format."""
    file_parts, iri, title = DOCUMENTS[name]

    async def endpoint(server: Server, request: Request) -> Response:
        ext = request.path_params.get("ext")
        if ext is not None:
            chosen = media.SHORT_NAMES.get(ext)
            if chosen not in media.DOCUMENT_TYPES:
                raise HttpError(404, f"no such document: /{name}.{ext}")
        else:
            chosen = media.choose(request.query_params.getlist("format"), request.headers.get("accept"), media.DOCUMENT_TYPES)
        if chosen is None:
            raise HttpError(406, not_acceptable(request.headers.get("accept"), media.DOCUMENT_TYPES))
        etag = server.etag(request, chosen)
        if (cached := server.not_modified(request, etag)) is not None:
            return cached
        path = data_path(*file_parts)
        extra = {"Content-Location": f"/{name}.{media.EXTENSIONS[chosen]}"} if ext is None else {}
        if chosen == media.HTML and name in DOCUMENTATION:  # the pyLODE documentation (docs/)
            headers = {"Vary": "Accept", "ETag": etag, "Cache-Control": "no-cache", "Content-Security-Policy": HTML_CSP, **extra}
            return Response(data_path(*DOCUMENTATION[name]).read_bytes(), media_type=with_charset(media.HTML), headers=headers)
        if chosen == media.TURTLE:  # the file itself, comments and all
            return Response(path.read_bytes(), media_type=with_charset(media.TURTLE), headers={"Vary": "Accept", "ETag": etag, "Cache-Control": "no-cache", **extra})
        triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        return server.rdf_response(request, triples, chosen, title, etag, extra, html_context={"document_iri": iri})

    return endpoint


async def dumps_index(server: Server, request: Request) -> Response:
    dumps = await server.dump_list()
    chosen = media.choose(request.query_params.getlist("format"), request.headers.get("accept"), (media.HTML, media.JSON))
    if chosen == media.JSON or (chosen is None and "json" in (request.headers.get("accept") or "")):
        return JSONResponse({"dumps": [{**d, "url": f"{server.public(request)}/dumps/{d['name']}"} for d in dumps]})
    return server.html("dumps.html", title="Dumps", dumps=dumps, pending=server.dump_pending())


async def dump_file(server: Server, request: Request) -> Response:
    name = request.path_params["name"]
    files = {p.name: p for p in void.dump_files(server.dumps_dir)}
    if name.endswith(".sha256") and name[:-7] in files:
        dumps = {d["name"]: d for d in await server.dump_list()}
        return PlainTextResponse(f"{dumps[name[:-7]]['sha256']}  {name[:-7]}\n")
    if name not in files:
        raise HttpError(404, f"no such dump: {name}")
    return FileResponse(files[name], media_type="application/gzip" if name.endswith(".gz") else void.dump_media_type(name), filename=name)
