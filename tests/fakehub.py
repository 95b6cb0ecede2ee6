"""A fake Hugging Face Hub: a real HTTP server on 127.0.0.1 that answers as the real Hub does.

Every response shape below is the one the real Hub sends, as the client that parses it shows it:
``huggingface_hub`` 2.4 (the version installed and run by the crawler), ``src/huggingface_hub/
hf_api.py`` and ``utils/_http.py`` / ``utils/_pagination.py``; each route names the client code it
was checked against. The things a crawl built on our guesses broke on are served as the Hub
serves them: collection listings without ``position``, dataset listings with an empty file list,
likers without ``fullname``, 401 (not 404) for a repo that is missing, private or gated when no
token is sent, 403 for a disabled repo, private repos listed only to their owner's token,
``RateLimit``/``RateLimit-Policy`` headers on every answer, HEAD on README files.

The content (:func:`fixture`) is designed so that all 8 entity types and all 30 relations occur,
plus what a crawl must skip and count. The server logs every request with its start and end
times, tracks how many run at once, and injects faults on request: 429 with Retry-After, 429 of
a window not exhausted, 5xx, slow answers, connections dropped in the middle of a body.

``python tests/fakehub.py --synthetic 2000`` serves a larger generated Hub for measurements.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

T0 = "2024-01-0{}T10:00:00.000Z"
HEX = "0123456789abcdef01234567"
TOKEN = "hf_fake_owner_token"  # the token of user "alice": it lists her private repos
HUGE = 100 * 1024 * 1024 + 1  # a README over the constructor's 100 MB limit


def _user(name: str, fullname: str | None) -> dict:
    """A user as the Hub lists it (likers, followers, members, paper authors).

    hf_api.py ``User.__init__`` reads ``user``, ``fullname``, ``avatarUrl``, ``type``, ``isPro``;
    the Hub leaves ``fullname`` out for users who never set one (``list_repo_likers`` indexes
    ``liker["fullname"]`` and breaks on them).
    """
    entry = {"user": name, "avatarUrl": f"/avatars/{name}.png", "type": "user", "isPro": False}
    if fullname is not None:
        entry["fullname"] = fullname
    return entry


def _model(repo_id: str, tags: list[str], pipeline: str | None, likes: int, downloads: int, day: int, readme: bool = True,
           private: bool = False) -> dict:
    """A model with every key ``ModelInfo.__init__`` reads (hf_api.py) that the listing can expand."""
    return {
        "_id": f"id-{repo_id}", "id": repo_id, "modelId": repo_id, "author": repo_id.split("/")[0], "sha": "0" * 40,
        "createdAt": T0.format(day), "lastModified": T0.format(day).replace("10:00", "12:30"), "private": private,
        "gated": False, "disabled": False, "downloads": downloads, "likes": likes, "library_name": None,
        "tags": tags, "pipeline_tag": pipeline,
        "siblings": [{"rfilename": ".gitattributes"}] + ([{"rfilename": "README.md"}] if readme else []),
    }


def _dataset(repo_id: str, tags: list[str], likes: int, downloads: int, day: int, private: bool = False) -> dict:
    """A dataset with the keys ``DatasetInfo.__init__`` reads; listings send ``siblings: []`` (no file list)."""
    return {
        "_id": f"id-{repo_id}", "id": repo_id, "author": repo_id.split("/")[0], "sha": "1" * 40,
        "createdAt": T0.format(day), "lastModified": T0.format(day).replace("10:00", "13:45"), "private": private,
        "gated": False, "disabled": False, "downloads": downloads, "likes": likes, "tags": tags, "siblings": [],
    }


def _space(repo_id: str, models: list[str], datasets: list[str], likes: int, day: int) -> dict:
    """A space with the keys ``SpaceInfo.__init__`` reads, ``models``/``datasets`` included."""
    return {
        "_id": f"id-{repo_id}", "id": repo_id, "author": repo_id.split("/")[0], "sha": "2" * 40,
        "createdAt": T0.format(day), "lastModified": T0.format(day).replace("10:00", "09:15"), "private": False,
        "likes": likes, "sdk": "gradio", "tags": ["gradio", "region:us"], "models": models, "datasets": datasets,
        "siblings": [{"rfilename": "app.py"}],
    }


def fixture() -> dict:
    """The fake Hub's content, version 1."""
    users = {
        "alice": "Alice Anders", "bob": "Bob Brown", "carol": "Carol Chen", "dave": "Dave Diaz",
        "erin": "Erin Evans", "frank": "Frank Fox", "gus": None,
    }
    orgs = {"acme": "ACME Corp", "nlp-lab": "NLP Lab"}
    models = [
        _model("acme/base-7b", ["transformers", "safetensors", "en", "license:apache-2.0", "region:us", "text-generation",
                                "arxiv:2401.00001", "dataset:acme/corpus", "conversational", "llama"], "text-generation", 2, 1000, 1),
        _model("alice/base-7b-ft", ["transformers", "base_model:finetune:acme/base-7b", "base_model:acme/base-7b",
                                    "dataset:nlp-lab/reviews", "license:mit", "region:us", "en", "fr", "text-classification"],
               "text-classification", 1, 50, 2),
        _model("alice/base-7b-lora", ["peft", "base_model:adapter:acme/base-7b"], None, 0, 5, 3, readme=False),
        _model("bob/base-7b-gguf", ["gguf", "base_model:quantized:acme/base-7b", "text-generation"], "text-generation", 0, 7, 4),
        _model("bob/merged", ["transformers", "base_model:merge:acme/base-7b", "base_model:merge:alice/base-7b-ft", "merge",
                              "fill-mask"], "text-generation", 0, 0, 5),
        _model("ghost/orphan", ["base_model:finetune:missing/model", "arxiv:9999.99999"], "fill-mask", 0, 1, 6),
        _model("bob/deleted", ["transformers"], "fill-mask", 1, 3, 7),  # deleted after the listing: 401 from then on
        _model("acme/gated", ["transformers", "license:apache-2.0"], "text-generation", 0, 9, 7),  # README: 401 GatedRepo
        _model("alice/secret", ["transformers"], None, 0, 0, 8, private=True),  # listed to alice's token only
    ]
    datasets = [
        _dataset("nlp-lab/reviews", ["task_categories:text-classification", "task_ids:sentiment-classification", "language:en",
                                     "license:cc-by-4.0", "license:mit", "size_categories:1K<n<10K", "format:parquet", "modality:text",
                                     "library:datasets", "arxiv:2401.00002", "region:us", "sentiment"], 1, 300, 1),
        _dataset("acme/corpus", ["task_categories:text-generation", "language:en", "license:odc-by"], 0, 20, 2),
        _dataset("carol/tiny", [], 0, 0, 3),
        _dataset("carol/disabled", ["language:en"], 0, 0, 4),  # README: 403 "Access to this resource is disabled."
    ]
    spaces = [
        _space("alice/demo", ["acme/base-7b", "alice/base-7b-ft"], ["nlp-lab/reviews"], 1, 1),
        _space("nlp-lab/leaderboard", ["bob/merged", "missing/model"], [], 0, 2),
    ]
    papers = {
        "2401.00001": {"title": "Base Seven B", "summary": "A base model.", "upvotes": 12, "publishedAt": "2024-01-02T00:00:00.000Z",
                       "authors": [("Frank Fox", "frank"), ("Alice Anders", "alice"), ("Unregistered Person", None), ("Frank Fox", None)]},
        "2401.00002": {"title": "Reviews", "summary": "A dataset of reviews.", "upvotes": 3, "publishedAt": "2024-01-03T00:00:00.000Z",
                       "authors": [("Dave Diaz", "dave")]},
        "2401.00003": {"title": "Surveyed", "summary": "A survey.", "upvotes": 0, "publishedAt": "2024-01-04T00:00:00.000Z",
                       "authors": [("Someone Else", None)]},
    }
    collections = [
        {"slug": f"alice/favorites-{HEX}", "title": "Favorites", "description": "Things Alice likes", "upvotes": 4,
         "owner": {"name": "alice", "type": "user", "fullname": "Alice Anders"},
         "items": [("model", "acme/base-7b"), ("dataset", "nlp-lab/reviews"), ("space", "alice/demo"),
                   ("paper", "2401.00003"), ("collection", f"acme/release-{HEX[::-1]}")],
         "lastUpdated": "2024-02-01T00:00:00.000Z"},
        {"slug": f"acme/release-{HEX[::-1]}", "title": "Release", "description": None, "upvotes": 9,
         "owner": {"name": "acme", "type": "org", "fullname": "ACME Corp"},
         "items": [("model", "acme/base-7b"), ("model", "bob/base-7b-gguf")],
         "lastUpdated": "2024-02-02T00:00:00.000Z"},
    ]
    return {
        "users": users,
        "orgs": orgs,
        "models": models,
        "datasets": datasets,
        "spaces": spaces,
        "papers": papers,
        "collections": collections,
        "deleted": {("model", "bob/deleted")},
        "gated": {("model", "acme/gated")},
        "disabled": {("dataset", "carol/disabled")},
        "readmes": {
            ("model", "acme/base-7b"): "---\nlicense: apache-2.0\n---\n# Base 7B\n",
            ("model", "alice/base-7b-ft"): "# Fine-tuned on reviews ✓\n",
            ("model", "bob/base-7b-gguf"): "# GGUF\n",
            ("model", "bob/merged"): HUGE,  # the HEAD says over 100 MB: never fetched
            ("model", "acme/gated"): "# gated\n",
            ("dataset", "nlp-lab/reviews"): "# Reviews\n",
            ("dataset", "acme/corpus"): "# Corpus\n",
            ("dataset", "carol/tiny"): "# Tiny, though its listing sends no file list\n",
            # ghost/orphan lists a README.md that the server does not have: description null
        },
        "likers": {("model", "acme/base-7b"): ["alice", "bob"], ("model", "alice/base-7b-ft"): ["carol"],
                   ("model", "alice/base-7b-lora"): ["dave"],  # its like count says 0: likers are fetched anyway
                   ("dataset", "nlp-lab/reviews"): ["dave"], ("space", "alice/demo"): ["bob"],
                   ("space", "nlp-lab/leaderboard"): ["gus"]},  # gus has no full name
        "followers": {"alice": ["bob", "erin"], "bob": ["alice"], "dave": ["carol"], "acme": ["carol", "erin"], "nlp-lab": ["dave"]},
        "members": {"acme": ["alice", "bob"], "nlp-lab": ["dave", "frank", "erin"]},
        "api_tasks": {"text-generation": {"id": "text-generation", "label": "Text Generation"},
                      "text-classification": {"id": "text-classification", "label": "Text Classification"}},
        "model_tags": {
            "pipeline_tag": [{"id": "text-generation", "label": "Text Generation", "type": "pipeline_tag"},
                             {"id": "text-classification", "label": "Text Classification", "type": "pipeline_tag"},
                             {"id": "fill-mask", "label": "Fill-Mask", "type": "pipeline_tag"}],
            "library": [{"id": t, "label": label, "type": "library"}
                        for t, label in (("transformers", "Transformers"), ("safetensors", "Safetensors"), ("peft", "PEFT"), ("gguf", "GGUF"))],
            "language": [{"id": "en", "label": "English", "type": "language"}, {"id": "fr", "label": "French", "type": "language"}],
            "license": [{"id": "license:apache-2.0", "label": "apache-2.0", "type": "license"},
                        {"id": "license:mit", "label": "mit", "type": "license"}],
            "region": [{"id": "region:us", "label": "🇺🇸 Region: US", "type": "region"}],
            "other": [{"id": "conversational", "label": "Conversational", "type": "other"}],
        },
        "dataset_tags": {
            "task_categories": [{"id": "task_categories:text-classification", "label": "Text Classification", "type": "task_categories"},
                                {"id": "task_categories:translation", "label": "Translation", "type": "task_categories"}],
            "task_ids": [{"id": "task_ids:sentiment-classification", "label": "sentiment-classification", "type": "task_ids"}],
            "language": [{"id": "language:en", "label": "English", "type": "language"}],
            "license": [{"id": "license:cc-by-4.0", "label": "cc-by-4.0", "type": "license"},
                        {"id": "license:mit", "label": "mit", "type": "license"}],
            "size_categories": [{"id": "size_categories:1K<n<10K", "label": "1K<n<10K", "type": "size_categories"}],
            "format": [{"id": "format:parquet", "label": "parquet", "type": "format"}],
            "modality": [{"id": "modality:text", "label": "Text", "type": "modality"}],
            "library": [{"id": "library:datasets", "label": "Datasets", "type": "library"}],
        },
    }


