"""Finding entities in a version's search index (see :mod:`hkg_rdf.search`)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from .build import SCHEMA, index_path

#: Shortest query for the prefix tier, which ranks the first PREFIX_SCAN ids or names in
#: alphabetical order by popularity (a shorter prefix matches too many for that to mean much)
PREFIX_MIN, PREFIX_SCAN = 3, 5000
#: Matches counted at most, so a query matching half the graph answers as fast as any.
COUNT_CAP = 1000
_TOKEN = re.compile(r"[^\W_]+")


class SearchError(Exception):
    """No usable index (not built, or written by another schema)."""


@dataclass(frozen=True)
class Hit:
    type: str  # the IRI segment: model, dataset, ...
    id: str
    label: str | None
    likes: int
    downloads: int


@dataclass(frozen=True)
class Results:
    query: str
    types: tuple[str, ...]
    hits: list[Hit]
    total: int  # matches, counted up to COUNT_CAP
    more: bool  # total was capped

    def as_json(self) -> dict:
        return {"query": self.query, "types": list(self.types), "total": self.total, "total_is_lower_bound": self.more,
                "results": [asdict(h) for h in self.hits]}


def open_index(version_dir: Path) -> sqlite3.Connection:
    """A read-only connection to a version's index (the file never changes once written)."""
    path = index_path(version_dir)
    if not path.is_file():
        raise SearchError(f"{version_dir}: no search index (it is written by 'hkg-rdf load'; 'hkg-rdf search --store' builds a missing one)")
    db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    try:
        schema = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
    except sqlite3.DatabaseError as error:
        db.close()
        raise SearchError(f"{path}: not a search index ({error})") from None
    if not schema or int(schema[0]) != SCHEMA:
        db.close()
        raise SearchError(f"{path}: written by another version of hkg-rdf; rebuild it")
    return db


def match_expression(query: str) -> str | None:
    """The FTS5 query for the words of ``query``: every word required, a word of several tokens
    a phrase (``3.1`` → ``"3 1"``), the last word a prefix; None if it has no word at all."""
    phrases = [" ".join(tokens) for tokens in (_TOKEN.findall(word) for word in query.split()) if tokens]
    if not phrases:
        return None
    terms = [f'"{p}"' for p in phrases]
    terms[-1] += "*"
    return "text : (" + " AND ".join(terms) + ")"


def search(db: sqlite3.Connection, query: str, types: Iterable[str] = (), limit: int = 20, offset: int = 0) -> Results:
    """The entities matching ``query``, best first (see the module docstring), of ``types`` if given."""
    query = " ".join(query.split())[:500]
    types = tuple(sorted(set(types)))
    wanted = offset + limit
    type_sql = f" AND type IN ({', '.join('?' * len(types))})" if types else ""
    ranked: list[int] = []
    if query:
        exact = "SELECT rowid FROM entity WHERE (key = ?1 COLLATE NOCASE OR label = ?1 COLLATE NOCASE)"
        ranked += _rowids(db, f"{exact}{type_sql} ORDER BY rowid LIMIT {wanted}", (query, *types))
    if len(query) >= PREFIX_MIN:  # shorter: the words tier ranks the whole match by popularity
        upper = query + "\U0010ffff"
        prefix = (f"SELECT rowid FROM (SELECT * FROM (SELECT rowid, type FROM entity WHERE key >= ?1 COLLATE NOCASE AND key < ?2 COLLATE NOCASE LIMIT {PREFIX_SCAN})"
                  f" UNION SELECT * FROM (SELECT rowid, type FROM entity WHERE label >= ?1 COLLATE NOCASE AND label < ?2 COLLATE NOCASE LIMIT {PREFIX_SCAN}))")
        ranked += _rowids(db, f"{prefix} WHERE 1{type_sql} ORDER BY rowid LIMIT {wanted}", (query, upper, *types))
    expression = match_expression(query)
    matches: list[int] = []
    if expression:
        if types:
            expression = "type : (" + " OR ".join(f'"{t}"' for t in types) + ") AND " + expression
        matches = _rowids(db, f"SELECT rowid FROM words WHERE words MATCH ? ORDER BY rowid LIMIT {COUNT_CAP + 1}", (expression,))
    seen: dict[int, None] = dict.fromkeys(ranked)
    total_set = set(seen) | set(matches)
    for rowid in matches:
        if len(seen) >= wanted:
            break
        seen.setdefault(rowid)
    page = list(seen)[offset:wanted]
    hits = {}
    if page:
        rows = db.execute(f"SELECT rowid, type, key, label, likes, downloads FROM entity WHERE rowid IN ({', '.join('?' * len(page))})", page)
        hits = {r[0]: Hit(*r[1:]) for r in rows}
    more = len(matches) > COUNT_CAP
    return Results(query, types, [hits[r] for r in page], min(len(total_set), COUNT_CAP) if more else len(total_set), more)


def _rowids(db: sqlite3.Connection, sql: str, params: tuple) -> list[int]:
    return [row[0] for row in db.execute(sql, params)]
