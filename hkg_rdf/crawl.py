"""Crawl the Hugging Face Hub into a HuggingKG release: complete, resumable, incremental.

``crawl(options)`` fills a checkpoint database ``OUT/crawl.sqlite`` from the Hub (through
:class:`hkg_rdf.hub.Hub`) and, once nothing is left to fetch, writes from it

    OUT/HuggingKG_V<start time>/   the 38 JSON files, exactly the published format
    OUT/triples.txt                one edge per line, beside the release as published
    OUT/crawl-manifest.json        the snapshot: PROV-O times, endpoint, tool versions, counts,
                                   what was skipped and why, errors, requests made

so ``hkg-rdf convert / load / validate / export`` read a crawl like any release.

**Stages.** Tag listings and ``/api/tasks`` first (they classify tags); then four listings
(models, datasets, spaces with ``full=true``; collections), each a chain of pages; every listed
thing queues what it needs: READMEs, ``space_info`` (the models and datasets a space uses),
``get_collection`` (items, owner), likers (only of repos with likes), the overview of each
author (user or organization?), the papers it cites; organizations queue their members and
followers, users (except those known only as followers) their followers. Work runs on
``workers`` threads; the main thread alone writes the database.

**Checkpoint.** Each finished page (its items, the edges and tasks they give, and the next
cursor) and each finished task is committed in one transaction, so a killed crawl rerun with the
same command continues where it stopped without refetching anything finished, and ends with the
same release as an uninterrupted crawl (records are written sorted). Tasks that failed after all
retries are listed in the manifest and retried by the next run.

**Incremental.** ``previous`` (an earlier crawl's directory, a release, or a store, exported
first) is the baseline: READMEs and ``space_info`` of repos whose ``lastModified`` is unchanged
(or older than ``since``), likers of repos whose like count is unchanged, and the user/org kind
of known names are taken from it instead of the Hub. Without a baseline, ``since`` lists only
repos modified since that time (newest first), a partial snapshot, marked so in the manifest.

**Dangling edges.** An edge whose end was not crawled (a base model not listed, a paper the Hub
does not know, any edge into a type left out with ``types``) is not written, and is counted per
relation with examples in the manifest, as ``hkg-rdf convert`` counts them.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from tqdm import tqdm

from . import hubmap
from .errors import InputError
from .hub import Hub, HubError, versions
from .hubmap import Found, hub_time
from .records import Edge, JsonArrayWriter, Release
from .report import Report
from .triples import missing_ends

CHECKPOINT = "crawl.sqlite"
MANIFEST = "crawl-manifest.json"
TRIPLES_TXT = "triples.txt"
RELEASE_PREFIX = "HuggingKG_V"
LISTINGS = ("model", "dataset", "space", "collection")
REPO_TYPES = ("model", "dataset", "space")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS lists(kind TEXT PRIMARY KEY, next_url TEXT, taken INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS pages(kind TEXT, url TEXT, items INTEGER, PRIMARY KEY(kind, url));
CREATE TABLE IF NOT EXISTS tasks(kind TEXT, key TEXT, state INTEGER NOT NULL DEFAULT 0, error TEXT, PRIMARY KEY(kind, key));
CREATE INDEX IF NOT EXISTS tasks_state ON tasks(state);
CREATE TABLE IF NOT EXISTS entities(type TEXT, id TEXT, record TEXT, rank INTEGER, PRIMARY KEY(type, id));
CREATE TABLE IF NOT EXISTS texts(type TEXT, id TEXT, text TEXT, PRIMARY KEY(type, id));
CREATE TABLE IF NOT EXISTS edges(relation TEXT, subject TEXT, object TEXT, PRIMARY KEY(relation, subject, object)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS authors(type TEXT, id TEXT, author TEXT, PRIMARY KEY(type, id));
CREATE TABLE IF NOT EXISTS notes(reason TEXT, example TEXT, PRIMARY KEY(reason, example));
CREATE TABLE IF NOT EXISTS base_entities(type TEXT, id TEXT, last_modified TEXT, likes INTEGER, record TEXT, PRIMARY KEY(type, id));
CREATE TABLE IF NOT EXISTS base_edges(relation TEXT, subject TEXT, object TEXT);
CREATE INDEX IF NOT EXISTS base_edges_subject ON base_edges(relation, subject);
CREATE INDEX IF NOT EXISTS base_edges_object ON base_edges(relation, object);
"""
PENDING, DONE, FAILED = 0, 1, 2


