"""Writing the crawl out: the release, triples.txt, the manifest and the snapshot's PROV-O graph.

The checkpoint becomes ``OUT/HuggingKG_V<start time>/`` (the 38 files, in the constructor's
serialisation through :class:`~hkg_rdf.records.JsonArrayWriter`, records sorted by id so a
resumed crawl writes the same bytes as an uninterrupted one) and ``OUT/triples.txt``, atomically.
As the constructor's ``verify_relations`` did, an edge whose ends are not both entities is not
written; unlike it, each is counted per relation with examples (``hkg-rdf convert`` counts the
same way). A repo's author becomes a publish edge once its overview has told user from
organization (:func:`~hkg_rdf.crawl.rules.publish_edge`).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path

from ..records import Edge, JsonArrayWriter
from ..report import Report
from ..triples import missing_ends
from . import rules
from .checkpoint import GONE, Checkpoint
from .client import versions
from .rules import hub_time
from .scheduler import REPO_TYPES

MANIFEST = "crawl-manifest.json"
TRIPLES_TXT = "triples.txt"
RELEASE_PREFIX = "HuggingKG_V"


def write_release(cp: Checkpoint, out: Path, name: str, report: Report) -> Path:
    """The checkpoint as a release ``out/name`` plus ``out/triples.txt``, sorted, atomically."""
    b = rules.bindings()
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
                        report.keep(f"{entity_type.file}: README not fetched (task failed or repository gone), description null", entity_id)
                writer.write(record)
                ids[segment].add(entity_id)
                report.entities[segment] += 1
            writer.close()
    publish: dict[str, set[tuple[str, str]]] = defaultdict(set)  # a repo's author, once the overview told user from org
    for repo_type in REPO_TYPES:
        for repo, author in db.execute("SELECT id, author FROM authors WHERE type=? ORDER BY id", (repo_type,)):
            relation_name = rules.publish_edge(repo_type, author, ids["user"], ids["org"])
            if relation_name is not None:
                publish[relation_name].add((author, repo))
            elif repo in ids[repo_type]:
                report.skip(f"{repo_type} author is neither a crawled user nor organization (no publish edge)", [author, repo])
    with open(out / f".{TRIPLES_TXT}.tmp", "w", encoding="utf-8", newline="\n") as triples:
        for relation in b.vocab.relations:
            with open(tmp / f"{relation.name}.json", "w", encoding="utf-8") as stream:
                writer = JsonArrayWriter(stream)
                rows = db.execute("SELECT subject, object FROM edges WHERE relation=? ORDER BY subject, object", (relation.name,)).fetchall()
                if relation.name in publish:
                    rows = sorted(set(rows) | publish[relation.name])
                for subject, obj in rows:
                    missing = missing_ends(Edge(relation, subject, obj), ids)
                    if missing:
                        report.skip(f"{relation.name}: dangling edge ({missing} not crawled)", [subject, obj])
                        continue
                    writer.write({relation.subject_key: subject, relation.object_key: obj})
                    triples.write(f"{subject}\t{relation.name}\t{obj}\n")
                    report.edges[relation.name] += 1
                writer.close()
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
    from ..triples import literal
    from ..vocab import RDF_TYPE, RDFS, XSD_DATETIME

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

    from ..convert import converted_in_process
    from ..iris import IriMinter
    from ..load import bulk_load_converted
    from ..search import records_path
    from ..store import load_atomically

    minter = IriMinter(base_iri)

    def loader(store: ox.Store, version: Path) -> None:  # the snapshot alone: its records give the search rows
        with converted_in_process(release, minter, report, index_to=records_path(version)) as chunks:
            bulk_load_converted(store, chunks, str(release))
        store.bulk_load(io.BytesIO(prov_nquads(manifest).encode("utf-8")), ox.RdfFormat.N_QUADS)

    load_atomically(store_dir, loader, replace=True)


def manifest(cp: Checkpoint, options, endpoint: str, base_iri: str, stamp: str, release: Path, report: Report, failed: list) -> dict:
    """The snapshot's description: PROV-O times, parameters, counts, what was skipped, gone or failed, requests."""
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
    gone = dict(cp.db.execute("SELECT kind, count(*) FROM tasks WHERE state=? GROUP BY kind", (GONE,)).fetchall())
    gone_examples = [{"task": k, "key": key, "reason": e} for k, key, e in cp.db.execute(
        "SELECT kind, key, error FROM tasks WHERE state=? ORDER BY kind, key LIMIT 20", (GONE,))]
    tasks = dict(cp.db.execute("SELECT kind, count(*) FROM tasks GROUP BY kind").fetchall())
    pages = dict(cp.db.execute("SELECT kind, pages FROM lists").fetchall())
    ended = hub_time(datetime.now(timezone.utc))
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
        "reproduces": "the derivation rules of HuggingKG/HuggingKG_constructor.py (nju-websoft/HuggingBench), which wrote the published HuggingKG",
        "differs_on_purpose": list(rules.DIFFERENCES),
        "parameters": {**options.params(), "workers": options.workers},
        "complete": not failed and not partial and options.limit is None and not options.types,
        "partial_reason": ("only repos modified since " + hub_time(options.since)) if partial else None,
        "entities": dict(report.entities),
        "relations": dict(report.edges),
        "skipped": dict(report.skipped),
        "kept": dict(report.kept),
        "examples": {k: v for k, v in report.examples.items()},
        "errors": {"count": len(failed), "first": [{"task": k, "key": key, "traceback": e} for k, key, e in failed[:100]]},
        "gone": {"count": sum(gone.values()), "tasks": gone, "examples": gone_examples,
                 "meaning": "the Hub answered 401/403/404 (RepositoryNotFoundError, GatedRepoError, DisabledRepoError): deleted, private or gated"},
        "listing_pages": pages,
        "tasks": tasks,
        "reused_from_previous": reused,
        "requests": {
            "total": requests, "statuses": dict(statuses), "retries": dict(retries), "runs": cp.get("runs", len(runs)),
            "client_retries": sum(r.get("client_retries", 0) for r in runs),
            "seconds_paced_by_ratelimit": round(sum(r.get("seconds_paced_by_ratelimit", 0) for r in runs), 3),
            "runs_counted": len(runs),  # a killed run's requests are not counted
            "seconds": round(seconds, 3),
            "requests_per_second": round(requests / seconds, 2) if seconds else None,
            "entities_per_second": round(entities / seconds, 2) if seconds else None,
            "max_concurrent_calls": max((r["max_concurrent_calls"] for r in runs), default=0),
        },
    }


def summary(result) -> str:
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
    gone = m.get("gone") or {}  # a manifest of an older crawl has none
    if gone.get("count"):
        lines.append(f"  gone (deleted, private or gated): {gone['tasks']}")
    if m["errors"]["count"]:
        lines.append(f"  {m['errors']['count']} task(s) failed after retries (rerun to retry): {m['errors']['first'][:3]}")
    return "\n".join(lines)