def changed(data: dict) -> dict:
    """Version 2 of the fixture: the changes ``test_diff`` expects the diff to list, exactly."""
    data = copy.deepcopy(data)
    data["models"].append(_model("carol/new-model", ["base_model:finetune:acme/base-7b", "text-generation"], "text-generation", 0, 0, 9, readme=False))
    data["datasets"] = [d for d in data["datasets"] if d["id"] != "carol/tiny"]
    base = next(m for m in data["models"] if m["id"] == "acme/base-7b")
    base.update(likes=3, downloads=1500)
    data["likers"][("model", "acme/base-7b")] = ["alice", "bob", "dave"]
    ft = next(m for m in data["models"] if m["id"] == "alice/base-7b-ft")
    ft["lastModified"] = "2024-03-01T08:00:00.000Z"
    ft["tags"] = [t for t in ft["tags"] if t != "fr"]
    data["readmes"][("model", "alice/base-7b-ft")] = "# Fine-tuned on reviews, v2\n"
    data["followers"]["alice"] = ["erin"]
    demo = next(s for s in data["spaces"] if s["id"] == "alice/demo")
    demo["models"] = ["acme/base-7b"]
    demo["lastModified"] = "2024-03-02T08:00:00.000Z"
    data["orgs"]["nlp-lab"] = "NLP Laboratory"
    return data


