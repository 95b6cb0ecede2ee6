"""The release HuggingKG_constructor.py's rules give for the fake Hub's content: the crawl's oracle.

Written from a reading of ``HuggingKG/HuggingKG_constructor.py`` (nju-websoft/HuggingBench), step
by step as its ``run()`` goes (process_task_data, process_model_data + descriptions,
process_dataset_data + descriptions, process_space_data, process_user_like_repo,
process_collection_data, process_paper_data, process_user_and_org_data, verify_relations), on the
raw fixture of :mod:`fakehub` rather than on HTTP, and independently of ``hkg_rdf.crawl.rules``,
so the two can disagree. It applies only the differences hkg-rdf makes on purpose (README and
crawl manifest): true space dates, no listing limits, ISO date strings, no private repos.
What the Hub refuses (401/403 for deleted, gated or disabled repos, 404) the constructor logged
and left out, which is what happens here.
"""

from __future__ import annotations

from fakehub import HUGE


def _tag_mapping(listing: dict) -> dict:
    mapping = {}
    for entries in listing.values():
        for tag in entries:
            mapping[tag["id"]] = (tag["type"], tag["label"])
    return mapping


def reference_release(data: dict) -> tuple[dict[str, list[dict]], dict[str, set[tuple[str, str]]]]:
    """(records per entity file, sorted by key; pairs per relation) of the constructor's release."""
    records: dict[str, list[dict]] = {name: [] for name in ("tasks", "models", "datasets", "spaces", "papers", "collections", "users", "orgs")}
    edges: dict[str, list[tuple[str, str]]] = {}

    def edge(name: str, subject: str, obj: str) -> None:
        edges.setdefault(name, []).append((subject, obj))

    refused = data["deleted"] | data["gated"] | data["disabled"]
    user_ids, org_ids, arxiv_ids, usernames = set(), set(), [], []
    publish: list[tuple[str, str, str]] = []  # (repo type, author, repo id)

    # process_task_data
    seen = set()
    for task in data["api_tasks"].values():
        if task["id"] not in seen:
            seen.add(task["id"])
            records["tasks"].append({"id": task["id"], "label": task["label"]})
    for tag in data["model_tags"].get("pipeline_tag", []):
        if tag["id"] not in seen:
            seen.add(tag["id"])
            records["tasks"].append({"id": tag["id"], "label": tag["label"]})
    for tag in data["dataset_tags"].get("task_categories", []):
        task_id = tag["id"].split(":")[1]
        if task_id not in seen:
            seen.add(task_id)
            records["tasks"].append({"id": task_id, "label": tag["label"]})

    def description(kind: str, repo_id: str) -> str | None:
        text = data["readmes"].get((kind, repo_id))
        return None if (kind, repo_id) in refused or text is None or text == HUGE else text

    # process_model_data / get_model_details, process_model_description
    mapping = _tag_mapping(data["model_tags"])
    for model in data["models"]:
        if model["private"]:
            continue
        m = {"id": model["id"], "name": model["id"].split("/")[1], "createdAt": model["createdAt"], "lastModified": model["lastModified"],
             "downloads": model["downloads"], "likes": model["likes"], "region": None, "other": [], "libraries": [], "license": None,
             "languages": [], "pipeline_tag": [], "description": description("model", model["id"])}
        usernames.append(model["author"])
        publish.append(("model", model["author"], model["id"]))
        pipeline = model["pipeline_tag"]
        if pipeline is not None:
            m["pipeline_tag"].append(mapping[pipeline][1] if pipeline in mapping else pipeline)
            edge("model_definedFor_task", model["id"], pipeline)
        for tag in model["tags"]:
            if tag.startswith("dataset:"):
                edge("model_trainedOrFineTunedOn_dataset", model["id"], tag.split(":")[1])
            elif tag.startswith("arxiv:"):
                arxiv_ids.append(tag.split(":")[1])
                edge("model_cite_paper", model["id"], tag.split(":")[1])
            elif tag.startswith("base_model:"):
                parts = tag.split(":")
                if len(parts) == 3 and parts[1] in ("adapter", "finetune", "merge", "quantized"):
                    edge(f"model_{parts[1]}_model", parts[2], model["id"])
            else:
                kind, label = mapping.get(tag, ("other", tag))
                if kind == "region":
                    m["region"] = label
                elif kind == "other":
                    m["other"].append(label)
                elif kind == "library":
                    m["libraries"].append(label)
                elif kind == "license":
                    m["license"] = label
                elif kind == "language":
                    m["languages"].append(label)
                elif kind == "pipeline_tag" and pipeline != tag:
                    m["pipeline_tag"].append(label)
                    edge("model_definedFor_task", model["id"], tag)
        records["models"].append(m)

    # process_dataset_data / get_dataset_details, process_dataset_description
    mapping = _tag_mapping(data["dataset_tags"])
    fields = {"library": "libraries", "language": "languages", "other": "other", "task_ids": "sub-tasks", "task_categories": "tasks",
              "format": "formats", "modality": "modalities", "tag": "tags"}
    for dataset in data["datasets"]:
        if dataset["private"]:
            continue
        d = {"id": dataset["id"], "name": dataset["id"].split("/")[1], "createdAt": dataset["createdAt"],
             "lastModified": dataset["lastModified"], "downloads": dataset["downloads"], "likes": dataset["likes"], "libraries": [],
             "license": None, "languages": [], "other": [], "sub-tasks": [], "tasks": [], "size": None, "formats": [], "modalities": [],
             "tags": [], "description": description("dataset", dataset["id"])}
        usernames.append(dataset["author"])
        publish.append(("dataset", dataset["author"], dataset["id"]))
        for tag in dataset["tags"]:
            if tag.startswith("arxiv:"):
                arxiv_ids.append(tag.split(":")[1])
                edge("dataset_cite_paper", dataset["id"], tag.split(":")[1])
                continue
            if tag.startswith("task_categories:"):
                edge("dataset_definedFor_task", dataset["id"], tag.split(":")[1])
            kind, label = mapping.get(tag, ("tag", tag))
            if kind == "license":
                d["license"] = label
            elif kind == "size_categories":
                d["size"] = label
            elif kind in fields:
                d[fields[kind]].append(label)
        records["datasets"].append(d)

    # process_space_data / get_space_details (true dates: a deliberate difference)
    for space in data["spaces"]:
        if ("space", space["id"]) in refused:
            continue
        records["spaces"].append({"id": space["id"], "name": space["id"].split("/")[1], "createdAt": space["createdAt"],
                                  "lastModified": space["lastModified"], "likes": space.get("likes", 0), "tags": list(space["tags"])})
        usernames.append(space["author"])
        publish.append(("space", space["author"], space["id"]))
        for model_id in space["models"]:
            edge("space_use_model", space["id"], model_id)
        for dataset_id in space["datasets"]:
            edge("space_use_dataset", space["id"], dataset_id)

    # process_user_like_repo: every repo's likers
    for kind, name in (("model", "models"), ("dataset", "datasets"), ("space", "spaces")):
        for item in records[name]:
            if (kind, item["id"]) in refused:
                continue
            for user in data["likers"].get((kind, item["id"]), []):
                user_ids.add(user)
                edge(f"user_like_{kind}", user, item["id"])

    # process_collection_data / get_collection_details
    for collection in data["collections"]:
        records["collections"].append({"slug": collection["slug"], "title": collection["title"], "upvotes": collection["upvotes"],
                                       "description": collection["description"]})
        owner = collection["owner"]
        usernames.append(owner["name"])
        if owner["type"] == "user":
            user_ids.add(owner["name"])
            edge("user_own_collection", owner["name"], collection["slug"])
        else:
            org_ids.add(owner["name"])
            edge("org_own_collection", owner["name"], collection["slug"])
        for kind, item_id in collection["items"]:
            if kind in ("model", "dataset", "space", "paper"):
                edge(f"collection_contain_{kind}", collection["slug"], item_id)
            if kind == "paper":
                arxiv_ids.append(item_id)

    # process_paper_data / get_paper_details
    for arxiv_id in dict.fromkeys(arxiv_ids):
        paper = data["papers"].get(arxiv_id)
        if paper is None:
            continue
        records["papers"].append({"id": arxiv_id, "authors": [name for name, _ in paper["authors"]], "publishedAt": paper["publishedAt"],
                                  "title": paper["title"], "summary": paper["summary"], "upvotes": paper["upvotes"] or 0})
        for _, user in paper["authors"]:
            if user:
                user_ids.add(user)
                edge("user_publish_paper", user, arxiv_id)

    # process_user_and_org_data: classification, overviews, followers, members, publishers
    for name in usernames:
        if name in user_ids or name in org_ids:
            continue
        if name in data["users"]:
            user_ids.add(name)
        if name in data["orgs"]:
            org_ids.add(name)
    for org in sorted(org_ids):
        if org in data["orgs"]:
            records["orgs"].append({"id": org, "fullname": data["orgs"][org]})
        for user in data["followers"].get(org, []):
            edge("user_follow_org", user, org)
        for user in data["members"].get(org, []):
            edge("user_affiliatedWith_org", user, org)
    for user in sorted(user_ids):
        if user in data["users"]:
            records["users"].append({"id": user, "fullname": data["users"][user]})
        for follower in data["followers"].get(user, []):
            edge("user_follow_user", follower, user)
    for kind, author, repo_id in publish:
        if author in org_ids:
            edge(f"org_publish_{kind}", author, repo_id)
        elif author in user_ids:
            edge(f"user_publish_{kind}", author, repo_id)

    # verify_relations: both ends must be entities
    ids = {name: {r.get("id", r.get("slug")) for r in recs} for name, recs in records.items()}
    segment = {"model": "models", "dataset": "datasets", "space": "spaces", "paper": "papers", "collection": "collections",
               "user": "users", "org": "orgs", "task": "tasks"}
    kept: dict[str, set[tuple[str, str]]] = {}
    for name, pairs in edges.items():
        subject_type, _, object_type = name.split("_")
        kept[name] = {(s, o) for s, o in pairs if s in ids[segment[subject_type]] and o in ids[segment[object_type]]}
    for name, recs in records.items():
        recs.sort(key=lambda r: r.get("id", r.get("slug")))
    return records, kept
