"""The one place that mints entity IRIs and reads them back.

An entity IRI is ``<base><segment>/<id>``: a path segment per entity type (ids are unique per
type only: a model and a dataset may share ``owner/name``), then the Hub id percent-encoded
(UTF-8) except for unreserved characters and ``/``, so ``google-bert/bert-base-uncased`` stays
readable while any id (unicode, spaces, ``#``, ``?``, ``%``) gives a valid IRI that decodes to
exactly the same id.

Dot segments: HTTP clients collapse a path segment ``.`` or ``..`` when they dereference an
IRI, and clients following the WHATWG URL standard (browsers, Node's fetch, hence Comunica)
collapse ``%2E`` and ``%2E%2E`` just the same, so percent-encoding the dots is no cure. Instead
the ``/`` next to such a segment is encoded (``a/../b`` becomes ``a/..%2Fb``): the segment
is no longer made of dots alone, and the IRI still decodes to the id. An id that is nothing
but ``.`` or ``..`` has no ``/`` to encode: it is written ``%2E`` / ``%2E%2E``, which only
WHATWG clients cannot dereference (no Hub id is one: ``huggingface_hub`` refuses ``..`` in
repository ids, and user, paper and task ids have no such form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

import pyoxigraph as ox

from .vocab import EntityType, Vocabulary, vocabulary

DEFAULT_BASE_IRI = "https://w3id.org/huggingkg/resource/"
_BASE_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>\"{}|\\^`]*/$")


_PLAIN = re.compile(r"[A-Za-z0-9_~/-]+|(?:[A-Za-z0-9_~-][A-Za-z0-9_.~-]*/)?[A-Za-z0-9_~-][A-Za-z0-9_.~-]*")


def encode_id(entity_id: str) -> str:
    """Percent-encode a Hub id for use as an IRI path (reversible by :func:`decode_id`)."""
    if _PLAIN.fullmatch(entity_id):  # most Hub ids: nothing to encode, no dot segment possible
        return entity_id
    encoded = quote(entity_id, safe="/")
    if "." not in encoded:
        return encoded
    segments = encoded.split("/")
    dots = [segment in (".", "..") for segment in segments]
    if segments == ["."] or segments == [".."]:
        return "%2E" * len(encoded)
    out = [segments[0]]
    for i in range(1, len(segments)):
        out.append(("%2F" if dots[i - 1] or dots[i] else "/") + segments[i])
    return "".join(out)


def decode_id(path: str) -> str:
    """Invert :func:`encode_id`; raises ValueError on a malformed escape."""
    return unquote(path, errors="strict")


def link(template: str, entity_id: str) -> str:
    """An IRI elsewhere built from a mapping template (hkgm:link): ``{id}`` is the encoded id."""
    return template.replace("{id}", encode_id(entity_id))


def local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@dataclass(frozen=True)
class IriMinter:
    """Mints and parses entity IRIs under one base IRI."""

    base: str = DEFAULT_BASE_IRI

    def __post_init__(self) -> None:
        if not _BASE_IRI.match(self.base):
            raise ValueError(f"base IRI must be an absolute IRI ending in '/': {self.base!r}")
        try:  # the pattern lets through e.g. bad %-escapes or hosts, which no RDF parser accepts
            ox.NamedNode(self.base)
        except ValueError as error:
            raise ValueError(f"base IRI is not a valid IRI ({error}): {self.base!r}") from None

    def prefix(self, entity_type: EntityType) -> str:
        return f"{self.base}{entity_type.segment}/"

    def mint(self, entity_type: EntityType, entity_id: str) -> str:
        return f"{self.base}{entity_type.segment}/{encode_id(entity_id)}"

    def item(self, entity_iri: str, link: str, position: int) -> str:
        """A node for one position of an ordered list field: ``<entity>#author3`` (hkg:author).

        The fragment keeps it in the entity's document (dereferencing the paper describes its
        authors); an id never holds a raw ``#`` (:func:`encode_id` escapes it), so no clash.
        """
        return f"{entity_iri}#{local_name(link)}{position}"

    def description(self, source_name: str) -> str:
        """The VoID/DCAT description of what one conversion of ``source_name`` produced."""
        return f"{self.base}void/{encode_id(source_name)}"

    def parse(self, iri: str, vocab: Vocabulary | None = None) -> tuple[EntityType, str] | None:
        """The (type, id) an IRI of ours names, or None for an IRI minted elsewhere."""
        if not iri.startswith(self.base):
            return None
        segment, sep, rest = iri[len(self.base):].partition("/")
        if not sep:
            return None
        try:
            return (vocab or vocabulary()).type_by_segment(segment), decode_id(rest)
        except (KeyError, UnicodeDecodeError):
            return None