@dataclass
class Options:
    out: Path
    types: frozenset[str] = frozenset()  # empty: all
    limit: int | None = None
    since: datetime | None = None
    workers: int = 4
    previous: Path | None = None
    endpoint: str | None = None
    timeout: float = 30.0
    retries: int = 8
    backoff: float = 1.0
    page_size: int | None = None
    restart: bool = False

    def params(self) -> dict:
        """What must match for a rerun to continue this crawl."""
        return {
            "types": sorted(self.types), "limit": self.limit, "since": hub_time(self.since),
            "previous": str(self.previous.resolve()) if self.previous else None, "page_size": self.page_size,
        }


@dataclass
class Result:
    manifest: dict
    release: Path
    report: Report
    resumed_complete: bool = False


def _now() -> str:
    return hub_time(datetime.now(timezone.utc))


# ---------------------------------------------------------------- checkpoint


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

    def transaction(self):
        return _Transaction(self.db)

    def close(self) -> None:
        self.db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, tb):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


# ---------------------------------------------------------------- the crawl


@dataclass
class _Bars:
    bars: dict[str, tqdm] = field(default_factory=dict)

    def bar(self, name: str, unit: str) -> tqdm:
        if name not in self.bars:
            self.bars[name] = tqdm(desc=f"{name:<16}", unit=unit, disable=None, leave=False, dynamic_ncols=True)
        return self.bars[name]

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class Crawler:
    def __init__(self, options: Options, hub: Hub, checkpoint: Checkpoint):
        self.o, self.hub, self.cp = options, hub, checkpoint
        self.b = hubmap.bindings()
        self.want = set(options.types) if options.types else set(self.b.types)
        self.since = hub_time(options.since)
        self.baseline = bool(self.cp.get("baseline"))
        self.tag_types: dict[str, str] = {}
        self.bars = _Bars()
        self.errors = 0
        self.totals: Counter = Counter()  # tasks known, per kind
        self.done: Counter = Counter()  # tasks finished (or failed), per kind

    # -------------------------------------------------- what to fetch

    def _wanted_task(self, kind: str) -> bool:
        w = self.want
        base, _, segment = kind.partition(":")
        if base == "readme":
            return segment in w
        if base == "likers":
            return "user" in w
        if base == "space":
            return bool({"model", "dataset"} & w)
        if base == "followers":
            return "user" in w and segment in w
        if base == "members":
            return {"user", "org"} <= w
        if base == "owner":
            return bool({"user", "org"} & w)
        return base in w  # collection, paper

    def _fetch(self, kind: str, key: str) -> Found:
        """Run in a worker: one task's requests, turned into records and edges."""
        hub = self.hub
        base, _, segment = kind.partition(":")
        found = Found.empty()
        if base == "readme":
            found_text = hub.readme(segment, key)
            found.texts = [(segment, key, found_text)]
        elif base == "space":
            info = hub.space(key)
            if info is not None:
                found = hubmap.space_uses(key, info)
        elif base == "collection":
            info = hub.collection(key)
            if info is not None:
                found = hubmap.collection(info)
        elif base == "paper":
            info = hub.paper(key)
            if info is not None:
                found = hubmap.paper(key, info)
        elif base == "likers":
            found = hubmap.likers(segment, key, hub.likers(segment, key) or [])
        elif base == "followers":
            users = hub.user_followers(key) if segment == "user" else hub.org_followers(key)
            found = hubmap.followers(segment, key, users or [])
        elif base == "members":
            found = hubmap.members(key, hub.org_members(key) or [])
        elif base == "owner":
            found = self._owner_found(key, hub.owner(key))
        else:
            raise ValueError(f"unknown task {kind}")
        return found

    def _owner_found(self, name: str, answer: tuple[str, str | None] | None) -> Found:
        found = Found.empty()
        if answer is None:
            return found
        kind, fullname = answer
        found.records.append((kind, name, hubmap.record(kind, {"id": name, "fullname": fullname}), 2))
        if kind == "user":
            found.users.append((name, fullname, True))
        else:
            found.orgs.append((name, fullname))
        return found

    # -------------------------------------------------- applying answers (main thread)

    def _enqueue(self, db: sqlite3.Connection, kind: str, key: str) -> None:
        if self._wanted_task(kind):
            if db.execute("INSERT OR IGNORE INTO tasks(kind, key) VALUES(?,?)", (kind, key)).rowcount:
                self.totals[kind] += 1

    def _upsert(self, db: sqlite3.Connection, segment: str, entity_id: str, record: dict, rank: int) -> None:
        if segment not in self.want:
            return
        db.execute(
            "INSERT INTO entities VALUES(?,?,?,?) ON CONFLICT(type, id) DO UPDATE SET record=excluded.record, rank=excluded.rank "
            "WHERE excluded.rank >= entities.rank",
            (segment, entity_id, json.dumps(record, ensure_ascii=False), rank),
        )

    def _apply(self, db: sqlite3.Connection, found: Found) -> None:
        for segment, entity_id, record, rank in found.records:
            self._upsert(db, segment, entity_id, record, rank)
        db.executemany("INSERT OR IGNORE INTO edges VALUES(?,?,?)", found.edges)
        for segment, entity_id, author in found.authors:
            db.execute("INSERT OR REPLACE INTO authors VALUES(?,?,?)", (segment, entity_id, author))
            self._enqueue(db, "owner", author)
        for arxiv_id in found.papers:
            self._enqueue(db, "paper", arxiv_id)
        for name, fullname, expand in found.users:
            self._upsert(db, "user", name, hubmap.record("user", {"id": name, "fullname": fullname}), 1)
            if expand:
                self._enqueue(db, "followers:user", name)
        for name, fullname in found.orgs:
            self._upsert(db, "org", name, hubmap.record("org", {"id": name, "fullname": fullname}), 1)
            self._enqueue(db, "followers:org", name)
            self._enqueue(db, "members", name)
        for segment, entity_id, readme in found.texts:
            db.execute("INSERT OR REPLACE INTO texts VALUES(?,?,?)", (segment, entity_id, readme))
        for kind, key in found.tasks:
            self._enqueue(db, kind, key)
        db.executemany("INSERT OR IGNORE INTO notes VALUES(?,?)", [(r, json.dumps(e, ensure_ascii=False)) for r, e in found.skipped])

    # -------------------------------------------------- listings

    def _listed(self, kind: str, item) -> tuple[str | None, Found]:
        """(time for --since, what one listed item gives) — in a worker."""
        if kind == "collection":
            found = Found.empty()
            found.tasks = [("collection", item.slug)]
            return hub_time(item.last_updated), found
        if kind == "model":
            found = hubmap.model(item, self.tag_types)
        elif kind == "dataset":
            found = hubmap.dataset(item)
        else:
            found = hubmap.space(item)
        siblings = getattr(item, "siblings", None)
        if kind != "space" and (siblings is None or any(s.rfilename == "README.md" for s in siblings)):
            found.tasks.append((f"readme:{kind}", item.id))
        elif kind != "space":
            found.texts = [(kind, item.id, None)]
        if kind == "space":
            found.tasks.append(("space", item.id))
        if item.likes is None or item.likes > 0:
            found.tasks.append((f"likers:{kind}", item.id))
        return hub_time(item.last_modified), found

    def _fetch_page(self, kind: str, url: str) -> tuple[list[tuple[str | None, Found]], str | None]:
        items, following = self.hub.page(kind, url)
        return [self._listed(kind, item) for item in items], following

    def _apply_page(self, kind: str, url: str, answer) -> None:
        items, following = answer
        with self.cp.transaction() as db:
            taken = db.execute("SELECT taken FROM lists WHERE kind=?", (kind,)).fetchone()[0]
            done = following is None
            used = 0
            for modified, found in items:
                if self.o.limit is not None and taken + used >= self.o.limit:
                    done = True
                    break
                if self.since and not self.baseline and (modified is None or modified < self.since):
                    done = True
                    break
                self._apply(db, found)
                used += 1
            db.execute("INSERT OR REPLACE INTO pages VALUES(?,?,?)", (kind, url, used))
            db.execute("UPDATE lists SET next_url=?, taken=taken+?, pages=pages+1, done=? WHERE kind=?", (following, used, int(done), kind))
        self.bars.bar(f"list {kind}s", " items").update(used)

    # -------------------------------------------------- baseline reuse (main thread)

    def _reuse(self, kind: str, key: str) -> Found | None:
        if not self.baseline:
            return None
        db = self.cp.db
        base, _, segment = kind.partition(":")
        if base == "owner":  # users only: organizations are few, and their overview gives their fresh full name
            row = db.execute("SELECT record FROM base_entities WHERE type='user' AND id=?", (key,)).fetchone()
            if row is None:
                return None
            found = self._owner_found(key, ("user", json.loads(row[0]).get("fullname")))
            found.records = [(s, i, r, 0) for s, i, r, _ in found.records]  # any fresh source of the name wins
            found.users, found.tasks = [], [("followers:user", key)]
            return found
        if base not in ("readme", "space", "likers"):
            return None
        segment = segment or "space"
        current = db.execute("SELECT record FROM entities WHERE type=? AND id=?", (segment, key)).fetchone()
        old = db.execute("SELECT last_modified, likes, record FROM base_entities WHERE type=? AND id=?", (segment, key)).fetchone()
        if current is None or old is None:
            return None
        now = json.loads(current[0])
        found = Found.empty()
        if base == "likers":
            if now.get("likes") != old[1] or now.get("likes") is None:
                return None
            relation = self.b.rel("user", "like", segment).name
            rows = db.execute("SELECT subject FROM base_edges WHERE relation=? AND object=?", (relation, key)).fetchall()
            users = [_Named(name, self._base_fullname(name)) for (name,) in rows]
            return hubmap.likers(segment, key, users)
        modified = now.get(self._field(segment, "lastModified"))
        if not (modified is not None and (modified == old[0] or (self.since is not None and modified < self.since))):
            return None
        if base == "readme":
            found.texts = [(segment, key, json.loads(old[2]).get(self._field(segment, "description")) if old[2] else None)]
            return found
        for other in ("model", "dataset"):
            relation = self.b.rel("space", "use", other).name
            rows = db.execute("SELECT object FROM base_edges WHERE relation=? AND subject=?", (relation, key)).fetchall()
            found.edges += [(relation, key, obj) for (obj,) in rows]
        return found

    def _field(self, segment: str, name: str) -> str:
        """A field name, checked against the mapping (so a rename fails here, not silently)."""
        names = {f.name for f in self.b.type(segment).fields}
        if name not in names:
            raise ValueError(f"mapping has no field {name!r} for {segment}")
        return name

    def _base_fullname(self, name: str) -> str | None:
        row = self.cp.db.execute("SELECT record FROM base_entities WHERE type='user' AND id=?", (name,)).fetchone()
        return json.loads(row[0]).get("fullname") if row else None

    # -------------------------------------------------- the loop

    def _start(self) -> None:
        cp = self.cp
        if cp.get("tags") is None:
            listings = self.hub.tag_listings()
            api_tasks = self.hub.tasks() if "task" in self.want else {}
            with cp.transaction() as db:
                cp.put("tags", listings[0] if listings else {})
                if "task" in self.want:
                    for segment, task_id, record, rank in hubmap.tasks(api_tasks, *(listings or ({}, {}))):
                        self._upsert(db, segment, task_id, record, rank)
        self.tag_types = hubmap.tag_types(cp.get("tags") or {})
        newest_first = bool(self.since) and not self.baseline
        with cp.transaction() as db:
            for kind in LISTINGS:
                if kind in self.want:
                    url, params = self.hub.first_page(kind, self.o.page_size, newest_first)
                    query = urlencode({k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()})
                    db.execute("INSERT OR IGNORE INTO lists(kind, next_url) VALUES(?,?)", (kind, f"{url}?{query}"))
            db.execute("UPDATE tasks SET state=?, error=NULL WHERE state=?", (PENDING, FAILED))  # a new run retries them

    def run(self) -> None:
        self._start()
        cp, workers = self.cp, self.o.workers
        running: dict[Future, tuple[str, str]] = {}
        lists_running: set[str] = set()
        tasks_running: set[tuple[str, str]] = set()
        stalled: set[str] = set()
        self.totals.update(dict(cp.db.execute("SELECT kind, count(*) FROM tasks GROUP BY kind").fetchall()))
        self.done.update(dict(cp.db.execute("SELECT kind, count(*) FROM tasks WHERE state=? GROUP BY kind", (DONE,)).fetchall()))
        shown = 0.0
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crawl") as pool:
            while True:
                for kind, url in cp.db.execute("SELECT kind, next_url FROM lists WHERE done=0").fetchall():
                    if kind not in lists_running and kind not in stalled and url:
                        running[pool.submit(self._fetch_page, kind, url)] = ("list", kind, url)
                        lists_running.add(kind)
                room = 2 * workers - len(tasks_running)
                if room > 0:
                    rows = cp.db.execute(
                        "SELECT kind, key FROM tasks WHERE state=? ORDER BY rowid LIMIT ?", (PENDING, room + len(tasks_running))
                    ).fetchall()
                    for kind, key in rows:
                        if (kind, key) in tasks_running:
                            continue
                        reused = self._reuse(kind, key)
                        if reused is not None:
                            self._finish_task(kind, key, reused, reused=True)
                            self.done[kind] += 1
                            continue
                        running[pool.submit(self._fetch, kind, key)] = ("task", kind, key)
                        tasks_running.add((kind, key))
                        if len(tasks_running) >= 2 * workers:
                            break
                if not running:
                    if cp.db.execute("SELECT 1 FROM tasks WHERE state=? LIMIT 1", (PENDING,)).fetchone():
                        continue  # only reused tasks were picked: pick again
                    break
                finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    what = running.pop(future)
                    if what[0] == "list":
                        _, kind, url = what
                        lists_running.discard(kind)
                        try:
                            self._apply_page(kind, url, future.result())
                        except HubError as error:
                            stalled.add(kind)
                            self._fail("list", kind, str(error))
                    else:
                        _, kind, key = what
                        tasks_running.discard((kind, key))
                        try:
                            self._finish_task(kind, key, future.result())
                        except HubError as error:
                            self._fail(kind, key, str(error))
                        self.done[kind] += 1
                if time.monotonic() - shown > 0.2:
                    shown = time.monotonic()
                    for kind, total in sorted(self.totals.items()):
                        bar = self.bars.bar(kind, " tasks")
                        bar.total = total
                        bar.update(self.done[kind] - bar.n)
        self.bars.close()

    def _finish_task(self, kind: str, key: str, found: Found, reused: bool = False) -> None:
        with self.cp.transaction() as db:
            self._apply(db, found)
            db.execute("UPDATE tasks SET state=?, error=? WHERE kind=? AND key=?", (DONE, "reused" if reused else None, kind, key))

    def _fail(self, kind: str, key: str, message: str) -> None:
        self.errors += 1
        with self.cp.transaction() as db:
            if kind == "list":
                db.execute("INSERT OR REPLACE INTO meta VALUES(?,?)", (f"list-error:{key}", json.dumps(message)))
            else:
                db.execute("UPDATE tasks SET state=?, error=? WHERE kind=? AND key=?", (FAILED, message, kind, key))
        tqdm.write(f"error: {message}", file=sys.stderr)


