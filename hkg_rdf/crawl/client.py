"""The Hugging Face Hub as the crawler sees it: the real ``huggingface_hub`` client, made polite.

Every call goes through :meth:`Hub.call`, which

- holds one of ``workers`` slots while it runs, so at most ``workers`` requests are in flight;
- paces requests by the Hub's ``RateLimit`` header (``"api";r=<remaining>;t=<seconds to reset>``,
  parsed by the client's ``parse_ratelimit_headers``): while ``r`` requests remain for ``t``
  seconds, requests start at most every ``t / r`` seconds, and when ``r`` is 0 *every* worker
  waits for the reset. A 429 pauses every worker only when the header says the window is
  exhausted or ``Retry-After`` says how long; any other 429 is retried by the one request that got
  it, with back-off, like a 5xx;
- retries 5xx, 408, timeouts, refused or dropped connections and truncated bodies with
  exponential back-off (with jitter), up to ``retries`` times;
- turns 404 into ``None`` (a user or paper that does not exist is an answer, not an error), and a
  repository the Hub will not show (401/404 ``RepositoryNotFoundError``, ``GatedRepoError``,
  403 ``DisabledRepoError``: deleted, private or gated, without a token the Hub answers 401 for
  all of them) into :class:`Gone`, never retried;
- counts the retries the client makes on its own (``http_backoff`` inside ``paginate``) from the
  responses its hooks see.

Client methods are used where they accept what the Hub sends: ``get_model_tags``,
``get_dataset_tags``, ``get_collection``, ``paper_info``, ``get_user_overview``,
``get_organization_overview``, ``model_info``/``dataset_info``/``space_info`` (with the listing's
``expand``, for an item a listing page gave in a shape the client could not build); listed items become ``ModelInfo``, ``DatasetInfo``, ``SpaceInfo``
and ``Collection`` exactly as ``list_models``/``list_datasets``/``list_spaces``/``list_collections``
build them (hf_api.py: ``siblings`` set to None when absent; ``Collection(position=n, **item)``,
because the listing has no ``position`` and the client numbers the items itself). Plain HTTP on
the client's own session (``get_session``, ``build_hf_headers``, ``hf_raise_for_status``) where
it has no method or its method would break:

- ``/api/tasks`` (no client method);
- listing pages: ``list_models`` and its siblings are generators that hide the page cursor, so
  a crawl built on them could not resume mid-listing; :meth:`Hub.page` sends the request they
  send (same path, ``expand`` and ``sort`` parameters), one page at a time, and hands back the
  ``Link: rel="next"`` URL for the checkpoint;
- likers, followers, members: ``list_repo_likers`` reads ``liker["fullname"]``, which the Hub
  leaves out for some users (a ``KeyError`` would end the listing); only the ``user`` key is
  needed, as the constructor read it, so :meth:`Hub.names` pages these lists itself;
- README texts: a HEAD of ``hf_hub_url(..., "README.md")`` first, as the constructor did, and no
  GET for a README over 100 MB; ``hf_hub_download`` would copy every file into the cache.

The endpoint is passed to ``HfApi(endpoint=...)`` (``HF_ENDPOINT`` is read by the client once at
import, so it is read here at crawl time instead); the token is the client's: ``HF_TOKEN`` or the
saved login.
"""

from __future__ import annotations

import json
import os
import platform
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, TypeVar

import httpx2
from huggingface_hub import HfApi, __version__ as HF_HUB_VERSION, hf_hub_url
from huggingface_hub.errors import DisabledRepoError, GatedRepoError, HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.hf_api import Collection, DatasetInfo, ModelInfo, SpaceInfo
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status, parse_ratelimit_headers, set_client_factory
from huggingface_hub.utils._http import hf_request_event_hook  # the client's own request hook (offline check, request id)

