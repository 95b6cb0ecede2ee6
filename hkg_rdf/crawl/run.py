"""``hkg-rdf crawl``: the Hugging Face Hub into a HuggingKG release, complete, resumable, incremental.

``crawl(options)`` fills the checkpoint ``OUT/crawl.sqlite`` from the Hub (:mod:`.scheduler`,
through the client wrapper :mod:`.client`, the constructor's rules :mod:`.rules`) and, once
nothing is left to fetch, writes from it (:mod:`.release`)

    OUT/HuggingKG_V<start time>/   the 38 JSON files, in the published format and serialisation
    OUT/triples.txt                one edge per line, beside the release as published
    OUT/crawl-manifest.json        the snapshot: PROV-O times, endpoint, tool versions, counts,
                                   what was skipped, gone or failed and why, requests made,
                                   and where the crawl differs from the original crawler on purpose

so ``hkg-rdf convert / load / validate / export`` read a crawl like any release. A killed crawl
rerun with the same command continues where it stopped; tasks that failed are retried by the
next run. ``previous`` (:mod:`.baseline`) makes the crawl incremental; without one, ``since``
lists only repos modified since that time, a partial snapshot marked so in the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InputError, refused_write
from ..report import Report
from . import baseline
from .checkpoint import CHECKPOINT, FAILED, SCHEMA_VERSION, Checkpoint
from .client import Hub
from .release import MANIFEST, RELEASE_PREFIX, TRIPLES_TXT, load_snapshot, manifest as write_manifest, write_release
from .rules import hub_time
from .scheduler import Crawler


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
    include_private: bool = False  # a token lists its owner's private repos: left out unless asked for
    token: str | bool | None = None  # None: the client's (HF_TOKEN or the saved login)
    expand_people: bool = False  # followers and members made users too (wider than HuggingKG)

    def params(self) -> dict:
        """What must match for a rerun to continue this crawl."""
        return {
            "types": sorted(self.types), "limit": self.limit, "since": hub_time(self.since),
            "previous": str(self.previous.resolve()) if self.previous else None, "page_size": self.page_size,
            "include_private": self.include_private, "expand_people": self.expand_people,
        }


@dataclass
class Result:
    manifest: dict
    release: Path
    report: Report
    resumed_complete: bool = False


def crawl(options: Options, store: Path | None = None, base_iri: str | None = None, echo: Callable[[str], None] | None = None) -> Result:
    echo = echo or (lambda message: print(message, file=sys.stderr))
    base_iri = base_iri or baseline.base_iri()
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

    with _refused_writes_reported(out):
        return _crawl(options, out, store, base_iri, echo)


def _crawl(options: Options, out: Path, store: Path | None, base_iri: str, echo: Callable[[str], None]) -> Result:
    """The crawl proper, once ``out`` is there and no complete crawl is in it."""
    manifest_path = out / MANIFEST
    cp = Checkpoint(out / CHECKPOINT)
    try:
        params = options.params()
        stored = cp.get("params")
        if stored is not None and cp.get("schema") != SCHEMA_VERSION:
            raise InputError(str(out / CHECKPOINT), "a checkpoint of an older hkg-rdf crawl is here; use another --out, or --restart")
        if stored is None:
            with cp.transaction():  # all or none, so a rerun after a refused write finds no params without a stamp
                cp.put("schema", SCHEMA_VERSION)
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
            cp.put("baseline", {"path": str(options.previous), "snapshot": baseline.import_baseline(cp, options.previous)})
        run_start = time.monotonic()
        hub = Hub(options.endpoint, workers=options.workers, timeout=options.timeout, retries=options.retries, backoff=options.backoff, token=options.token)
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
        list_errors = [(k[len("list-error:"):], json.loads(v).splitlines()[-1]) for k, v in cp.db.execute("SELECT key, value FROM meta WHERE key LIKE 'list-error:%'")]
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
        manifest = write_manifest(cp, options, hub.endpoint, base_iri, stamp, release, report, failed)
        tmp = out / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, manifest_path)
        if store is not None:
            load_snapshot(store, release, manifest, base_iri, report)
        return Result(manifest, release, report)
    finally:
        cp.close()


@contextmanager
def _refused_writes_reported(out: Path) -> Iterator[None]:
    """A write the file system refuses (a full disk) as the one-line InputError the CLI reports
    (exit 2), not a traceback. Nothing finished is lost: every checkpoint write is one transaction
    (rolled back, or never committed, when refused), and the release and manifest are written
    aside and renamed, so the same command, rerun, resumes."""
    try:
        yield
    except Exception as error:
        if not refused_write(error):
            raise
        if isinstance(error, sqlite3.Error):
            file, reason = out / CHECKPOINT, str(error)
        else:  # an OSError: it names the file unless a write to an open one failed
            file, reason = error.filename or out, error.strerror or str(error)
        raise InputError(str(file), f"cannot write it ({reason}); the crawl can be resumed from its checkpoint: "
                                    "make room and rerun the same command") from error


class CrawlIncomplete(Exception):
    """A listing could not be finished in this run; rerunning continues it."""
