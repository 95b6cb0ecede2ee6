"""The converter's TripleMaker that checks each record and edge against the plan as they stream by."""

from __future__ import annotations

from pathlib import Path

from ..iris import IriMinter
from ..records import Edge, Entity
from ..report import Report
from ..triples import RecordSink, Terms, TripleMaker
from ..vocab import RDF_TYPE, EntityType, Vocabulary
from .extra import Extra, parsed
from .planner import Planner
from .proof import Proof
from .shapes_graph import ShapesGraph


class CheckingTripleMaker(TripleMaker):
    """The converter's TripleMaker, checking each record and edge against the plan as it goes."""

    def __init__(self, minter: IriMinter, report: Report, shapes: ShapesGraph, keep_dangling: bool, vocab: Vocabulary | None = None,
                 terms: Terms = Terms(), sink: RecordSink | None = None):
        super().__init__(minter, report, vocab, terms, sink)
        self.extra = Extra.of(self)
        planner = Planner(shapes, self.vocab, keep_dangling, self.extra)
        self.plans, open_, narrowed = planner.plan()
        self.proof = Proof(set(open_), narrowed=narrowed)
        self._touches = planner.touches
        self._seen_types: set[str] = set()
        self._seen_relations: set[str] = set()
        self._spdx = self.vocab.licenses  # every license label the converter links to an IRI
        self._counts = {t.segment: self._line_counts(t) for t in self.vocab.types}
        self._edge_lines = {name: 1 + len(extra) for name, extra in self._edges.items()}
        if any(self.minter.parse(t.subject.value, self.vocab) for t in parsed(self.vocab.preamble)):
            self._unaccounted("the concept preamble describes entities of the graph")

    def _line_counts(self, entity_type: EntityType) -> tuple[int, list[tuple[str, bool, int, int]]]:
        """Lines per record (type lines and page links) and, per field, per value (and per linked license)."""
        fields = []
        for f in entity_type.fields:
            if f.items:
                items = f.items
                per = len(self._item_props[items.link]) + len(self._types(items.cls)) + len(self._item_props[items.position]) + len(self._props[f.prop])
            else:
                per = len(self._props[f.prop])
            fields.append((f.name, f.is_list, per, len(self._props[f.link_prop]) if f.link_prop else 0))
        return len(self._type_lines[entity_type.segment]) + len(entity_type.links), fields

    def _unaccounted(self, what: str) -> None:
        if self.proof.complete:
            self.proof.complete, self.proof.unaccounted = False, what

    def entity(self, entity: Entity) -> str:
        text = super().entity(entity)
        self._check(entity)
        if text.count("\n") != self._expected_lines(entity):
            self._unaccounted(f"{entity.type.file}: record {entity.id!r} became other triples than its fields")
        return text

    def node(self, entity_type: EntityType, entity_id: str) -> str:
        """A node of a triples.txt: its type and key, checked as a record holding only its key."""
        text = super().node(entity_type, entity_id)
        values = {f.name: ([] if f.is_list else None) for f in entity_type.fields}
        values[entity_type.key.name] = entity_id
        record = Entity(entity_type, entity_id, values)
        self._check(record)
        if text.count("\n") != self._expected_lines(record):
            self._unaccounted(f"{entity_type.segment} {entity_id!r}: a node became other triples than its type and key")
        return text

    def edge(self, edge: Edge) -> str:
        text = super().edge(edge)
        name = edge.relation.name
        if name not in self._seen_relations:
            self._seen_relations.add(name)
            subject_type = edge.relation.object if edge.relation.inverse else edge.relation.subject
            self.proof.open |= self.plans[subject_type.segment].edges.get(name, set())
        lines, expected = text.count("\n"), self._edge_lines[name]
        if lines != expected and not (lines == expected + 1 and name in self._users and text.rsplit("\n", 2)[-2].split(" ", 2)[1] == f"<{self._users[name].user}>"):
            self._unaccounted(f"{name}: an edge became other triples than its own and the ones the alignment entails")
        return text

    def description(self, source: Path) -> str:
        """The VoID description: it must not reach any shape (it is written after the plan was made)."""
        text = super().description(source)
        triples = parsed(text)
        if self._touches({t.predicate.value for t in triples}, {t.object.value for t in triples if t.predicate.value == RDF_TYPE}) \
                or any(self.minter.parse(t.subject.value, self.vocab) for t in triples):
            self._unaccounted("the conversion's description reaches a shape")
        return text

    def _check(self, entity: Entity) -> None:
        """Every planned check of one record; a constraint failing once stays open."""
        segment = entity.type.segment
        plan, failed, values = self.plans[segment], self.proof.open, entity.values
        if segment not in self._seen_types:
            self._seen_types.add(segment)
            failed |= plan.always
        for name, is_list, checks in plan.fields:
            value = values[name]
            if value is None or value == []:
                continue
            items = value if is_list else (value,)
            for constraint, test in checks:
                if constraint not in failed and (test is None or not all(map(test, items))):
                    failed.add(constraint)
        for link_field, checks in plan.links:
            value = values[link_field.name]
            if value is None:
                continue
            items = [i for i in (value if link_field.is_list else (value,)) if i in self._spdx]
            for constraint, test in checks:
                if items and constraint not in failed and (test is None or not all(map(test, items))):
                    failed.add(constraint)
        for constraint, fields, low, high in plan.counts:
            if constraint not in failed:
                count = self._distinct(values, fields)
                if (low is not None and count < low) or (high is not None and count > high):
                    failed.add(constraint)

    def _distinct(self, values: dict, fields: tuple[tuple[str, bool, bool], ...]) -> int:
        """Distinct values the store will hold on a path (RDF keeps one triple per value)."""
        if len(fields) == 1 and not fields[0][2]:
            value = values[fields[0][0]]
            return (len(set(value)) if value else 0) if fields[0][1] else (value is not None)
        found = set()
        for name, is_list, is_link in fields:
            value = values[name]
            items = value if is_list else ([] if value is None else [value])
            found.update((self._spdx[i] for i in items if i in self._spdx) if is_link else items)
        return len(found)

    def _expected_lines(self, entity: Entity) -> int:
        """The triples accounted for: the record's (type, field values, license links) and the extra ones."""
        lines, fields = self._counts[entity.type.segment]
        values = entity.values
        for name, is_list, per, per_link in fields:
            value = values[name]
            if value is None:
                continue
            items = value if is_list else (value,)
            lines += per * len(items)
            if per_link:
                lines += per_link * sum(1 for i in items if i in self._spdx)
        if entity.type.segment == self._task_segment:
            scheme = self.vocab.tasks
            lines += 2 + (entity.id in scheme.modality) + len(scheme.subtasks.get(entity.id, ()))
        return lines