DEFAULT_ENDPOINT = "https://huggingface.co"
LIBRARY = "hkg-rdf"
#: Largest page the Hub serves per listing (it caps larger ``limit`` values itself).
PAGE_SIZE = {"model": 1000, "dataset": 1000, "space": 1000, "collection": 100}
#: What each listing asks the Hub for (``expand``, hf_api.py ``Expand*Property_T``): the keys the
#: release needs and nothing more. Spaces get their ``models`` and ``datasets`` here, which saves
#: one ``/api/spaces/{id}`` request per space; a model's file list spares the README requests of
#: models without one (dataset listings send an empty file list: every dataset README is asked
#: for); ``private`` lets the crawl leave private repos out.
EXPAND = {
    "model": ("author", "createdAt", "lastModified", "downloads", "likes", "pipeline_tag", "tags", "private", "siblings"),
    "dataset": ("author", "createdAt", "lastModified", "downloads", "likes", "tags", "private"),
    "space": ("author", "createdAt", "lastModified", "likes", "tags", "models", "datasets", "private"),
}
#: A listing order that new or changed items cannot shuffle (HUGGINGKG.md section 3): repos by
#: creation date, newest first (a repo created during the crawl goes in front of the cursor, a
#: repo's place never moves); collections have no creation sort, ``lastModified`` is the closest.
SORT = {"model": "createdAt", "dataset": "createdAt", "space": "createdAt", "collection": "lastModified"}
README_LIMIT = 100 * 1024 * 1024  # the constructor skipped READMEs over 100 MB
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_RETRY_EXCEPTIONS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError, json.JSONDecodeError, UnicodeDecodeError)
_GONE = (RepositoryNotFoundError, GatedRepoError, DisabledRepoError)
_ITEM_CLASSES = {"model": ModelInfo, "dataset": DatasetInfo, "space": SpaceInfo}
_LIST_PATHS = {"model": "models", "dataset": "datasets", "space": "spaces", "collection": "collections"}

T = TypeVar("T")


def _tool_version() -> str:
    try:
        return metadata.version("hkg-rdf")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _tool_version()


def endpoint_from_env() -> str:
    """The endpoint the client would use: ``HF_ENDPOINT`` or the public Hub."""
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


class HubError(Exception):
    """A request that still failed after every retry (or with a status that is not retried)."""


class Gone(Exception):
    """The Hub will not show this repository (deleted, private or gated): an answer, not a failure."""

    def __init__(self, label: str, error: HfHubHTTPError):
        status = error.response.status_code if error.response is not None else None
        self.reason = f"{type(error).__name__} (HTTP {status})"
        super().__init__(f"{label}: {self.reason}")


class TooLarge(Exception):
    """A README over the constructor's 100 MB limit: not fetched."""


@dataclass
class Unreadable:
    """A listed item the client could not build (its key, and why)."""

    kind: str
    key: str
    error: Exception


@dataclass
class Stats:
    """What the crawl asked of the Hub, counted from the client's own request/response hooks."""

    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    client_retries: int = 0  # retries the client made inside one call (http_backoff)
    waited: float = 0.0
    paced: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "retries": dict(self.retries),
            "client_retries": self.client_retries,
            "seconds_waited_for_retries": round(self.waited, 3),
            "seconds_paced_by_ratelimit": round(self.paced, 3),
            "max_concurrent_calls": self.max_in_flight,
        }


