"""String-based constraints: sh:minLength, sh:maxLength, sh:pattern, sh:languageIn, sh:uniqueLang."""

from __future__ import annotations

from rdflib import Literal
from rdflib.namespace import SH
from rdflib.term import Node

from ..regex import PatternError, translate
from ..model import true
from . import Check, Context, FocusCheck, ValueCheck, component, guarded
from .cardinality import path_of

LENGTHS = {SH.minLength: ">=", SH.maxLength: "<="}


def _length(parameter):
    operator = LENGTHS[parameter]

    def build(c: Context, shape: Node, value: Node) -> list[Check]:
        limit = int(value)
        return [ValueCheck(component(parameter), f"Value length is not {operator} {limit}",
                           lambda v: guarded(c, f"!isBlank({v})", f"STRLEN(STR({v})) {operator} {limit}"))]

    return build


def _pattern(c: Context, shape: Node, value: Node) -> list[Check]:
    flags = c.shapes.value(shape, SH.flags)
    try:
        translated = translate(str(value), str(flags or ""))
    except PatternError as error:
        raise PatternError(f'sh:pattern "{value}"' + (f' with sh:flags "{flags}"' if flags else "") + f": {error}") from None
    args = c.terms.term(Literal(translated.pattern)) + (f", {c.terms.term(Literal(translated.flags))}" if translated.flags else "")
    return [ValueCheck(SH.PatternConstraintComponent, f"Value does not match the pattern {value!s}",
                       lambda v: guarded(c, f"!isBlank({v})", f"REGEX(STR({v}), {args})"))]


def _language_in(c: Context, shape: Node, value: Node) -> list[Check]:
    ranges = [c.terms.term(Literal(str(tag))) for tag in c.shapes.items(value)]

    def ok(v: str) -> str:
        if not ranges:
            return "false"
        lang = f"LANG({v})"
        return f"(isLiteral({v}) && ({' || '.join(f'langMatches({lang}, {r})' for r in ranges)}))"

    return [ValueCheck(SH.LanguageInConstraintComponent, "Language tag not in the allowed list", ok)]


def _unique_lang(c: Context, shape: Node, value: Node) -> list[Check]:
    if not true(value):
        return []
    path = path_of(c, shape)

    def shared(focus: str, a: str, b: str) -> str:
        la, lb = f"LANG({a})", f"LANG({b})"
        return f"{path.values(focus, a)} {path.values(focus, b)} FILTER (!sameTerm({a}, {b}) && {la} != \"\" && LCASE({la}) = LCASE({lb}))"

    failures = f"SELECT DISTINCT ?this (LCASE(LANG(?a)) AS ?lang) WHERE {{ {shared('?this', '?a', '?b')} }}"
    return [FocusCheck(SH.UniqueLangConstraintComponent, "Language tag used by more than one value",
                       lambda x: f"NOT EXISTS {{ {shared(x, c.fresh(), c.fresh())} }}", failures=failures)]


BUILDERS = {**{p: _length(p) for p in LENGTHS}, SH.pattern: _pattern, SH.languageIn: _language_in, SH.uniqueLang: _unique_lang}
