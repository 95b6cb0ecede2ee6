"""Hub metadata -> release records and edges: HuggingKG_constructor.py's rules, one function per source.

These are the derivation rules of the crawler that wrote the published release
(``HuggingKG/HuggingKG_constructor.py`` in nju-websoft/HuggingBench; HUGGINGKG.md section 3),
field by field and relation by relation, in the order that section gives them:

- **tasks**: ``/api/tasks``, then the ``pipeline_tag`` entries of the model tag listing, then the
  ``task_categories`` entries of the dataset tag listing (``task_categories:<id>`` -> ``<id>``);
  the first label seen for an id wins (:func:`tasks`).
- **tag labels**: each tag listing (``/api/models-tags-by-type``, ``/api/datasets-tags-by-type``)
  maps a tag id to its type and label; a record stores the *label* (:func:`tag_table`).
- **a model** (:func:`model`): the label of its ``pipeline_tag`` and a task edge to the raw
  pipeline tag; per tag: ``dataset:<id>`` trained-on edge, ``arxiv:<id>`` cite edge (and the
  paper to fetch), ``base_model:<kind>:<id>`` lineage edge for the four kinds (``base_model:<id>``
  gives nothing); every other tag by its listed type: ``region`` and ``license`` one label (the
  last such tag), ``library``/``language``/``other`` lists, a further ``pipeline_tag``-typed tag
  adds its label and a task edge; an unlisted tag goes to ``other`` raw.
- **a dataset** (:func:`dataset`): ``arxiv:<id>`` cite edge; ``task_categories:<id>`` a task
  edge; every tag but arxiv by its listed type: ``library``, ``language``, ``other``,
  ``task_ids`` (sub-tasks), ``task_categories`` (tasks), ``format``, ``modality`` lists,
  ``license`` and ``size_categories`` one label (the last); an unlisted tag goes to ``tags`` raw.
- **a space** (:func:`space`): its raw tags, ``likes`` (0 when absent), and an edge to each of
  its ``models`` and ``datasets``.
- **a collection** (:func:`collection`): an edge to each item of type model, dataset, space or
  paper (papers are fetched); its owner (``owner.type`` user or org) owns it and is a user or an
  organization.
- **a paper** (:func:`paper`): its authors' names in author order; an author with a Hub account
  publishes it and is a user.
- **publishers**: a repo's ``author`` publishes it, as a user or an organization, whichever
  overview answers (:func:`publish_edge`, at release time).
- **who is a user**: repo authors that are users, collection owners of type user, registered
  paper authors and likers (:func:`likers`). Who is an organization: authors that are
  organizations, collection owners of type org. User and organization records are their
  overviews (:func:`account`). **Followers and members are not made users** (:func:`follows`):
  their edges are kept only where both ends are entities, like every other edge.

Where the crawl deliberately does better than the constructor (recorded in the crawl manifest,
:data:`DIFFERENCES`): true space dates (the constructor read keys the Hub does not send and
wrote null), no listing limits, dates written as the Hub's ISO strings.

The rules are bound to :func:`~hkg_rdf.vocab.vocabulary` at start: entity types by their IRI
segment (the Hub's word for the thing), relations by subject type, verb and object type, and
every record must have exactly the type's fields, so a mapping that renames or adds a field or
relation makes :func:`bindings` or :func:`record` fail loudly instead of writing a wrong release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache

from ..vocab import EntityType, Relation, Vocabulary, vocabulary

#: The Hub's lineage kinds, as in ``base_model:<kind>:<id>`` tags (the verb of the relation).
LINEAGE_KINDS = ("adapter", "finetune", "merge", "quantized")
#: Where the crawl differs from HuggingKG_constructor.py on purpose (README, crawl manifest).
DIFFERENCES = (
    "spaces carry their true createdAt/lastModified (the constructor read created_at/last_modified, keys the Hub "
    "does not send, and wrote null)",
    "no listing limits (the constructor stopped at 1,000 models, datasets and spaces and 100 collections)",
    "dates are the Hub's ISO 8601 strings (the constructor put datetime objects, which json.dump cannot write)",
    "listings in a stable order (newest created first), private repos and collections left out unless asked for",
    "a liker, follower or member list that fails part-way is retried, not kept half",
)
# which record field a listed tag type fills (HuggingKG_constructor.py get_model_details / get_dataset_details)
_MODEL_LISTS = {"other": "other", "library": "libraries", "language": "languages"}
_MODEL_SCALARS = {"region": "region", "license": "license"}
_DATASET_LISTS = {"library": "libraries", "language": "languages", "other": "other", "task_ids": "sub-tasks",
                  "task_categories": "tasks", "format": "formats", "modality": "modalities", "tag": "tags"}
_DATASET_SCALARS = {"license": "license", "size_categories": "size"}
_PIPELINE = "pipeline_tag"


def hub_time(value: datetime | None) -> str | None:
    """A datetime as the Hub and the release write it: ``2024-12-15T10:31:02.000Z``."""
    if value is None:
        return None
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond // 1000:03d}Z"


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def short_name(repo_id: str) -> str:
    return repo_id.split("/", 1)[1] if "/" in repo_id else repo_id


# ---------------------------------------------------------------- binding to the mapping


@dataclass(frozen=True)
class Bindings:
    """The release names the crawler writes, resolved from the vocabulary and checked."""

    vocab: Vocabulary
    types: dict[str, EntityType]
    relations: dict[tuple[str, str, str], Relation]

    def type(self, segment: str) -> EntityType:
        return self.types[segment]

    def rel(self, subject: str, verb: str, obj: str) -> str:
        """The release name of a relation, e.g. ``rel("user", "like", "model")`` -> ``user_like_model``."""
        return self.relations[(subject, verb, obj)].name


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
        found = by_name.get(f"{subject}_{verb}_{obj}")
        if found is None or found.subject is not types[subject] or found.object is not types[obj]:
            raise ValueError(f"mapping.ttl has no relation {subject} {verb} {obj} as the crawler expects")
        relations[(subject, verb, obj)] = found
    unbound = set(by_name) - {r.name for r in relations.values()}
    if unbound:
        raise ValueError(f"the crawler does not know where these relations come from on the Hub: {sorted(unbound)}")
    return Bindings(vocab, types, relations)


def record(segment: str, values: dict) -> dict:
    """The release record of an entity: exactly the type's fields, in release order."""
    fields = [f.name for f in bindings().type(segment).fields]
    if sorted(values) != sorted(fields):
        raise ValueError(f"crawler fields for {segment} {sorted(values)} differ from the mapping's {sorted(fields)}")
    return {name: values[name] for name in fields}


