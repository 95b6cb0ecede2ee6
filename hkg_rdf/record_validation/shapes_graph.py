"""The shapes graph as the record checker reads it: its shapes, their constraints, and the
reduced graph of the constraints left to the store validator."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..errors import InputError
from ..vocab import RDF_TYPE, SHAPES_FILE, data_path

SH = "http://www.w3.org/ns/shacl#"
#: Structure and metadata: kept for every shape in a reduced graph, never a constraint themselves.
STRUCTURE = {RDF_TYPE} | {SH + n for n in (
    "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf", "path", "property", "name", "description",
    "message", "severity", "deactivated", "order", "group", "defaultValue")}
#: Parameters that only qualify another one, and travel with it.
COMPANIONS = {SH + "flags": SH + "pattern", SH + "ignoredProperties": SH + "closed"}

#: A constraint: (shape as N-Triples term text, parameter IRI).
Constraint = tuple[str, str]


def term_key(term: object) -> str:
    """A term as index key: its N-Triples text (blank nodes by label)."""
    return str(term)


@dataclass
class ShapesGraph:
    """The shapes graph as parsed triples (picklable: a conversion process receives it)."""

    triples: list[ox.Triple]
    prefixes: dict[str, str]
    path: Path

    @classmethod
    def read(cls, path: Path | None = None) -> ShapesGraph:
        path = path or data_path(*SHAPES_FILE)
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) or ox.RdfFormat.TURTLE
        try:
            parser = ox.parse(path=str(path), format=fmt)
            triples = [ox.Triple(q.subject, q.predicate, q.object) for q in parser]
        except (SyntaxError, OSError) as error:
            raise InputError(str(path), f"cannot read the shapes: {error}") from error
        return cls(triples, dict(getattr(parser, "prefixes", {}) or {}), path)

    def index(self) -> dict[tuple[str, str], list]:
        found: dict[tuple[str, str], list] = {}
        for t in self.triples:
            found.setdefault((term_key(t.subject), t.predicate.value), []).append(t.object)
        return found

    def shapes(self) -> set[str]:
        """What the store validator treats as shapes: typed, targeted, with a path, or a property."""
        found = set()
        for t in self.triples:
            p = t.predicate.value
            if p == RDF_TYPE and t.object.value in (SH + "NodeShape", SH + "PropertyShape"):
                found.add(term_key(t.subject))
            elif p == SH + "property":
                found.add(term_key(t.object))
            elif p == SH + "path" or p.startswith(SH + "target"):
                found.add(term_key(t.subject))
        return found

    def constraints(self) -> set[Constraint]:
        """Every (shape, constraint parameter) of the graph."""
        shapes = self.shapes()
        return {(term_key(t.subject), COMPANIONS.get(t.predicate.value, t.predicate.value)) for t in self.triples
                if term_key(t.subject) in shapes and t.predicate.value.startswith(SH) and t.predicate.value not in STRUCTURE}

    def reduced(self, keep: set[Constraint], dropped_targets: set[tuple[str, str]] = frozenset()) -> list[ox.Triple]:
        """The graph with only the constraints ``keep``: every shape keeps its structure (targets
        but ``dropped_targets``, paths, sh:property links, messages), a constraint parameter only
        if kept; blank nodes a kept triple refers to (lists, member shapes) come along whole."""
        shapes = self.shapes()
        by_subject: dict[str, list[ox.Triple]] = {}
        for t in self.triples:
            by_subject.setdefault(term_key(t.subject), []).append(t)
        kept, seen = [], set()

        def add_closure(term: object) -> None:
            if isinstance(term, ox.BlankNode) and term_key(term) not in seen and term_key(term) not in shapes:
                seen.add(term_key(term))
                for t in by_subject.get(term_key(term), []):
                    kept.append(t)
                    add_closure(t.object)

        for subject, triples in by_subject.items():
            if subject in shapes:
                for t in triples:
                    p = t.predicate.value
                    if p == SH + "targetSubjectsOf" and (subject, t.object.value) in dropped_targets:
                        continue
                    if not p.startswith(SH) or p in STRUCTURE or (subject, COMPANIONS.get(p, p)) in keep:
                        kept.append(t)
                        add_closure(t.object)
            elif not subject.startswith("_:"):
                kept += triples  # e.g. class declarations in the shapes file
                for t in triples:
                    add_closure(t.object)
        return kept

    @contextmanager
    def reduced_file(self, keep: set[Constraint], dropped_targets: set[tuple[str, str]] = frozenset()) -> Iterator[Path]:
        """The reduced graph as a Turtle file with the original prefixes (reports name shapes by them)."""
        with tempfile.TemporaryDirectory(prefix="hkg-shapes-") as directory:
            path = Path(directory) / self.path.with_suffix(".ttl").name
            ox.serialize(self.reduced(keep, dropped_targets), str(path), ox.RdfFormat.TURTLE, prefixes=self.prefixes)
            yield path
