"""Store -> HuggingKG release: the 38 JSON files and triples.txt, streaming and atomic.

Layout: ``OUT/`` receives the 8 entity files, the 30 relation files and ``triples.txt`` side by
side. ``hkg-rdf convert OUT`` and ``hkg-rdf load OUT`` read it unchanged (a release directory is
searched for its files by name; triples.txt is listed as an ignored file), and
``OUT/triples.txt`` is itself a source. No ``HuggingKG_V<timestamp>`` folder is invented: the
store does not know the crawl date, and a stamp of the export time would pass for one.

The export streams: entities are visited per class through the type index, each with one
lookup of its own triples, which give its record and its outgoing edges; only an edge's far
end needs a lookup (type and key, behind a bounded cache: popular ends recur). Records are
written as they come, in the constructor's serialisation (``json.dump(..., indent=4)`` bytes,
through records.JsonArrayWriter), so memory stays flat at any scale.

Nothing in the store is dropped silently: every triple not written is counted by reason (with
examples) in a :class:`Report`, and their total is returned under :data:`NOT_EXPORTED`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from functools import lru_cache
from json.encoder import encode_basestring_ascii as _json_string  # C; \uXXXX escapes, as the constructor's json.dump
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .errors import InputError
from .iris import IriMinter
from .progress import counted
from .records import JsonArrayWriter, scalar_check
from .report import Report
from .vocab import INTEGER_TYPES, PREFIXES, RDF_TYPE, XSD_DATETIME, EntityType, Field, Relation, Vocabulary, vocabulary

TRIPLES_TXT = "triples.txt"
#: Key of the returned counts holding how many store triples were not exported.
NOT_EXPORTED = "not exported (triples)"

_DEFAULT = ox.DefaultGraph()
_TYPE = ox.NamedNode(RDF_TYPE)
_UTC = re.compile(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z")
_BREAKS_LINE = re.compile(r"[\t\n\r]")
_END_CACHE = 1 << 17  # far ends of edges remembered: ~35 % misses at 1/10 scale (43 % at 1 << 16)
_EXAMPLE_CHARS = 160


def hub_datetime(value: str) -> str:
    """An xsd:dateTime as the Hub writes it: UTC with milliseconds.

    Oxigraph hands back the canonical form ("2024-12-15T10:31:02Z", trailing zeros of the
    fraction dropped); the release has "2024-12-15T10:31:02.000Z". Finer fractions and values
    with another or no time zone are left as they are.
    """
    match = _UTC.fullmatch(value)
    if match is None:
        return value
    return f"{match.group(1)}.{(match.group(2) or '').ljust(3, '0')}Z"


def _short(iri: str) -> str:
    """A prefixed name for messages (hkg:likes), or the IRI in angle brackets."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"


def _example(*terms: object) -> str:
    text = " ".join(str(t) for t in terms)
    return text if len(text) <= _EXAMPLE_CHARS else text[: _EXAMPLE_CHARS - 3] + "..."


