"""What a conversion proved, and what the store validator must still check because of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .shapes_graph import Constraint, ShapesGraph


@dataclass
class Proof:
    """What the conversion proved: the constraints left open (to the store), and whether the
    output held only triples the checker accounted for."""

    open: set[Constraint]
    complete: bool = True
    unaccounted: str = ""
    narrowed: dict[str, frozenset[str]] = field(default_factory=dict)  # see Planner._narrowable

    def merge(self, other: Proof) -> None:
        self.open |= other.open
        self.complete = self.complete and other.complete
        self.unaccounted = self.unaccounted or other.unaccounted
        self.narrowed |= other.narrowed


def everything(shapes: ShapesGraph) -> Proof:
    """A proof of nothing: every constraint goes to the store (e.g. RDF files were loaded too)."""
    return Proof(shapes.constraints() | {("*", "*")}, complete=False)


def store_shapes(shapes: ShapesGraph, proof: Proof) -> tuple[bool, set[Constraint]]:
    """(whole graph?, constraints) the store validator must still run: the open ones, and every
    one of a narrowed shape (on the subjects of the extra predicates, see :func:`proven_targets`)."""
    if not proof.complete or ("*", "*") in proof.open:
        return True, shapes.constraints()
    return False, {(shape, p) for shape, p in shapes.constraints() if (shape, p) in proof.open or shape in proof.narrowed}


def proven_targets(proof: Proof) -> set[tuple[str, str]]:
    """(shape, predicate): the sh:targetSubjectsOf the reduced graph leaves out, their subjects
    proven while converting; a narrowed shape with a constraint open keeps all its targets."""
    failed = {shape for shape, _ in proof.open}
    return {(shape, p) for shape, predicates in proof.narrowed.items() if shape not in failed for p in predicates}


def describe(shapes: ShapesGraph, proof: Proof) -> str:
    """One line for the user: how much was proven while converting."""
    whole, rest = store_shapes(shapes, proof)
    total = len(shapes.constraints())
    if whole:
        why = f" ({proof.unaccounted})" if proof.unaccounted else ""
        return f"shapes: all {total} constraints checked on the store{why}"
    narrowed = len({shape for shape, _ in proven_targets(proof)})
    on = f" ({narrowed} shape{'s' * (narrowed != 1)} only on the subjects of derived triples)" if narrowed else ""
    return f"shapes: {total - len(rest)} of {total} constraints proven while converting, {len(rest)} checked on the store{on}"
