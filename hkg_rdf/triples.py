"""Records -> triples: N-Triples text for entities and edges, with the dangling-edge policy.

N-Triples is written as text directly (no term objects per triple): it is the fastest form
Python can produce, Oxigraph bulk-loads it in parallel, and every other format is one
streaming re-serialisation away (see :mod:`hkg_rdf.rdfio`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from json.encoder import encode_basestring
from pathlib import Path

from .errors import InputError
from .iris import IriMinter
from .records import Edge, Entity, Release, edge_list
from .report import Report
from .vocab import RDF_TYPE, XSD_DATETIME, XSD_STRING, EntityType, Field, Vocabulary, vocabulary


def literal(value: str, datatype: str = XSD_STRING) -> str:
    """An N-Triples literal; xsd:string is written plain, as RDF 1.1 canonical form has it.

    JSON string escapes (\\" \\\\ \\n \\r \\t \\b \\f \\uXXXX) are all valid N-Triples escapes,
    and the json module's C encoder is ~20x faster than str.translate.
    """
    text = encode_basestring(value)
    return text if datatype == XSD_STRING else f"{text}^^<{datatype}>"


def canonical_datetime(value: str) -> str:
    """The canonical form of a checked xsd:dateTime, the one Oxigraph stores and returns.

    The release writes "2024-12-15T10:31:02.000Z"; the store keeps "2024-12-15T10:31:02Z"
    (no trailing zeros in the fraction, "Z" for a zero offset). Writing the canonical form
    keeps converted files and the store carrying the same terms, as for counts.
    """
    body, zone = value, ""
    if value.endswith("Z"):
        body, zone = value[:-1], "Z"
    elif len(value) > 6 and value[-6] in "+-" and value[-3] == ":":
        body, zone = value[:-6], value[-6:]
    if zone in ("+00:00", "-00:00"):
        zone = "Z"
    if "." in body:
        body = body.rstrip("0").rstrip(".")
    return body + zone


Render = Callable[[object], str]


def _renderer(field: Field) -> Render:
    """How a value of ``field`` becomes an N-Triples object term (chosen once per field)."""
    datatype = field.literal_datatype
    if field.is_count:
        return lambda value: f'"{value}"^^<{datatype}>'
    if field.datatype == XSD_DATETIME:
        return lambda value: literal(canonical_datetime(value), datatype)
    if datatype == XSD_STRING:
        return encode_basestring
    return lambda value: literal(value, datatype)


class TripleMaker:
    """Turns checked records into N-Triples lines, counting into a :class:`Report`."""

    def __init__(self, minter: IriMinter, report: Report, vocab: Vocabulary | None = None):
        self.minter, self.report = minter, report
        self.vocab = vocab or vocabulary()
        self._type_line = {t.segment: f" <{RDF_TYPE}> <{t.cls}> .\n" for t in self.vocab.types}
        self._plan = {
            t.segment: [(f.name, f" <{f.prop}> ", f.is_list, _renderer(f), f.link_prop) for f in t.fields]
            for t in self.vocab.types
        }

    def entity(self, entity: Entity) -> str:
        subject = f"<{self.minter.mint(entity.type, entity.id)}>"
        lines = [subject + self._type_line[entity.type.segment]]
        values, spdx = entity.values, self.vocab.spdx
        for name, predicate, is_list, render, link_prop in self._plan[entity.type.segment]:
            value = values[name]
            if value is None:
                continue
            for item in value if is_list else (value,):
                lines.append(f"{subject}{predicate}{render(item)} .\n")
                if link_prop and item in spdx:
                    lines.append(f"{subject} <{link_prop}> <{spdx[item]}> .\n")
        self.report.entities[entity.type.segment] += 1
        self.report.triples += len(lines)
        return "".join(lines)

    def edge(self, edge: Edge) -> str:
        relation = edge.relation
        subject = self.minter.mint(relation.subject, edge.subject)
        obj = self.minter.mint(relation.object, edge.object)
        if relation.inverse:
            subject, obj = obj, subject
        self.report.edges[relation.name] += 1
        self.report.triples += 1
        return f"<{subject}> <{relation.prop}> <{obj}> .\n"

    def node(self, entity_type: EntityType, entity_id: str) -> str:
        """Type and key of a node known only from an edge (triples.txt has no attributes)."""
        self.report.entities[entity_type.segment] += 1
        self.report.triples += 2
        subject = f"<{self.minter.mint(entity_type, entity_id)}>"
        return f"{subject}{self._type_line[entity_type.segment]}{subject} <{entity_type.key.prop}> {literal(entity_id)} .\n"


def release_triples(release: Release, maker: TripleMaker, keep_dangling: bool = False) -> Iterator[str]:
    """N-Triples of a whole release: entity files first (collecting ids), then relation files.

    An edge whose end is not among the entities of its type is skipped and counted per
    relation, or kept (and counted) with ``keep_dangling``.
    """
    report = maker.report
    release.report_files(report)
    ids: dict[str, set[str]] = {t.segment: set() for t in maker.vocab.types}
    for entity in release.entities(report):
        seen = ids[entity.type.segment]
        if entity.id in seen:
            report.skip(f"{entity.type.file}: duplicate id (first record kept)", entity.id)
            continue
        seen.add(entity.id)
        yield maker.entity(entity)
    for edge in release.edges():
        missing = missing_ends(edge, ids)
        if missing:
            reason = f"{edge.relation.name}: dangling edge ({missing} not among the entities)"
            if not keep_dangling:
                report.skip(reason, [edge.subject, edge.object])
                continue
            report.keep(reason, [edge.subject, edge.object])
        yield maker.edge(edge)


def missing_ends(edge: Edge, ids: dict[str, set[str]]) -> str:
    """Which ends of an edge are not known entities: '', 'subject', 'object' or both."""
    relation = edge.relation
    ends = (("subject", relation.subject, edge.subject), ("object", relation.object, edge.object))
    return " and ".join(end for end, entity_type, entity_id in ends if entity_id not in ids[entity_type.segment])


def edge_list_triples(edges: Iterable[Edge], maker: TripleMaker) -> Iterator[str]:
    """N-Triples of a triples.txt: each edge, and type + key of each node the first time seen."""
    seen: dict[str, set[str]] = {t.segment: set() for t in maker.vocab.types}
    for edge in edges:
        relation = edge.relation
        for entity_type, entity_id in ((relation.subject, edge.subject), (relation.object, edge.object)):
            known = seen[entity_type.segment]
            if entity_id not in known:
                known.add(entity_id)
                yield maker.node(entity_type, entity_id)
        yield maker.edge(edge)


def source_triples(source: Path, maker: TripleMaker, keep_dangling: bool = False) -> Iterator[str]:
    """N-Triples of a HuggingKG source: a release directory or .zip, or a triples.txt."""
    if source.suffix == ".txt":
        return edge_list_triples(edge_list(source, maker.vocab), maker)
    return release_triples(Release(source, maker.vocab), maker, keep_dangling)


def is_huggingkg_source(path: Path) -> bool:
    """True for a release directory, a release .zip or a triples.txt; False for RDF files."""
    return path.is_dir() or path.suffix in {".zip", ".txt"}


def encode_chunks(texts: Iterable[str], source: str, size: int = 1 << 20) -> Iterator[bytes]:
    """UTF-8 chunks of about ``size`` bytes; a lone surrogate becomes a clear InputError."""
    buffer: list[str] = []
    length = 0
    for text in texts:
        buffer.append(text)
        length += len(text)
        if length >= size:
            yield _encode(buffer, source)
            buffer, length = [], 0
    if buffer:
        yield _encode(buffer, source)


def _encode(buffer: list[str], source: str) -> bytes:
    text = "".join(buffer)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        line = text[: error.start].rsplit("\n", 1)[-1]
        raise InputError(source, f"text that is not valid Unicode (lone surrogate) in the triple starting {line[:120]!r}") from error
