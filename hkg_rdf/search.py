"""Find entities by name: a full-text index (SQLite FTS5) kept inside each store version.

Every store version gets its own index file, ``<version>/search.sqlite``, written before the
version goes live (:func:`hkg_rdf.store.load_atomically` calls :func:`build_index`), so a swap
of ``current`` swaps the index with it and a reader never sees one version's data through
another's index. The index is built streaming from the store: one SPARQL query per entity type
(key, name-like values and counts looked up per entity with LATERAL; results written as CSV by
Oxigraph), staged in a scratch SQLite file (memory stays bounded at any scale), then written in
popularity order, so that the FTS5 rowid *is* the popularity rank. Entities are named by type
and key, as the pages address them; a reader mints IRIs with its own base.

What is indexed, for the entities typed with one of the release's classes: the key (``id``,
``slug``), and the name-like fields ``name``, ``title``, ``fullName``, ``label`` (the first
present is the entity's display label). Popularity: likes (or upvotes, or followers for users
and organizations), then downloads.

Ranking (:func:`search`): an exact key or label first, then key or label prefixes, then
entities having every word of the query; within each tier by popularity. Words are split as
FTS5's ``unicode61`` tokenizer splits them, so ``3.1`` and ``Llama-3.1-8B`` become phrases of
adjacent tokens (``"3 1"``), the last word of a query matches as a prefix, and camel case and
letter-digit runs in names are indexed split as well (``TinyLlama`` → ``tiny llama``).
"""

from __future__ import annotations

import csv
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from .vocab import HKG, vocabulary

INDEX_FILE = "search.sqlite"
SCHEMA = 2
#: Name-like properties: the first one an entity has is its label.
LABELS = ("name", "title", "fullName", "label")
LIKES = ("likeCount", "upvoteCount")
DOWNLOADS = "downloadCount"
FOLLOWS = "follows"
#: Shortest query for the prefix tier, which ranks the first PREFIX_SCAN ids or names in
#: alphabetical order by popularity (a shorter prefix matches too many for that to mean much)
PREFIX_MIN, PREFIX_SCAN = 3, 5000
#: Matches counted at most, so a query matching half the graph answers as fast as any.
COUNT_CAP = 1000
SEPARATOR = "\x1f"  # between an entity's labels in the scratch table
_TOKEN = re.compile(r"[^\W_]+")
_SPLIT = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


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


def index_path(version_dir: Path) -> Path:
    return Path(version_dir) / INDEX_FILE


# ---------------------------------------------------------------- building


def _text(key: str, labels: str | None) -> str:
    """What the FTS index holds for an entity: key and labels, plus their camel-case splits."""
    text = key if labels is None else f"{key} {labels.replace(SEPARATOR, ' ')}"
    split = _SPLIT.sub(" ", text)
    return text if split == text else f"{text} {split}"


def build_index(store: ox.Store, version_dir: Path) -> dict:
    """Write ``version_dir/search.sqlite`` from the store; returns counts and seconds taken."""
    started = time.monotonic()
    target = index_path(version_dir)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # two builders never share one
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="hkg-search-", dir=version_dir) as scratch:
        db = sqlite3.connect(partial, isolation_level=None)
        try:
            db.executescript(f"""
                PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-200000; PRAGMA temp_store_directory='{scratch}';
                ATTACH '{Path(scratch) / "stage.sqlite"}' AS stage;
                PRAGMA stage.journal_mode=OFF; PRAGMA stage.synchronous=OFF; PRAGMA stage.cache_size=-400000;
                CREATE TABLE stage.entity(type TEXT, key TEXT, labels TEXT, likes INTEGER, downloads INTEGER);
                CREATE TABLE stage.followers(type TEXT, key TEXT, n INTEGER, PRIMARY KEY (type, key)) WITHOUT ROWID;
            """)
            _stage(db, store, Path(scratch))
            counts = _write(db)
            db.execute("DETACH stage")
        finally:
            db.close()
    os.replace(partial, target)
    return {**counts, "seconds": round(time.monotonic() - started, 2)}


def _entity_query(entity_type) -> tuple[str, int]:
    """One SPARQL query for a type's entities: key, name-like values, likes and downloads. Each entity's values are looked up with LATERAL (an index lookup per entity
    rather than a hash join over the whole property) and its IRI is never decoded: the index
    names entities by type and key, as pages do. Also how many name-like values it asks for."""
    def local(field) -> str:
        return field.prop.rpartition("#")[2]

    def one(prop: str, var: str) -> str:
        return f"LATERAL {{ OPTIONAL {{ ?s <{prop}> ?{var} }} }}"

    labels = [f.prop for f in entity_type.fields if local(f) in LABELS]
    likes = next((f.prop for f in entity_type.fields if local(f) in LIKES), None)
    downloads = next((f.prop for f in entity_type.fields if local(f) == DOWNLOADS), None)
    parts = [one(entity_type.key.prop, "key"), *(one(p, f"l{i}") for i, p in enumerate(labels))]
    if likes:
        parts.append(one(likes, "likes"))
    if downloads:
        parts.append(one(downloads, "downloads"))
    names = " ".join(f"?l{i}" for i in range(len(labels)))
    body = "\n  ".join(parts)
    return f"SELECT ?key {names} ?likes ?downloads WHERE {{\n  ?s a <{entity_type.cls}> FILTER(isIRI(?s))\n  {body}\n}}", len(labels)


