"""The Hugging Face Hub as the crawler sees it: the real ``huggingface_hub`` client, made polite.

Every call goes through :meth:`Hub.call`, which

- holds one of ``workers`` slots while it runs, so at most ``workers`` requests are in flight;
- retries 429 after the ``Retry-After`` seconds the Hub asks for (or the reset time of its
  ``RateLimit`` header), pausing *every* worker until then, not just the one that was told;
- retries 5xx, 408, timeouts, refused or dropped connections and truncated bodies with
  exponential back-off (with jitter), up to ``retries`` times;
- turns 404 into ``None`` (a repo, user or paper that is gone is an answer, not an error).

What the client offers is used as it is: ``HfApi.space_info``, ``get_collection``,
``paper_info``, ``get_user_overview``, ``get_organization_overview``, ``list_repo_likers``,
``list_user_followers``, ``list_organization_followers``, ``list_organization_members``,
``get_model_tags``, ``get_dataset_tags``, and its model classes (``ModelInfo``, ``DatasetInfo``,
``SpaceInfo``, ``Collection``) for every listed item. Plain HTTP on the client's own session
(``get_session``, ``build_hf_headers``, ``hf_raise_for_status``) is used where the client has no
method:

- ``/api/tasks`` (no client method);
- listing pages: ``list_models(full=True)`` and its siblings are generators that hide the page
  cursor, so a crawl built on them could not resume mid-listing. :meth:`Hub.page` sends the
  request they send (same path and query: ``full=true``), one page at a time, and hands back the
  ``Link: rel="next"`` URL so the crawl can checkpoint it;
- README texts: ``hf_hub_download`` sends a HEAD and a GET per file and copies each into the
  cache directory; :meth:`Hub.readme` GETs the same ``hf_hub_url`` once and keeps the text.

The endpoint is passed to ``HfApi(endpoint=...)`` (``HF_ENDPOINT`` is read by the client once at
import, so it is read here at crawl time instead); the token is the client's: ``HF_TOKEN`` or the
saved login.
"""

from __future__ import annotations

import json
import os
from importlib import metadata
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2
from huggingface_hub import HfApi, __version__ as HF_HUB_VERSION, hf_hub_url
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.hf_api import Collection, DatasetInfo, ModelInfo, SpaceInfo
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status, parse_ratelimit_headers, set_client_factory
from huggingface_hub.utils._http import hf_request_event_hook  # the client's own request hook (offline check, request id)


DEFAULT_ENDPOINT = "https://huggingface.co"


def _tool_version() -> str:
    try:
        return metadata.version("hkg-rdf")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _tool_version()
LIBRARY = "hkg-rdf"
#: Largest page the Hub serves per listing (it caps larger ``limit`` values itself).
PAGE_SIZE = {"model": 1000, "dataset": 1000, "space": 1000, "collection": 100}
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_RETRY_EXCEPTIONS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError, json.JSONDecodeError, UnicodeDecodeError)
_ITEM_CLASSES = {"model": ModelInfo, "dataset": DatasetInfo, "space": SpaceInfo}
_LIST_PATHS = {"model": "models", "dataset": "datasets", "space": "spaces", "collection": "collections"}

T = TypeVar("T")


def endpoint_from_env() -> str:
    """The endpoint the client would use: ``HF_ENDPOINT`` or the public Hub."""
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


class HubError(Exception):
    """A request that still failed after every retry (or with a status that is not retried)."""