class _Named:
    """A user as the likers list gives it (for likers taken from the baseline)."""

    def __init__(self, username: str, fullname: str | None):
        self.username, self.fullname = username, fullname


# ---------------------------------------------------------------- baseline


def _import_baseline(cp: Checkpoint, previous: Path) -> str | None:
    """Copy what an earlier snapshot can spare us into the checkpoint; its snapshot IRI if known."""
    b = hubmap.bindings()
    source, cleanup, snapshot = previous, None, None
    if (previous / "current").is_symlink():  # a store: export it to a release first
        from .export import export_release
        from .iris import IriMinter
        from .store import open_read_only

        cleanup = Path(tempfile.mkdtemp(prefix="hkg-baseline-"))
        source = cleanup / "release"
        store = open_read_only(previous)
        export_release(store, source, IriMinter(_base_iri()), Report())
        latest = list(store.query(
            "PREFIX prov: <http://www.w3.org/ns/prov#> SELECT ?s WHERE { GRAPH ?s { ?s prov:generatedAtTime ?t } } ORDER BY DESC(?t) LIMIT 1"))
        snapshot = latest[0]["s"].value if latest else None
    try:
        release = Release(source)
        keep_types = {"model", "dataset", "space", "user", "org"}
        keep_relations = {b.rel("space", "use", t).name for t in ("model", "dataset")} | {b.rel("user", "like", t).name for t in REPO_TYPES}
        with cp.transaction() as db:
            for entity in release.entities(Report()):
                segment = entity.type.segment
                if segment not in keep_types:
                    continue
                values = entity.values
                if segment in ("user", "org"):
                    kept = values
                else:
                    kept = {k: v for k, v in values.items() if k == "description"} if "description" in values else None
                db.execute("INSERT OR REPLACE INTO base_entities VALUES(?,?,?,?,?)", (
                    segment, entity.id, values.get("lastModified"), values.get("likes"),
                    json.dumps(kept, ensure_ascii=False) if kept is not None else None,
                ))
            for edge in release.edges():
                if edge.relation.name in keep_relations:
                    db.execute("INSERT INTO base_edges VALUES(?,?,?)", (edge.relation.name, edge.subject, edge.object))
    finally:
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)
    manifest = previous / MANIFEST
    if manifest.is_file():
        return json.loads(manifest.read_text(encoding="utf-8")).get("snapshot")
    return snapshot


