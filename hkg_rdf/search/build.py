"""Building a version's search index: stage its entities, then write the index in popularity order.

The entities are staged either from the store (one SPARQL query per entity type) or, when the
version holds exactly one conversion, from the records that conversion wrote
(:class:`RecordIndex`, fed by the converter as it goes): the same rows either way, and the
second needs no pass over the store. :func:`build_index` writes the index from whichever was
staged.
"""

from __future__ import annotations

import csv
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from ..records import Edge, Entity
from ..vocab import HKG, EntityType, Vocabulary, vocabulary

INDEX_FILE = "search.sqlite"
#: The rows a conversion staged from its records, in the version directory until the index is written.
RECORDS_FILE = "search-records.sqlite"
SCHEMA = 2
#: Name-like properties: the first one an entity has is its label.
LABELS = ("name", "title", "fullName", "label")
LIKES = ("likeCount", "upvoteCount")
DOWNLOADS = "downloadCount"
FOLLOWS = "follows"
SEPARATOR = "\x1f"  # between an entity's labels in the staged rows
BATCH = 10_000
_SPLIT = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_FAST = "PRAGMA {db}.journal_mode=OFF; PRAGMA {db}.synchronous=OFF; PRAGMA {db}.cache_size=-{kib};"
_STAGE = """
    CREATE TABLE {db}.entity(type TEXT, key TEXT, labels TEXT, likes INTEGER, downloads INTEGER);
    CREATE TABLE {db}.followers(type TEXT, key TEXT, n INTEGER, PRIMARY KEY (type, key)) WITHOUT ROWID;
"""


def index_path(version_dir: Path) -> Path:
    return Path(version_dir) / INDEX_FILE


def records_path(version_dir: Path) -> Path:
    return Path(version_dir) / RECORDS_FILE


def _text(key: str, labels: str | None) -> str:
    """What the FTS index holds for an entity: key and labels, plus their camel-case splits."""
    text = key if labels is None else f"{key} {labels.replace(SEPARATOR, ' ')}"
    split = _SPLIT.sub(" ", text)
    return text if split == text else f"{text} {split}"


def _local(field) -> str:
    return field.prop.rpartition("#")[2]


def _columns(entity_type: EntityType) -> tuple[list, object | None, object | None]:
    """A type's label fields (in field order), its likes field and its downloads field."""
    labels = [f for f in entity_type.fields if _local(f) in LABELS]
    likes = next((f for f in entity_type.fields if _local(f) in LIKES), None)
    downloads = next((f for f in entity_type.fields if _local(f) == DOWNLOADS), None)
    return labels, likes, downloads


def build_index(store: ox.Store, version_dir: Path) -> dict:
    """Write ``version_dir/search.sqlite``, from the rows a conversion staged there, else from
    the store; returns counts, where the rows came from and seconds taken."""
    started = time.monotonic()
    target, staged = index_path(version_dir), records_path(version_dir)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # two builders never share one
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="hkg-search-", dir=version_dir) as scratch:
        db = sqlite3.connect(partial, isolation_level=None)
        try:
            db.executescript(_FAST.format(db="main", kib=32_000) + f"PRAGMA temp_store_directory='{scratch}';")
            source = "records" if staged.is_file() else "store"
            db.execute("ATTACH ? AS stage", (str(staged if source == "records" else Path(scratch) / "stage.sqlite"),))
            if source == "store":
                db.executescript(_FAST.format(db="stage", kib=400_000) + _STAGE.format(db="stage"))
                _stage(db, store, Path(scratch))
            counts = _write(db)
            db.execute("DETACH stage")
        finally:
            db.close()
    staged.unlink(missing_ok=True)
    os.replace(partial, target)
    return {**counts, "staged_from": source, "seconds": round(time.monotonic() - started, 2)}


# ---------------------------------------------------------------- staging from the store


def _entity_query(entity_type: EntityType) -> tuple[str, int]:
    """One SPARQL query for a type's entities: key, name-like values, likes and downloads.

    Each entity's values are looked up with LATERAL (an index lookup per entity rather than a
    hash join over the whole property) and its IRI is never decoded: the index names entities
    by type and key, as pages do. Also how many name-like values it asks for."""
    def one(prop: str, var: str) -> str:
        return f"LATERAL {{ OPTIONAL {{ ?s <{prop}> ?{var} }} }}"

    labels, likes, downloads = _columns(entity_type)
    parts = [one(entity_type.key.prop, "key"), *(one(f.prop, f"l{i}") for i, f in enumerate(labels))]
    if likes:
        parts.append(one(likes.prop, "likes"))
    if downloads:
        parts.append(one(downloads.prop, "downloads"))
    names = " ".join(f"?l{i}" for i in range(len(labels)))
    body = "\n  ".join(parts)
    return f"SELECT ?key {names} ?likes ?downloads WHERE {{\n  ?s a <{entity_type.cls}> FILTER(isIRI(?s))\n  {body}\n}}", len(labels)


