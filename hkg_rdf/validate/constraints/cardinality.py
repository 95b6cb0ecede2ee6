"""Cardinality constraints: sh:minCount, sh:maxCount (and the counting sh:qualified* share)."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from ..paths import Path
from . import FOCUS, Check, Context, FocusCheck


def counted(c: Context, shape: Node, component: URIRef, message: str, least: int | None, most: int | None,
            condition=None) -> FocusCheck:
    """Focus nodes with fewer than ``least`` / more than ``most`` values (those meeting ``condition``)."""
    path = c.path(shape)
    if path is None:
        raise ValueError(f"{component.n3()} needs a property shape (sh:path)")
    having = " || ".join(t for t in (least is not None and f"COUNT(?value) < {least}", most is not None and f"COUNT(?value) > {most}") if t)

    def values(focus: str, var: str) -> str:
        return path.values(focus, var) + (f" FILTER ({condition(var)})" if condition else "")

    def holds(var: str) -> str:
        inner = c.fresh()
        parts = []
        if least:
            parts.append(f"EXISTS {{ SELECT {var} WHERE {{ {values(var, inner)} }} GROUP BY {var} HAVING (COUNT({inner}) >= {least}) }}")
        if most is not None:
            parts.append(f"NOT EXISTS {{ SELECT {var} WHERE {{ {values(var, inner)} }} GROUP BY {var} HAVING (COUNT({inner}) > {most}) }}")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    if least:  # nodes without values count too: anchored on the focus nodes
        if least == 1 and most is None and condition is None:
            return FocusCheck(component, message, holds, anchored=f"{FOCUS} MINUS {{ {path.values('?this', '?any')} }}")
        counts = f"{{ SELECT ?this (COUNT(?value) AS ?count) WHERE {{ {values('?this', '?value')} }} GROUP BY ?this }}"
        bad = f"COALESCE(?count, 0) < {least}" + (f" || ?count > {most}" if most is not None else "")
        return FocusCheck(component, message, holds, anchored=f"{FOCUS} OPTIONAL {{ {counts} }} FILTER ({bad})")
    failures = f"SELECT ?this WHERE {{ {values('?this', '?value')} }} GROUP BY ?this HAVING ({having})"
    return FocusCheck(component, message, holds, failures=failures)


def _min_count(c: Context, shape: Node, value: Node) -> list[Check]:
    least = int(value)
    if least == 0:
        return []
    return [counted(c, shape, SH.MinCountConstraintComponent, f"Less than {least} values", least, None)]


def _max_count(c: Context, shape: Node, value: Node) -> list[Check]:
    most = int(value)
    return [counted(c, shape, SH.MaxCountConstraintComponent, f"More than {most} values", None, most)]


def path_of(c: Context, shape: Node) -> Path:
    path = c.path(shape)
    if path is None:
        raise ValueError("this constraint needs a property shape (sh:path)")
    return path


BUILDERS = {SH.minCount: _min_count, SH.maxCount: _max_count}