def _base_iri() -> str:
    from .iris import DEFAULT_BASE_IRI

    return os.environ.get("HKG_BASE_IRI", DEFAULT_BASE_IRI)


# ---------------------------------------------------------------- writing the release


def write_release(cp: Checkpoint, out: Path, name: str, report: Report) -> Path:
    """The checkpoint as a release ``out/name`` plus ``out/triples.txt``, sorted, atomically."""
    b = hubmap.bindings()
    db = cp.db
    final, tmp = out / name, out / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ids: dict[str, set[str]] = {}
    for entity_type in b.vocab.types:
        segment = entity_type.segment
        ids[segment] = set()
        with open(tmp / entity_type.file, "w", encoding="utf-8") as stream:
            writer = JsonArrayWriter(stream)
            description = next((f.name for f in entity_type.fields if f.name == "description"), None) if segment in ("model", "dataset") else None
            rows = db.execute(
                "SELECT e.id, e.record, t.text, t.id IS NOT NULL FROM entities e LEFT JOIN texts t ON t.type=e.type AND t.id=e.id "
                "WHERE e.type=? ORDER BY e.id", (segment,))
            for entity_id, record_json, readme, has_text in rows:
                record = json.loads(record_json)
                if description is not None:
                    record[description] = readme
                    if not has_text:
                        report.keep(f"{entity_type.file}: README not fetched (task failed), description null", entity_id)
                writer.write(record)
                ids[segment].add(entity_id)
                report.entities[segment] += 1
            writer.close()
    publishers = {b.rel(seg, "publish", t).name: seg for seg in ("user", "org") for t in REPO_TYPES}
    with open(out / f".{TRIPLES_TXT}.tmp", "w", encoding="utf-8", newline="\n") as triples:
        for relation in b.vocab.relations:
            with open(tmp / f"{relation.name}.json", "w", encoding="utf-8") as stream:
                writer = JsonArrayWriter(stream)
                rows = db.execute("SELECT subject, object FROM edges WHERE relation=? ORDER BY subject, object", (relation.name,)).fetchall()
                publisher = publishers.get(relation.name)
                if publisher is not None:  # a repo's author, once the overview told user from org
                    rows = sorted(set(rows) | {
                        (author, repo) for repo, author in db.execute("SELECT id, author FROM authors WHERE type=?", (relation.object.segment,))
                        if author in ids[publisher]
                    })
                for subject, obj in rows:
                    missing = missing_ends(Edge(relation, subject, obj), ids)
                    if missing:
                        report.skip(f"{relation.name}: dangling edge ({missing} not crawled)", [subject, obj])
                        continue
                    writer.write({relation.subject_key: subject, relation.object_key: obj})
                    triples.write(f"{subject}\t{relation.name}\t{obj}\n")
                    report.edges[relation.name] += 1
                writer.close()
    for repo_type in REPO_TYPES:
        for repo, author in db.execute("SELECT id, author FROM authors WHERE type=? ORDER BY id", (repo_type,)):
            if repo in ids[repo_type] and author not in ids["user"] and author not in ids["org"]:
                report.skip(f"{repo_type} author is neither a crawled user nor organization (no publish edge)", [author, repo])
    for reason, example in db.execute("SELECT reason, example FROM notes ORDER BY reason, example"):
        report.skip(reason, json.loads(example))
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    os.replace(out / f".{TRIPLES_TXT}.tmp", out / TRIPLES_TXT)
    return final