# ---------------------------------------------------------------- what one Hub answer gives


@dataclass
class Found:
    """What one Hub answer contributes: records, edges (release orientation) and what to fetch next."""

    records: list[tuple[str, str, dict]] = field(default_factory=list)  # (segment, id, record)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (relation name, subject id, object id)
    authors: list[tuple[str, str, str]] = field(default_factory=list)  # (repo segment, repo id, author name)
    papers: list[str] = field(default_factory=list)  # arXiv ids to fetch
    users: list[str] = field(default_factory=list)  # names that are users: fetch their overview
    people: list[str] = field(default_factory=list)  # followers and members made users (--expand-people): overview only
    orgs: list[str] = field(default_factory=list)  # names that are organizations
    skipped: list[tuple[str, object]] = field(default_factory=list)  # (reason, example)
    texts: list[tuple[str, str, str | None]] = field(default_factory=list)  # (segment, id, README or None)
    tasks: list[tuple[str, str]] = field(default_factory=list)  # (task kind, key) to run next
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (task kind, key, traceback): retried by the next run


def tag_table(listing: dict) -> dict[str, tuple[str, str]]:
    """Tag id -> (type, label), from a ``/api/*-tags-by-type`` answer (a later entry wins, as in the constructor)."""
    table = {}
    for entries in (listing or {}).values():
        for entry in entries or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                table[entry["id"]] = (_text(entry.get("type")) or "", _text(entry.get("label")) or entry["id"])
    return table


