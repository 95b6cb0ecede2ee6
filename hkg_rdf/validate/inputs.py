"""Reading data files into a scratch store with their literals as written.

The exact way parses every triple in Python to put stand-ins (``terms``) where the store would
rewrite a literal: about 3x slower than Oxigraph's own bulk load. An N-Triples file (the form
big graphs come in) is first scanned for any literal the store would rewrite; when there is
none, which is the usual case, it is bulk-loaded as it is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox

from ..errors import InputError
from ..rdfio import open_binary, rdf_format
from .terms import CANONICAL, PLAIN, XSD_NS as XSD, exact_quads

CHUNK = 1 << 24
TYPED = re.compile(rb'"\^\^<http://www\.w3\.org/2001/XMLSchema#([A-Za-z]+)>')


def _suspect(data: bytes) -> bool:
    """Whether a chunk of whole N-Triples lines has a literal the store may not keep as written:
    an XSD-typed literal not in the canonical form of its type."""
    for match in TYPED.finditer(data):
        datatype = XSD + match.group(1).decode()
        if datatype in PLAIN:
            continue
        canonical = CANONICAL.get(datatype)
        start = data.rfind(b'"', 0, match.start()) + 1
        if canonical is None or not canonical.fullmatch(data[start:match.start()].decode("utf-8", "replace")):
            return True
    return False


def _kept_as_written(path: Path) -> bool:
    """Whether an N-Triples file has no literal the store would rewrite (a scan, in chunks)."""
    with open_binary(path) as stream:
        tail = b""
        while chunk := stream.read(CHUNK):
            data = tail + chunk
            cut = data.rfind(b"\n") + 1
            if _suspect(data[:cut]):
                return False
            tail = data[cut:]
        return not _suspect(tail)


def load(store: ox.Store, path: Path, base: str | None) -> bool:
    """Load one RDF file; True when stand-ins were needed. An unreadable file is an InputError."""
    fmt = rdf_format(path)
    try:
        if fmt == ox.RdfFormat.N_TRIPLES and _kept_as_written(path):
            with open_binary(path) as stream:
                store.bulk_load(stream, fmt)
            return False
        stand_ins = [False]
        with open_binary(path) as stream:
            quads = ox.parse(stream, fmt, base_iri=base or path.resolve().as_uri(), rename_blank_nodes=True)
            store.bulk_extend(exact_quads(quads, stand_ins))
        return stand_ins[0]
    except SyntaxError as error:
        raise InputError(str(path), f"invalid {fmt.name}: {error}") from error
    except (OSError, EOFError) as error:
        raise InputError(str(path), f"cannot read: {error}") from error