# ---------------------------------------------------------------- snapshot metadata


def snapshot_iri(base_iri: str, stamp: str) -> str:
    return f"{base_iri}snapshot/{stamp}"


def prov_nquads(manifest: dict) -> str:
    """The snapshot's PROV-O description as N-Quads in the snapshot's own named graph."""
    from .triples import literal
    from .vocab import RDF_TYPE, RDFS, XSD_DATETIME

    prov, dcterms = "http://www.w3.org/ns/prov#", "http://purl.org/dc/terms/"
    snap = manifest["snapshot"]
    graph = f"<{snap}>"
    activity, agent = f"<{snap}#crawl>", f"<{snap}#agent>"
    p = manifest["prov"]
    quads = [
        (f"<{snap}>", f"<{RDF_TYPE}>", f"<{prov}Entity>"),
        (f"<{snap}>", f"<{prov}wasGeneratedBy>", activity),
        (f"<{snap}>", f"<{prov}generatedAtTime>", literal(p["endedAtTime"], XSD_DATETIME)),
        (f"<{snap}>", f"<{dcterms}source>", f"<{p['used']}>"),
        (f"<{snap}>", f"<{RDFS}label>", literal(manifest["release"])),
        (activity, f"<{RDF_TYPE}>", f"<{prov}Activity>"),
        (activity, f"<{prov}startedAtTime>", literal(p["startedAtTime"], XSD_DATETIME)),
        (activity, f"<{prov}endedAtTime>", literal(p["endedAtTime"], XSD_DATETIME)),
        (activity, f"<{prov}used>", f"<{p['used']}>"),
        (activity, f"<{prov}wasAssociatedWith>", agent),
        (agent, f"<{RDF_TYPE}>", f"<{prov}SoftwareAgent>"),
        (agent, f"<{RDFS}label>", literal(" ".join(f"{k} {v}" for k, v in p["wasAssociatedWith"].items()))),
    ]
    if p.get("wasRevisionOf"):
        quads.append((f"<{snap}>", f"<{prov}wasRevisionOf>", f"<{p['wasRevisionOf']}>"))
    return "".join(f"{s} {pr} {o} {graph} .\n" for s, pr, o in quads)


