"""What changed between two snapshots: entities and edges added, removed, changed.

A snapshot is a crawl's output directory (``hkg-rdf crawl --out DIR``: its manifest names the
release) or any HuggingKG release (directory or .zip). Both are read with
:class:`hkg_rdf.records.Release`, streamed into a temporary SQLite database and compared there,
so two full-Hub snapshots are compared on disk, not in memory.

An entity is *changed* when a field's value differs; list fields are compared as sets (RDF keeps
one triple per distinct item, so a reordered list is the same graph). Edges are compared as
(relation, subject, object). Change lines, tab-separated::

    +  model  alice/new-model
    -  dataset  carol/tiny
    ~  model  acme/base-7b  likes  2  3          (old and new value as JSON)
    +  user_like_model  dave  acme/base-7b
    -  user_follow_user  bob  alice
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..errors import InputError
from ..records import Release
from ..report import Report
from .release import MANIFEST


class Change(NamedTuple):
    """One line of a diff: op '+', '-' or '~'; kind an entity type segment or a relation name."""

    op: str
    kind: str
    key: tuple[str, ...]  # (id,) for entities, (subject, object) for edges
    field: str | None = None
    old: object = None
    new: object = None

    def line(self, width: int | None = 200) -> str:
        cells = [self.op, self.kind, *self.key]
        if self.op == "~":
            cells += [self.field, _short(self.old, width), _short(self.new, width)]
        return "\t".join(c.replace("\t", " ").replace("\n", "\\n") for c in cells)


def _short(value: object, width: int | None) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


@dataclass
class Diff:
    """All changes between two snapshots, grouped."""

    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, dict[str, dict[str, list]]] = field(default_factory=dict)
    edges_added: dict[str, list[list[str]]] = field(default_factory=dict)
    edges_removed: dict[str, list[list[str]]] = field(default_factory=dict)

    def add(self, change: Change) -> None:
        if change.op == "~":
            self.changed.setdefault(change.kind, {}).setdefault(change.key[0], {})[change.field] = [change.old, change.new]
        elif len(change.key) == 1:
            (self.added if change.op == "+" else self.removed).setdefault(change.kind, []).append(change.key[0])
        else:
            (self.edges_added if change.op == "+" else self.edges_removed).setdefault(change.kind, []).append(list(change.key))

    def counts(self) -> dict:
        return {
            "entities added": {k: len(v) for k, v in self.added.items()},
            "entities removed": {k: len(v) for k, v in self.removed.items()},
            "entities changed": {k: len(v) for k, v in self.changed.items()},
            "edges added": {k: len(v) for k, v in self.edges_added.items()},
            "edges removed": {k: len(v) for k, v in self.edges_removed.items()},
        }

    def as_dict(self) -> dict:
        return {"counts": self.counts(), "entities_added": self.added, "entities_removed": self.removed,
                "entities_changed": self.changed, "edges_added": self.edges_added, "edges_removed": self.edges_removed}


def snapshot_release(path: Path) -> tuple[Path, str | None]:
    """The release of a snapshot path, and its snapshot IRI when it is a crawl directory."""
    manifest = path / MANIFEST
    if manifest.is_file():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return path / data["release"], data.get("snapshot")
    if not path.exists():
        raise InputError(str(path), "no such crawl directory or release")
    return path, None


def _normal(values: dict) -> dict:
    return {k: sorted(set(v)) if isinstance(v, list) else v for k, v in values.items()}


def _fill(db: sqlite3.Connection, side: str, path: Path) -> None:
    release = Release(snapshot_release(path)[0])
    report = Report()
    rows = ((side, e.type.segment, e.id, json.dumps(_normal(e.values), ensure_ascii=False, sort_keys=True)) for e in release.entities(report))
    db.executemany("INSERT OR IGNORE INTO entities VALUES(?,?,?,?)", rows)
    db.executemany("INSERT OR IGNORE INTO edges VALUES(?,?,?,?)", ((side, e.relation.name, e.subject, e.object) for e in release.edges()))


def changes(old: Path, new: Path) -> Iterator[Change]:
    """Every change from ``old`` to ``new``: entities (+, -, ~ per field), then edges (+, -)."""
    with tempfile.TemporaryDirectory(prefix="hkg-diff-") as tmp:
        db = sqlite3.connect(Path(tmp) / "diff.sqlite")
        db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE entities(side TEXT, type TEXT, id TEXT, record TEXT, PRIMARY KEY(side, type, id)) WITHOUT ROWID;"
            "CREATE TABLE edges(side TEXT, relation TEXT, subject TEXT, object TEXT, PRIMARY KEY(side, relation, subject, object)) WITHOUT ROWID;"
        )
        _fill(db, "old", old)
        _fill(db, "new", new)
        db.commit()
        yield from _entity_changes(db)
        for op, a, b in (("+", "new", "old"), ("-", "old", "new")):
            query = ("SELECT relation, subject, object FROM edges WHERE side=? EXCEPT "
                     "SELECT relation, subject, object FROM edges WHERE side=? ORDER BY 1, 2, 3")
            for relation, subject, obj in db.execute(query, (a, b)):
                yield Change(op, relation, (subject, obj))
        db.close()


def _entity_changes(db: sqlite3.Connection) -> Iterator[Change]:
    query = """
        SELECT n.type, n.id, NULL, n.record FROM entities n WHERE n.side='new'
          AND NOT EXISTS (SELECT 1 FROM entities o WHERE o.side='old' AND o.type=n.type AND o.id=n.id)
        UNION ALL
        SELECT o.type, o.id, o.record, NULL FROM entities o WHERE o.side='old'
          AND NOT EXISTS (SELECT 1 FROM entities n WHERE n.side='new' AND n.type=o.type AND n.id=o.id)
        UNION ALL
        SELECT o.type, o.id, o.record, n.record FROM entities o JOIN entities n
          ON n.side='new' AND n.type=o.type AND n.id=o.id WHERE o.side='old' AND o.record != n.record
        ORDER BY 1, 2
    """
    for segment, entity_id, old, new in db.execute(query):
        if old is None:
            yield Change("+", segment, (entity_id,))
        elif new is None:
            yield Change("-", segment, (entity_id,))
        else:
            before, after = json.loads(old), json.loads(new)
            for name in after:
                if before.get(name) != after[name]:
                    yield Change("~", segment, (entity_id,), name, before.get(name), after[name])


def diff(old: Path, new: Path) -> Diff:
    result = Diff()
    for change in changes(old, new):
        result.add(change)
    return result


def summary(counts: Counter | dict) -> str:
    lines = []
    for title, per_kind in counts.items():
        total = sum(per_kind.values())
        detail = ", ".join(f"{k} {v:,}" for k, v in sorted(per_kind.items()))
        lines.append(f"{title}: {total:,}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines)