def tasks(api_tasks: dict, model_listing: dict, dataset_listing: dict) -> list[tuple[str, str, dict]]:
    """Task records: ``/api/tasks``, then pipeline tags of models, then task categories of datasets; first seen wins."""
    labels: dict[str, str | None] = {}
    for entry in (api_tasks or {}).values():
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            labels.setdefault(entry["id"], _text(entry.get("label")))
    for entry in (model_listing or {}).get(_PIPELINE, []) or []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            labels.setdefault(entry["id"], _text(entry.get("label")))
    for entry in (dataset_listing or {}).get("task_categories", []) or []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and ":" in entry["id"]:
            labels.setdefault(entry["id"].split(":")[1], _text(entry.get("label")))
    return [("task", task, record("task", {"id": task, "label": label})) for task, label in labels.items() if task]


def _repo(info) -> dict:
    return {
        "id": info.id, "name": short_name(info.id), "createdAt": hub_time(info.created_at),
        "lastModified": hub_time(info.last_modified), "downloads": _count(getattr(info, "downloads", None)),
        "likes": _count(info.likes), "description": None,
    }


def _tags(info) -> list[str]:
    return [t for t in (info.tags or []) if isinstance(t, str)]


def model(info, table: dict[str, tuple[str, str]]) -> Found:
    b, found = bindings(), Found()
    values = {**_repo(info), "region": None, "other": [], "libraries": [], "license": None, "languages": [], "pipeline_tag": []}
    pipeline = info.pipeline_tag if isinstance(info.pipeline_tag, str) and info.pipeline_tag else None
    if pipeline is not None:
        values["pipeline_tag"].append(table[pipeline][1] if pipeline in table else pipeline)
        found.edges.append((b.rel("model", "definedFor", "task"), info.id, pipeline))
    for tag in _tags(info):
        if tag.startswith("dataset:"):
            found.edges.append((b.rel("model", "trainedOrFineTunedOn", "dataset"), info.id, tag.split(":")[1]))
        elif tag.startswith("arxiv:"):
            found.edges.append((b.rel("model", "cite", "paper"), info.id, tag.split(":")[1]))
            found.papers.append(tag.split(":")[1])
        elif tag.startswith("base_model:"):
            parts = tag.split(":")
            if len(parts) == 3 and parts[1] in LINEAGE_KINDS:
                found.edges.append((b.rel("model", parts[1], "model"), parts[2], info.id))
        else:
            kind, label = table.get(tag, ("other", tag))
            if kind in _MODEL_SCALARS:
                values[_MODEL_SCALARS[kind]] = label
            elif kind in _MODEL_LISTS:
                values[_MODEL_LISTS[kind]].append(label)
            elif kind == _PIPELINE:
                if tag != pipeline:
                    values["pipeline_tag"].append(label)
                    found.edges.append((b.rel("model", "definedFor", "task"), info.id, tag))
            elif kind != "dataset":
                found.skipped.append((f"model tag of type {kind!r} (the release has no field for it)", [info.id, tag]))
    found.records.append(("model", info.id, record("model", values)))
    found.authors.append(("model", info.id, _author(info)))
    return found


def dataset(info, table: dict[str, tuple[str, str]]) -> Found:
    b, found = bindings(), Found()
    values = {**_repo(info), "license": None, "size": None, **{name: [] for name in _DATASET_LISTS.values()}}
    for tag in _tags(info):
        if tag.startswith("arxiv:"):
            found.edges.append((b.rel("dataset", "cite", "paper"), info.id, tag.split(":")[1]))
            found.papers.append(tag.split(":")[1])
            continue
        if tag.startswith("task_categories:"):
            found.edges.append((b.rel("dataset", "definedFor", "task"), info.id, tag.split(":")[1]))
        kind, label = table.get(tag, ("tag", tag))
        if kind in _DATASET_SCALARS:
            values[_DATASET_SCALARS[kind]] = label
        elif kind in _DATASET_LISTS:
            values[_DATASET_LISTS[kind]].append(label)
        else:
            found.skipped.append((f"dataset tag of type {kind!r} (the release has no field for it)", [info.id, tag]))
    found.records.append(("dataset", info.id, record("dataset", values)))
    found.authors.append(("dataset", info.id, _author(info)))
    return found


