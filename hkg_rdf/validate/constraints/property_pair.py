"""Property pair constraints: sh:equals, sh:disjoint, sh:lessThan, sh:lessThanOrEquals.

The value nodes (of the shape's path, or the focus node itself for a node shape) are compared
with the values of another property of the same focus node.
"""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from . import FOCUS, Check, Context, FocusCheck, component
from .cardinality import path_of


def _values(c: Context, shape: Node, focus: str, var: str) -> str:
    path = c.path(shape)
    return path.values(focus, var) if path is not None else f"BIND ({focus} AS {var})"


def _among_values(c: Context, shape: Node, focus: str, var: str) -> str:
    """Whether ``var`` is a value node of ``focus``."""
    path = c.path(shape)
    return f"EXISTS {{ {path.values(focus, var)} }}" if path is not None else f"sameTerm({focus}, {var})"


def _other(c: Context, other: Node) -> str:
    if not isinstance(other, URIRef):
        raise ValueError(f"{other.n3()} is not a property IRI")
    return c.terms.term(other)


def _equals(c: Context, shape: Node, other: Node) -> list[Check]:
    p = _other(c, other)

    def differing(focus: str, var: str, anchor: str = "") -> str:
        """Values of one side missing on the other (``anchor`` binds ``focus`` in each branch)."""
        return (f"{{ {anchor} {_values(c, shape, focus, var)} FILTER NOT EXISTS {{ {focus} {p} {var} }} }} UNION "
                f"{{ {anchor} {focus} {p} {var} FILTER (!{_among_values(c, shape, focus, var)}) }}")

    return [FocusCheck(SH.EqualsConstraintComponent, f"Value sets differ from those of {other.n3(c.shapes.names)}",
                       lambda x: f"NOT EXISTS {{ {differing(x, c.fresh())} }}", anchored=differing("?this", "?value", FOCUS), has_value=True)]


def _disjoint(c: Context, shape: Node, other: Node) -> list[Check]:
    p = _other(c, other)

    def shared(focus: str, var: str) -> str:
        return f"{_values(c, shape, focus, var)} {focus} {p} {var} ."

    return [FocusCheck(SH.DisjointConstraintComponent, f"Value is also a value of {other.n3(c.shapes.names)}",
                       lambda x: f"NOT EXISTS {{ {shared(x, c.fresh())} }}", anchored=f"{FOCUS} {shared('?this', '?value')}", has_value=True)]


def _comparison(parameter: URIRef, operator: str):
    def build(c: Context, shape: Node, other: Node) -> list[Check]:
        path, p = path_of(c, shape), _other(c, other)

        def failing(focus: str, var: str, bound: str) -> str:
            test = f"COALESCE({c.terms.value(var)} {operator} {c.terms.value(bound)}, false)"
            return f"{path.values(focus, var)} {focus} {p} {bound} . FILTER (!{test})"

        return [FocusCheck(component(parameter), f"Value is not {operator} the values of {other.n3(c.shapes.names)}",
                           lambda x: f"NOT EXISTS {{ {failing(x, c.fresh(), c.fresh())} }}",
                           anchored=f"{FOCUS} {failing('?this', '?value', '?bound')}", has_value=True)]

    return build


BUILDERS = {
    SH.equals: _equals, SH.disjoint: _disjoint,
    SH.lessThan: _comparison(SH.lessThan, "<"), SH.lessThanOrEquals: _comparison(SH.lessThanOrEquals, "<="),
}
