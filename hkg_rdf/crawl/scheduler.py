"""The crawl's work: four listings and the tasks their items queue, on worker threads.

Tag listings and ``/api/tasks`` come first (they classify tags); then four listings (models,
datasets, spaces with the ``expand`` keys the release needs, so a space's models and datasets
come with it; collections), each a chain of pages. Every listed thing queues what it needs, as
the constructor fetched it: the README of every model and dataset, the likers of every repo,
the details of every collection, the overview of each author (user or organization?), every
paper cited or collected; each user queues its overview and followers, each organization its
overview, followers and members. Workers run the requests; the main thread alone writes the
checkpoint, one transaction per page or task.

**Failure isolation**: any exception while a task is fetched or applied fails that task alone
(state FAILED, with its traceback in the manifest; the next run retries it); a listed item the
client cannot build, or the rules cannot derive, fails alone as a task ``item:<type>`` (the next
run asks for that repo alone); a listing whose page fails stops that listing for this run, the
others go on. A repository the Hub will not show
(401/403/404 from the client's ``RepositoryNotFoundError``, ``GatedRepoError``,
``DisabledRepoError``) is *gone*: counted, never retried, and a crawl whose only failures are
gone repositories completes.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import traceback
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from urllib.parse import urlencode

from tqdm import tqdm

from ..errors import refused_write
from . import rules
from .checkpoint import DONE, FAILED, GONE, PENDING, Checkpoint
from .client import Gone, Hub, TooLarge, Unreadable
from .rules import Found, hub_time

LISTINGS = ("model", "dataset", "space", "collection")
REPO_TYPES = ("model", "dataset", "space")
_ACCOUNT_TASKS = ("owner", "user", "org", "person")
_TRACEBACK_CHARS = 4000


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


def _checkpoint_refused(error: BaseException) -> bool:
    """A checkpoint write the disk refused: not the task's or listing's fault, so it stops the
    crawl (``run`` reports it) instead of failing them, which would record the disk as the Hub's."""
    return isinstance(error, sqlite3.Error) and refused_write(error)


def _traceback(error: BaseException) -> str:
    text = "".join(traceback.format_exception(error)).strip()
    return text if len(text) <= _TRACEBACK_CHARS else "..." + text[-_TRACEBACK_CHARS:]


