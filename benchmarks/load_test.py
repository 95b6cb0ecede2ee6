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
families). Each scenario is measured warm: every one of its URLs is requested once first.

Every request must answer 200 (a 303 is followed); anything else, or a transport error,
counts as an error and makes the exit code 1. Traffic goes to 127.0.0.1 only; each client
connects from its own loopback address (127.0.0.2, 127.0.0.3, ...), as distinct clients would,
since the server limits concurrent queries per client address.

Then, unless --no-flood, the attack scenario ``slow-query flood + cheap requests``: 10 clients
(from 127.0.1.x) send a query that runs until the server stops it, back to back, while cheap
clients cycle through entity pages, entity Turtle and a small query; it reports the share of
cheap requests that succeeded and their p50/p99, and what the flooding clients got.

    python benchmarks/load_test.py                      # 2000 requests per scenario, 8 clients
    python benchmarks/load_test.py --requests 500 --concurrency 4 --json load.json
    python benchmarks/load_test.py --store bench-data/store-1.0 --sample 2000
"""

from __future__ import annotations

import argparse
import http.client
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
from urllib.parse import urlencode, urljoin, urlparse, urlsplit

import httpx

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
DEFAULT_BASE = "https://w3id.org/huggingkg/resource/"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class _Client:
    """A keep-alive HTTP/1.1 client from loopback address 127.0.<subnet>.<number + 2>, following redirects.

    The standard library's ``http.client``: the clients share the machine with the server, and
    httpx took 1.1 ms of CPU per entity page (0.6 ms for a bare health check), as much as the
    server's event loop. Bodies are taken as sent (gzip, which it asks for as browsers do)."""

    def __init__(self, number: int, subnet: int = 0):
        self.source = f"127.0.{subnet}.{number % 250 + 2}"
        self.connections: dict[str, http.client.HTTPConnection] = {}

    def get(self, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
        headers = {"Accept-Encoding": "gzip", **headers}
        for _ in range(5):
            status, location, body = self._send(urlsplit(url), headers)
            if status not in (301, 302, 303, 307, 308) or not location:
                return status, body
            url = urljoin(url, location)
        return status, body

    def _send(self, parts, headers: dict[str, str]) -> tuple[int, str | None, bytes]:
        reused = parts.netloc in self.connections
        connection = self.connections.pop(parts.netloc, None) or http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=60, source_address=(self.source, 0))
        try:
            connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            if reused:  # the server closed the kept connection meanwhile: once more, on a new one
                return self._send(parts, headers)
            raise
        self.connections[parts.netloc] = connection
        return response.status, response.getheader("Location"), body

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()


def _problem(client: _Client, url: str, headers: dict[str, str]) -> str | None:
    """None if ``url`` answers 200 with a body, else what went wrong."""
    try:
        status, body = client.get(url, headers)
    except (OSError, http.client.HTTPException) as error:
        return f"{type(error).__name__} {url}: {error}"
    return None if status == 200 and body else f"{status} {url}: {body[:200]!r}"


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

    def client(number: int) -> None:
        session = _Client(number)
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            url, headers = urls[i % len(urls)]
            started = time.perf_counter()
            problem = _problem(session, url, headers)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if problem:
                    errors.append(problem)
        session.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(client, i) for i in range(concurrency)]:
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
    results = []
    for name, urls in plan.items():
        # Warm up (not counted): the first requests open caches and connections. On a big store
        # every URL is requested once, right before it is measured: a VM may page out what was
        # not read for a while (here DAMON pages out memory untouched for 60 s), and the pass
        # would then measure the disk instead of the server.
        run_scenario("warm-up", urls, min(20, requests) if starts is None else len(urls), 2, duration)
        results.append(run_scenario(name, urls, requests, concurrency, duration))
    return results


#: A query that runs until the server stops it (a four-way cartesian product, counted).
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o }"


