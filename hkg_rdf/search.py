"""Find entities by name: a full-text index (SQLite FTS5) kept inside each store version.

Every store version gets its own index file, ``<version>/search.sqlite``, written before the
version goes live (:func:`hkg_rdf.store.load_atomically` calls :func:`build_index`), so a swap
of ``current`` swaps the index with it and a reader never sees one version's data through
another's index. The index is built streaming from the store: one pass over the typed entities
and one over each name-like property, staged in a scratch SQLite file (memory stays bounded at
any scale), then written in popularity order, so that the FTS5 rowid *is* the popularity rank.

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

import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from .vocab import HKG, RDF_TYPE, vocabulary

INDEX_FILE = "search.sqlite"
SCHEMA = 1
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
    iri: str
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


def _pairs(store: ox.Store, prop: str, field: int) -> Iterator[tuple[str, int, object]]:
    """(subject IRI, field, object value) for every triple of ``prop`` (a SPARQL projection
    decodes two terms where a quad pattern decodes four)."""
    for subject, value in store.query(f"SELECT ?s ?o WHERE {{ ?s <{prop}> ?o FILTER(isIRI(?s)) }}"):
        yield subject.value, field, value.value


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
                CREATE TABLE stage.pairs(iri TEXT, field INTEGER, value);
            """)
            _stage(db, store)
            counts = _write(db)
            db.execute("DETACH stage")
        finally:
            db.close()
    os.replace(partial, target)
    return {**counts, "seconds": round(time.monotonic() - started, 2)}


TYPE, KEY, LABEL, LIKES_FIELD, DOWNLOADS_FIELD, FOLLOWER = range(6)


def _stage(db: sqlite3.Connection, store: ox.Store) -> None:
    """Append (entity, field, value) for every type, key, label and count to the scratch table."""
    vocab = vocabulary()
    db.execute("BEGIN")
    insert = "INSERT INTO stage.pairs VALUES (?, ?, ?)"
    for entity_type in vocab.types:
        db.executemany(insert, ((s.value, TYPE, entity_type.segment) for (s,) in store.query(f"SELECT ?s WHERE {{ ?s a <{entity_type.cls}> FILTER(isIRI(?s)) }}")))
    for prop in sorted({t.key.prop for t in vocab.types}):
        db.executemany(insert, _pairs(store, prop, KEY))
    for name in LABELS:
        db.executemany(insert, _pairs(store, HKG + name, LABEL))
    for name in LIKES:
        db.executemany(insert, _pairs(store, HKG + name, LIKES_FIELD))
    db.executemany(insert, _pairs(store, HKG + DOWNLOADS, DOWNLOADS_FIELD))
    db.executemany(insert, ((o.value, FOLLOWER, 1) for (o,) in store.query(f"SELECT ?o WHERE {{ ?s <{HKG + FOLLOWS}> ?o FILTER(isIRI(?o)) }}")))
    db.execute("COMMIT")


#: One row per entity from the scratch table, most popular first.
ENTITIES = f"""
    SELECT iri, type, key, labels, likes, downloads FROM (
        SELECT iri, max(CASE field WHEN {TYPE} THEN value END) AS type, min(CASE field WHEN {KEY} THEN value END) AS key,
               group_concat(CASE field WHEN {LABEL} THEN value END, char(31)) AS labels,
               coalesce(max(CASE field WHEN {LIKES_FIELD} THEN value END), 0) + coalesce(sum(CASE field WHEN {FOLLOWER} THEN 1 END), 0) AS likes,
               coalesce(max(CASE field WHEN {DOWNLOADS_FIELD} THEN value END), 0) AS downloads
        FROM stage.pairs GROUP BY iri)
    WHERE type IS NOT NULL
    ORDER BY likes DESC, downloads DESC, key"""


def _write(db: sqlite3.Connection) -> dict:
    """The final tables, in popularity order (rowid 1 is the most popular entity)."""
    db.executescript("""
        CREATE TABLE meta(name TEXT PRIMARY KEY, value);
        CREATE TABLE entity(rowid INTEGER PRIMARY KEY, iri TEXT NOT NULL, type TEXT NOT NULL, key TEXT NOT NULL, label TEXT,
                            likes INTEGER NOT NULL, downloads INTEGER NOT NULL);
        CREATE VIRTUAL TABLE words USING fts5(type, text, content='', columnsize=0, tokenize='unicode61 remove_diacritics 2');
    """)
    db.execute("BEGIN")
    db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA,))
    by_type: dict[str, int] = {}
    unkeyed = rowid = 0
    entity, words = db.cursor(), db.cursor()
    batch: list[tuple] = []
    for iri, kind, key, labels, likes, downloads in db.execute(ENTITIES):
        if key is None:  # typed, but without its key property: nothing to find it by
            unkeyed += 1
            continue
        by_type[kind] = by_type.get(kind, 0) + 1
        rowid += 1
        batch.append((rowid, iri, kind, key, labels, int(likes), int(downloads)))
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
    entity.executemany("INSERT INTO entity VALUES (?, ?, ?, ?, ?, ?, ?)",
                       ((rowid, iri, kind, key, _label(labels), likes, downloads) for rowid, iri, kind, key, labels, likes, downloads in batch))
    words.executemany("INSERT INTO words(rowid, type, text) VALUES (?, ?, ?)", ((r[0], r[2], _text(r[3], r[4])) for r in batch))
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
        rows = db.execute(f"SELECT rowid, iri, type, key, label, likes, downloads FROM entity WHERE rowid IN ({', '.join('?' * len(page))})", page)
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