def load_snapshot(store_dir: Path, release: Path, manifest: dict, base_iri: str, report: Report) -> None:
    """Replace the store's content with the snapshot, plus its PROV-O graph (atomic)."""
    import io

    import pyoxigraph as ox

    from .convert import converted_in_process
    from .iris import IriMinter
    from .store import load_atomically

    minter = IriMinter(base_iri)

    def loader(store: ox.Store) -> None:
        with converted_in_process(release, minter, report) as stream:
            store.bulk_load(stream, ox.RdfFormat.N_TRIPLES)
        store.bulk_load(io.BytesIO(prov_nquads(manifest).encode("utf-8")), ox.RdfFormat.N_QUADS)

    load_atomically(store_dir, loader, replace=True)


# ---------------------------------------------------------------- entry point


def crawl(options: Options, store: Path | None = None, base_iri: str | None = None, echo: Callable[[str], None] | None = None) -> Result:
    echo = echo or (lambda message: print(message, file=sys.stderr))
    base_iri = base_iri or _base_iri()
    out = options.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(str(out), f"cannot create the output directory: {error.strerror or error}") from error
    if options.restart:
        for child in out.iterdir():
            if child.name.startswith((CHECKPOINT, MANIFEST, TRIPLES_TXT, RELEASE_PREFIX, f".{RELEASE_PREFIX}")):
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    manifest_path = out / MANIFEST
    previous_manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else None
    if previous_manifest is not None and not previous_manifest["errors"]["count"]:
        manifest = previous_manifest
        echo(f"crawl in {out} is already complete ({manifest['release']}); --restart to crawl again")
        report = Report()
        if store is not None:
            load_snapshot(store, out / manifest["release"], manifest, base_iri, report)
        return Result(manifest, out / manifest["release"], report, resumed_complete=True)

    cp = Checkpoint(out / CHECKPOINT)
    try:
        params = options.params()
        stored = cp.get("params")
        if stored is None:
            started = datetime.now(timezone.utc)
            cp.put("params", params)
            cp.put("started", hub_time(started))
            cp.put("stamp", started.strftime("%Y%m%d%H%M%S"))
            cp.put("runs", 0)
        elif stored != params:
            raise InputError(str(out / CHECKPOINT), f"a crawl with other options is in progress here ({stored}); use the same options, another --out, or --restart")
        cp.put("runs", cp.get("runs", 0) + 1)
        if options.previous is not None and cp.get("baseline") is None:
            if not options.previous.exists():
                raise InputError(str(options.previous), "no such previous crawl, release or store")
            cp.put("baseline", {"path": str(options.previous), "snapshot": _import_baseline(cp, options.previous)})
        run_start = time.monotonic()
        hub = Hub(options.endpoint, workers=options.workers, timeout=options.timeout, retries=options.retries, backoff=options.backoff)
        try:
            crawler = Crawler(options, hub, cp)
            crawler.run()
        finally:
            hub.close()
        elapsed = time.monotonic() - run_start
        runs = cp.get("run_stats", [])
        runs.append({**hub.stats.as_dict(), "seconds": round(elapsed, 3)})
        cp.put("run_stats", runs)
        failed = cp.db.execute("SELECT kind, key, error FROM tasks WHERE state=? ORDER BY kind, key", (FAILED,)).fetchall()
        list_errors = [(k[len("list-error:"):], json.loads(v)) for k, v in cp.db.execute("SELECT key, value FROM meta WHERE key LIKE 'list-error:%'")]
        unfinished = [k for (k,) in cp.db.execute("SELECT kind FROM lists WHERE done=0")]
        if failed or unfinished:
            for kind, message in list_errors:
                echo(f"listing {kind} stopped: {message}")
            echo(f"crawl incomplete: {len(failed)} task(s) failed, listings unfinished: {unfinished or 'none'}; "
                 f"rerun the same command to retry them (finished work is kept in {out / CHECKPOINT})")
            if unfinished:
                raise CrawlIncomplete(f"listings unfinished: {', '.join(unfinished)}")
        report = Report()
        stamp = cp.get("stamp")
        release = write_release(cp, out, f"{RELEASE_PREFIX}{stamp}", report)
        manifest = _manifest(cp, options, hub.endpoint, base_iri, stamp, release, report, failed)
        tmp = out / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, manifest_path)
        if store is not None:
            load_snapshot(store, release, manifest, base_iri, report)
        return Result(manifest, release, report)
    finally:
        cp.close()