def run_flood(url: str, plan: dict[str, list[tuple[str, dict]]], flooders: int = 10, cheap_clients: int = 4, duration: float = 30.0) -> dict:
    """``flooders`` clients send SLOW_QUERY back to back while ``cheap_clients`` cycle through the cheap requests."""
    cheap = [request for group in zip(plan["entity-page"], plan["entity-turtle"], plan["lineage-query"] * len(plan["entity-page"])) for request in group]
    deadline = time.monotonic() + duration
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    flood: dict[str, int] = {}

    def flooder(number: int) -> None:
        session, target = _Client(number, subnet=1), url + "/sparql?" + urlencode({"query": SLOW_QUERY})
        while time.monotonic() < deadline:
            try:
                outcome = str(session.get(target, {"Accept": "application/sparql-results+json"})[0])
            except (OSError, http.client.HTTPException) as error:
                outcome = type(error).__name__
            with lock:
                flood[outcome] = flood.get(outcome, 0) + 1
        session.close()

    def client(number: int) -> None:
        session, i = _Client(number), number
        while time.monotonic() < deadline:
            target, headers = cheap[i % len(cheap)]
            i += cheap_clients
            started = time.perf_counter()
            problem = _problem(session, target, headers)
            with lock:
                latencies.append(time.perf_counter() - started)
                if problem:
                    failures.append(problem)
        session.close()

    with ThreadPoolExecutor(flooders + cheap_clients) as pool:
        futures = [pool.submit(flooder, i) for i in range(flooders)]
        time.sleep(1.0)  # the flood first
        futures += [pool.submit(client, i) for i in range(cheap_clients)]
        for future in futures:
            future.result()
    done = len(latencies)
    return {
        "scenario": "slow-query flood + cheap requests", "flooding_clients": flooders, "cheap_clients": cheap_clients, "seconds": duration,
        "cheap_requests": done, "cheap_succeeded": done - len(failures), "cheap_success_rate": round((done - len(failures)) / done, 4) if done else None,
        "cheap_p50_ms": round(1000 * _percentile(latencies, 0.50), 2) if latencies else None,
        "cheap_p99_ms": round(1000 * _percentile(latencies, 0.99), 2) if latencies else None,
        "flood_answers": dict(sorted(flood.items())), "failure_examples": failures[:5],
    }


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
    parser.add_argument("--flood-seconds", type=float, default=30.0, help="length of the slow-query flood scenario (default 30)")
    parser.add_argument("--no-flood", action="store_true", help="skip the slow-query flood scenario")
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
        log = Path(tmp) / "server.log"  # a file, not a pipe: a full pipe nobody reads would stall the server's logging
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=open(log, "wb"), cwd=REPO)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start: {log.read_text() if server.poll() is not None else 'timeout'}")
                time.sleep(0.1)
            results = run_all(url, base, args.requests, args.concurrency, args.duration, starts, args.down_from_bases)
            flood = None if args.no_flood else run_flood(url, scenarios(url, base, entities(url, base)), duration=args.flood_seconds)
        finally:
            server.terminate()
            server.wait(15)

    print(f"{'scenario':<15}{'requests':>9}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for r in results:
        print(f"{r['scenario']:<15}{r['requests']:>9}{r['errors']:>8}{r['requests_per_second']:>9}{r['p50_ms']:>9}{r['p99_ms']:>9}")
        for example in r["error_examples"]:
            print(f"  error: {example[:300]}")
    if flood:
        print(f"\n{flood['scenario']}: {flood['flooding_clients']} flooding clients, {flood['cheap_clients']} cheap clients, {flood['seconds']:g} s")
        print(f"  cheap requests: {flood['cheap_requests']}, succeeded {100 * (flood['cheap_success_rate'] or 0):.2f} %, "
              f"p50 {flood['cheap_p50_ms']} ms, p99 {flood['cheap_p99_ms']} ms")
        print(f"  the flood was answered: {flood['flood_answers']}")
        for example in flood["failure_examples"]:
            print(f"  failed: {example}")
    if args.json:
        args.json.write_text(json.dumps({"cpus": os.cpu_count(), "results": results, "flood": flood}, indent=1))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
