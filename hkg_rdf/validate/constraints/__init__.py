"""SHACL Core's constraint components, one module per family (as the SHACL spec groups them).

Each family maps its parameters to builders. A builder turns one parameter value of a shape
into checks of one of two kinds:

* a ``ValueCheck`` judges each value node alone: a SPARQL expression over the value, true when
  it conforms (datatype, class, pattern, sh:in, sh:node, sh:or, ...);
* a ``FocusCheck`` judges a focus node's values together (counts, property pairs, closed,
  sh:hasValue on a path, qualified shapes): the failing rows as a query, and an expression over
  the focus node for use inside other shapes (sh:node, sh:not, sh:or, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rdflib import URIRef
from rdflib.term import Node

from ..model import Shapes
from ..paths import Path
from ..terms import Terms

#: The placeholder an anchored query's body has for the focus nodes' pattern (binding ?this).
FOCUS = "%FOCUS%"


class Context(Protocol):
    """What builders need from the compiler."""

    shapes: Shapes
    terms: Terms
    embedded: bool  # the embedded Oxigraph store, whose evaluator some forms are tuned for

    def fresh(self) -> str: ...
    def path(self, shape: Node) -> Path | None: ...
    def closure(self, cls: Node) -> tuple[str, ...]: ...
    def conforms(self, shape: Node, var: str) -> str: ...
    def label(self, shape: Node) -> str: ...


@dataclass(frozen=True)
class ValueCheck:
    """A constraint on each value node: ``ok(var)`` is true when the value conforms.

    ``classes``: for sh:class (and sh:or of classes), the types one of which the value needs;
    at the top these run as an anti-join with the type index, faster than ``ok`` per value.
    ``has_value``: whether results name the value (sh:hasValue's do not).
    """

    component: URIRef
    message: str
    ok: Callable[[str], str]
    classes: tuple[str, ...] = ()
    has_value: bool = True


@dataclass(frozen=True)
class FocusCheck:
    """A constraint on a focus node's value set.

    ``failures``: a SELECT of the failing ?this (with ?value / ?path where results carry them),
    whatever the focus nodes; joined with them afterwards (shared by shapes with the same text).
    ``anchored``: or a group pattern with FOCUS where the focus nodes' pattern goes.
    ``holds(var)``: true when the node ``var`` satisfies the constraint (for nested shapes).
    """

    component: URIRef
    message: str
    holds: Callable[[str], str]
    failures: str | None = None
    anchored: str | None = None
    has_value: bool = False


Check = ValueCheck | FocusCheck
Builder = Callable[[Context, Node, Node], list[Check]]


def component(parameter: URIRef) -> URIRef:
    """sh:minInclusive -> sh:MinInclusiveConstraintComponent, and so on."""
    name = str(parameter).rsplit("#", 1)[-1]
    return URIRef(str(parameter).rsplit("#", 1)[0] + "#" + name[0].upper() + name[1:] + "ConstraintComponent")


def safe(expression: str) -> str:
    """An expression whose error (an ill-typed comparison, a failed cast) counts as false."""
    return f"COALESCE({expression}, false)"


def guarded(c: Context, guard: str, expression: str) -> str:
    """``expression`` where ``guard`` holds. Only for other stores (Virtuoso's STR of a blank node is
    its nodeID, not an error): in Oxigraph, as in SPARQL 1.1, STR of a blank node and DATATYPE
    of a non-literal are errors, which :func:`safe` makes false, and every reference to a
    variable decodes its term again (on a store of 33 M triples a guard cost a third more)."""
    return f"({expression})" if c.embedded else f"({guard} && {expression})"


def typed(var: str, classes: tuple[str, ...]) -> str:
    """A pattern matching ``var`` rdf:type one of ``classes``."""
    if len(classes) == 1:
        return f"{var} a {classes[0]} ."
    kind = var + "_type"
    return f"{var} a {kind} . VALUES {kind} {{ {' '.join(classes)} }}"


def builders() -> dict[URIRef, Builder]:
    """Every Core parameter that starts a constraint, with its family's builder."""
    from . import cardinality, logical, other, property_pair, shape_based, string_based, value_range, value_type

    table: dict[URIRef, Builder] = {}
    for family in (value_type, cardinality, value_range, string_based, property_pair, logical, shape_based, other):
        table.update(family.BUILDERS)
    return table
