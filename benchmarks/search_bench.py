#!/usr/bin/env python3
"""Search index: build time and query latency on a store, run by hand (nothing asserts a time).

    python benchmarks/search_bench.py --store STORE [--work DIR] [--repeat 20] [--json out.json]

Builds the search index of STORE's live version into ``--work`` (the store is only read, so
any store can be measured, even one another process serves), exactly as ``hkg-rdf load`` builds
it into a new version, then runs a fixed set of queries (the issue's "llama 3.1 instruct",
exact ids sampled from the index, one- and two-letter prefixes, common words, type-filtered,
deep pages, nothing found), each ``--repeat`` times on a fresh connection per query as the
server opens one per request.

Reference, measured in the same run on the same store: one SPARQL scan of every ``hkg:id``
triple (``SELECT ?s ?o WHERE { ?s hkg:id ?o }``), the least any index built from the store
must read. The build's ratio to it says how much the staging, sorting and FTS5 writing cost on
top of reading; on a shared machine, only numbers from one run are comparable.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hkg_rdf import search  # noqa: E402
from hkg_rdf.store import live_path, open_read_only  # noqa: E402
from hkg_rdf.vocab import HKG  # noqa: E402

QUERIES = [
    ("issue: llama 3.1 instruct", "llama 3.1 instruct", ()),
    ("exact id", None, ()),  # filled with ids sampled from the index
    ("prefix of a name", "Llama-3.1-8B", ()),
    ("one letter", "a", ()),
    ("two letters", "ll", ()),
    ("common word", "model", ()),
    ("two common words", "bert base", ()),
    ("type filter: dataset", "wiki", ("dataset",)),
    ("type filter: task", "text", ("task",)),
    ("deep page (offset 480)", "llama", ()),
    ("nothing found", "zzqxjv nothing", ()),
    ("punctuation only", "\"*(-)", ()),
]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reference_scan(store) -> tuple[float, int]:
    started = time.perf_counter()
    n = sum(1 for _ in store.query(f"SELECT ?s ?o WHERE {{ ?s <{HKG}id> ?o }}"))
    return time.perf_counter() - started, n


def latency(version: Path, query: str, types: tuple[str, ...], repeat: int, offset: int = 0) -> dict:
    times, found = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        db = search.open_index(version)
        results = search.search(db, query, types, 20, offset)
        db.close()
        times.append((time.perf_counter() - started) * 1000)
        found = results
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2), "max_ms": round(times[-1], 2),
            "total": found.total, "capped": found.more, "first": f"{found.hits[0].type} {found.hits[0].id}" if found.hits else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=None, help="where the index is written (default: a temporary directory)")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; store {live_path(args.store)}")
    store = open_read_only(args.store)
    ref_seconds, ids = reference_scan(store)
    print(f"reference: SPARQL scan of {ids:,} hkg:id triples in {ref_seconds:.1f} s ({ids / ref_seconds:,.0f}/s)")
    work = args.work or Path(tempfile.mkdtemp(prefix="hkg-search-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    counts = search.build_index(store, work)
    size = search.index_path(work).stat().st_size
    build = {**counts, "index_bytes": size, "peak_rss_mb": round(_peak_mb()), "ratio_to_reference": round(counts["seconds"] / ref_seconds, 2),
             "entities_per_s": round(counts["entities"] / counts["seconds"]), "load_average": load_before}
    print(f"build: {counts['entities']:,} entities in {counts['seconds']:.1f} s ({build['entities_per_s']:,}/s), "
          f"{build['ratio_to_reference']}x the reference scan; index {size / 1e6:,.0f} MB; peak RSS {build['peak_rss_mb']:,} MB "
          f"(load average {load_before:.2f} at start)")

    db = search.open_index(work)
    rows = db.execute("SELECT key FROM entity WHERE rowid IN (SELECT abs(random()) % (SELECT max(rowid) FROM entity) + 1 FROM entity LIMIT 50)").fetchall()
    db.close()
    sample = [r[0] for r in rows] or ["x"]
    results = {}
    print(f"\n{'query':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'matches':>9}  first hit")
    for name, query, types in QUERIES:
        if query is None:
            runs = [latency(work, random.Random(i).choice(sample), types, max(1, args.repeat // 4)) for i in range(8)]
            row = {"p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2), "p95_ms": max(r["p95_ms"] for r in runs),
                   "max_ms": max(r["max_ms"] for r in runs), "total": runs[0]["total"], "capped": runs[0]["capped"], "first": runs[0]["first"]}
        else:
            row = latency(work, query, types, args.repeat, 480 if name.startswith("deep") else 0)
        results[name] = row
        print(f"{name:<28} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['max_ms']:>8} {row['total']:>8}{'+' if row['capped'] else ' '}  {row['first']}")
    if args.json:
        args.json.write_text(json.dumps({"store": str(args.store), "reference_seconds": ref_seconds, "build": build, "queries": results}, indent=1))
    if args.work is None:
        search.index_path(work).unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
