"""Value type constraints: sh:class, sh:datatype, sh:nodeKind."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import SH, XSD
from rdflib.term import Node

from ..terms import INTEGER_RANGES
from . import Check, Context, ValueCheck, guarded, typed

#: Datatypes whose lexical forms Oxigraph can check by casting: an ill-typed literal fails the cast.
CASTABLE = {XSD.integer, XSD.decimal, XSD.float, XSD.double, XSD.boolean, XSD.dateTime, XSD.date, XSD.time}
NODE_KINDS = {
    SH.IRI: "isIRI({0})", SH.BlankNode: "isBlank({0})", SH.Literal: "isLiteral({0})",
    SH.BlankNodeOrIRI: "(isBlank({0}) || isIRI({0}))", SH.BlankNodeOrLiteral: "(isBlank({0}) || isLiteral({0}))",
    SH.IRIOrLiteral: "(isIRI({0}) || isLiteral({0}))",
}


def class_check(c: Context, component: URIRef, classes: list[Node], message: str) -> ValueCheck:
    """The value is a SHACL instance of one of ``classes`` (rdf:type/rdfs:subClassOf* in the data)."""
    closure = tuple(sorted({t for cls in classes for t in c.closure(cls)}))
    return ValueCheck(component, message, lambda v: f"EXISTS {{ {typed(v, closure)} }}", closure)


def _class(c: Context, shape: Node, cls: Node) -> list[Check]:
    return [class_check(c, SH.ClassConstraintComponent, [cls], f"Value is not an instance of {cls.n3(c.shapes.names)}")]


def _datatype(c: Context, shape: Node, datatype: Node) -> list[Check]:
    if not isinstance(datatype, URIRef):
        raise ValueError(f"sh:datatype {datatype.n3()} is not an IRI")
    message = f"Value is not a literal of datatype {datatype.n3(c.shapes.names)}"
    return [ValueCheck(SH.DatatypeConstraintComponent, message, lambda v: _has_datatype(c, v, datatype))]


def _has_datatype(c: Context, var: str, datatype: URIRef) -> str:
    """A literal of ``datatype`` in its lexical space."""
    if str(datatype) in INTEGER_RANGES and not c.terms.exact:
        # a store keeps such values as xsd:integer: checked as one, within the type's range
        low, high = INTEGER_RANGES[str(datatype)]
        bounds = "".join(f" && {var} {op} {bound}" for op, bound in ((">=", low), ("<=", high)) if bound is not None)
        return f"({_has_datatype(c, var, XSD.integer)}{bounds})"
    well_formed = f" && isLiteral({c.terms.term(datatype)}(STR({var})))" if datatype in CASTABLE else ""
    stored = guarded(c, f"isLiteral({var})", f"sameTerm(DATATYPE({var}), {c.terms.term(datatype)}){well_formed}")
    return c.terms.has_datatype(var, datatype, stored)


def _node_kind(c: Context, shape: Node, kind: Node) -> list[Check]:
    if kind not in NODE_KINDS:
        raise ValueError(f"sh:nodeKind {kind.n3()} is none of SHACL's six node kinds")
    expression = NODE_KINDS[kind]
    return [ValueCheck(SH.NodeKindConstraintComponent, f"Value is not of node kind {kind.n3(c.shapes.names)}", expression.format)]


BUILDERS = {SH["class"]: _class, SH.datatype: _datatype, SH.nodeKind: _node_kind}
