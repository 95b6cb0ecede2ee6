#!/usr/bin/env python3
"""A bounded load test of ``hkg-rdf serve`` on loopback: requests/s and p50/p99 latency.

It loads the example release into a temporary store (entity IRIs minted under the server's own
URL, so they dereference), starts ``hkg-rdf serve`` on 127.0.0.1 on a free port, and runs each
scenario with a fixed number of concurrent clients (keep-alive connections) until a fixed
number of requests is done or a time limit passes, whichever comes first:

- ``entity-page``: GET the HTML page of every entity in turn (attributes, links in and out,
  lineage up and down);
- ``entity-turtle``: GET an entity IRI with Accept: text/turtle, following the 303 to its data;
- ``lineage-query``: GET /sparql with examples/queries/lineage-up.rq (SPARQL JSON results).

With ``--store DIR`` it serves that store instead (e.g. one loaded from a scale-1.0 synthetic
release; it is opened read-only, never changed). Entities are then a seeded random sample of
derived models (the pages with lineage to draw), and the lineage scenarios run the example
queries ``lineage-up.rq`` and ``lineage-down.rq`` from those models, each request with another
start (``--down-from-bases``: lineage-down from their bases, i.e. from popular models with big
families).

Every request must answer 200 (a 303 is followed); anything else, or a transport error,
counts as an error and makes the exit code 1. Traffic goes to 127.0.0.1 only.

    python benchmarks/load_test.py                      # 2000 requests per scenario, 8 clients
    python benchmarks/load_test.py --requests 500 --concurrency 4 --json load.json
    python benchmarks/load_test.py --store bench-data/store-1.0 --sample 2000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import httpx

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
DEFAULT_BASE = "https://w3id.org/huggingkg/resource/"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_scenario(name: str, urls: list[tuple[str, dict]], requests: int, concurrency: int, duration: float) -> dict:
    """Send ``requests`` requests (cycling through ``urls``) from ``concurrency`` clients, at most ``duration`` s."""
    for url, _ in urls:
        if urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit(f"refusing to load anything but loopback: {url}")
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + duration

    def client() -> None:
        with httpx.Client(timeout=60, follow_redirects=True) as http:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                url, headers = urls[i % len(urls)]
                started = time.perf_counter()
                try:
                    response = http.get(url, headers=headers)
                    ok = response.status_code == 200 and response.content
                    problem = None if ok else f"{response.status_code} {url}: {response.text[:200]}"
                except httpx.HTTPError as error:
                    problem = f"{type(error).__name__} {url}: {error}"
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(client) for _ in range(concurrency)]:
            future.result()
    wall = time.perf_counter() - started
    return {
        "scenario": name, "requests": len(latencies), "errors": len(errors), "error_examples": errors[:5],
        "concurrency": concurrency, "seconds": round(wall, 3), "requests_per_second": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(1000 * _percentile(latencies, 0.50), 2) if latencies else None,
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 2) if latencies else None,
        "mean_ms": round(1000 * statistics.fmean(latencies), 2) if latencies else None,
    }


def scenarios(url: str, base: str, store_entities: list[tuple[str, str]]) -> dict[str, list[tuple[str, dict]]]:
    """The requests of each scenario: ``store_entities`` are (IRI, page path) pairs."""
    lineage = (EXAMPLES / "queries" / "lineage-up.rq").read_text(encoding="utf-8").replace(DEFAULT_BASE, base)
    query_url = str(httpx.URL(url + "/sparql", params={"query": lineage}))
    return {
        "entity-page": [(url + page, {"Accept": "text/html"}) for _, page in store_entities],
        "entity-turtle": [(iri, {"Accept": "text/turtle"}) for iri, _ in store_entities],
        "lineage-query": [(query_url, {"Accept": "application/sparql-results+json"})],
    }


def lineage_queries(url: str, starts: list[tuple[str, str]], down_from_bases: bool = False) -> dict[str, list[tuple[str, dict]]]:
    """lineage-up.rq and lineage-down.rq from each sampled start (one start per request)."""
    accept = {"Accept": "application/sparql-results+json"}
    plan = {}
    for name, pick in (("lineage-up", 0), ("lineage-down", int(down_from_bases))):
        text = (EXAMPLES / "queries" / f"{name}.rq").read_text(encoding="utf-8")
        example = re.search(r"<(https://w3id.org/huggingkg/resource/model/[^>]+)>", text).group(1)
        plan[name] = [(str(httpx.URL(url + "/sparql", params={"query": text.replace(example, pair[pick])})), accept) for pair in starts]
    return plan


def sample_derived(store_dir: Path, size: int, seed: int) -> tuple[str, list[tuple[str, str]]]:
    """The store's base IRI and a seeded random sample of (derived model, its base) IRIs."""
    import random

    import pyoxigraph as ox

    sys.path.insert(0, str(REPO))
    from hkg_rdf.serve.void import store_info
    from hkg_rdf.store import open_read_only
    from hkg_rdf.vocab import HKG

    store = open_read_only(store_dir)
    base = store_info(store, "")["base_iri"]
    pairs = [(q.subject.value, q.object.value) for p in ("fineTunedFrom", "adapterOf", "mergedFrom", "quantizedFrom")
             for q in store.quads_for_pattern(None, ox.NamedNode(HKG + p), None, ox.DefaultGraph())]
    del store
    if not pairs or base is None:
        raise SystemExit(f"{store_dir}: no lineage edges (or no entities) to sample")
    return base, random.Random(seed).sample(pairs, min(size, len(pairs)))


