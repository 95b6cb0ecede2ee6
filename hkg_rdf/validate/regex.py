"""XPath/XSD regular expressions (what sh:pattern means) in the dialect of Oxigraph's engine.

Oxigraph runs REGEX with Rust's ``regex`` crate, whose syntax differs from XPath's in places:
class subtraction (``[a-z-[aeiou]]``), what ``\\w``, ``\\s`` and ``.`` match, the ``x`` and
``q`` flags, the characters Rust gives a meaning inside a class (``[``, ``&&``, ``~~``, ``--``).
Those are translated exactly. What has no exact translation (Unicode block escapes
``\\p{IsBasicLatin}``, the XML name escapes ``\\i``/``\\c``, back-references) is refused: a
pattern never silently changes meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

#: XSD's \s and \w: four space characters; everything but punctuation, separators and others.
SPACE = " \\t\\n\\r"
WORD_NOT = "\\p{P}\\p{Z}\\p{C}"
SINGLE_ESCAPES = set("nrt\\|.-^?*+{}()[]$")
FLAGS = set("smixq")
_SCRATCH = ox.Store()
#: What the q flag (the pattern as a plain string) escapes for Rust.
QUOTED = set("\\.+*?()|[]{}^$#&-~")


class PatternError(ValueError):
    """A sh:pattern (or sh:flags) with no exact translation, or not an XPath regular expression."""


@dataclass(frozen=True)
class Translated:
    pattern: str
    flags: str


def translate(pattern: str, flags: str = "") -> Translated:
    """The Rust-regex pattern and flags that match exactly what the XPath ones do."""
    if set(flags) - FLAGS:
        raise PatternError(f"unknown sh:flags {''.join(sorted(set(flags) - FLAGS))!r} (XPath has s, m, i, x, q)")
    if "q" in flags:
        return Translated("".join("\\" + ch if ch in QUOTED else ch for ch in pattern), flags.replace("q", "").replace("x", ""))
    if "x" in flags:
        pattern = _strip_whitespace(pattern)
    out = Translated(_Translator(pattern, dot_all="s" in flags).run(), "".join(f for f in flags if f in "smi"))
    if not _compiles(out):
        raise PatternError(f"Oxigraph's regex engine cannot compile its translation {out.pattern!r}")
    return out


def _compiles(translated: Translated) -> bool:
    """Whether Oxigraph accepts the pattern (a pattern it rejects would fail every value silently)."""
    args = ", ".join(str(ox.Literal(t)) for t in (translated.pattern, translated.flags) if t or t is translated.pattern)
    [row] = list(_SCRATCH.query(f'SELECT (REGEX("", {args}) AS ?r) WHERE {{}}'))
    return row["r"] is not None


def _strip_whitespace(pattern: str) -> str:
    """The x flag: whitespace goes, except inside a character class (XPath 3.1)."""
    out, depth, escaped = [], 0, False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
            continue
        if ch == "\\":
            escaped = True
        elif ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        elif ch in " \t\n\r" and not depth:
            continue
        out.append(ch)
    return "".join(out)


class _Translator:
    def __init__(self, pattern: str, dot_all: bool):
        self.p, self.i, self.dot_all = pattern, 0, dot_all

    def run(self) -> str:
        out = []
        while self.i < len(self.p):
            ch = self.p[self.i]
            if ch == "\\":
                out.append(self._escape(in_class=False))
            elif ch == "[":
                out.append(self._class())
            elif ch == ".":
                self.i += 1
                out.append("." if self.dot_all else "[^\\n\\r]")
            elif ch == "(" and self.p.startswith("(?", self.i) and not self.p.startswith("(?:", self.i):
                raise PatternError("'(?' starts no XPath construct other than a non-capturing group '(?:'")
            else:
                self.i += 1
                out.append(ch)
        return "".join(out)

    def _escape(self, in_class: bool) -> str:
        """One escape at self.i (a backslash): the Rust text for it."""
        if self.i + 1 >= len(self.p):
            raise PatternError("a pattern cannot end with a backslash")
        ch = self.p[self.i + 1]
        self.i += 2
        if ch in SINGLE_ESCAPES:
            return "\\" + ch if ch not in "nrt" else "\\" + ch
        if ch in "pP":
            end = self.p.find("}", self.i)
            if not self.p.startswith("{", self.i) or end < 0:
                raise PatternError(f"\\{ch} needs a {{property}}")
            name = self.p[self.i + 1:end]
            self.i = end + 1
            if name.startswith("Is"):
                raise PatternError(f"the Unicode block escape \\{ch}{{{name}}} has no equivalent in Oxigraph's regex engine")
            return f"\\{ch}{{{name}}}"
        if ch == "d" or ch == "D":
            return "\\" + ch
        if ch == "s":
            return SPACE if in_class else f"[{SPACE}]"
        if ch == "S":
            return f"[^{SPACE}]"
        if ch == "w":
            return f"[^{WORD_NOT}]"
        if ch == "W":
            return f"[{WORD_NOT}]"
        if ch in "iIcC":
            raise PatternError(f"the XML name escape \\{ch} has no exact equivalent in Oxigraph's regex engine")
        if ch.isdigit():
            raise PatternError(f"the back-reference \\{ch} has no equivalent in Oxigraph's regex engine")
        raise PatternError(f"\\{ch} is no XPath escape")

    def _class(self) -> str:
        """A character class at self.i, with XSD subtraction ``[base-[sub]]`` as Rust's ``--``."""
        self.i += 1
        negated = self.p.startswith("^", self.i)
        if negated:
            self.i += 1
        items = []
        first = True
        while True:
            if self.i >= len(self.p):
                raise PatternError("an unclosed character class '['")
            ch = self.p[self.i]
            if ch == "]" and not first:
                self.i += 1
                break
            if ch == "-" and self.p.startswith("-[", self.i):
                self.i += 1
                subtracted = self._class()
                if not self.p.startswith("]", self.i):
                    raise PatternError("a class subtraction must end its class")
                self.i += 1
                base = "".join(items)
                return f"[[{'^' if negated else ''}{base}]--{subtracted}]"
            if ch == "\\":
                items.append(self._escape(in_class=True))
            elif ch == "[":
                raise PatternError("'[' inside a character class must be escaped in XPath")
            elif ch in "&~":
                self.i += 1
                items.append("\\" + ch)
            else:
                self.i += 1
                items.append(ch)
            first = False
        return f"[{'^' if negated else ''}{''.join(items)}]"