class Hub:
    """The client wrapper every crawl request goes through (thread-safe)."""

    def __init__(self, endpoint: str | None = None, workers: int = 4, timeout: float = 30.0, retries: int = 8,
                 backoff: float = 1.0, max_backoff: float = 120.0, token: str | bool | None = None):
        self.endpoint = (endpoint or endpoint_from_env()).rstrip("/")
        self.workers, self.timeout, self.retries = workers, timeout, retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.api = HfApi(endpoint=self.endpoint, token=token, library_name=LIBRARY, library_version=__version__)
        self.headers = build_hf_headers(token=token, library_name=LIBRARY, library_version=__version__)
        self.stats = Stats()
        self._slots = threading.BoundedSemaphore(workers)
        self._clock = threading.Lock()
        self._pause_until = 0.0  # nobody starts a request before this (window exhausted, Retry-After)
        self._next_start = 0.0  # the next request may start then (pacing by the remaining count)
        self._interval = 0.0
        self._local = threading.local()
        set_client_factory(self._client)

    # ------------------------------------------------------------ the HTTP client

    def _client(self) -> httpx2.Client:
        """The client's default factory, plus timeouts, a connection bound and counting hooks."""
        return httpx2.Client(
            event_hooks={"request": [hf_request_event_hook, self._on_request], "response": [self._on_response]},
            follow_redirects=True,
            timeout=httpx2.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            limits=httpx2.Limits(max_connections=self.workers, max_keepalive_connections=self.workers),
        )

    def _on_request(self, request: httpx2.Request) -> None:
        with self.stats.lock:
            self.stats.requests += 1

    def _on_response(self, response: httpx2.Response) -> None:
        with self.stats.lock:
            self.stats.statuses[response.status_code] += 1
        seen = getattr(self._local, "statuses", None)
        if seen is not None:
            seen.append(response.status_code)
        self._read_ratelimit(response)

    def close(self) -> None:
        set_client_factory(_default_factory)

    # ------------------------------------------------------------ politeness

    def _read_ratelimit(self, response: httpx2.Response) -> None:
        """Pace by the ``RateLimit`` header: spread what remains of the window over its rest."""
        info = parse_ratelimit_headers(response.headers)
        if info is None:
            return
        with self._clock:
            if info.remaining == 0:
                self._pause_until = max(self._pause_until, time.monotonic() + info.reset_in_seconds)
            self._interval = info.reset_in_seconds / info.remaining if info.remaining else 0.0

    def _wait_turn(self) -> None:
        """Block until this request may start: after any pause, and one pacing interval after the last start."""
        while True:
            with self._clock:
                now = time.monotonic()
                start = max(self._pause_until, self._next_start, now)
                if start <= now:
                    self._next_start = now + self._interval
                    return
                delay = start - now
            with self.stats.lock:
                self.stats.paced += delay
            time.sleep(delay)

    def _pause(self, seconds: float) -> None:
        with self._clock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def call(self, label: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``fn(*args, **kwargs)`` with a slot, pacing, retries and back-off; ``None`` for 404; :class:`Gone`."""
        attempt = 0
        while True:
            with self._slots:
                self._wait_turn()
                with self.stats.lock:
                    self.stats.in_flight += 1
                    self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
                self._local.statuses = []
                try:
                    return fn(*args, **kwargs)
                except _GONE as error:
                    raise Gone(label, error) from error
                except HfHubHTTPError as error:
                    status = error.response.status_code if error.response is not None else None
                    if status == 404:
                        return None
                    if status not in _RETRY_STATUS:
                        raise HubError(f"{label}: HTTP {status}: {_first_line(error)}") from error
                    failure, reason = error, str(status)
                    wait = _rate_limit_wait(error.response) if status == 429 else None
                except _RETRY_EXCEPTIONS as error:
                    failure, reason, wait = error, type(error).__name__, None
                finally:
                    statuses, self._local.statuses = self._local.statuses, None
                    inner = sum(1 for s in statuses[:-1] if s in _RETRY_STATUS)
                    with self.stats.lock:
                        self.stats.in_flight -= 1
                        self.stats.client_retries += inner
            attempt += 1
            if attempt > self.retries:
                raise HubError(f"{label}: gave up after {self.retries} retries: {_first_line(failure)}") from failure
            if wait is not None:
                self._pause(wait)  # every worker waits: the window is the client's, not the request's
            else:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.75, 1.0)
                time.sleep(wait)
            with self.stats.lock:
                self.stats.retries[reason] += 1
                self.stats.waited += wait

    def _get_json(self, url: str, params: dict | None = None) -> tuple[Any, str | None]:
        """GET on the client's session: the JSON body and the ``Link: rel="next"`` URL."""
        response = get_session().get(url, params=params, headers=self.headers)
        hf_raise_for_status(response)
        return response.json(), response.links.get("next", {}).get("url")

    # ------------------------------------------------------------ listings

    def first_page(self, kind: str, page_size: int | None = None, newest_modified: bool = False) -> tuple[str, list]:
        """URL and query of a listing's first page, as ``list_*(expand=..., sort=...)`` sends them."""
        params: list[tuple[str, Any]] = [("limit", page_size or PAGE_SIZE[kind])]
        params += [("expand", key) for key in EXPAND.get(kind, ())]
        params.append(("sort", "lastModified" if newest_modified else SORT[kind]))  # the Hub sorts newest first; the client sends no direction
        return f"{self.endpoint}/api/{_LIST_PATHS[kind]}", params

    def page(self, kind: str, url: str, offset: int = 0) -> tuple[list, str | None]:
        """One listing page as client objects, built as the client's ``list_*`` builds them, and the next URL.

        An item the client cannot build is handed back as :class:`Unreadable`: one odd record
        fails alone, not its page.
        """

        def build(n: int, item: dict):
            try:
                if kind == "collection":
                    return Collection(**{**item, "position": offset + n, "endpoint": self.endpoint})
                return _ITEM_CLASSES[kind](**{**item, "siblings": item.get("siblings")})
            except Exception as error:
                key = item.get("slug" if kind == "collection" else "id") if isinstance(item, dict) else None
                return Unreadable(kind, key if isinstance(key, str) else f"{url}#{offset + n}", error)

        def fetch() -> tuple[list, str | None]:
            items, following = self._get_json(url)
            return [build(n, item) for n, item in enumerate(items)], following

        result = self.call(f"GET {url}", fetch)
        if result is None:
            raise HubError(f"GET {url}: HTTP 404")
        return result

    def repo(self, kind: str, repo_id: str):
        """One repo as its listing would give it (``model_info`` etc. with the same ``expand``); None if 404."""
        method = getattr(self.api, f"{kind}_info")
        return self.call(f"{kind} {repo_id}", method, repo_id, expand=list(EXPAND[kind]))

    def names(self, label: str, path: str) -> list[str] | None:
        """The ``user`` of every entry of a paged list of users (likers, followers, members); None if 404."""

        def fetch() -> list[str]:
            names, url = [], f"{self.endpoint}{path}"
            while url:
                entries, url = self._get_json(url)
                names += [e["user"] for e in entries if isinstance(e, dict) and isinstance(e.get("user"), str) and e["user"]]
            return names

        return self.call(label, fetch)

    # ------------------------------------------------------------ single things

    def tag_listings(self) -> tuple[dict, dict]:
        return self.call("model tags", self.api.get_model_tags) or {}, self.call("dataset tags", self.api.get_dataset_tags) or {}

    def tasks(self) -> dict:
        return self.call("GET /api/tasks", lambda: self._get_json(f"{self.endpoint}/api/tasks")[0]) or {}

    def readme(self, repo_type: str, repo_id: str) -> str | None:
        """The README text; None if the repo has none; :class:`TooLarge` over 100 MB (HEAD first)."""
        url = hf_hub_url(repo_id, "README.md", repo_type=repo_type, endpoint=self.endpoint)

        def fetch() -> str:
            head = get_session().head(url, headers=self.headers)
            hf_raise_for_status(head)
            if int(head.headers.get("content-length") or 0) > README_LIMIT:
                raise TooLarge(f"README.md of {repo_type} {repo_id}: {head.headers['content-length']} bytes")
            response = get_session().get(url, headers=self.headers)
            hf_raise_for_status(response)
            return response.content.decode("utf-8", errors="replace")

        return self.call(f"README of {repo_type} {repo_id}", fetch)

    def collection(self, slug: str) -> Collection | None:
        return self.call(f"collection {slug}", self.api.get_collection, slug)

    def paper(self, arxiv_id: str):
        return self.call(f"paper {arxiv_id}", self.api.paper_info, arxiv_id)

    def user(self, name: str):
        return self.call(f"user {name}", self.api.get_user_overview, name)

    def organization(self, name: str):
        return self.call(f"organization {name}", self.api.get_organization_overview, name)

    def likers(self, repo_type: str, repo_id: str) -> list[str] | None:
        return self.names(f"likers of {repo_type} {repo_id}", f"/api/{repo_type}s/{repo_id}/likers")

    def followers(self, kind: str, name: str) -> list[str] | None:
        return self.names(f"followers of {kind} {name}", f"/api/{'users' if kind == 'user' else 'organizations'}/{name}/followers")

    def members(self, org: str) -> list[str] | None:
        return self.names(f"members of {org}", f"/api/organizations/{org}/members")


def _default_factory() -> httpx2.Client:
    from huggingface_hub.utils._http import default_client_factory

    return default_client_factory()


def _rate_limit_wait(response: httpx2.Response | None) -> float | None:
    """Seconds a 429 makes *everyone* wait: ``Retry-After``, or the reset of an exhausted window; else None."""
    if response is None:
        return None
    value = response.headers.get("retry-after", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    info = parse_ratelimit_headers(response.headers)
    return float(info.reset_in_seconds) if info is not None and info.remaining == 0 else None


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def versions() -> dict[str, str]:
    return {"hkg-rdf": __version__, "huggingface_hub": HF_HUB_VERSION, "python": platform.python_version()}
