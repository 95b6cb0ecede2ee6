"""The scan: every default-graph triple, in subject order, into records, edges or the report.

Oxigraph answers ``quads_for_pattern(None, None, None, DefaultGraph())`` from its subject-first
index, so a subject's triples come together; each entity's group gives its record (its
attributes) and its edges (its outgoing relation-property triples, whose far end the
:class:`EntityIndex` resolves). Every triple is accounted once, as exported or as dropped with
a reason; what is met on nodes that are no release entity (dangling edges, list items,
concepts, descriptions, foreign data) is counted as it goes and settled at the end against
what was reached from entities.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from contextlib import ExitStack
from itertools import groupby
from json.encoder import encode_basestring_ascii as _json_string  # C; \uXXXX escapes, as the constructor's json.dump
from operator import attrgetter
from pathlib import Path

import pyoxigraph as ox

from ..describe import VOID
from ..iris import IriMinter
from ..progress import counted
from ..records import JsonArrayWriter
from ..report import Report
from ..vocab import PREFIXES, RDF_TYPE, EntityType, Field, Relation, Vocabulary
from .entities import EntityIndex, Node
from .values import POSITION, FieldReader

TRIPLES_TXT = "triples.txt"
#: Key of the returned counts holding how many store triples were not exported.
NOT_EXPORTED = "not exported (triples)"

_DEFAULT = ox.DefaultGraph()
_TYPE = ox.NamedNode(RDF_TYPE)
_BREAKS_LINE = re.compile(r"[\t\n\r]")
_EXAMPLE_CHARS = 160

def _short(iri: str) -> str:
    """A prefixed name for messages (hkg:likes), or the IRI in angle brackets."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"


def _example(*terms: object) -> str:
    text = " ".join(str(t) for t in terms)
    return text if len(text) <= _EXAMPLE_CHARS else text[: _EXAMPLE_CHARS - 3] + "..."


