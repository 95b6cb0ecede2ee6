"""Records -> triples: N-Triples text for entities and edges, with the dangling-edge policy.

N-Triples is written as text directly (no term objects per triple): it is the fastest form
Python can produce, Oxigraph bulk-loads it in parallel, and every other format is one
streaming re-serialisation away (see :mod:`hkg_rdf.rdfio`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from json.encoder import encode_basestring
from pathlib import Path
from typing import Protocol

from .errors import InputError
from .iris import IriMinter, link
from .describe import describe
from .records import Edge, Entity, Release, edge_list
from .report import Report
from .vocab import HKG, RDF_TYPE, SKOS, XSD_DATETIME, XSD_INTEGER, XSD_STRING, EntityType, Field, Items, Vocabulary, vocabulary


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


@dataclass(frozen=True)
class Terms:
    """What a conversion writes beside the release's hkg: triples (``--no-standard-terms``, ``--license``)."""

    standard: bool = True  # the standard-term triples the ontology's alignment entails
    license_iri: str | None = None  # the data's license, stated in the dump's description


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


class RecordSink(Protocol):
    """Sees every entity and edge a :class:`TripleMaker` writes, as it writes them (the search
    index stages its rows so: :class:`hkg_rdf.search.RecordIndex`)."""

    def entity(self, entity: Entity) -> None: ...

    def edge(self, edge: Edge) -> None: ...


class TripleMaker:
    """Turns checked records into N-Triples lines, counting into a :class:`Report`.

    Besides the hkg: triples of the release it writes, by default, the standard-term triples the
    ontology's alignment entails (``Terms.standard``; :class:`~hkg_rdf.vocab.Alignment` reads
    them from ontology/hkg.ttl), and always the data no release field holds but its ids imply:
    links to the entity's pages (hkgm:link), one node per author position (hkgm:items), the
    task hierarchy (ontology/tasks.ttl) and, per conversion, the license and task concepts and
    a VoID/DCAT description of the result.
    """

    def __init__(self, minter: IriMinter, report: Report, vocab: Vocabulary | None = None, terms: Terms = Terms(),
                 sink: RecordSink | None = None):
        self.minter, self.report, self.terms, self.sink = minter, report, terms, sink
        self.vocab = vocab or vocabulary()
        align = self.vocab.alignment

        def also(entailed: Iterable[str]) -> list[str]:
            return list(entailed) if terms.standard else []

        def types(cls: str) -> list[str]:
            return [f" <{RDF_TYPE}> <{c}> .\n" for c in (cls, *also(align.classes(cls)))]

        self._types = types
        self._type_lines = {t.segment: types(t.cls) for t in self.vocab.types}
        self._props = {p: [f" <{q}> " for q in (p, *also(align.properties(p)))] for t in self.vocab.types for f in t.fields for p in (f.prop, f.link_prop) if p}
        self._plan = {t.segment: [(f, self._props[f.prop], _renderer(f)) for f in t.fields] for t in self.vocab.types}
        self._edges = {}
        for r in self.vocab.relations:
            subject_cls, object_cls = (r.object.cls, r.subject.cls) if r.inverse else (r.subject.cls, r.object.cls)
            self._edges[r.name] = also(align.edge(r.prop, subject_cls, object_cls))
        items = [f.items for t in self.vocab.types for f in t.fields if f.items]
        self._item_props = {i.link: [f" <{q}> " for q in (i.link, *also(align.properties(i.link)))] for i in items}
        self._item_props.update({i.position: [f" <{q}> " for q in (i.position, *also(align.properties(i.position)))] for i in items})
        # Registered authors: entity files come in vocab.types order, papers before users, so a
        # user's full name is kept only if it is some author's name (memory stays small).
        self._users = {i.user_relation: i for i in items if i.user_relation}
        self._name_fields = {(self.vocab.relation(r).subject.segment, i.user_name) for r, i in self._users.items()}
        self._item_values: dict[str, tuple[str, ...]] = {}  # entity id -> its ordered values, for matching users
        self._names: set[str] = set()
        self._user_names: dict[str, str] = {}  # user id -> full name, only where it is some item's value

    def preamble(self) -> str:
        """The concepts of our own schemes (licenses, tasks), written once per conversion."""
        self.report.triples += self.vocab.preamble.count("\n")
        return self.vocab.preamble

    def entity(self, entity: Entity) -> str:
        iri = self.minter.mint(entity.type, entity.id)
        subject = f"<{iri}>"
        lines = [subject + line for line in self._type_lines[entity.type.segment]]
        values = entity.values
        for field, predicates, render in self._plan[entity.type.segment]:
            value = values[field.name]
            if value is None:
                continue
            if field.items:
                lines.append(self._items(iri, entity.id, field, predicates, render, value))
                continue
            for item in value if field.is_list else (value,):
                term = render(item)
                lines += [f"{subject}{predicate}{term} .\n" for predicate in predicates]
                if field.link_prop:
                    lines.append(self._license(entity, subject, field, item))
            if (entity.type.segment, field.prop) in self._name_fields and value in self._names:
                self._user_names[entity.id] = value
        lines += [f"{subject} <{prop}> <{link(template, entity.id)}> .\n" for prop, template in entity.type.links]
        if entity.type.segment == self._task_segment:
            lines.append(self._task(subject, entity.id))
        text = "".join(lines)
        self.report.entities[entity.type.segment] += 1
        if self.sink is not None:
            self.sink.entity(entity)
        self.report.triples += text.count("\n")
        return text

    @cached_property
    def _task_segment(self) -> str | None:
        return next((t.segment for t in self.vocab.types if t.cls == HKG + "Task"), None)

    def _items(self, iri: str, entity_id: str, field: Field, predicates: list[str], render: Render, values: list[str]) -> str:
        """One node per position: order and repeated values survive (a paper's authors)."""
        items, lines = field.items, []
        for position, value in enumerate(values, 1):
            node = f"<{self.minter.item(iri, items.link, position)}>"
            lines += [f"<{iri}>{p}{node} .\n" for p in self._item_props[items.link]]
            lines += [node + line for line in self._types(items.cls)]
            lines += [f'{node}{p}"{position}"^^<{XSD_INTEGER}> .\n' for p in self._item_props[items.position]]
            lines += [f"{node}{p}{render(value)} .\n" for p in predicates]
        if items.user_relation:
            self._item_values[entity_id] = tuple(values)
            self._names.update(values)
        return "".join(lines)

    def _license(self, entity: Entity, subject: str, field: Field, label: str) -> str:
        iri = self.vocab.licenses.get(label)
        if iri is None:
            self.report.keep(f"{entity.type.file}: {field.name} {label!r} is no Hub license id (label kept, no license IRI)", entity.id)
            return ""
        return "".join(f"{subject}{p}<{iri}> .\n" for p in self._props[field.link_prop])

    def _task(self, subject: str, task_id: str) -> str:
        """A task's place in the Hub's task scheme: modality above, subtasks below."""
        scheme = self.vocab.tasks
        lines = [f"{subject} <{SKOS}inScheme> <{scheme.scheme}> .\n", f"{subject} <{SKOS}notation> {literal(task_id)} .\n"]
        if task_id in scheme.modality:
            lines.append(f"{subject} <{SKOS}broader> <{scheme.modality[task_id]}> .\n")
        lines += [f"<{sub}> <{SKOS}broader> {subject} .\n" for sub in scheme.subtasks.get(task_id, ())]
        return "".join(lines)

    def edge(self, edge: Edge) -> str:
        relation = edge.relation
        subject = self.minter.mint(relation.subject, edge.subject)
        obj = self.minter.mint(relation.object, edge.object)
        if relation.inverse:
            subject, obj = obj, subject
        lines = [f"<{subject}> <{relation.prop}> <{obj}> .\n"]
        lines += [f"<{obj}> <{p}> <{subject}> .\n" if reverse else f"<{subject}> <{p}> <{obj}> .\n" for p, reverse in self._edges[relation.name]]
        if relation.name in self._users:
            lines.append(self._item_user(self._users[relation.name], edge, subject, obj))
        text = "".join(lines)
        self.report.edges[relation.name] += 1
        if self.sink is not None:
            self.sink.edge(edge)
        self.report.triples += text.count("\n")
        return text

    def _item_user(self, items: Items, edge: Edge, user: str, entity: str) -> str:
        """Link the one position whose value is the user's name to the user, else count why not."""
        values, name = self._item_values.get(edge.object, ()), self._user_names.get(edge.subject)
        positions = [n for n, value in enumerate(values, 1) if value == name]
        if len(positions) != 1:
            self.report.keep(f"{edge.relation.name}: user not linked to an author position (full name at {len(positions)} positions)", [edge.subject, edge.object])
            return ""
        return f"<{self.minter.item(entity, items.link, positions[0])}> <{items.user}> <{user}> .\n"

    def node(self, entity_type: EntityType, entity_id: str) -> str:
        """A node known only from an edge (triples.txt has no attributes): its type, key and links."""
        values = {f.name: entity_id if f.is_key else None for f in entity_type.fields}
        return self.entity(Entity(entity_type, entity_id, values))

    def description(self, source: Path) -> str:
        """VoID/DCAT of this conversion: source and snapshot, tool, license, counts."""
        return describe(self.minter, self.report, source, self.terms.license_iri)


