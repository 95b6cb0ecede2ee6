"""Shape-based constraints: sh:node and sh:qualifiedValueShape (sh:property is the compiler's:
its results are the nested shape's own, on the parent's value nodes)."""

from __future__ import annotations

from rdflib.namespace import SH
from rdflib.term import Node

from ..model import true
from . import Check, Context, ValueCheck, safe
from .cardinality import counted


def _node(c: Context, shape: Node, target: Node) -> list[Check]:
    message = f"Value does not conform to the shape {c.label(target)}"
    return [ValueCheck(SH.NodeConstraintComponent, message, lambda v: c.conforms(target, v))]


def _siblings(c: Context, shape: Node, qualified: Node) -> list[Node]:
    """The other qualified value shapes of the shapes that have this one as a sh:property."""
    parents = c.shapes.g.subjects(SH.property, shape)
    return sorted({q for p in parents for s in c.shapes.g.objects(p, SH.property) for q in c.shapes.g.objects(s, SH.qualifiedValueShape)} - {qualified})


def _qualified(c: Context, shape: Node, qualified: Node) -> list[Check]:
    least, most = c.shapes.value(shape, SH.qualifiedMinCount), c.shapes.value(shape, SH.qualifiedMaxCount)
    disjoint = c.shapes.value(shape, SH.qualifiedValueShapesDisjoint)
    siblings = _siblings(c, shape, qualified) if true(disjoint) else []

    def condition(v: str) -> str:
        return " && ".join([safe(c.conforms(qualified, v)), *(f"!{safe(c.conforms(s, v))}" for s in siblings)])

    checks: list[Check] = []
    if least is not None and int(least) > 0:
        checks.append(counted(c, shape, SH.QualifiedMinCountConstraintComponent,
                              f"Less than {int(least)} values conform to {c.label(qualified)}", int(least), None, condition))
    if most is not None:
        checks.append(counted(c, shape, SH.QualifiedMaxCountConstraintComponent,
                              f"More than {int(most)} values conform to {c.label(qualified)}", None, int(most), condition))
    return checks


BUILDERS = {SH.node: _node, SH.qualifiedValueShape: _qualified}