def synthetic(n: int) -> dict:
    """A larger generated Hub for throughput measurements: n models, n/4 datasets and spaces, n/10 users."""
    data = fixture()
    users = [f"user{i}" for i in range(max(10, n // 10))]
    data["users"].update({u: f"User {u}" for u in users})
    for i in range(n):
        owner = users[i % len(users)]
        tags = ["transformers", "en", "license:mit", f"base_model:finetune:{users[(i - 1) % len(users)]}/m{i - 1}" if i else "llama"]
        data["models"].append(_model(f"{owner}/m{i}", tags, "text-generation", i % 3, i, 1 + i % 9))
        data["readmes"][("model", f"{owner}/m{i}")] = f"# model {i}\n" + "text " * 200
        if i % 3:
            data["likers"][("model", f"{owner}/m{i}")] = [users[(i + k) % len(users)] for k in range(i % 3)]
    for i in range(n // 4):
        owner = users[i % len(users)]
        data["datasets"].append(_dataset(f"{owner}/d{i}", ["task_categories:text-classification", "language:en"], 0, i, 1 + i % 9))
        data["readmes"][("dataset", f"{owner}/d{i}")] = f"# dataset {i}\n"
        data["spaces"].append(_space(f"{owner}/s{i}", [f"{owner}/m{i}"], [f"{owner}/d{i}"], 0, 1 + i % 9))
    for j, u in enumerate(users):
        data["followers"][u] = [users[(j + 1) % len(users)]]
    return data


# ---------------------------------------------------------------- faults and logs


@dataclass
class Fault:
    """Apply ``kind`` to the next ``times`` requests whose path+query matches ``pattern``.

    Kinds: "429" (with ``Retry-After``), "429-window" (a 429 whose ``RateLimit`` says requests
    remain, no ``Retry-After``), "500", "503", "slow" (``delay`` seconds), "drop" (half a body).
    """

    pattern: str
    kind: str
    times: int = 1
    retry_after: int = 1
    delay: float = 0.0


@dataclass
class Logged:
    start: float
    end: float
    path: str
    status: int
    fault: str | None = None
    method: str = "GET"


@dataclass
class State:
    data: dict
    page_size: int = 2
    delay: float = 0.0  # added to every answer
    quota: int = 100_000  # requests per rate-limit window (RateLimit-Policy q)
    window: int = 300  # seconds (RateLimit-Policy w)
    faults: list[Fault] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    window_start: float = field(default_factory=time.monotonic)
    window_used: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, pattern: str = "") -> list[Logged]:
        with self.lock:
            return [entry for entry in self.log if re.search(pattern, entry.path)]

    def ratelimit(self) -> dict[str, str]:
        """The headers the Hub sends on every answer (IETF draft 9, as ``parse_ratelimit_headers`` reads them)."""
        now = time.monotonic()
        if now - self.window_start >= self.window:
            self.window_start, self.window_used = now, 0
        self.window_used += 1
        remaining = max(0, self.quota - self.window_used)
        reset = max(1, int(self.window - (now - self.window_start)))
        return {"RateLimit": f'"api";r={remaining};t={reset}', "RateLimit-Policy": f'"fixed window";"api";q={self.quota};w={self.window}'}


_NOT_FOUND = (404, {"error": "Not Found"}, {})


def _repo_error(kind: str) -> tuple[int, dict, dict]:
    """How the Hub refuses a repo without a token (utils/_http.py ``hf_raise_for_status`` reads ``X-Error-Code``/``X-Error-Message``).

    Missing, deleted or private: 401 ``RepoNotFound`` (-> ``RepositoryNotFoundError``); gated:
    401 ``GatedRepo`` (-> ``GatedRepoError``); disabled: 403 with the message the client matches
    (-> ``DisabledRepoError``).
    """
    if kind == "gated":
        return 401, {"error": "Access restricted"}, {"X-Error-Code": "GatedRepo", "X-Error-Message": "Access to model is restricted."}
    if kind == "disabled":
        return 403, {"error": "Access to this resource is disabled."}, {"X-Error-Message": "Access to this resource is disabled."}
    return 401, {"error": "Invalid username or password."}, {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Invalid username or password."}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms per keep-alive request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        state = self.server.state
        start = time.monotonic()
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            fault = next((f for f in state.faults if f.times > 0 and re.search(f.pattern, self.path)), None)
            if fault is not None:
                fault.times -= 1
            entry = Logged(start, float("inf"), self.path, 0, fault.kind if fault else None, "HEAD" if head else "GET")
            state.log.append(entry)  # logged as it starts: an answer still sleeping is in the log too
            limits = state.ratelimit()
        status = 0
        try:
            if state.delay:
                time.sleep(state.delay)
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            if fault is not None and fault.kind in ("429", "429-window", "500", "503"):
                status = int(fault.kind[:3])
                headers = {"Retry-After": str(fault.retry_after)} if fault.kind == "429" else {}
                self._send(status, {"error": "injected"}, {**limits, **headers}, head)
                return
            status, body, headers = self._route()
            entry.status = status
            self._send(status, body, {**limits, **headers}, head, drop=fault is not None and fault.kind == "drop")
        finally:
            with state.lock:
                state.in_flight -= 1
                entry.end, entry.status = time.monotonic(), status or 200

    def _send(self, status: int, body: object, headers: dict, head: bool = False, drop: bool = False) -> None:
        size = body if isinstance(body, int) else None  # a README too large to hold: only its size is known
        payload = b"" if size is not None else body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, (bytes, int)) else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(size if size is not None else len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if head:
            return
        if drop:  # half the body, then the connection goes away
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if size is not None:
            raise RuntimeError("the fake Hub was asked for the body of a README over 100 MB")
        self.wfile.write(payload)

    # ------------------------------------------------------------ routes

    def _token(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {TOKEN}"

    def _visible(self, item: dict) -> bool:
        return not item.get("private") or self._token()

    def _refused(self, kind: str, repo_id: str) -> tuple[int, dict, dict] | None:
        """The error for a repo the Hub will not show to this request, or None."""
        data = self.server.state.data
        for state in ("deleted", "gated", "disabled"):
            if (kind, repo_id) in data.get(state, ()):
                return _repo_error(state)
        items = {i["id"]: i for i in data[kind + "s"]}
        if repo_id not in items or not self._visible(items[repo_id]):
            return _repo_error("missing")
        return None

    def _route(self) -> tuple[int, object, dict]:
        data = self.server.state.data
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        path = unquote(parts.path)
        if path == "/api/tasks":  # an object keyed by task id (no client method; the constructor read id and label)
            return 200, data["api_tasks"], {}
        if path == "/api/models-tags-by-type":  # hf_api.py get_model_tags: returns r.json(), {type: [{id, label, type}]}
            return 200, data["model_tags"], {}
        if path == "/api/datasets-tags-by-type":  # get_dataset_tags
            return 200, data["dataset_tags"], {}
        for kind in ("models", "datasets", "spaces"):
            if path == f"/api/{kind}":  # list_models/list_datasets/list_spaces: paginate() over Link rel="next"
                odd = data.get("odd_listing", {})  # keys a test adds to a listed item only (not to its detail)
                items = [{**_listed(item, query), **odd.get(item["id"], {})} for item in data[kind] if self._visible(item)]
                return self._page(items, query)
        if path == "/api/collections":  # list_collections: Collection(position=n, **item), the listing has no position
            items = [_collection(c, brief=True) for c in data["collections"]]
            return self._page(items, query)
        m = re.fullmatch(r"/api/(models|datasets|spaces)/(.+)/likers", path)
        if m:  # list_repo_likers: paginate(), each {user, fullname?, avatarUrl, ...}
            refused = self._refused(m[1][:-1], m[2])
            if refused:
                return refused
            return self._page([_user(n, data["users"][n]) for n in data["likers"].get((m[1][:-1], m[2]), [])], query)
        m = re.fullmatch(r"/api/(models|datasets|spaces)/([^/]+/[^/]+)", path)
        if m:  # model_info/dataset_info/space_info: ModelInfo(**r.json()) etc., ``expand`` as in listings
            item = next((i for i in data[m[1]] if i["id"] == m[2]), None)
            return self._refused(m[1][:-1], m[2]) or (200, _listed(item, {**query, "full": ["true"]} if "expand" not in query else query), {})
        m = re.fullmatch(r"/api/collections/(.+)", path)
        if m:  # get_collection: Collection(**r.json()) pops position, private, theme, lastUpdated, upvotes, items
            found = next((c for c in data["collections"] if c["slug"] == m[1]), None)
            return (200, _collection(found), {}) if found else _NOT_FOUND
        m = re.fullmatch(r"/api/papers/(.+)", path)
        if m:  # paper_info: PaperInfo(**r.json()); authors[].user is a User
            if m[1] in data.get("raw_papers", {}):  # an answer given as is (a test's odd record)
                return 200, data["raw_papers"][m[1]], {}
            paper = data["papers"].get(m[1])
            return (200, _paper(m[1], paper, data["users"]), {}) if paper else (404, {"error": "Paper not found"}, {})
        m = re.fullmatch(r"/api/users/([^/]+)/(overview|followers)", path)
        if m:  # get_user_overview: User(**r.json()); list_user_followers: paginate(), User(**entry)
            if m[1] not in data["users"]:
                return 404, {"error": "User not found"}, {}
            if m[2] == "overview":
                return 200, {**_user(m[1], data["users"][m[1]]), "numFollowers": len(data["followers"].get(m[1], []))}, {}
            return self._page([_user(n, data["users"][n]) for n in data["followers"].get(m[1], [])], query)
        m = re.fullmatch(r"/api/organizations/([^/]+)/(overview|followers|members)", path)
        if m:  # get_organization_overview: Organization(**r.json()); followers/members: paginate(), User(**entry)
            if m[1] not in data["orgs"]:
                return 404, {"error": "Organization not found"}, {}
            if m[2] == "overview":
                return 200, {"name": m[1], "fullname": data["orgs"][m[1]], "avatarUrl": "", "type": "org", "isVerified": False}, {}
            names = data["followers" if m[2] == "followers" else "members"].get(m[1], [])
            return self._page([_user(n, data["users"][n]) for n in names], query)
        m = re.fullmatch(r"/(datasets/)?([^/]+/[^/]+)/resolve/main/README\.md", path)
        if m:  # hf_hub_url(...): a missing file is 404 EntryNotFound (-> RemoteEntryNotFoundError)
            kind = "dataset" if m[1] else "model"
            refused = self._refused(kind, m[2])
            if refused:
                return refused
            text = data["readmes"].get((kind, m[2]))
            if text is None:
                return 404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"}
            return 200, text if isinstance(text, int) else text.encode("utf-8"), {}
        return 401, {"error": "Invalid username or password."}, {"X-Error-Code": "RepoNotFound"}

    def _page(self, items: list, query: dict) -> tuple[int, object, dict]:
        """One page of a listing; the next one in ``Link: <url>; rel="next"`` (utils/_pagination.py ``_get_next_page``)."""
        state = self.server.state
        sort = query.get("sort", [None])[0]
        if sort in ("createdAt", "lastModified", "lastUpdated"):
            key = "lastUpdated" if "lastUpdated" in (items[0] if items else {}) and sort == "lastModified" else sort
            items = sorted(items, key=lambda item: (item.get(key) or "", item.get("id") or item.get("slug")),
                           reverse=True)  # newest first: the Hub's only order (the client sends no direction)
        size = min(int(query.get("limit", [state.page_size])[0]), state.page_size)
        offset = int(base64.urlsafe_b64decode(query["cursor"][0]).decode()) if "cursor" in query else 0
        headers = {}
        if offset + size < len(items):
            rest = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
            cursor = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
            host, port = self.server.server_address[:2]
            headers["Link"] = f'<http://{host}:{port}{urlsplit(self.path).path}?{urlencode([*rest, ("cursor", cursor)])}>; rel="next"'
        return 200, items[offset: offset + size], headers


def _listed(item: dict, query: dict) -> dict:
    """A listed repo: ``expand`` keys only (plus ``_id`` and ``id``), everything with ``full``, a few keys otherwise."""
    expand = query.get("expand")
    if expand:
        return {k: v for k, v in item.items() if k in ("_id", "id", *expand)}
    if query.get("full") in (["true"], ["True"], ["1"]):
        return {k: v for k, v in item.items() if k not in ("models", "datasets")}
    return {k: v for k, v in item.items() if k in ("_id", "id", "likes", "private", "createdAt", "tags", "downloads", "pipeline_tag")}


def _collection(c: dict, brief: bool = False) -> dict:
    """A collection; items carry ``position`` (CollectionItem needs it), the collection itself only in the detail."""
    items = [{"_id": f"item{i}", "id": item_id, "type": kind, "position": i} for i, (kind, item_id) in enumerate(c["items"])]
    for item in items:
        if item["type"] == "collection":
            item["slug"] = item["id"]
    answer = {
        "slug": c["slug"], "title": c["title"], "description": c["description"], "upvotes": c["upvotes"],
        "owner": {"_id": "o", "avatarUrl": "", **c["owner"]}, "items": items[:4] if brief else items,
        "lastUpdated": c["lastUpdated"], "private": False, "theme": "blue", "shareUrl": "",
    }
    if not brief:
        answer["position"] = 0
    return answer


def _paper(arxiv_id: str, paper: dict, users: dict) -> dict:
    authors = []
    for i, (name, user) in enumerate(paper["authors"]):
        author = {"_id": f"a{i}", "name": name, "hidden": False}
        if user:
            author["user"] = {"_id": f"u{user}", **_user(user, users[user])}
        authors.append(author)
    answer = {"id": arxiv_id, "authors": authors, "publishedAt": paper["publishedAt"], "title": paper["title"],
              "summary": paper["summary"], "discussionId": "d"}
    if paper["upvotes"]:  # the Hub leaves out a zero count here (the constructor wrote 0 when absent)
        answer["upvotes"] = paper["upvotes"]
    return answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: State

    def handle_error(self, request, client_address) -> None:
        """A client that hung up (a timeout, a killed crawl) is expected here: no traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class FakeHub:
    """The server, running in a thread: ``with FakeHub(fixture()) as hub: ... hub.url ...``."""

    def __init__(self, data: dict | None = None, page_size: int = 2, delay: float = 0.0):
        self.state = State(data if data is not None else fixture(), page_size=page_size, delay=delay)
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.state = self.state
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Serve a fake Hub on 127.0.0.1 until interrupted.")
    parser.add_argument("--synthetic", type=int, default=0, help="generate this many models (default: the test fixture)")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--port-file", help="write the URL to this file")
    args = parser.parse_args()
    with FakeHub(synthetic(args.synthetic) if args.synthetic else fixture(), page_size=args.page_size) as hub:
        if args.port_file:
            open(args.port_file, "w").write(hub.url)
        print(hub.url, flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