class CrawlIncomplete(Exception):
    """A listing could not be finished in this run; rerunning continues it."""


def _manifest(cp: Checkpoint, options: Options, endpoint: str, base_iri: str, stamp: str, release: Path, report: Report, failed: list) -> dict:
    runs = cp.get("run_stats", [])
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    entities = sum(report.entities.values())
    statuses: Counter = Counter()
    retries: Counter = Counter()
    for r in runs:
        statuses.update(r["statuses"])
        retries.update(r["retries"])
    baseline = cp.get("baseline") or {}
    reused = dict(cp.db.execute("SELECT kind, count(*) FROM tasks WHERE error='reused' GROUP BY kind").fetchall())
    tasks = dict(cp.db.execute("SELECT kind, count(*) FROM tasks GROUP BY kind").fetchall())
    pages = dict(cp.db.execute("SELECT kind, pages FROM lists").fetchall())
    ended = _now()
    partial = bool(options.since) and not baseline
    return {
        "snapshot": snapshot_iri(base_iri, stamp),
        "release": release.name,
        "prov": {
            "startedAtTime": cp.get("started"),
            "endedAtTime": ended,
            "used": endpoint,
            "wasAssociatedWith": versions(),
            "wasRevisionOf": baseline.get("snapshot"),
        },
        "parameters": {**options.params(), "workers": options.workers},
        "complete": not failed and not partial and options.limit is None and not options.types,
        "partial_reason": ("only repos modified since " + hub_time(options.since)) if partial else None,
        "entities": dict(report.entities),
        "relations": dict(report.edges),
        "skipped": dict(report.skipped),
        "kept": dict(report.kept),
        "examples": {k: v for k, v in report.examples.items()},
        "errors": {"count": len(failed), "first": [{"task": k, "key": key, "error": e} for k, key, e in failed[:100]]},
        "listing_pages": pages,
        "tasks": tasks,
        "reused_from_previous": reused,
        "requests": {
            "total": requests, "statuses": dict(statuses), "retries": dict(retries), "runs": cp.get("runs", len(runs)),
            "runs_counted": len(runs),  # a killed run's requests are not counted
            "seconds": round(seconds, 3),
            "requests_per_second": round(requests / seconds, 2) if seconds else None,
            "entities_per_second": round(entities / seconds, 2) if seconds else None,
            "max_concurrent_calls": max((r["max_concurrent_calls"] for r in runs), default=0),
        },
    }


