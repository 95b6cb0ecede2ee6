"""Logical constraints: sh:not, sh:and, sh:or, sh:xone, over shapes each value is checked against."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from . import Check, Context, ValueCheck, component, safe
from .value_type import class_check


def _only_class(c: Context, member: Node) -> Node | None:
    """The class of a member shape that says nothing but sh:class C (the usual sh:or member)."""
    parameters = {p for p in c.shapes.g.predicates(member, None) if p != RDF.type}
    classes = c.shapes.values(member, SH["class"])
    return classes[0] if parameters == {SH["class"]} and len(classes) == 1 and c.shapes.active(member) else None


def _builder(parameter: URIRef):
    def build(c: Context, shape: Node, value: Node) -> list[Check]:
        members = [value] if parameter == SH["not"] else c.shapes.items(value)
        message = f"Value does not conform to sh:{str(parameter).rsplit('#', 1)[-1]}"
        classes = [_only_class(c, m) for m in members]
        if parameter == SH["or"] and members and all(classes):
            return [class_check(c, SH.OrConstraintComponent, classes, message)]

        def ok(v: str) -> str:
            conforms = [safe(c.conforms(m, v)) for m in members]
            if parameter == SH["not"]:
                return f"!{conforms[0]}"
            if parameter == SH.xone:
                return "((" + " + ".join(f"IF({x}, 1, 0)" for x in conforms) + ") = 1)" if conforms else "false"
            joiner, empty = (" || ", "false") if parameter == SH["or"] else (" && ", "true")
            return "(" + joiner.join(conforms) + ")" if conforms else empty

        return [ValueCheck(component(parameter), message, ok)]

    return build


BUILDERS = {p: _builder(p) for p in (SH["not"], SH["and"], SH["or"], SH.xone)}
