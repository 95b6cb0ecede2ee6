"""RDF files in and out: formats by extension (optionally .gz) and streaming adapters."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .errors import InputError
from .vocab import PREFIXES

FORMATS = {
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".ttl": ox.RdfFormat.TURTLE,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".n3": ox.RdfFormat.N3,
}


def rdf_format(path: Path) -> ox.RdfFormat:
    """The RDF format a file name announces (``.ttl``, ``.nt.gz``, ...)."""
    suffixes = path.suffixes
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    try:
        return FORMATS[suffixes[-1]]
    except (IndexError, KeyError):
        known = ", ".join(FORMATS)
        raise InputError(str(path), f"unknown RDF format (known extensions: {known}, optionally + .gz)") from None


def open_binary(path: Path, mode: str = "rb") -> IO[bytes]:
    """Open a file, through gzip when its name ends in .gz."""
    return gzip.open(path, mode) if path.suffix == ".gz" else open(path, mode)


class ChunkReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks (for pyoxigraph's parsers)."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = memoryview(chunk)
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


_XML_FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


class XmlWriter:
    """A binary stream for XML that pyoxigraph writes (RDF/XML, SPARQL XML results).

    pyoxigraph writes a carriage return inside a literal as a raw byte, which every XML parser
    reads back as a line feed (end-of-line normalisation): a README's CR LF would come back as
    LF. It is written as the character reference ``&#13;`` instead. Characters XML 1.0 cannot
    carry at all (the other C0 controls, U+FFFE, U+FFFF) raise InputError when ``strict``,
    rather than leave a file that no XML parser accepts.
    """

    def __init__(self, out: IO[bytes], label: str, strict: bool = True):
        self._out, self._label, self._strict, self._tail = out, label, strict, b""

    def write(self, data) -> int:
        data = bytes(data)
        if self._strict:
            window = self._tail + data
            forbidden = _XML_FORBIDDEN.search(window)
            if forbidden:
                char = ord(forbidden.group().decode("utf-8"))
                raise InputError(self._label, f"XML 1.0 cannot carry the character U+{char:04X} found in a literal; write another format (.nt, .ttl, .jsonld, ...)")
            self._tail = window[-2:]
        self._out.write(data.replace(b"\r", b"&#13;"))
        return len(data)

    def flush(self) -> None:
        self._out.flush()


@contextmanager
def atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A binary stream (gzip for .gz) that becomes ``path`` only when the block succeeds."""
    partial = path.with_name(f".partial-{path.name}")
    try:
        stream = open_binary(partial, "wb")
    except OSError as error:
        raise InputError(str(path), f"cannot write the output file: {error.strerror or error}") from error
    try:
        with stream as out:
            yield out
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def write_ntriples_as(chunks: Iterable[bytes], path: Path) -> None:
    """Write N-Triples chunks to ``path`` in the format its extension names, streaming."""
    fmt = rdf_format(path)
    with atomic_output(path) as out:
        if fmt == ox.RdfFormat.N_TRIPLES:
            for chunk in chunks:
                out.write(chunk)
        else:
            triples = ox.parse(ChunkReader(chunks), ox.RdfFormat.N_TRIPLES, lenient=True)
            target = XmlWriter(out, str(path)) if fmt == ox.RdfFormat.RDF_XML else out
            ox.serialize(triples, target, fmt, prefixes=PREFIXES if takes_prefixes(fmt) else None)


def takes_prefixes(fmt: ox.RdfFormat) -> bool:
    return fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.N3, ox.RdfFormat.RDF_XML, ox.RdfFormat.JSON_LD)