class Crawler:
    def __init__(self, options, hub: Hub, checkpoint: Checkpoint):
        self.o, self.hub, self.cp = options, hub, checkpoint
        self.b = rules.bindings()
        self.want = set(options.types) if options.types else set(self.b.types)
        self.since = hub_time(options.since)
        self.baseline = bool(self.cp.get("baseline"))
        self.tables: dict[str, dict] = {}
        self.bars = _Bars()
        self.totals: Counter = Counter()  # tasks known, per kind
        self.done: Counter = Counter()  # tasks finished (or failed), per kind

    # -------------------------------------------------- what to fetch

    def _wanted_task(self, kind: str) -> bool:
        w = self.want
        base, _, segment = kind.partition(":")
        if base == "readme":
            return segment in w
        if base in ("likers", "user", "person"):
            return "user" in w
        if base == "item":
            return segment in w
        if base == "owner":
            return bool({"user", "org"} & w)
        if base in ("followers", "members"):
            return "user" in w and (segment or "org") in w
        return base in w  # collection, paper, org

    def _fetch(self, kind: str, key: str) -> Found:
        """Run in a worker: one task's requests, turned into records and edges by the rules."""
        hub = self.hub
        base, _, segment = kind.partition(":")
        if base == "readme":
            try:
                return Found(texts=[(segment, key, hub.readme(segment, key))])
            except TooLarge as error:
                return Found(texts=[(segment, key, None)], skipped=[("README over 100 MB not fetched (as the constructor)", str(error))])
        if base == "collection":
            info = hub.collection(key)
            return rules.collection(info) if info is not None else Found(skipped=[("collection not found (404)", key)])
        if base == "paper":
            info = hub.paper(key)
            return rules.paper(key, info) if info is not None else Found(skipped=[("paper unknown to the Hub (404)", key)])
        if base == "likers":
            return rules.likers(segment, key, hub.likers(segment, key) or [])
        if base == "followers":
            return rules.follows(("user", "follow", segment), hub.followers(segment, key) or [], key, self.o.expand_people)
        if base == "members":
            return rules.follows(("user", "affiliatedWith", "org"), hub.members(key) or [], key, self.o.expand_people)
        if base == "item":  # a listed item that could not be read: asked for alone
            if segment not in REPO_TYPES:
                raise ValueError(f"a {segment} listing entry without its key ({key}) cannot be asked for alone")
            info = hub.repo(segment, key)
            return self._listed(segment, info)[1] if info is not None else Found(skipped=[(f"listed {segment} gone since (404)", key)])
        if base == "person":  # --expand-people: a follower or member as a user, without its own followers
            overview = hub.user(key)
            return rules.account("user", key, overview) if overview is not None else Found(skipped=[("user overview not found (404): no user record", key)])
        if base in ("owner", "user"):
            overview = hub.user(key)
            if overview is not None:
                return self._account("user", key, overview)
            if base == "user":
                return Found(skipped=[("user overview not found (404): no user record", key)])
        if base in ("owner", "org"):
            overview = hub.organization(key)
            if overview is not None:
                return self._account("org", key, overview)
            return Found() if base == "owner" else Found(skipped=[("organization overview not found (404): no record", key)])
        raise ValueError(f"unknown task {kind}")

    @staticmethod
    def _account(kind: str, name: str, overview) -> Found:
        found = rules.account(kind, name, overview)
        found.tasks = [("followers:user", name)] if kind == "user" else [("followers:org", name), ("members", name)]
        return found

    # -------------------------------------------------- applying answers (main thread)

    def _enqueue(self, db: sqlite3.Connection, kind: str, key: str) -> None:
        if not self._wanted_task(kind):
            return
        if kind in _ACCOUNT_TASKS:  # one overview per name: an author's classification also gives its record
            marks = ",".join("?" * len(_ACCOUNT_TASKS))
            known = db.execute(f"SELECT kind FROM tasks WHERE key=? AND kind IN ({marks}) LIMIT 1", (key, *_ACCOUNT_TASKS)).fetchone()
            if known == ("person",) and kind in ("user", "owner"):  # a follower who is a user by HuggingKG's rules: its followers too
                self._enqueue(db, "followers:user", key)
            if known is not None:
                return
        if db.execute("INSERT OR IGNORE INTO tasks(kind, key) VALUES(?,?)", (kind, key)).rowcount:
            self.totals[kind] += 1

    def _apply(self, db: sqlite3.Connection, found: Found) -> None:
        for segment, entity_id, record in found.records:
            if segment in self.want:
                db.execute("INSERT OR REPLACE INTO entities VALUES(?,?,?)", (segment, entity_id, json.dumps(record, ensure_ascii=False)))
        db.executemany("INSERT OR IGNORE INTO edges VALUES(?,?,?)", found.edges)
        for segment, entity_id, author in found.authors:
            db.execute("INSERT OR REPLACE INTO authors VALUES(?,?,?)", (segment, entity_id, author))
            self._enqueue(db, "owner", author)
        for arxiv_id in found.papers:
            self._enqueue(db, "paper", arxiv_id)
        for name in found.users:
            self._enqueue(db, "user", name)
        for name in found.orgs:
            self._enqueue(db, "org", name)
        for name in found.people:
            self._enqueue(db, "person", name)
        for segment, entity_id, readme in found.texts:
            db.execute("INSERT OR REPLACE INTO texts VALUES(?,?,?)", (segment, entity_id, readme))
        for kind, key in found.tasks:
            self._enqueue(db, kind, key)
        db.executemany("INSERT OR IGNORE INTO notes VALUES(?,?)", [(r, json.dumps(e, ensure_ascii=False)) for r, e in found.skipped])
        for kind, key, trace in found.failed:
            if db.execute("INSERT INTO tasks VALUES(?,?,?,?) ON CONFLICT(kind, key) DO UPDATE SET state=excluded.state, error=excluded.error",
                          (kind, key, FAILED, trace)).rowcount:
                self.totals[kind] += 1

    # -------------------------------------------------- listings

    def _listed(self, kind: str, item) -> tuple[str | None, Found]:
        """(time for --since, what one listed item gives) — in a worker."""
        if getattr(item, "private", None) and not self.o.include_private:
            key = item.slug if kind == "collection" else item.id
            return hub_time(item.last_updated if kind == "collection" else item.last_modified), Found(
                skipped=[(f"private {kind} left out (--include-private keeps it)", key)])
        if kind == "collection":
            return hub_time(item.last_updated), Found(tasks=[("collection", item.slug)])
        if kind == "model":
            found = rules.model(item, self.tables["model"])
        elif kind == "dataset":
            found = rules.dataset(item, self.tables["dataset"])
        else:
            found = rules.space(item)
        if kind == "model" and item.siblings is not None and not any(s.rfilename == "README.md" for s in item.siblings):
            found.texts.append((kind, item.id, None))  # its file list has no README: the HEAD would be a 404
        elif kind != "space":
            found.tasks.append((f"readme:{kind}", item.id))  # datasets: their listing sends no file list
        found.tasks.append((f"likers:{kind}", item.id))  # a like count of 0 is no proof of no likers
        return hub_time(item.last_modified), found

    def _fetch_page(self, kind: str, url: str, offset: int) -> tuple[list[tuple[str | None, Found]], str | None]:
        items, following = self.hub.page(kind, url, offset)
        return [self._listed_alone(kind, item) for item in items], following

    def _listed_alone(self, kind: str, item) -> tuple[str | None, Found]:
        """:meth:`_listed`, where an item that cannot be read or derived fails alone (a task the next run retries)."""
        error = item.error if isinstance(item, Unreadable) else None
        if error is None:
            try:
                return self._listed(kind, item)
            except Exception as failure:
                error = failure
        key = item.key if isinstance(item, Unreadable) else (item.slug if kind == "collection" else item.id)
        if kind == "collection" and "#" not in key:  # its slug is all the listing gives: the details come from get_collection
            return None, Found(tasks=[("collection", key)])
        return None, Found(failed=[(f"item:{kind}", key, _traceback(error))])

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
                if self.since and not self.baseline and not found.failed and (modified is None or modified < self.since):
                    done = True
                    break
                self._apply(db, found)
                used += 1
            db.execute("INSERT OR REPLACE INTO pages VALUES(?,?,?)", (kind, url, used))
            db.execute("UPDATE lists SET next_url=?, taken=taken+?, pages=pages+1, done=? WHERE kind=?", (following, used, int(done), kind))
        self.bars.bar(f"list {kind}s", " items").update(used)

    # -------------------------------------------------- baseline reuse (main thread)

    def _reuse(self, kind: str, key: str) -> Found | None:
        """What a previous snapshot already says, when the Hub says it has not changed."""
        if not self.baseline:
            return None
        db = self.cp.db
        base, _, segment = kind.partition(":")
        if base in ("owner", "user"):  # users only: organizations are few, and their overview gives their fresh full name
            row = db.execute("SELECT record FROM base_entities WHERE type='user' AND id=?", (key,)).fetchone()
            return None if row is None else self._account("user", key, _Named(json.loads(row[0]).get("fullname")))
        if base not in ("readme", "likers"):
            return None
        current = db.execute("SELECT record FROM entities WHERE type=? AND id=?", (segment, key)).fetchone()
        old = db.execute("SELECT last_modified, likes, record FROM base_entities WHERE type=? AND id=?", (segment, key)).fetchone()
        if current is None or old is None:
            return None
        now = json.loads(current[0])
        if base == "likers":
            if now.get("likes") is None or now.get("likes") != old[1]:
                return None
            relation = self.b.rel("user", "like", segment)
            rows = db.execute("SELECT subject FROM base_edges WHERE relation=? AND object=?", (relation, key)).fetchall()
            return rules.likers(segment, key, [name for (name,) in rows])
        modified = now.get("lastModified")
        if modified is None or not (modified == old[0] or (self.since is not None and modified < self.since)):
            return None
        return Found(texts=[(segment, key, json.loads(old[2]).get("description") if old[2] else None)])

    # -------------------------------------------------- the loop

    def _start(self) -> None:
        cp = self.cp
        if cp.get("tags") is None:
            listings = self.hub.tag_listings()
            api_tasks = self.hub.tasks() if "task" in self.want else {}
            with cp.transaction() as db:
                cp.put("tags", list(listings))
                if "task" in self.want:
                    self._apply(db, Found(records=rules.tasks(api_tasks, *listings)))
        model_listing, dataset_listing = cp.get("tags")
        self.tables = {"model": rules.tag_table(model_listing), "dataset": rules.tag_table(dataset_listing)}
        newest_modified = bool(self.since) and not self.baseline
        with cp.transaction() as db:
            for kind in LISTINGS:
                if kind in self.want:
                    url, params = self.hub.first_page(kind, self.o.page_size, newest_modified)
                    db.execute("INSERT OR IGNORE INTO lists(kind, next_url) VALUES(?,?)", (kind, f"{url}?{urlencode(params)}"))
            db.execute("UPDATE tasks SET state=?, error=NULL WHERE state=?", (PENDING, FAILED))  # a new run retries them

    def run(self) -> None:
        self._start()
        cp, workers = self.cp, self.o.workers
        running: dict[Future, tuple] = {}
        lists_running: set[str] = set()
        tasks_running: set[tuple[str, str]] = set()
        stalled: set[str] = set()
        self.totals.update(dict(cp.db.execute("SELECT kind, count(*) FROM tasks GROUP BY kind").fetchall()))
        self.done.update(dict(cp.db.execute("SELECT kind, count(*) FROM tasks WHERE state<>? GROUP BY kind", (PENDING,)).fetchall()))
        shown = 0.0
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crawl") as pool:
            while True:
                for kind, url, taken in cp.db.execute("SELECT kind, next_url, taken FROM lists WHERE done=0").fetchall():
                    if kind not in lists_running and kind not in stalled and url:
                        running[pool.submit(self._fetch_page, kind, url, taken)] = ("list", kind, url)
                        lists_running.add(kind)
                self._submit_tasks(pool, running, tasks_running)
                if not running:
                    if cp.db.execute("SELECT 1 FROM tasks WHERE state=? LIMIT 1", (PENDING,)).fetchone():
                        continue  # only reused tasks were picked: pick again
                    break
                finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    what = running.pop(future)
                    if what[0] == "list":
                        self._finish_page(future, *what[1:], lists_running, stalled)
                    else:
                        tasks_running.discard(what[1:])
                        self._finish_task(future, *what[1:])
                if time.monotonic() - shown > 0.2:
                    shown = time.monotonic()
                    for kind, total in sorted(self.totals.items()):
                        bar = self.bars.bar(kind, " tasks")
                        bar.total = total
                        bar.update(self.done[kind] - bar.n)
        self.bars.close()

    def _submit_tasks(self, pool: ThreadPoolExecutor, running: dict, tasks_running: set) -> None:
        room = 2 * self.o.workers - len(tasks_running)
        if room <= 0:
            return
        rows = self.cp.db.execute(
            "SELECT kind, key FROM tasks WHERE state=? ORDER BY rowid LIMIT ?", (PENDING, room + len(tasks_running))).fetchall()
        for kind, key in rows:
            if (kind, key) in tasks_running:
                continue
            reused = self._reuse(kind, key)
            if reused is not None:
                self._record(kind, key, reused, DONE, "reused")
                continue
            running[pool.submit(self._fetch, kind, key)] = ("task", kind, key)
            tasks_running.add((kind, key))
            if len(tasks_running) >= 2 * self.o.workers:
                return

    def _finish_page(self, future: Future, kind: str, url: str, lists_running: set, stalled: set) -> None:
        lists_running.discard(kind)
        try:
            self._apply_page(kind, url, future.result())
        except Exception as error:  # one listing stops for this run; the rest goes on
            if _checkpoint_refused(error):
                raise
            stalled.add(kind)
            self.cp.put(f"list-error:{kind}", _traceback(error))
            tqdm.write(f"error: listing {kind}s stopped: {error}", file=sys.stderr)

    def _finish_task(self, future: Future, kind: str, key: str) -> None:
        try:
            found = future.result()
        except Gone as gone:
            self._record(kind, key, Found(), GONE, gone.reason)
            return
        except Exception as error:  # this task fails, the crawl goes on
            self._fail(kind, key, error)
            return
        try:
            self._record(kind, key, found, DONE, None)
        except Exception as error:  # a record that cannot be applied fails its task only
            if _checkpoint_refused(error):
                raise
            self._fail(kind, key, error)

    def _record(self, kind: str, key: str, found: Found, state: int, note: str | None) -> None:
        with self.cp.transaction() as db:
            self._apply(db, found)
            db.execute("UPDATE tasks SET state=?, error=? WHERE kind=? AND key=?", (state, note, kind, key))
        self.done[kind] += 1

    def _fail(self, kind: str, key: str, error: BaseException) -> None:
        with self.cp.transaction() as db:
            db.execute("UPDATE tasks SET state=?, error=? WHERE kind=? AND key=?", (FAILED, _traceback(error), kind, key))
        self.done[kind] += 1
        tqdm.write(f"error: {kind} {key}: {error}", file=sys.stderr)


class _Named:
    """An overview as a previous snapshot gives it (its full name)."""

    def __init__(self, fullname: str | None):
        self.fullname = fullname