class _Exporter:
    """One export run: a pass over the entities of each type, then what it did not reach.

    Each entity is read with one lookup of its triples; its attributes make its record and its
    outgoing relation-property triples make its edges (so only the far end of an edge needs a
    lookup). Every default-graph triple is accounted once, as exported or as dropped with a
    reason; what the pass cannot reach (edges and triples of nodes that are no release
    entity, named graphs) is counted against the store's totals afterwards.
    """

    def __init__(self, store: ox.Store, minter: IriMinter, report: Report, vocab: Vocabulary, out: Path, files: ExitStack):
        self.store, self.minter, self.report, self.vocab = store, minter, report, vocab
        self.relations = {(r.prop, *_rdf_ends(r)): r for r in vocab.relations}
        self.templates = {r.name: _pair_template(r) for r in vocab.relations}
        self.key_props = {t.segment: ox.NamedNode(t.key.prop) for t in vocab.types}
        self.relation_props = frozenset(r.prop for r in vocab.relations)
        # per type: link property IRI (dcterms:license) -> the field whose labels it derives from
        self.links = {t.segment: {f.link_prop: f for f in t.fields if f.link_prop} for t in vocab.types}
        self.visited: Counter[str] = Counter()  # relation-property triples seen, per property
        self.dropped = self.lines = 0
        self._end = lru_cache(maxsize=_END_CACHE)(self._lookup_end)
        names = [t.file for t in vocab.types] + [f"{r.name}.json" for r in vocab.relations]
        self.writers = {name: JsonArrayWriter(files.enter_context(open(out / name, "w", encoding="utf-8"))) for name in names}
        self.triples_txt = files.enter_context(open(out / TRIPLES_TXT, "w", encoding="utf-8", newline="\n"))

    def run(self) -> dict[str, int]:
        for entity_type in self.vocab.types:
            self._entities(entity_type)
        for writer in self.writers.values():
            writer.close()
        self._unreached_edges()
        self._remainder()
        counts = {name: writer.count for name, writer in self.writers.items()}
        counts[TRIPLES_TXT] = self.lines
        counts[NOT_EXPORTED] = self.dropped
        return counts

    def _drop(self, reason: str, example: str, count: int = 1) -> None:
        self.report.skip(reason, example)
        self.report.skipped[reason] += count - 1
        self.dropped += count

    # ------------------------------------------------------------ entities

    def _entities(self, entity_type: EntityType) -> None:
        typed = self.store.quads_for_pattern(None, _TYPE, ox.NamedNode(entity_type.cls), _DEFAULT)
        for quad in counted(typed, f"exporting {entity_type.file}", " records"):
            triples = list(self.store.quads_for_pattern(quad.subject, None, None, _DEFAULT))
            if self._primary(t.object.value for t in triples if t.predicate == _TYPE) is entity_type:
                self._entity(entity_type, quad.subject, triples)

    def _primary(self, classes: Iterable[str]) -> EntityType | None:
        """The release type a node is exported as: the first of its types in mapping order.

        A node typed with two release classes cannot be two records of one id set; it is
        exported once, and its second type is reported as not exported.
        """
        present = set(classes)
        return next((t for t in self.vocab.types if t.cls in present), None)

    def _entity(self, entity_type: EntityType, subject: ox.NamedNode | ox.BlankNode, triples: list[ox.Quad]) -> None:
        edges = [t for t in triples if t.predicate.value in self.relation_props]
        own = [t for t in triples if t.predicate.value not in self.relation_props]
        self.visited.update(t.predicate.value for t in edges)
        entity_id = self._key(entity_type, subject, [t.object for t in own if t.predicate.value == entity_type.key.prop])
        if entity_id is None:
            reason = f"{entity_type.file}: node without {entity_type.key.name} whose IRI is not minted under the base IRI"
            self._drop(reason, str(subject), len(triples))
            return
        self.writers[entity_type.file].write(self._record(entity_type, subject, entity_id, own))
        self.report.entities[entity_type.segment] += 1
        for edge in edges:
            self._edge(entity_type, entity_id, edge)

    def _record(self, entity_type: EntityType, subject: ox.NamedNode | ox.BlankNode, entity_id: str, own: list[ox.Quad]) -> dict:
        values: dict[str, list] = {f.prop: [] for f in entity_type.fields}
        links = []
        for triple in own:
            prop = triple.predicate.value
            if prop in values:
                values[prop].append(triple.object)
            elif prop in self.links[entity_type.segment]:
                links.append(triple)
            elif prop == RDF_TYPE and triple.object.value == entity_type.cls:
                self.report.triples += 1
            else:
                self._drop(self._unmapped(entity_type, triple), _example(subject, triple.object))
        record = {f.name: self._field(entity_type, subject, f, values[f.prop]) for f in entity_type.fields}
        record[entity_type.key.name] = entity_id
        self._links(entity_type, record, links)
        return record

    def _unmapped(self, entity_type: EntityType, triple: ox.Quad) -> str:
        """Why a triple of an entity has no place in its record."""
        if triple.predicate != _TYPE:
            return f"{entity_type.file}: {_short(triple.predicate.value)} (not in the mapping)"
        if self._primary([triple.object.value]) is None:
            return f"{entity_type.file}: rdf:type {_short(triple.object.value)} (not in the mapping)"
        return f"{entity_type.file}: a second release type {_short(triple.object.value)} (exported as one record only)"

    def _key(self, entity_type: EntityType, node: ox.NamedNode | ox.BlankNode, terms: list) -> str | None:
        """A node's id: its first valid key value, else its IRI decoded (if minted for that type)."""
        entity_id = next((v for v in (_value(entity_type.key, t) for t in terms) if v is not None), None)
        if entity_id is None and isinstance(node, ox.NamedNode):
            parsed = self.minter.parse(node.value, self.vocab)
            if parsed is not None and parsed[0] is entity_type and parsed[1]:
                entity_id = parsed[1]
        return entity_id

    def _field(self, entity_type: EntityType, subject: object, field: Field, terms: list) -> object:
        """A field's value (sorted items for a list, the first value for a scalar, else null)."""
        good = []
        for term in terms:
            value = _value(field, term)
            if value is None:
                reason = f"{entity_type.file}: {field.name}: value that is not {scalar_check(field)[1]}"
                self._drop(reason, _example(subject, term))
            else:
                good.append(value)
        if field.is_list:
            self.report.triples += len(good)
            return sorted(good)
        if len(good) > 1:
            reason = f"{entity_type.file}: {field.name}: more than one value (the first kept)"
            self._drop(reason, _example(subject), len(good) - 1)
        self.report.triples += min(len(good), 1)
        return good[0] if good else None

    def _links(self, entity_type: EntityType, record: dict, links: list[ox.Quad]) -> None:
        """Link triples (dcterms:license -> SPDX) are exported through the label they derive from."""
        for triple in links:
            field = self.links[entity_type.segment][triple.predicate.value]
            labels = record[field.name] if field.is_list else [record[field.name]]
            if triple.object.value in {self.vocab.spdx.get(label) for label in labels}:
                self.report.triples += 1
            else:
                reason = f"{entity_type.file}: {_short(triple.predicate.value)} not derived from its {field.name} label"
                self._drop(reason, _example(triple.subject, triple.object))

    # ------------------------------------------------------------ edges

    def _edge(self, entity_type: EntityType, entity_id: str, triple: ox.Quad) -> None:
        """Write one outgoing relation-property triple into the relation its ends' types select."""
        obj = self._end(triple.object)
        relation = self.relations.get((triple.predicate.value, entity_type.segment, _segment(obj)))
        if relation is None:
            reason = f"{_short(triple.predicate.value)}: edge {entity_type.segment} -> {_segment(obj)} fits no release relation"
            self._drop(reason, _example(triple.subject, triple.object))
            return
        head, tail = (obj[1], entity_id) if relation.inverse else (entity_id, obj[1])
        self.writers[f"{relation.name}.json"].write_json(self.templates[relation.name] % (_json_string(head), _json_string(tail)))
        self.report.edges[relation.name] += 1
        self.report.triples += 1
        if _BREAKS_LINE.search(head + tail):
            self.report.keep(f"{TRIPLES_TXT}: an id holds a tab or line break; edge only in {relation.name}.json", [head, tail])
            return
        self.triples_txt.write(f"{head}\t{relation.name}\t{tail}\n")
        self.lines += 1

    def _lookup_end(self, node: object) -> tuple[EntityType, str] | None:
        """The release type and id of an edge's far end, or None if it is no exported entity."""
        if not isinstance(node, (ox.NamedNode, ox.BlankNode)):
            return None
        entity_type = self._primary(q.object.value for q in self.store.quads_for_pattern(node, _TYPE, None, _DEFAULT))
        if entity_type is None:
            return None
        keys = [q.object for q in self.store.quads_for_pattern(node, self.key_props[entity_type.segment], None, _DEFAULT)]
        entity_id = self._key(entity_type, node, keys)
        return None if entity_id is None else (entity_type, entity_id)

    # ------------------------------------------------------------ what the pass did not reach

    def _unreached_edges(self) -> None:
        """Relation-property triples from nodes that are no release entity (dangling edges)."""
        for prop in sorted(self.relation_props):
            missed = _count(self.store, f"?s <{prop}> ?o") - self.visited[prop]
            if missed:
                where = f"?s <{prop}> ?o FILTER NOT EXISTS {{ {self._typed} }}"
                self._drop(f"{_short(prop)}: edge from a node that is no release entity", self._sample(where, "s o"), missed)

    def _remainder(self) -> None:
        """Report the triples of nodes that are no release entity, and quads in named graphs."""
        rest = _count(self.store, "?s ?p ?o") - self.report.triples - self.dropped
        if rest:
            props = ", ".join(f"<{p}>" for p in sorted(self.relation_props))
            where = f"?s ?p ?o FILTER(?p NOT IN ({props})) FILTER NOT EXISTS {{ {self._typed} }}"
            self._drop("triples about nodes that are no release entity (foreign data?)", self._sample(where, "s p o"), rest)
        in_graphs = "GRAPH ?g { ?s ?p ?o }"
        named = _count(self.store, in_graphs)
        if named:
            self._drop("quads in named graphs (only the default graph is exported)", self._sample(in_graphs, "g s p o"), named)

    @property
    def _typed(self) -> str:
        """A SPARQL pattern: ?s has a release type."""
        return f"VALUES ?t {{ {' '.join(f'<{t.cls}>' for t in self.vocab.types)} }} ?s <{RDF_TYPE}> ?t"

    def _sample(self, where: str, variables: str) -> str:
        """One match of a pattern, as an example (the pattern is only run when it has matches)."""
        row = next(iter(self.store.query(f"SELECT * WHERE {{ {where} }} LIMIT 1")))
        return _example(*(row[name] for name in variables.split()))


