"""Hub metadata -> release records and edges (HUGGINGKG.md section 3), one function per source.

The crawler's only knowledge of the release format is here, and it is bound to
:func:`~hkg_rdf.vocab.vocabulary` at start: entity types are found by their IRI segment (which
is the Hub's own word for the thing: ``model``, ``dataset``, ``space``, ``paper``,
``collection``, ``user``, ``org``, ``task``), relations by subject type, verb and object type
(the lineage verbs are the Hub's own ``base_model:<kind>:`` words), and every record is built
by a per-type table whose keys must be exactly the type's fields. A mapping that renames or adds
a field or relation makes :func:`bindings` fail loudly instead of writing a wrong release.

Tag rules (documented in the README):

- model tags are typed by the Hub's tag listing (``/api/models-tags-by-type``, else by their
  ``type:`` prefix): ``region`` and ``license`` give the first such tag, ``library`` and
  ``language`` lists; ``pipeline_tag`` tags are the ``pipeline_tag`` field; ``dataset:``,
  ``arxiv:`` and ``base_model:`` tags are edges; all others are ``other``. Values drop the
  ``type:`` prefix (``license:apache-2.0`` -> ``apache-2.0``).
- dataset tags are typed by prefix (the ids of ``/api/datasets-tags-by-type`` are
  ``type:value``): ``task_categories`` -> ``tasks`` (and the task edges), ``task_ids`` ->
  ``sub-tasks``, ``size_categories``, ``format``, ``modality``, ``library``, ``language``,
  ``license``; tags without a prefix are ``other``; ``tags`` keeps them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache

from .vocab import EntityType, Relation, Vocabulary, vocabulary

#: The Hub's lineage kinds, as in ``base_model:<kind>:<id>`` tags (the verb of the relation).
LINEAGE_KINDS = ("adapter", "finetune", "merge", "quantized")
# Hub tag prefixes that are edges, not attributes.
_DATASET_TAG, _ARXIV_TAG, _BASE_MODEL_TAG = "dataset", "arxiv", "base_model"
_PIPELINE_TAG = "pipeline_tag"


def hub_time(value: datetime | None) -> str | None:
    """A datetime as the Hub and the release write it: ``2024-12-15T10:31:02.000Z``."""
    if value is None:
        return None
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond // 1000:03d}Z"


def count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def short_name(repo_id: str) -> str:
    return repo_id.split("/", 1)[1] if "/" in repo_id else repo_id


def split_tag(tag: str) -> tuple[str, str] | None:
    prefix, sep, value = tag.partition(":")
    return (prefix, value) if sep and value else None


@dataclass(frozen=True)
class Bindings:
    """The release names the crawler writes, resolved from the vocabulary and checked."""

    vocab: Vocabulary
    types: dict[str, EntityType]
    relations: dict[tuple[str, str, str], Relation]

    def type(self, segment: str) -> EntityType:
        return self.types[segment]

    def rel(self, subject: str, verb: str, obj: str) -> Relation:
        return self.relations[(subject, verb, obj)]


# (subject segment, verb, object segment) of every relation the Hub gives, in HUGGINGKG.md order.
_RELATION_SOURCES = (
    [("model", "definedFor", "task")]
    + [("model", kind, "model") for kind in LINEAGE_KINDS]
    + [("model", "trainedOrFineTunedOn", "dataset"), ("model", "cite", "paper")]
    + [("dataset", "definedFor", "task"), ("dataset", "cite", "paper")]
    + [("space", "use", "model"), ("space", "use", "dataset")]
    + [("collection", "contain", t) for t in ("model", "dataset", "space", "paper")]
    + [("user", "publish", t) for t in ("model", "dataset", "space", "paper")]
    + [("user", "own", "collection")]
    + [("user", "like", t) for t in ("model", "dataset", "space")]
    + [("user", "follow", "user"), ("user", "follow", "org"), ("user", "affiliatedWith", "org")]
    + [("org", "publish", t) for t in ("model", "dataset", "space")]
    + [("org", "own", "collection")]
)


@cache
def bindings() -> Bindings:
    vocab = vocabulary()
    types = {t.segment: t for t in vocab.types}
    by_name = {r.name: r for r in vocab.relations}
    relations = {}
    for subject, verb, obj in _RELATION_SOURCES:
        found = [r for name, r in by_name.items() if name == f"{types[subject].segment}_{verb}_{types[obj].segment}"]
        if len(found) != 1 or found[0].subject is not types[subject] or found[0].object is not types[obj]:
            raise ValueError(f"mapping.ttl has no relation {subject} {verb} {obj} as the crawler expects")
        relations[(subject, verb, obj)] = found[0]
    unbound = set(by_name) - {r.name for r in relations.values()}
    if unbound:
        raise ValueError(f"the crawler does not know where these relations come from on the Hub: {sorted(unbound)}")
    result = Bindings(vocab, types, relations)
    for segment, table in _FIELD_TABLES.items():
        expected = [f.name for f in types[segment].fields]
        if sorted(table) != sorted(expected):
            raise ValueError(f"crawler fields for {segment} {sorted(table)} differ from the mapping's {sorted(expected)}")
    if set(_FIELD_TABLES) != set(types):
        raise ValueError(f"the crawler builds records for {sorted(_FIELD_TABLES)}, the mapping has {sorted(types)}")
    return result


# ---------------------------------------------------------------- record tables
# Each maps a release field to how its value comes from a source ``s`` (a dict prepared below).

Getter = Callable[[dict], object]


def _get(key: str) -> Getter:
    return lambda s: s.get(key)


_REPO_COMMON: dict[str, Getter] = {
    "id": _get("id"),
    "name": _get("name"),
    "createdAt": _get("createdAt"),
    "lastModified": _get("lastModified"),
    "likes": _get("likes"),
}

_FIELD_TABLES: dict[str, dict[str, Getter]] = {
    "task": {"id": _get("id"), "label": _get("label")},
    "model": {
        **_REPO_COMMON,
        "downloads": _get("downloads"),
        "region": _get("region"),
        "license": _get("license"),
        "libraries": _get("library"),
        "languages": _get("language"),
        "other": _get("other"),
        "pipeline_tag": _get("pipeline_tag"),
        "description": _get("description"),
    },
    "dataset": {
        **_REPO_COMMON,
        "downloads": _get("downloads"),
        "libraries": _get("library"),
        "license": _get("license"),
        "languages": _get("language"),
        "other": _get("other"),
        "sub-tasks": _get("task_ids"),
        "tasks": _get("task_categories"),
        "size": _get("size_categories"),
        "formats": _get("format"),
        "modalities": _get("modality"),
        "tags": _get("tags"),
        "description": _get("description"),
    },
    "space": {**_REPO_COMMON, "tags": _get("tags")},
    "paper": {
        "id": _get("id"),
        "authors": _get("authors"),
        "publishedAt": _get("publishedAt"),
        "title": _get("title"),
        "summary": _get("summary"),
        "upvotes": _get("upvotes"),
    },
    "collection": {"slug": _get("slug"), "title": _get("title"), "upvotes": _get("upvotes"), "description": _get("description")},
    "user": {"id": _get("id"), "fullname": _get("fullname")},
    "org": {"id": _get("id"), "fullname": _get("fullname")},
}

# the dataset tag prefixes that fill list fields, by the source key their table reads
_DATASET_PREFIXES = ("library", "license", "language", "task_ids", "task_categories", "size_categories", "format", "modality")
_MODEL_LISTS = ("library", "language")
_MODEL_SCALARS = ("region", "license")


def record(segment: str, source: dict) -> dict:
    """The release record of an entity: every field of the type, in release order."""
    b = bindings()
    table = _FIELD_TABLES[segment]
    values = {}
    for f in b.type(segment).fields:
        value = table[f.name](source)
        if f.is_list:
            value = [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
        elif f.is_count:
            value = count(value)
        elif value is not None and not isinstance(value, str):
            value = None
        values[f.name] = value
    return values


# ---------------------------------------------------------------- what a listed repo gives


@dataclass
class Found:
    """What one Hub answer contributes: records, edges (release orientation), publishers, and
    names to look further into."""

    records: list[tuple[str, str, dict, int]]  # (segment, id, record, rank)
    edges: list[tuple[str, str, str]]  # (relation name, subject id, object id)
    authors: list[tuple[str, str, str]]  # (repo segment, repo id, author)
    papers: list[str]
    users: list[tuple[str, str | None, bool]]  # (name, fullname, expand: fetch their followers)
    orgs: list[tuple[str, str | None]]
    skipped: list[tuple[str, object]]  # (reason, example)
    texts: list[tuple[str, str, str | None]] = field(default_factory=list)  # (segment, id, README or None)
    tasks: list[tuple[str, str]] = field(default_factory=list)  # (task kind, key) to fetch next

    @classmethod
    def empty(cls) -> Found:
        return cls([], [], [], [], [], [], [])


def tag_types(listing: dict) -> dict[str, str]:
    """Tag id -> tag type, from a ``/api/*-tags-by-type`` answer."""
    types = {}
    for tag_type, entries in (listing or {}).items():
        for entry in entries or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                types.setdefault(entry["id"], tag_type)
    return types


def repo_common(info) -> dict:
    return {
        "id": info.id,
        "name": short_name(info.id),
        "createdAt": hub_time(info.created_at),
        "lastModified": hub_time(info.last_modified),
        "likes": info.likes,
        "downloads": getattr(info, "downloads", None),
        "tags": [t for t in (info.tags or []) if isinstance(t, str)],
    }


def _author(info) -> str:
    return info.author or info.id.split("/", 1)[0]


def model(info, types: dict[str, str]) -> Found:
    found = Found.empty()
    b = bindings()
    s = repo_common(info)
    s.update({"library": [], "language": [], "other": [], "region": None, "license": None})
    for tag in s["tags"]:
        parts = split_tag(tag)
        prefix = parts[0] if parts else None
        if prefix == _BASE_MODEL_TAG:
            kind, _, base = parts[1].partition(":")
            if kind in LINEAGE_KINDS and base:
                found.edges.append((b.rel("model", kind, "model").name, base, info.id))
            continue
        if prefix == _DATASET_TAG:
            found.edges.append((b.rel("model", "trainedOrFineTunedOn", "dataset").name, info.id, parts[1]))
            continue
        if prefix == _ARXIV_TAG:
            found.edges.append((b.rel("model", "cite", "paper").name, info.id, parts[1]))
            found.papers.append(parts[1])
            continue
        tag_type = types.get(tag) or prefix
        value = parts[1] if parts and prefix == tag_type else tag
        if tag_type == _PIPELINE_TAG:
            continue
        if tag_type in _MODEL_SCALARS:
            s[tag_type] = s[tag_type] or value
        elif tag_type in _MODEL_LISTS:
            s[tag_type].append(value)
        else:
            s["other"].append(tag)
    s["pipeline_tag"] = [info.pipeline_tag] if isinstance(info.pipeline_tag, str) and info.pipeline_tag else []
    for task in s["pipeline_tag"]:
        found.edges.append((b.rel("model", "definedFor", "task").name, info.id, task))
    found.records.append(("model", info.id, record("model", s), 0))
    found.authors.append(("model", info.id, _author(info)))
    return found


def dataset(info) -> Found:
    found = Found.empty()
    b = bindings()
    s = repo_common(info)
    s.update({prefix: [] for prefix in _DATASET_PREFIXES})
    s["other"] = []
    for tag in s["tags"]:
        parts = split_tag(tag)
        if parts is None:
            s["other"].append(tag)
        elif parts[0] in _DATASET_PREFIXES:
            s[parts[0]].append(parts[1])
        if parts and parts[0] == _ARXIV_TAG:
            found.edges.append((b.rel("dataset", "cite", "paper").name, info.id, parts[1]))
            found.papers.append(parts[1])
    for task in s["task_categories"]:
        found.edges.append((b.rel("dataset", "definedFor", "task").name, info.id, task))
    found.records.append(("dataset", info.id, record("dataset", s), 0))
    found.authors.append(("dataset", info.id, _author(info)))
    return found


def space(info) -> Found:
    found = Found.empty()
    found.records.append(("space", info.id, record("space", repo_common(info)), 0))
    found.authors.append(("space", info.id, _author(info)))
    return found


def space_uses(space_id: str, info) -> Found:
    found = Found.empty()
    b = bindings()
    for segment, ids in (("model", info.models), ("dataset", info.datasets)):
        for other in ids or []:
            if isinstance(other, str):
                found.edges.append((b.rel("space", "use", segment).name, space_id, other))
    return found


def collection(info) -> Found:
    found = Found.empty()
    b = bindings()
    slug = info.slug
    found.records.append(("collection", slug, record("collection", {
        "slug": slug, "title": info.title, "upvotes": info.upvotes, "description": info.description,
    }), 0))
    for item in info.items:
        segment = item.item_type
        if segment in ("model", "dataset", "space", "paper"):
            found.edges.append((b.rel("collection", "contain", segment).name, slug, item.item_id))
            if segment == "paper":
                found.papers.append(item.item_id)
        else:
            found.skipped.append((f"collection item of type {segment!r} (no release relation)", [slug, item.item_id]))
    owner = info.owner or {}
    name, kind, fullname = owner.get("name"), owner.get("type"), text(owner.get("fullname"))
    if isinstance(name, str) and kind in ("user", "org"):
        found.edges.append((b.rel(kind, "own", "collection").name, name, slug))
        if kind == "user":
            found.users.append((name, fullname, True))
        else:
            found.orgs.append((name, fullname))
    else:
        found.skipped.append(("collection owner neither user nor org", [slug, owner.get("name"), owner.get("type")]))
    return found


def paper(arxiv_id: str, info) -> Found:
    found = Found.empty()
    b = bindings()
    authors = [a for a in info.authors or []]
    found.records.append(("paper", arxiv_id, record("paper", {
        "id": arxiv_id,
        "authors": [a.name for a in authors if isinstance(a.name, str) and a.name],
        "publishedAt": hub_time(info.published_at),
        "title": info.title,
        "summary": info.summary,
        "upvotes": info.upvotes,
    }), 0))
    for author in authors:
        if author.user is not None and author.user.username:
            found.edges.append((b.rel("user", "publish", "paper").name, author.user.username, arxiv_id))
            found.users.append((author.user.username, text(author.user.fullname) or None, True))
    return found


def _user_edges(relation: str, users: list, target: str, expand: bool) -> Found:
    """Edges user -> target for each listed user, and the users (``expand``: crawl them further)."""
    found = Found.empty()
    for user in users:
        if user.username:
            found.edges.append((relation, user.username, target))
            found.users.append((user.username, text(user.fullname) or None, expand))
    return found


def likers(segment: str, repo_id: str, users: list) -> Found:
    return _user_edges(bindings().rel("user", "like", segment).name, users, repo_id, True)


def followers(segment: str, name: str, users: list) -> Found:
    """Followers of a user or an org: edges follower -> followee; followers are leaves."""
    return _user_edges(bindings().rel("user", "follow", segment).name, users, name, False)


def members(org: str, users: list) -> Found:
    return _user_edges(bindings().rel("user", "affiliatedWith", "org").name, users, org, True)


def tasks(api_tasks: dict, model_listing: dict, dataset_listing: dict) -> list[tuple[str, str, dict, int]]:
    """Task records: ``/api/tasks`` plus pipeline tags of models and task categories of datasets."""
    labels: dict[str, str | None] = {}
    for entry in (model_listing or {}).get(_PIPELINE_TAG, []) or []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            labels[entry["id"]] = text(entry.get("label"))
    for entry in (dataset_listing or {}).get("task_categories", []) or []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            parts = split_tag(entry["id"])
            labels.setdefault(parts[1] if parts else entry["id"], text(entry.get("label")))
    for key, entry in (api_tasks or {}).items():
        if isinstance(entry, dict):
            labels[text(entry.get("id")) or key] = text(entry.get("label")) or labels.get(key)
    return [("task", task, record("task", {"id": task, "label": label}), 0) for task, label in labels.items() if task]