class Exporter:
    """One export run into ``out``: the entity index, one scan, then what the scan did not reach."""

    def __init__(self, store: ox.Store, minter: IriMinter, report: Report, vocab: Vocabulary, out: Path, files: ExitStack):
        self.store, self.minter, self.report, self.vocab, self.out = store, minter, report, vocab, out
        self.relations = {(r.prop, *_rdf_ends(r)): r for r in vocab.relations}
        self.templates = {r.name: _pair_template(r) for r in vocab.relations}
        self.relation_props = frozenset(r.prop for r in vocab.relations)
        self.plans = {t.segment: _Plan(t, vocab) for t in vocab.types}
        self.derived_props, self.derived_classes = vocab.derived
        self.missed: Counter[str] = Counter()  # relation-property triples of nodes that are no release entity
        # records and edges per subject type, reported in mapping order (as a pass type by type meets them)
        self.records: Counter[str] = Counter({t.segment: 0 for t in vocab.types})
        self.edges: dict[str, Counter[str]] = {t.segment: Counter() for t in vocab.types}
        self.dropped = self.lines = self.scanned = self.groups = 0
        names = [t.file for t in vocab.types] + [f"{r.name}.json" for r in vocab.relations]
        self.writers = {name: JsonArrayWriter(files.enter_context(open(out / name, "w", encoding="utf-8"))) for name in names}
        # triples.txt lines per subject type, joined in mapping order: the bytes of a pass type by type
        self.spools = {t.segment: files.enter_context(open(self._spool(t), "w", encoding="utf-8", newline="\n")) for t in vocab.types}
        self.entities = EntityIndex(store, vocab, minter)

    def run(self) -> dict[str, int]:
        self._scan()
        for writer in self.writers.values():
            writer.close()
        self._join_triples_txt()
        for segment, records in self.records.items():  # in mapping order, as a pass type by type meets them
            if records:
                self.report.entities[segment] += records
            self.report.edges.update(self.edges[segment])
        self._unreached_edges()
        self._remainder()
        counts = {name: writer.count for name, writer in self.writers.items()}
        counts[TRIPLES_TXT] = self.lines
        counts[NOT_EXPORTED] = self.dropped
        return counts

    def _scan(self) -> None:
        """Each subject's triples as one group; an entity met twice would mean the order is not by subject."""
        scan = self.store.quads_for_pattern(None, None, None, _DEFAULT)
        for subject, triples in groupby(counted(scan, "exporting", " triples"), attrgetter("subject")):
            self._group(subject, list(triples))
        if self.groups != len(self.entities):
            raise RuntimeError(f"the store scan was not grouped by subject ({self.groups:,} groups for {len(self.entities):,} entities)")

    def _drop(self, reason: str, example: str, count: int = 1) -> None:
        self.report.skip(reason, example)
        self.report.skipped[reason] += count - 1
        self.dropped += count

    def _spool(self, entity_type: EntityType) -> Path:
        return self.out / f".{TRIPLES_TXT}.{entity_type.segment}"

    def _join_triples_txt(self) -> None:
        with open(self.out / TRIPLES_TXT, "wb") as target:
            for entity_type in self.vocab.types:
                self.spools[entity_type.segment].close()
                with open(self._spool(entity_type), "rb") as spool:
                    shutil.copyfileobj(spool, target, 1 << 20)
                self._spool(entity_type).unlink()

    # ------------------------------------------------------------ entities

    def _group(self, subject: Node, triples: list[ox.Quad]) -> None:
        """One subject's triples: an entity's record and edges, or counts for the end."""
        self.scanned += len(triples)
        entity = self.entities.get(subject)
        if entity is None:
            self.missed.update(p for p in (t.predicate.value for t in triples) if p in self.relation_props)
            return
        self.groups += 1
        entity_type, entity_id = entity
        if entity_id is None:
            reason = f"{entity_type.file}: node without {entity_type.key.name} whose IRI is not minted under the base IRI"
            self._drop(reason, str(subject), len(triples))
            return
        self._entity(entity_type, subject, entity_id, triples)

    def _entity(self, entity_type: EntityType, subject: Node, entity_id: str, triples: list[ox.Quad]) -> None:
        """Sort an entity's triples by their part (one dict lookup each), then write record and edges."""
        plan = self.plans[entity_type.segment]
        terms: list[list] = [[] for _ in plan.props]
        edges, items, links, regenerated = [], [], [], 0
        for triple in triples:
            prop = triple.predicate.value
            slot = plan.slots.get(prop, _UNMAPPED)
            if slot >= 0:
                terms[slot].append(triple.object)
            elif slot == _DERIVED or (slot == _TYPE_SLOT and triple.object.value in plan.classes):
                regenerated += 1
            elif slot == _EDGE:
                edges.append((prop, triple))
            elif slot == _ITEM:
                items.append((prop, triple.object))
            elif slot == _LINK:
                links.append(triple)
            else:
                self._drop(self._unmapped(entity_type, prop, triple.object), _example(subject, triple.object))
        self.report.triples += regenerated
        record = dict.fromkeys(plan.names)
        for reader, slot in plan.readers:
            values = terms[slot]
            record[reader.field.name] = self._field(entity_type, subject, reader, values) if values else [] if reader.field.is_list else None
        for link, field in plan.ordered.items():
            record[field.name] = self._ordered(entity_type, subject, field, [node for prop, node in items if prop == link])
        record[entity_type.key.name] = entity_id
        self._links(entity_type, record, links)
        self.writers[entity_type.file].write(record)
        self.records[entity_type.segment] += 1
        for prop, edge in edges:
            self._edge(entity_type, entity_id, prop, edge)

    def _regenerated(self, prop: str, obj: object, cls: str) -> bool:
        """A triple the conversion derives from the release (a type, standard terms, links)."""
        if prop == RDF_TYPE:
            return obj.value == cls or obj.value in self.derived_classes  # type: ignore[attr-defined]
        return prop in self.derived_props

    def _ordered(self, entity_type: EntityType, subject: Node, field: Field, nodes: list) -> list:
        """An ordered list field back from its item nodes: values by position, repeats kept."""
        items, by_position = field.items, {}
        position_reader, value_reader = FieldReader(POSITION), FieldReader(field)
        for node in nodes:
            self.report.triples += 1  # the entity -> item link
            position = value = None
            for triple in self.store.quads_for_pattern(node, None, None, _DEFAULT):
                prop = triple.predicate.value
                if prop == items.position and position is None:
                    position = position_reader.value(triple.object)
                elif prop == field.prop and value is None:
                    value = value_reader.value(triple.object)
                elif not self._regenerated(prop, triple.object, items.cls):
                    self._drop(f"{entity_type.file}: {field.name}: {_short(prop)} on an item (not in the mapping)", _example(node, triple.object))
                    continue
                self.report.triples += 1
            if position is None or value is None or position in by_position:
                self._drop(f"{entity_type.file}: {field.name}: item without one position and one value", _example(subject, node))
                continue
            by_position[position] = value
        return [by_position[p] for p in sorted(by_position)]

    def _unmapped(self, entity_type: EntityType, prop: str, obj: object) -> str:
        """Why a triple of an entity has no place in its record."""
        if prop != RDF_TYPE:
            return f"{entity_type.file}: {_short(prop)} (not in the mapping)"
        if obj.value not in {t.cls for t in self.vocab.types}:  # type: ignore[attr-defined]
            return f"{entity_type.file}: rdf:type {_short(obj.value)} (not in the mapping)"  # type: ignore[attr-defined]
        return f"{entity_type.file}: a second release type {_short(obj.value)} (exported as one record only)"  # type: ignore[attr-defined]

    def _field(self, entity_type: EntityType, subject: Node, reader: FieldReader, terms: list) -> object:
        """A field's value (sorted items for a list, the first value for a scalar, else null)."""
        field, good = reader.field, []
        for term in terms:
            value = reader.value(term)
            if value is None:
                self._drop(f"{entity_type.file}: {field.name}: value that is not {reader.expected}", _example(subject, term))
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
            field = self.plans[entity_type.segment].links[triple.predicate.value]
            labels = record[field.name] if field.is_list else [record[field.name]]
            if triple.object.value in {self.vocab.licenses.get(label) for label in labels}:
                self.report.triples += 1
            else:
                reason = f"{entity_type.file}: {_short(triple.predicate.value)} not derived from its {field.name} label"
                self._drop(reason, _example(triple.subject, triple.object))

    # ------------------------------------------------------------ edges

    def _edge(self, entity_type: EntityType, entity_id: str, prop: str, triple: ox.Quad) -> None:
        """Write one outgoing relation-property triple into the relation its ends' types select."""
        end = self.entities.get(triple.object)
        end_segment = "(no release entity)" if end is None or end[1] is None else end[0].segment
        relation = self.relations.get((prop, entity_type.segment, end_segment))
        if relation is None:
            reason = f"{_short(prop)}: edge {entity_type.segment} -> {end_segment} fits no release relation"
            self._drop(reason, _example(triple.subject, triple.object))
            return
        head, tail = (end[1], entity_id) if relation.inverse else (entity_id, end[1])
        self.writers[f"{relation.name}.json"].write_json(self.templates[relation.name] % (_json_string(head), _json_string(tail)))
        self.edges[entity_type.segment][relation.name] += 1
        self.report.triples += 1
        if _BREAKS_LINE.search(head + tail):
            self.report.keep(f"{TRIPLES_TXT}: an id holds a tab or line break; edge only in {relation.name}.json", [head, tail])
            return
        self.spools[entity_type.segment].write(f"{head}\t{relation.name}\t{tail}\n")
        self.lines += 1

    # ------------------------------------------------------------ what the scan did not reach

    def _unreached_edges(self) -> None:
        """Relation-property triples from nodes that are no release entity (dangling edges)."""
        for prop in sorted(self.relation_props):
            if self.missed[prop]:
                where = f"?s <{prop}> ?o FILTER NOT EXISTS {{ {self._typed} }}"
                self._drop(f"{_short(prop)}: edge from a node that is no release entity", self._sample(where, "s o"), self.missed[prop])

    def _remainder(self) -> None:
        """Report the triples of nodes that are no release entity, and quads in named graphs."""
        self.report.triples += self._regenerated_nodes()
        rest = self.scanned - self.report.triples - self.dropped
        if rest:
            props = ", ".join(f"<{p}>" for p in sorted(self.relation_props))
            where = f"?s ?p ?o FILTER(?p NOT IN ({props})) FILTER NOT EXISTS {{ {self._typed} }}"
            self._drop("triples about nodes that are no release entity (foreign data?)", self._sample(where, "s p o"), rest)
        # graph by graph: a SPARQL count over ``GRAPH ?g`` walks the default graph too (~2 s at 7 M triples)
        named = sum(1 for graph in self.store.named_graphs() for _ in self.store.quads_for_pattern(None, None, None, graph))
        if named:
            self._drop("quads in named graphs (only the default graph is exported)", self._sample("GRAPH ?g { ?s ?p ?o }", "g s p o"), named)

    def _regenerated_nodes(self) -> int:
        """Triples of the nodes a conversion writes besides entities (and the items reached through
        them): the concepts of our license and task schemes, and each conversion's description."""
        subjects = {t.subject for t in ox.parse(self.vocab.preamble.encode(), ox.RdfFormat.N_TRIPLES)}
        todo = [q.subject for q in self.store.quads_for_pattern(None, _TYPE, ox.NamedNode(VOID + "Dataset"), _DEFAULT)
                if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(self.minter.base + "void/")]
        while todo:  # a description and its parts: <d>, <d#model>, <d#conversion>, <d#tool>, ...
            node = todo.pop()
            if node in subjects:
                continue
            subjects.add(node)
            todo += [q.object for q in self.store.quads_for_pattern(node, None, None, _DEFAULT)
                     if isinstance(q.object, ox.NamedNode) and q.object.value.startswith(node.value.split("#")[0] + "#")]
        return sum(1 for node in subjects for _ in self.store.quads_for_pattern(node, None, None, _DEFAULT))

    @property
    def _typed(self) -> str:
        """A SPARQL pattern: ?s has a release type."""
        return f"VALUES ?t {{ {' '.join(f'<{t.cls}>' for t in self.vocab.types)} }} ?s <{RDF_TYPE}> ?t"

    def _sample(self, where: str, variables: str) -> str:
        """One match of a pattern, as an example (the pattern is only run when it has matches)."""
        row = next(iter(self.store.query(f"SELECT * WHERE {{ {where} }} LIMIT 1")))
        return _example(*(row[name] for name in variables.split()))