@cache
def _followed_classes() -> frozenset[str]:
    return frozenset(r.object.cls for r in vocabulary().relations if r.prop == HKG + FOLLOWS)


def _rows(store: ox.Store, entity_type: EntityType, scratch: Path) -> Iterator[tuple]:
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


# ---------------------------------------------------------------- staging from the records


class RecordIndex:
    """The staged rows of a conversion, written from its records as the converter makes them.

    A :class:`~hkg_rdf.triples.RecordSink`: the converter hands it every entity and edge it
    writes (duplicates and skipped dangling edges never reach it), and it keeps what
    :func:`_rows` and the follower counts would read back from a store holding just this
    conversion. It is the caller's to use it only for such a store.
    """

    def __init__(self, path: Path, vocab: Vocabulary | None = None):
        vocab = vocab or vocabulary()
        self._columns = {t.segment: (t.key.name, *_names(t)) for t in vocab.types}
        self._follows = {r.name: r for r in vocab.relations if r.prop == HKG + FOLLOWS}
        self._entities: list[tuple] = []
        self._pairs: list[tuple] = []
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.executescript(_FAST.format(db="main", kib=8_000) + _STAGE.format(db="main") +
                               "CREATE TABLE follows(type TEXT, key TEXT, follower TEXT, PRIMARY KEY (type, key, follower)) WITHOUT ROWID;")
        self._db.execute("BEGIN")

    def entity(self, entity: Entity) -> None:
        key, labels, likes, downloads = self._columns[entity.type.segment]
        values = entity.values
        named = SEPARATOR.join(v for v in (values[n] for n in labels) if v) or None
        self._entities.append((entity.type.segment, values[key] or None, named, (values[likes] or 0) if likes else 0,
                               (values[downloads] or 0) if downloads else 0))
        if len(self._entities) >= BATCH:
            self._flush()

    def edge(self, edge: Edge) -> None:
        relation = self._follows.get(edge.relation.name)
        if relation is None:
            return
        ends = [(relation.subject, edge.subject), (relation.object, edge.object)]
        (follower, follower_id), (followed, followed_id) = reversed(ends) if relation.inverse else ends
        self._pairs.append((followed.segment, followed_id, f"{follower.segment}/{follower_id}"))  # the store holds each follow once
        if len(self._pairs) >= BATCH:
            self._flush()

    def close(self) -> None:
        """Write what is left and count the followers: the rows are ready for :func:`build_index`."""
        self._flush()
        self._db.execute("INSERT INTO followers SELECT type, key, COUNT(*) FROM follows GROUP BY type, key")
        self._db.execute("DROP TABLE follows")
        self._db.execute("COMMIT")
        self._db.close()

    def _flush(self) -> None:
        self._db.executemany("INSERT INTO entity VALUES (?, ?, ?, ?, ?)", self._entities)
        self._db.executemany("INSERT OR IGNORE INTO follows VALUES (?, ?, ?)", self._pairs)
        self._entities.clear()
        self._pairs.clear()


def _names(entity_type: EntityType) -> tuple[tuple[str, ...], str | None, str | None]:
    labels, likes, downloads = _columns(entity_type)
    return tuple(f.name for f in labels), likes and likes.name, downloads and downloads.name


# ---------------------------------------------------------------- writing


#: One row per entity from the staged tables, most popular first (followers count as likes).
ENTITIES = """
    SELECT e.type, e.key, e.labels, e.likes + coalesce(f.n, 0) AS popularity, e.downloads
    FROM stage.entity AS e LEFT JOIN stage.followers AS f ON f.type = e.type AND f.key = e.key
    ORDER BY popularity DESC, e.downloads DESC, e.key, e.type"""


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
        if len(batch) == BATCH:
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


def ensure_index(store_dir: Path) -> Path:
    """The live version's index, built first if the version has none (a store from before)."""
    from ..store import live_path, open_read_only

    version = live_path(store_dir)
    if not index_path(version).is_file():
        build_index(open_read_only(store_dir), version)
    return version
