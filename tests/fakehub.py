"""A fake Hugging Face Hub: a real HTTP server on 127.0.0.1 that speaks the Hub API's JSON.

It serves the endpoints the crawler uses, in the shapes of the real ones (list endpoints return
JSON arrays and page with ``Link: <...>; rel="next"``), from fixture data designed so that all
8 entity types and all 30 relations occur, plus a few things a crawl must skip and count (a
repo whose owner is neither a user nor an organization, an unknown paper, a base model that is
not listed). It logs every request with its start and end times, tracks how many run at once,
and injects faults on request: 429 with Retry-After, 5xx, slow answers, connections dropped in
the middle of a body.

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


def _user(name: str, fullname: str) -> dict:
    return {"user": name, "fullname": fullname, "avatarUrl": f"/avatars/{name}.png", "type": "user", "isPro": False}


def _model(repo_id: str, tags: list[str], pipeline: str | None, likes: int, downloads: int, day: int, readme: bool = True) -> dict:
    return {
        "_id": f"id-{repo_id}", "id": repo_id, "modelId": repo_id, "author": repo_id.split("/")[0], "sha": "0" * 40,
        "createdAt": T0.format(day), "lastModified": T0.format(day).replace("10:00", "12:30"), "private": False,
        "gated": False, "disabled": False, "downloads": downloads, "likes": likes, "library_name": None,
        "tags": tags, "pipeline_tag": pipeline,
        "siblings": [{"rfilename": ".gitattributes"}] + ([{"rfilename": "README.md"}] if readme else []),
    }


def _dataset(repo_id: str, tags: list[str], likes: int, downloads: int, day: int, readme: bool = True) -> dict:
    return {
        "_id": f"id-{repo_id}", "id": repo_id, "author": repo_id.split("/")[0], "sha": "1" * 40,
        "createdAt": T0.format(day), "lastModified": T0.format(day).replace("10:00", "13:45"), "private": False,
        "gated": False, "disabled": False, "downloads": downloads, "likes": likes, "tags": tags,
        "siblings": [{"rfilename": ".gitattributes"}] + ([{"rfilename": "README.md"}] if readme else []),
    }


def _space(repo_id: str, models: list[str], datasets: list[str], likes: int, day: int) -> dict:
    return {
        "_id": f"id-{repo_id}", "id": repo_id, "author": repo_id.split("/")[0], "sha": "2" * 40,
        "createdAt": T0.format(day), "lastModified": T0.format(day).replace("10:00", "09:15"), "private": False,
        "likes": likes, "sdk": "gradio", "tags": ["gradio", "region:us"], "models": models, "datasets": datasets,
    }


def fixture() -> dict:
    """The fake Hub's content, version 1."""
    users = {
        "alice": "Alice Anders", "bob": "Bob Brown", "carol": "Carol Chen", "dave": "Dave Diaz",
        "erin": "Erin Evans", "frank": "Frank Fox",
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
        _model("bob/merged", ["transformers", "base_model:merge:acme/base-7b", "base_model:merge:alice/base-7b-ft", "merge"],
               "text-generation", 0, 0, 5),
        _model("ghost/orphan", ["base_model:finetune:missing/model", "arxiv:9999.99999"], "fill-mask", 0, 1, 6),
    ]
    datasets = [
        _dataset("nlp-lab/reviews", ["task_categories:text-classification", "task_ids:sentiment-classification", "language:en",
                                     "license:cc-by-4.0", "size_categories:1K<n<10K", "format:parquet", "modality:text",
                                     "library:datasets", "arxiv:2401.00002", "region:us", "sentiment"], 1, 300, 1),
        _dataset("acme/corpus", ["task_categories:text-generation", "language:en", "license:odc-by"], 0, 20, 2),
        _dataset("carol/tiny", [], 0, 0, 3, readme=False),
    ]
    spaces = [
        _space("alice/demo", ["acme/base-7b", "alice/base-7b-ft"], ["nlp-lab/reviews"], 1, 1),
        _space("nlp-lab/leaderboard", ["bob/merged", "missing/model"], [], 0, 2),
    ]
    papers = {
        "2401.00001": {"title": "Base Seven B", "summary": "A base model.", "upvotes": 12, "publishedAt": "2024-01-02T00:00:00.000Z",
                       "authors": [("Alice Anders", "alice"), ("Frank Fox", "frank"), ("Unregistered Person", None)]},
        "2401.00002": {"title": "Reviews", "summary": "A dataset of reviews.", "upvotes": 3, "publishedAt": "2024-01-03T00:00:00.000Z",
                       "authors": [("Dave Diaz", "dave")]},
        "2401.00003": {"title": "Surveyed", "summary": "A survey.", "upvotes": 1, "publishedAt": "2024-01-04T00:00:00.000Z",
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
        "readmes": {
            ("model", "acme/base-7b"): "---\nlicense: apache-2.0\n---\n# Base 7B\n",
            ("model", "alice/base-7b-ft"): "# Fine-tuned on reviews ✓\n",
            ("model", "bob/base-7b-gguf"): "# GGUF\n",
            ("model", "bob/merged"): "# Merged\n",
            ("dataset", "nlp-lab/reviews"): "# Reviews\n",
            ("dataset", "acme/corpus"): "# Corpus\n",
            # ghost/orphan lists a README.md that the server does not have: description null
        },
        "likers": {("model", "acme/base-7b"): ["alice", "bob"], ("model", "alice/base-7b-ft"): ["carol"],
                   ("dataset", "nlp-lab/reviews"): ["dave"], ("space", "alice/demo"): ["bob"]},
        "followers": {"alice": ["bob", "erin"], "bob": ["alice"], "dave": ["carol"], "acme": ["carol", "erin"], "nlp-lab": ["dave"]},
        "members": {"acme": ["alice", "bob"], "nlp-lab": ["dave", "frank"]},
        "api_tasks": {"text-generation": {"id": "text-generation", "label": "Text Generation"},
                      "text-classification": {"id": "text-classification", "label": "Text Classification"}},
        "model_tags": {
            "pipeline_tag": [{"id": "text-generation", "label": "Text Generation", "type": "pipeline_tag"},
                             {"id": "text-classification", "label": "Text Classification", "type": "pipeline_tag"},
                             {"id": "fill-mask", "label": "Fill-Mask", "type": "pipeline_tag"}],
            "library": [{"id": t, "label": t.title(), "type": "library"} for t in ("transformers", "safetensors", "peft", "gguf")],
            "language": [{"id": "en", "label": "English", "type": "language"}, {"id": "fr", "label": "French", "type": "language"}],
            "license": [{"id": "license:apache-2.0", "label": "apache-2.0", "type": "license"},
                        {"id": "license:mit", "label": "mit", "type": "license"}],
            "region": [{"id": "region:us", "label": "🇺🇸 Region: US", "type": "region"}],
            "other": [{"id": "conversational", "label": "Conversational", "type": "other"}],
        },
        "dataset_tags": {
            "task_categories": [{"id": "task_categories:text-classification", "label": "Text Classification", "type": "task_categories"},
                                {"id": "task_categories:translation", "label": "Translation", "type": "task_categories"}],
            "language": [{"id": "language:en", "label": "English", "type": "language"}],
        },
    }


def changed(data: dict) -> dict:
    """Version 2 of the fixture: the changes ``test_diff`` expects the diff to list, exactly."""
    data = copy.deepcopy(data)
    data["models"].append(_model("carol/new-model", ["base_model:finetune:acme/base-7b", "text-generation"], "text-generation", 0, 0, 8, readme=False))
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
    """Apply ``kind`` to the next ``times`` requests whose path+query matches ``pattern``."""

    pattern: str
    kind: str  # "429" | "500" | "503" | "slow" | "drop"
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


@dataclass
class State:
    data: dict
    page_size: int = 2
    delay: float = 0.0  # added to every answer
    faults: list[Fault] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, pattern: str = "") -> list[Logged]:
        with self.lock:
            return [entry for entry in self.log if re.search(pattern, entry.path)]


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
        state = self.server.state
        start = time.monotonic()
        with state.lock:
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            fault = next((f for f in state.faults if f.times > 0 and re.search(f.pattern, self.path)), None)
            if fault is not None:
                fault.times -= 1
            entry = Logged(start, float("inf"), self.path, 0, fault.kind if fault else None)
            state.log.append(entry)  # logged as it starts: an answer still sleeping is in the log too
        status = 0
        try:
            if state.delay:
                time.sleep(state.delay)
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            if fault is not None and fault.kind in ("429", "500", "503"):
                status = int(fault.kind)
                headers = {"Retry-After": str(fault.retry_after)} if status == 429 else {}
                self._send(status, {"error": "injected"}, headers)
                return
            status, body, headers = self._route()
            entry.status = status
            if fault is not None and fault.kind == "drop":
                self._send(status, body, headers, drop=True)
                return
            self._send(status, body, headers)
        finally:
            with state.lock:
                state.in_flight -= 1
                entry.end, entry.status = time.monotonic(), status or 200

    def _send(self, status: int, body: object, headers: dict, drop: bool = False) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if drop:  # half the body, then the connection goes away
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(payload)

    # ------------------------------------------------------------ routes

    def _route(self) -> tuple[int, object, dict]:
        state = self.server.state
        data = state.data
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        path = unquote(parts.path)
        not_found = (404, {"error": "not found"}, {"X-Error-Code": "RepoNotFound"})
        if path == "/api/tasks":
            return 200, data["api_tasks"], {}
        if path == "/api/models-tags-by-type":
            return 200, data["model_tags"], {}
        if path == "/api/datasets-tags-by-type":
            return 200, data["dataset_tags"], {}
        for kind in ("models", "datasets", "spaces"):
            if path == f"/api/{kind}":
                items = [_listed(kind, item) for item in data[kind]]
                return self._page(items, query)
        if path == "/api/collections":
            items = [_collection(c, brief=True) for c in data["collections"]]
            return self._page(items, query, sort_key="lastUpdated")
        m = re.fullmatch(r"/api/(models|datasets|spaces)/(.+)/likers", path)
        if m:
            repos = {item["id"] for item in data[m[1]]}
            if m[2] not in repos:
                return not_found
            names = data["likers"].get((m[1][:-1], m[2]), [])
            return self._page([_user(n, data["users"][n]) for n in names], query)
        m = re.fullmatch(r"/api/spaces/([^/]+/[^/]+)", path)
        if m:
            space = next((s for s in data["spaces"] if s["id"] == m[1]), None)
            return (200, space, {}) if space else not_found
        m = re.fullmatch(r"/api/collections/(.+)", path)
        if m:
            found = next((c for c in data["collections"] if c["slug"] == m[1]), None)
            return (200, _collection(found), {}) if found else not_found
        m = re.fullmatch(r"/api/papers/(.+)", path)
        if m:
            paper = data["papers"].get(m[1])
            return (200, _paper(m[1], paper, data["users"]), {}) if paper else (404, {"error": "Paper not found"}, {})
        m = re.fullmatch(r"/api/users/([^/]+)/(overview|followers)", path)
        if m:
            if m[1] not in data["users"]:
                return 404, {"error": "User not found"}, {}
            if m[2] == "overview":
                return 200, {**_user(m[1], data["users"][m[1]]), "numFollowers": len(data["followers"].get(m[1], []))}, {}
            return self._page([_user(n, data["users"][n]) for n in data["followers"].get(m[1], [])], query)
        m = re.fullmatch(r"/api/organizations/([^/]+)/(overview|followers|members)", path)
        if m:
            if m[1] not in data["orgs"]:
                return 404, {"error": "Organization not found"}, {}
            if m[2] == "overview":
                return 200, {"name": m[1], "fullname": data["orgs"][m[1]], "avatarUrl": "", "type": "org", "isVerified": False}, {}
            names = data["followers" if m[2] == "followers" else "members"].get(m[1], [])
            return self._page([_user(n, data["users"][n]) for n in names], query)
        m = re.fullmatch(r"/(datasets/)?([^/]+/[^/]+)/resolve/main/README\.md", path)
        if m:
            text = data["readmes"].get(("dataset" if m[1] else "model", m[2]))
            return (200, text.encode("utf-8"), {}) if text is not None else (404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        return not_found

    def _page(self, items: list, query: dict, sort_key: str = "lastModified") -> tuple[int, object, dict]:
        state = self.server.state
        if query.get("sort") == [sort_key] or query.get("sort") == ["lastModified"]:
            items = sorted(items, key=lambda item: item.get(sort_key) or "", reverse=query.get("direction", ["-1"]) == ["-1"])
        size = min(int(query.get("limit", [state.page_size])[0]), state.page_size)
        offset = int(base64.urlsafe_b64decode(query["cursor"][0]).decode()) if "cursor" in query else 0
        headers = {}
        if offset + size < len(items):
            rest = {k: v[0] for k, v in query.items() if k != "cursor"}
            cursor = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
            host, port = self.server.server_address[:2]
            headers["Link"] = f'<http://{host}:{port}{urlsplit(self.path).path}?{urlencode({**rest, "cursor": cursor})}>; rel="next"'
        return 200, items[offset: offset + size], headers


def _listed(kind: str, item: dict) -> dict:
    if kind == "spaces":  # the listing has no models/datasets: those come from /api/spaces/{id}
        return {k: v for k, v in item.items() if k not in ("models", "datasets")}
    return item


def _collection(c: dict, brief: bool = False) -> dict:
    items = [{"_id": f"item{i}", "id": item_id, "type": kind, "position": i} for i, (kind, item_id) in enumerate(c["items"])]
    return {
        "slug": c["slug"], "title": c["title"], "description": c["description"], "upvotes": c["upvotes"],
        "owner": {"_id": "o", "avatarUrl": "", **c["owner"]}, "items": items[:4] if brief else items,
        "lastUpdated": c["lastUpdated"], "position": 0, "private": False, "theme": "blue", "shareUrl": "",
    }


def _paper(arxiv_id: str, paper: dict, users: dict) -> dict:
    authors = []
    for i, (name, user) in enumerate(paper["authors"]):
        author = {"_id": f"a{i}", "name": name, "hidden": False}
        if user:
            author["user"] = {"_id": f"u{user}", **_user(user, users[user])}
        authors.append(author)
    return {"id": arxiv_id, "authors": authors, "publishedAt": paper["publishedAt"], "title": paper["title"],
            "summary": paper["summary"], "upvotes": paper["upvotes"], "discussionId": "d"}


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
