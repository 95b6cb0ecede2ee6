"""What a client's SPARQL may do here: no remote access, and no shape that could crash a worker.

:func:`check_operation` (run in the worker, just before the text reaches a store, in store
mode and ``--sparql`` mode alike) decides on the *parsed* operation: the text is parsed by
rdflib's SPARQL 1.1 grammar and refused (403) if the parse tree holds a ``SERVICE`` pattern,
or, in an update, a ``LOAD``; a text that may hold one and that the parser cannot read is
refused too. The text is parsed twice: as written (Oxigraph does not expand ``\\uXXXX``
escapes outside strings and IRIs) and with the escapes expanded first (as SPARQL 1.1 §19.2
says, and as other backends do), so that no reading of the text hides a keyword.

rdflib's parser is slow (tens of milliseconds for a page of SPARQL), so a text is parsed only
when it can hold a forbidden node at all: SPARQL keywords are spelled out letter by letter
(case-insensitive, ``\\u`` escapes expanded), so a text whose case-folded readings do not
contain ``service`` (nor, in updates, ``load``) cannot have one. This test never allows what
the parser would refuse; the decision is the parser's. With ``strict`` (``serve --sparql``,
where a backend we do not know runs the query) every text is parsed, and calls of extension
functions (other than XSD casts) are refused too, since a backend may implement them with
network access.

:func:`check_shape` (in the server process, before any worker) answers 400 for texts deeper or
longer than Oxigraph's recursive parser and optimiser can take: thousands of nested ``{}``
overflow a worker's stack (a segfault). It counts brackets and tokens of the code (strings,
IRIs and comments left out); a refusal here only costs the client a rewrite.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache

#: Deepest nesting of (), {} and [] a query may have.
MAX_DEPTH = 64
#: Most tokens (words, numbers, punctuation; strings, IRIs and comments not counted) a query may have.
MAX_TOKENS = 20_000
#: Function IRIs a backend may call in strict mode: the XSD casts.
SAFE_FUNCTION_NAMESPACE = "http://www.w3.org/2001/XMLSchema#"


class ProtocolError(Exception):
    """A request this endpoint does not serve; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


# ---------------------------------------------------------------- the lexer's view (shape, form)


# Comments, IRIs and strings are not code. IRIREF excludes whitespace, so "?a < ?b" stays an
# operator; strings may use any backslash escape.
_LEXEME = re.compile(
    r"""(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
      | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$) | \"\"\"(?:[^"\\]|\\.|"(?!""))*(?:\"\"\"|$)
                  | '(?:[^'\\\n\r]|\\.)*(?:'|$) | "(?:[^"\\\n\r]|\\.)*(?:"|$))
      | (?P<comment>\#[^\n\r]*)
      | (?P<code>[^<'"\#]+|.)""",
    re.X | re.S,
)
_TOKEN = re.compile(r"\w+|[^\w\s]")
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def code_of(text: str) -> str:
    """The text with comments, IRIs and string literals blanked out (each becomes a space)."""
    return "".join(m.group("code") or " " for m in _LEXEME.finditer(text))


def check_shape(text: str) -> None:
    """Refuse (400) a text nested deeper than MAX_DEPTH or longer than MAX_TOKENS tokens."""
    code = code_of(text)
    depth = deepest = tokens = 0
    for match in _TOKEN.finditer(code):
        tokens += 1
        char = match.group()
        if char in "({[":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")}]":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise ProtocolError(400, f"the query nests brackets {deepest} deep; this endpoint takes at most {MAX_DEPTH} levels")
    if tokens > MAX_TOKENS:
        raise ProtocolError(400, f"the query has {tokens:,} tokens; this endpoint takes at most {MAX_TOKENS:,} (strings and IRIs not counted)")


# ---------------------------------------------------------------- the parsed operation


def _expanded(text: str) -> str:
    def char(match: re.Match) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except (ValueError, OverflowError):
            return match.group(0)

    return _UCHAR.sub(char, text)


def _nodes(tree):
    """Every rdflib CompValue of a parse tree (iteratively: trees may be deep)."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            yield node
            stack.extend(dict.values(node))
        elif isinstance(node, (ParseResults, list, tuple)):
            stack.extend(node)


@lru_cache(maxsize=256)
def _parse(text: str, kind: str):
    """rdflib's parse tree of the text as written (no escape expansion), or the parser's error."""
    from rdflib.plugins.sparql import parser

    grammar = parser.Query if kind == "query" else parser.UpdateUnit
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))  # pyparsing recurses per nesting level (MAX_DEPTH bounds it)
    try:
        return grammar.parse_string(text, parse_all=True), None
    except RecursionError:
        return None, "nested too deeply for the checker"
    except Exception as error:  # pyparsing's ParseException and the grammar's own ValueErrors
        return None, str(error).splitlines()[0][:300]
    finally:
        sys.setrecursionlimit(limit)


def _remote_message(keyword: str) -> str:
    what = "federated queries" if keyword == "SERVICE" else "loading from URLs"
    return (f"{keyword} is refused: this endpoint fetches nothing from other servers ({what} are off; "
            "the operator can allow remote access with --allow-remote)")


def check_operation(operation, allow_remote: bool, strict: bool = False, prefixes: dict[str, str] | None = None) -> None:
    """Refuse (ProtocolError 403) SERVICE, and LOAD in updates, found in the parsed operation.

    ``operation`` has ``kind`` ('query' or 'update') and ``text``. ``strict``: parse every
    text, refuse extension function calls and texts the parser cannot read (400);
    ``prefixes`` are the predeclared ones, for reading function names.
    """
    if allow_remote and not strict:
        return
    keywords = ("service",) if operation.kind == "query" else ("service", "load")
    readings = list(dict.fromkeys((operation.text, _expanded(operation.text))))
    mentioned = [k.upper() for k in keywords if any(k in reading.casefold() for reading in readings)]
    if not mentioned and not strict:
        return
    for reading in readings:
        tree, error = _parse(reading, operation.kind)
        if tree is None:
            if mentioned and not allow_remote:
                raise ProtocolError(403, _remote_message(mentioned[0]) + f" (the query mentions {mentioned[0]} and this endpoint's "
                                         f"SPARQL 1.1 parser could not read it to show it has none: {error})")
            raise ProtocolError(400, f"SPARQL syntax error (this endpoint's SPARQL 1.1 checker): {error}")
        nodes = list(_nodes(tree))
        for node in nodes:
            if node.name == "ServiceGraphPattern" and not allow_remote:
                raise ProtocolError(403, _remote_message("SERVICE"))
            if node.name == "Load" and not allow_remote:
                raise ProtocolError(403, _remote_message("LOAD"))
        if strict:
            _check_functions(nodes, prefixes or {})


def _check_functions(nodes: list, prefixes: dict[str, str]) -> None:
    """Refuse calls of functions outside the XSD namespace (predeclared prefixes resolved, the query's own first)."""
    declared = {**prefixes, **{str(n["prefix"] or ""): str(n["iri"]) for n in nodes if n.name == "PrefixDecl"}}
    for node in nodes:
        if node.name != "Function":
            continue
        iri = node["iri"]
        name = f"{declared.get(str(iri['prefix'] or ''), '?')}{iri['localname'] or ''}" if hasattr(iri, "name") and iri.name == "pname" else str(iri)
        if not name.startswith(SAFE_FUNCTION_NAMESPACE):
            raise ProtocolError(403, f"calling the extension function <{name}> is refused: the backend store behind this endpoint "
                               "might run it with network access; use SPARQL 1.1's built-in functions")
