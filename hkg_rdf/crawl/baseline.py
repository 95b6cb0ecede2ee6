"""An earlier snapshot as the baseline of an incremental crawl (``--previous``).

The baseline (a crawl directory, a release, or a store, exported first) is copied into the
checkpoint's ``base_*`` tables: per repo its ``lastModified``, like count and README, per user
the record, and the like edges. The scheduler then takes a README from it when the repo's
``lastModified`` is unchanged, a repo's likers when its like count is unchanged, and a user's
record when the name is known, instead of asking the Hub again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..records import Release
from ..report import Report
from . import rules
from .checkpoint import Checkpoint
from .release import MANIFEST
from .scheduler import REPO_TYPES


def import_baseline(cp: Checkpoint, previous: Path) -> str | None:
    """Copy what an earlier snapshot can spare us into the checkpoint; its snapshot IRI if known."""
    b = rules.bindings()
    source, cleanup, snapshot = previous, None, None
    if (previous / "current").is_symlink():  # a store: export it to a release first
        from ..export import export_release
        from ..iris import IriMinter
        from ..store import open_read_only

        cleanup = Path(tempfile.mkdtemp(prefix="hkg-baseline-"))
        source = cleanup / "release"
        store = open_read_only(previous)
        export_release(store, source, IriMinter(base_iri()), Report())
        latest = list(store.query(
            "PREFIX prov: <http://www.w3.org/ns/prov#> SELECT ?s WHERE { GRAPH ?s { ?s prov:generatedAtTime ?t } } ORDER BY DESC(?t) LIMIT 1"))
        snapshot = latest[0]["s"].value if latest else None
    try:
        release = Release(source)
        keep_types = {"model", "dataset", "space", "user", "org"}
        keep_relations = {b.rel("user", "like", t) for t in REPO_TYPES}
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


def base_iri() -> str:
    from ..iris import DEFAULT_BASE_IRI

    return os.environ.get("HKG_BASE_IRI", DEFAULT_BASE_IRI)