_EDGE, _ITEM, _LINK, _TYPE_SLOT, _DERIVED, _UNMAPPED = range(-1, -7, -1)


class _Plan:
    """How an entity type's triples are read: each predicate's part in the record, decided once.

    ``slots`` maps a predicate to the index of its field's terms (>= 0) or to a part: an edge,
    an ordered list's item, a link derived from a label, rdf:type, a derived standard term.
    Where a predicate could be two parts, the first of those in that order wins.
    """

    def __init__(self, entity_type: EntityType, vocab: Vocabulary):
        plain = [f for f in entity_type.fields if not f.items]
        self.names = tuple(f.name for f in entity_type.fields)
        self.props = tuple(dict.fromkeys(f.prop for f in plain))
        self.readers = tuple((FieldReader(f), self.props.index(f.prop)) for f in plain)
        self.ordered = {f.items.link: f for f in entity_type.fields if f.items}
        self.links = {f.link_prop: f for f in entity_type.fields if f.link_prop}  # dcterms:license -> its label's field
        derived_props, derived_classes = vocab.derived
        self.classes = derived_classes | {entity_type.cls}  # rdf:type objects a conversion writes
        self.slots = (  # lowest precedence first: a later part overrides
            dict.fromkeys(derived_props, _DERIVED) | {RDF_TYPE: _TYPE_SLOT} | dict.fromkeys(self.links, _LINK)
            | dict.fromkeys(self.ordered, _ITEM) | {p: i for i, p in enumerate(self.props)} | dict.fromkeys((r.prop for r in vocab.relations), _EDGE)
        )


def _rdf_ends(relation: Relation) -> tuple[str, str]:
    """The segments of a relation's RDF subject and object (swapped when hkgm:inverse)."""
    ends = (relation.object, relation.subject) if relation.inverse else (relation.subject, relation.object)
    return ends[0].segment, ends[1].segment


def _pair_template(relation: Relation) -> str:
    """The JSON text of an edge record (records.record_json's layout) with two %s slots: json.dumps costs 3x more per edge."""
    return f"{{\n        {_json_string(relation.subject_key)}: %s,\n        {_json_string(relation.object_key)}: %s\n    }}"