@cache
def _followed_classes() -> frozenset[str]:
    return frozenset(r.object.cls for r in vocabulary().relations if r.prop == HKG + FOLLOWS)


def _rows(store: ox.Store, entity_type, scratch: Path) -> Iterator[tuple]:
    """(type, key, labels, likes, downloads) per entity. The solutions are written as CSV by
    Oxigraph and read back by the csv module, both native code, instead of as Python term
    objects. An entity with several values of a property (its solutions are consecutive) comes
    once, with its first labels and its largest counts; one without its key has key None."""
    query, n = _entity_query(entity_type)
    path = scratch / f"{entity_type.segment}.csv"
    store.query(query).serialize(str(path), ox.QueryResultsFormat.CSV)
    current: list | None = None
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            rows = csv.reader(stream)
            next(rows, None)  # the header
            for row in rows:
                key = row[0] or None
                if current is not None and key is not None and key == current[1]:  # more values of one entity
                    current[3], current[4] = max(current[3], _count(row[1 + n])), max(current[4], _count(row[2 + n]))
                    continue
                if current is not None:
                    yield tuple(current)
                labels = SEPARATOR.join(v for v in row[1:1 + n] if v) or None
                current = [entity_type.segment, key, labels, _count(row[1 + n]), _count(row[2 + n])]
        if current is not None:
            yield tuple(current)
    finally:
        path.unlink(missing_ok=True)


def _count(value: str) -> int:
    try:
        return int(value) if value else 0
    except ValueError:  # not an integer: no popularity
        return 0


def _stage(db: sqlite3.Connection, store: ox.Store, scratch: Path) -> None:
    """Every typed entity, and the followers of users and organizations, in the scratch tables."""
    db.execute("BEGIN")
    for entity_type in vocabulary().types:
        db.executemany("INSERT INTO stage.entity VALUES (?, ?, ?, ?, ?)", _rows(store, entity_type, scratch))
        if entity_type.cls in _followed_classes():
            followers = (f"SELECT ?key (COUNT(?follower) AS ?n) WHERE {{ ?s a <{entity_type.cls}> ; <{entity_type.key.prop}> ?key . "
                         f"?follower <{HKG + FOLLOWS}> ?s }} GROUP BY ?key")
            db.executemany("INSERT OR IGNORE INTO stage.followers VALUES (?, ?, ?)",
                           ((entity_type.segment, key.value, int(n.value)) for key, n in store.query(followers)))
    db.execute("COMMIT")


#: One row per entity from the scratch tables, most popular first (followers count as likes).
ENTITIES = """
    SELECT e.type, e.key, e.labels, e.likes + coalesce(f.n, 0) AS popularity, e.downloads
    FROM stage.entity AS e LEFT JOIN stage.followers AS f ON f.type = e.type AND f.key = e.key
    ORDER BY popularity DESC, e.downloads DESC, e.key"""


def _write(db: sqlite3.Connection) -> dict:
    """The final tables, in popularity order (rowid 1 is the most popular entity)."""
    db.executescript("""
        CREATE TABLE meta(name TEXT PRIMARY KEY, value);
        CREATE TABLE entity(rowid INTEGER PRIMARY KEY, type TEXT NOT NULL, key TEXT NOT NULL, label TEXT,
                            likes INTEGER NOT NULL, downloads INTEGER NOT NULL);
        CREATE VIRTUAL TABLE words USING fts5(type, text, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2');
    """)
    db.execute("BEGIN")
    db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
    by_type: dict[str, int] = {}
    unkeyed = rowid = 0
    entity, words = db.cursor(), db.cursor()
    batch: list[tuple] = []
    for kind, key, labels, likes, downloads in db.execute(ENTITIES):
        if key is None:  # typed, but without its key property: nothing to find it by
            unkeyed += 1
            continue
        by_type[kind] = by_type.get(kind, 0) + 1
        rowid += 1
        batch.append((rowid, kind, key, labels, likes, downloads))
        if len(batch) == 10_000:
            _flush(entity, words, batch)
    _flush(entity, words, batch)
    db.execute("COMMIT")
    db.executescript("""
        CREATE INDEX entity_key ON entity(key COLLATE NOCASE);
        CREATE INDEX entity_label ON entity(label COLLATE NOCASE);
        INSERT INTO words(words) VALUES ('optimize');
    """)
    return {"entities": rowid, "by_type": dict(sorted(by_type.items())), "skipped_without_key": unkeyed}


def _flush(entity: sqlite3.Cursor, words: sqlite3.Cursor, batch: list[tuple]) -> None:
    entity.executemany("INSERT INTO entity VALUES (?, ?, ?, ?, ?, ?)",
                       ((rowid, kind, key, _label(labels), likes, downloads) for rowid, kind, key, labels, likes, downloads in batch))
    words.executemany("INSERT INTO words(rowid, type, text) VALUES (?, ?, ?)", ((r[0], r[1], _text(r[2], r[3])) for r in batch))
    batch.clear()


def _label(labels: str | None) -> str | None:
    return None if labels is None else labels.split(SEPARATOR, 1)[0]


# ---------------------------------------------------------------- searching


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


def ensure_index(store_dir: Path) -> Path:
    """The live version's index, built first if the version has none (a store from before)."""
    from .store import live_path, open_read_only

    version = live_path(store_dir)
    if not index_path(version).is_file():
        build_index(open_read_only(store_dir), version)
    return version