def _value(field: Field, term: object) -> object | None:
    """The release value of one RDF term of a field, or None if the term cannot be one."""
    if not isinstance(term, ox.Literal):
        return None
    datatype = term.datatype.value
    value: object
    if field.is_count:
        if datatype not in INTEGER_TYPES:
            return None
        try:
            value = int(term.value)
        except ValueError:
            return None
    elif datatype != field.datatype:
        return None
    else:
        value = hub_datetime(term.value) if datatype == XSD_DATETIME else term.value
    valid = scalar_check(field)[0](value) and (value != "" or not field.is_key)
    return value if valid else None


def _rdf_ends(relation: Relation) -> tuple[str, str]:
    """The segments of a relation's RDF subject and object (swapped when hkgm:inverse)."""
    ends = (relation.object, relation.subject) if relation.inverse else (relation.subject, relation.object)
    return ends[0].segment, ends[1].segment


def _pair_template(relation: Relation) -> str:
    """The JSON text of an edge record (records.record_json's layout) with two %s slots: json.dumps costs 3x more per edge."""
    return f"{{\n        {_json_string(relation.subject_key)}: %s,\n        {_json_string(relation.object_key)}: %s\n    }}"


def _segment(end: tuple[EntityType, str] | None) -> str:
    return "(no release entity)" if end is None else end[0].segment


def _count(store: ox.Store, where: str) -> int:
    return int(next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")))["n"].value)


def _check_target(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(str(out_dir), "exists and is not an empty directory; export needs a new or empty one")


def export_release(store: ox.Store, out_dir: Path, minter: IriMinter, report: Report | None = None) -> dict[str, int]:
    """Write the store as a HuggingKG release into ``out_dir`` (new or empty), all or nothing.

    ``out_dir`` receives the 38 JSON files (every field of the mapping in mapping order; null
    for an absent scalar, [] for an absent list, list items sorted) and ``triples.txt``. The
    files are written into a temporary directory beside ``out_dir`` and renamed into place at
    the end, so a failure leaves no half export. Returns the records per file, lines of
    triples.txt and, under :data:`NOT_EXPORTED`, the number of store triples not written;
    ``report`` (if given) receives the counts per type and relation and those triples by
    reason, with examples.
    """
    out_dir = out_dir.absolute()
    _check_target(out_dir)
    partial = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}-{time.time_ns()}")
    partial.mkdir(parents=True)
    try:
        with ExitStack() as files:
            counts = _Exporter(store, minter, report if report is not None else Report(), vocabulary(), partial, files).run()
        _check_target(out_dir)
        os.replace(partial, out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return counts
