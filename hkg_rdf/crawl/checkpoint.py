"""The crawl's state on disk: one SQLite database, ``OUT/crawl.sqlite``, written by one thread.

Each finished listing page (its items, the edges and tasks they give, the next cursor) and each
finished task is committed in one transaction, so a killed crawl rerun with the same command
continues where it stopped without refetching anything finished.

Tables: ``lists`` (per listing: the next page URL, items taken, pages, done), ``pages`` (pages
done), ``tasks`` (kind, key, state, error or traceback), ``entities`` (records), ``texts``
(READMEs), ``edges``, ``authors`` (repo -> author, resolved to a publish edge at the end),
``notes`` (what was skipped, with examples), ``base_*`` (a previous snapshot, for reuse).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

CHECKPOINT = "crawl.sqlite"
SCHEMA_VERSION = 2
PENDING, DONE, FAILED, GONE = 0, 1, 2, 3
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS lists(kind TEXT PRIMARY KEY, next_url TEXT, taken INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS pages(kind TEXT, url TEXT, items INTEGER, PRIMARY KEY(kind, url));
CREATE TABLE IF NOT EXISTS tasks(kind TEXT, key TEXT, state INTEGER NOT NULL DEFAULT 0, error TEXT, PRIMARY KEY(kind, key));
CREATE INDEX IF NOT EXISTS tasks_state ON tasks(state);
CREATE TABLE IF NOT EXISTS entities(type TEXT, id TEXT, record TEXT, PRIMARY KEY(type, id));
CREATE TABLE IF NOT EXISTS texts(type TEXT, id TEXT, text TEXT, PRIMARY KEY(type, id));
CREATE TABLE IF NOT EXISTS edges(relation TEXT, subject TEXT, object TEXT, PRIMARY KEY(relation, subject, object)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS authors(type TEXT, id TEXT, author TEXT, PRIMARY KEY(type, id));
CREATE TABLE IF NOT EXISTS notes(reason TEXT, example TEXT, PRIMARY KEY(reason, example));
CREATE TABLE IF NOT EXISTS base_entities(type TEXT, id TEXT, last_modified TEXT, likes INTEGER, record TEXT, PRIMARY KEY(type, id));
CREATE TABLE IF NOT EXISTS base_edges(relation TEXT, subject TEXT, object TEXT);
CREATE INDEX IF NOT EXISTS base_edges_subject ON base_edges(relation, subject);
CREATE INDEX IF NOT EXISTS base_edges_object ON base_edges(relation, object);
"""


class Checkpoint:
    """The crawl's state in SQLite; written by one thread only."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def get(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES(?,?)", (key, json.dumps(value)))

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.db.execute("COMMIT")
        elif self.db.in_transaction:  # SQLite may have rolled back already (a full disk): keep that error, not ROLLBACK's
            self.db.execute("ROLLBACK")


def iter_checkpoint_pages(out: Path):
    """(listing, page URL) of every page the checkpoint in ``out`` holds as finished."""
    db = sqlite3.connect(f"file:{out / CHECKPOINT}?mode=ro", uri=True)
    try:
        yield from db.execute("SELECT kind, url FROM pages").fetchall()
    finally:
        db.close()
