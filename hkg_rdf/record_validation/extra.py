"""The triples a conversion writes beyond each record's own, which no record check reads."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ..triples import TripleMaker
from ..vocab import RDF_TYPE, SKOS


@dataclass
class Extra:
    """The triples a conversion writes that no record check reads (decided once, from the maker's tables)."""

    on_type: dict[str, set[str]]  # segment -> extra predicates whose subject is an entity of that type
    predicates: set[str]  # every extra predicate, whatever its subject (author nodes, concepts too)
    classes: set[str]  # every class an extra rdf:type gives

    @classmethod
    def of(cls, maker: TripleMaker) -> Extra:
        vocab, align_types = maker.vocab, maker._types
        on_type = {t.segment: set() for t in vocab.types}
        predicates, classes = set(), set()

        def named(predicates: list[str]) -> list[str]:
            return [p.strip().strip("<>") for p in predicates]

        def typed(lines: list[str]) -> list[str]:
            return [line.split()[1].strip("<>") for line in lines]

        for t in vocab.types:
            mine = on_type[t.segment]
            classes.update(typed(maker._type_lines[t.segment])[1:])
            for f in t.fields:
                if f.items:
                    mine.update(named(maker._item_props[f.items.link]))
                    classes.update(typed(align_types(f.items.cls)))
                    predicates.update([RDF_TYPE, f.items.user] + named(maker._item_props[f.items.position]) + named(maker._props[f.prop]))
                else:
                    mine.update(named(maker._props[f.prop])[1:])
                    if f.link_prop:
                        mine.update(named(maker._props[f.link_prop])[1:])
            if t.segment == maker._task_segment:
                mine.update(SKOS + n for n in ("inScheme", "notation", "broader"))
        for r in vocab.relations:
            subject, obj = (r.object, r.subject) if r.inverse else (r.subject, r.object)
            for prop, reverse in maker._edges[r.name]:
                on_type[(obj if reverse else subject).segment].add(prop)
        for mine in on_type.values():
            predicates |= mine
        for t in parsed(vocab.preamble):  # concepts, on nodes of no entity type (CheckingTripleMaker checks that)
            predicates.add(t.predicate.value)
            if t.predicate.value == RDF_TYPE:
                classes.add(t.object.value)
        return cls(on_type, predicates, classes)


def parsed(text: str) -> list[ox.Triple]:
    """The triples of N-Triples text."""
    return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)]