def entities(url: str, base: str) -> list[tuple[str, str]]:
    """Every entity of the server's store: (IRI, page path)."""
    query = "SELECT ?e WHERE { ?e a ?class FILTER(STRSTARTS(STR(?class), 'https://w3id.org/huggingkg/ontology#')) } ORDER BY ?e"
    response = httpx.get(url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=60)
    response.raise_for_status()
    iris = [b["e"]["value"] for b in response.json()["results"]["bindings"]]
    return [(iri, "/page/" + iri[len(base):]) for iri in iris if iri.startswith(base)]


def run_all(url: str, base: str, requests: int, concurrency: int, duration: float, starts: list[tuple[str, str]] | None = None,
            down_from_bases: bool = False) -> list[dict]:
    if starts is None:
        plan = scenarios(url, base, entities(url, base))
    else:  # a big store: sampled derived models, their pages and their lineage
        path = urlparse(base).path
        sampled = [(url + path + iri[len(base):], "/page/" + iri[len(base):]) for iri, _ in starts]
        plan = scenarios(url, base, sampled)
        del plan["lineage-query"]
        plan.update(lineage_queries(url, starts, down_from_bases))
    for requests_urls in plan.values():  # warm up: first requests open caches and connections
        run_scenario("warm-up", requests_urls, min(20, requests), 2, duration)
    return [run_scenario(name, urls, requests, concurrency, duration) for name, urls in plan.items()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario (default 2000)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--duration", type=float, default=60.0, help="at most this many seconds per scenario (default 60)")
    parser.add_argument("--workers", type=int, default=None, help="server query workers (default: one per CPU)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--store", type=Path, help="serve this existing store (read-only) instead of the example release")
    parser.add_argument("--sample", type=int, default=2000, help="with --store: derived models sampled (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="with --store: sampling seed")
    parser.add_argument("--down-from-bases", action="store_true", help="with --store: lineage-down from the bases of the sampled models")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hkg-load-") as tmp:
        port = _free_port()
        url, base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/resource/"
        starts = None
        if args.store:
            store = args.store.resolve()
            base, starts = sample_derived(store, args.sample, args.seed)
        else:
            store = Path(tmp) / "store"
            subprocess.run([sys.executable, "-m", "hkg_rdf", "load", str(EXAMPLES / "HuggingKG_V20241215000000"), "--store", str(store), "--base-iri", base],
                           check=True, capture_output=True, cwd=REPO)
        command = [sys.executable, "-m", "hkg_rdf", "serve", "--store", str(store), "--port", str(port), "--access-log", os.devnull, "--no-dump-generation"]
        if args.workers:
            command += ["--workers", str(args.workers)]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start: {server.stderr.read().decode() if server.poll() is not None else 'timeout'}")
                time.sleep(0.1)
            results = run_all(url, base, args.requests, args.concurrency, args.duration, starts, args.down_from_bases)
        finally:
            server.terminate()
            server.wait(15)

    print(f"{'scenario':<15}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        print(f"{r['scenario']:<15}{r['requests']:>9}{r['errors']:>8}{r['requests_per_second']:>9}{r['p50_ms']:>9}{r['p99_ms']:>9}")
        for example in r["error_examples"]:
            print(f"  error: {example[:300]}")
    if args.json:
        args.json.write_text(json.dumps({"cpus": os.cpu_count(), "results": results}, indent=1))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