def summary(result: Result) -> str:
    m = result.manifest
    r = m["requests"]
    lines = [
        f"{'already complete: ' if result.resumed_complete else ''}{result.release}",
        f"  {sum(m['entities'].values()):,} entities, {sum(m['relations'].values()):,} edges; "
        f"{r['total']:,} requests in {r['seconds']:.1f}s over {r['runs']} run(s) "
        f"({r['requests_per_second']} requests/s, {r['entities_per_second']} entities/s); retries: {r['retries'] or 'none'}",
    ]
    lines += [f"  {name}: {count:,}" for name, count in sorted(m["entities"].items())]
    if m["reused_from_previous"]:
        lines.append(f"  reused from the previous snapshot: {m['reused_from_previous']}")
    for reason, number in sorted(m["skipped"].items()):
        lines.append(f"  skipped {number:,}: {reason}  e.g. {m['examples'].get(reason, [])[:2]}")
    for reason, number in sorted(m["kept"].items()):
        lines.append(f"  kept {number:,}: {reason}")
    if m["errors"]["count"]:
        lines.append(f"  {m['errors']['count']} task(s) failed after retries (rerun to retry): {m['errors']['first'][:3]}")
    return "\n".join(lines)


def iter_checkpoint_pages(out: Path) -> Iterator[tuple[str, str]]:
    """(listing, page URL) of every page the checkpoint in ``out`` holds as finished."""
    db = sqlite3.connect(f"file:{out / CHECKPOINT}?mode=ro", uri=True)
    try:
        yield from db.execute("SELECT kind, url FROM pages").fetchall()
    finally:
        db.close()