@dataclass
class Stats:
    """What the crawl asked of the Hub, counted from the client's own request/response hooks."""

    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    waited: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "retries": dict(self.retries),
            "seconds_waited_for_retries": round(self.waited, 3),
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
        self._pause_until = 0.0
        self._pause_lock = threading.Lock()
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

    def close(self) -> None:
        set_client_factory(_default_factory)

    # ------------------------------------------------------------ politeness

    def _wait_for_pause(self) -> None:
        while True:
            delay = self._pause_until - time.monotonic()
            if delay <= 0:
                return
            time.sleep(delay)

    def _pause(self, seconds: float) -> None:
        with self._pause_lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def call(self, label: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``fn(*args, **kwargs)`` with a slot, retries and back-off; ``None`` for 404."""
        attempt = 0
        while True:
            with self._slots:
                self._wait_for_pause()
                with self.stats.lock:
                    self.stats.in_flight += 1
                    self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
                try:
                    return fn(*args, **kwargs)
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
                    with self.stats.lock:
                        self.stats.in_flight -= 1
            attempt += 1
            if attempt > self.retries:
                raise HubError(f"{label}: gave up after {self.retries} retries: {_first_line(failure)}") from failure
            if wait is not None:
                self._pause(wait)  # every worker waits: the limit is the client's, not the request's
            else:
                wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.75, 1.0)
                time.sleep(wait)
            with self.stats.lock:
                self.stats.retries[reason] += 1
                self.stats.waited += wait

    # ------------------------------------------------------------ listings

    def first_page(self, kind: str, page_size: int | None = None, newest_first: bool = False) -> tuple[str, dict]:
        """URL and query of the first page of a listing, as ``list_models(full=True)`` etc. send them."""
        params: dict[str, Any] = {"limit": page_size or PAGE_SIZE[kind]}
        if kind != "collection":
            params["full"] = True
        if newest_first:
            params.update({"sort": "lastModified", "direction": -1})
        return f"{self.endpoint}/api/{_LIST_PATHS[kind]}", params

    def page(self, kind: str, url: str, params: dict | None = None) -> tuple[list, str | None]:
        """One listing page as client objects, and the URL of the next page (None: the last)."""

        def fetch() -> tuple[list, str | None]:
            response = get_session().get(url, params=params, headers=self.headers)
            hf_raise_for_status(response)
            items = response.json()
            following = response.links.get("next", {}).get("url")
            if kind == "collection":
                return [Collection(**{**item, "endpoint": self.endpoint}) for item in items], following
            return [_ITEM_CLASSES[kind](**{"siblings": None, **item}) for item in items], following

        result = self.call(f"GET {url}", fetch)
        if result is None:
            raise HubError(f"GET {url}: HTTP 404")
        return result

    # ------------------------------------------------------------ single things

    def tag_listings(self) -> tuple[dict, dict] | None:
        return self.call("model tags", self.api.get_model_tags), self.call("dataset tags", self.api.get_dataset_tags)

    def tasks(self) -> dict:
        def fetch() -> dict:
            response = get_session().get(f"{self.endpoint}/api/tasks", headers=self.headers)
            hf_raise_for_status(response)
            return response.json()

        return self.call("GET /api/tasks", fetch) or {}

    def readme(self, repo_type: str, repo_id: str) -> str | None:
        url = hf_hub_url(repo_id, "README.md", repo_type=repo_type, endpoint=self.endpoint)

        def fetch() -> str:
            response = get_session().get(url, headers=self.headers)
            hf_raise_for_status(response)
            return response.content.decode("utf-8", errors="replace")

        return self.call(f"GET {url}", fetch)

    def space(self, space_id: str) -> SpaceInfo | None:
        return self.call(f"space {space_id}", self.api.space_info, space_id)

    def collection(self, slug: str) -> Collection | None:
        return self.call(f"collection {slug}", self.api.get_collection, slug)

    def paper(self, arxiv_id: str):
        return self.call(f"paper {arxiv_id}", self.api.paper_info, arxiv_id)

    def owner(self, name: str) -> tuple[str, str | None] | None:
        """('user' | 'org', fullname) as the Hub's overview endpoints tell, or None if neither."""
        user = self.call(f"user {name}", self.api.get_user_overview, name)
        if user is not None:
            return "user", user.fullname or None
        org = self.call(f"organization {name}", self.api.get_organization_overview, name)
        if org is not None:
            return "org", org.fullname or None
        return None

    def organization(self, name: str) -> str | None | bool:
        """The organization's full name, or False if it is not an organization."""
        org = self.call(f"organization {name}", self.api.get_organization_overview, name)
        return False if org is None else (org.fullname or None)

    def likers(self, repo_type: str, repo_id: str) -> list | None:
        return self.call(f"likers of {repo_type} {repo_id}", lambda: list(self.api.list_repo_likers(repo_id, repo_type=repo_type)))

    def user_followers(self, name: str) -> list | None:
        return self.call(f"followers of {name}", lambda: list(self.api.list_user_followers(name)))

    def org_followers(self, name: str) -> list | None:
        return self.call(f"followers of {name}", lambda: list(self.api.list_organization_followers(name)))

    def org_members(self, name: str) -> list | None:
        return self.call(f"members of {name}", lambda: list(self.api.list_organization_members(name)))


def _default_factory() -> httpx2.Client:
    from huggingface_hub.utils._http import default_client_factory

    return default_client_factory()


def _rate_limit_wait(response: httpx2.Response | None) -> float | None:
    """Seconds a 429 asks us to wait: ``Retry-After`` (seconds), else the ``RateLimit`` reset."""
    if response is None:
        return None
    value = response.headers.get("retry-after", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
    info = parse_ratelimit_headers(response.headers)
    return float(info.reset_in_seconds) if info is not None else None


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def versions() -> dict[str, str]:
    import platform

    return {"hkg-rdf": __version__, "huggingface_hub": HF_HUB_VERSION, "python": platform.python_version()}