def release_triples(release: Release, maker: TripleMaker, keep_dangling: bool = False) -> Iterator[str]:
    """N-Triples of a whole release: entity files first (collecting ids), then relation files.

    An edge whose end is not among the entities of its type is skipped and counted per
    relation, or kept (and counted) with ``keep_dangling``.
    """
    report = maker.report
    release.report_files(report)
    yield maker.preamble()
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
    yield maker.description(release.path)


def missing_ends(edge: Edge, ids: dict[str, set[str]]) -> str:
    """Which ends of an edge are not known entities: '', 'subject', 'object' or both."""
    relation = edge.relation
    ends = (("subject", relation.subject, edge.subject), ("object", relation.object, edge.object))
    return " and ".join(end for end, entity_type, entity_id in ends if entity_id not in ids[entity_type.segment])


def edge_list_triples(edges: Iterable[Edge], maker: TripleMaker, source: Path) -> Iterator[str]:
    """N-Triples of a triples.txt: each edge, and type + key of each node the first time seen."""
    seen: dict[str, set[str]] = {t.segment: set() for t in maker.vocab.types}
    yield maker.preamble()
    for edge in edges:
        relation = edge.relation
        for entity_type, entity_id in ((relation.subject, edge.subject), (relation.object, edge.object)):
            known = seen[entity_type.segment]
            if entity_id not in known:
                known.add(entity_id)
                yield maker.node(entity_type, entity_id)
        yield maker.edge(edge)
    yield maker.description(source)


def source_triples(source: Path, maker: TripleMaker, keep_dangling: bool = False) -> Iterator[str]:
    """N-Triples of a HuggingKG source: a release directory or .zip, or a triples.txt."""
    if source.suffix == ".txt":
        return edge_list_triples(edge_list(source, maker.vocab), maker, source)
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