def space(info) -> Found:
    b, found = bindings(), Found()
    values = _repo(info)
    values = {k: values[k] for k in ("id", "name", "createdAt", "lastModified")}
    found.records.append(("space", info.id, record("space", {**values, "likes": _count(info.likes) or 0, "tags": _tags(info)})))
    for segment, ids in (("model", info.models), ("dataset", info.datasets)):
        for other in ids or []:
            if isinstance(other, str):
                found.edges.append((b.rel("space", "use", segment), info.id, other))
    found.authors.append(("space", info.id, _author(info)))
    return found


def _author(info) -> str:
    return info.author or info.id.split("/", 1)[0]


def collection(info) -> Found:
    b, found = bindings(), Found()
    slug = info.slug
    found.records.append(("collection", slug, record("collection", {
        "slug": slug, "title": _text(info.title), "upvotes": _count(info.upvotes) or 0, "description": _text(info.description),
    })))
    for item in info.items:
        if item.item_type in ("model", "dataset", "space", "paper"):
            found.edges.append((b.rel("collection", "contain", item.item_type), slug, item.item_id))
            if item.item_type == "paper":
                found.papers.append(item.item_id)
        else:
            found.skipped.append((f"collection item of type {item.item_type!r} (no release relation)", [slug, item.item_id]))
    owner = info.owner if isinstance(info.owner, dict) else {}
    name, kind = owner.get("name"), owner.get("type")
    if isinstance(name, str) and kind in ("user", "org"):
        found.edges.append((b.rel(kind, "own", "collection"), name, slug))
        (found.users if kind == "user" else found.orgs).append(name)
    else:
        found.skipped.append(("collection owner neither user nor org", [slug, name, kind]))
    return found


def paper(arxiv_id: str, info) -> Found:
    b, found = bindings(), Found()
    paper_id = info.id or arxiv_id
    authors = info.authors or []
    found.records.append(("paper", paper_id, record("paper", {
        "id": paper_id,
        "authors": [a.name for a in authors if isinstance(a.name, str)],  # author order, repeats kept
        "publishedAt": hub_time(info.published_at),
        "title": _text(info.title),
        "summary": _text(info.summary),
        "upvotes": _count(info.upvotes) or 0,
    })))
    for author in authors:
        if author.user is not None and author.user.username:
            found.edges.append((b.rel("user", "publish", "paper"), author.user.username, paper_id))
            found.users.append(author.user.username)
    return found


def likers(segment: str, repo_id: str, names: list[str]) -> Found:
    """Likers like the repo and are users."""
    relation = bindings().rel("user", "like", segment)
    return Found(edges=[(relation, name, repo_id) for name in names], users=list(names))


def follows(relation: tuple[str, str, str], names: list[str], target: str, people: bool = False) -> Found:
    """Followers of a user or an organization, members of an organization: edges only, nobody made a user.

    ``people`` (``--expand-people``, wider than HuggingKG): they become users too, one hop (their
    own followers are not asked for).
    """
    return Found(edges=[(bindings().rel(*relation), name, target) for name in names], people=list(names) if people else [])


def account(kind: str, name: str, overview) -> Found:
    """The record of a user or an organization, from its overview (``fullname`` or null)."""
    fullname = _text(getattr(overview, "fullname", None)) or None
    return Found(records=[(kind, name, record(kind, {"id": name, "fullname": fullname}))])


def publish_edge(repo_segment: str, author: str, users: set[str], orgs: set[str]) -> str | None:
    """The publish relation of a repo's author: as an organization if it is one, else as a user."""
    if author in orgs:
        return bindings().rel("org", "publish", repo_segment)
    if author in users:
        return bindings().rel("user", "publish", repo_segment)
    return None
