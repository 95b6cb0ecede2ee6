"""Value range constraints: sh:minExclusive, sh:minInclusive, sh:maxExclusive, sh:maxInclusive.

A value that cannot be compared with the bound (another type, an ill-typed literal, an IRI)
does not conform: the comparison's error counts as false.
"""

from __future__ import annotations

from rdflib.namespace import SH
from rdflib.term import Node

from . import Check, Context, ValueCheck, component

OPERATORS = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}


def _builder(parameter):
    operator = OPERATORS[parameter]

    def build(c: Context, shape: Node, bound: Node) -> list[Check]:
        bound_text = c.terms.term(bound)
        return [ValueCheck(component(parameter), f"Value is not {operator} {bound}", lambda v: f"({c.terms.value(v)} {operator} {bound_text})")]

    return build


BUILDERS = {parameter: _builder(parameter) for parameter in OPERATORS}
