"""What the server answers when a worker cannot do the job: the store is being written (busy),
the store cannot be read (internal error), the job needs more memory than a worker may use.

The real application (``create_app``) in-process under Starlette's TestClient, with its real
worker processes on a real store; the faults are real conditions, not stand-ins: a load
holding the store's lock, a ``current`` version that is not a readable store, a query whose
intermediate results exceed the workers' memory limit.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest
from conftest import load_store
from starlette.testclient import TestClient

from hkg_rdf.serve.app import ServeConfig, create_app

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture
def store(tmp_path: Path, example_release: Path) -> Path:
    return load_store(tmp_path / "store", example_release)


def serve(store: Path, tmp_path: Path, **options) -> TestClient:
    config = ServeConfig(store_dir=store, workers=1, max_queue=4, allow_update="secret", generate_dumps=False,
                         access_log=tmp_path / "access.log", **options)
    return TestClient(create_app(config))


def count(client: TestClient) -> int:
    response = client.post("/sparql", data={"query": COUNT}, headers=JSON)
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def update(client: TestClient, text: str):
    return client.post("/sparql", content=text.encode(), headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer secret"})


def test_an_update_while_a_load_writes_is_503_busy_and_changes_nothing(store, tmp_path):
    with serve(store, tmp_path) as client:
        before = count(client)
        with open(store / ".lock", "w") as lock:  # what a running 'hkg-rdf load' holds
            fcntl.flock(lock, fcntl.LOCK_EX)
            refused = update(client, "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }")
            assert refused.status_code == 503, refused.text
            assert "the store is being written" in refused.text and "another load" in refused.text
            assert refused.headers["retry-after"] == "1"
            assert count(client) == before
        applied = update(client, "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }")
        assert applied.status_code == 200, applied.text
        assert count(client) == before + 1


def test_a_store_that_cannot_be_read_is_500_and_the_worker_lives_on(store, tmp_path):
    with serve(store, tmp_path) as client:
        before = count(client)
        workers = client.get("/health").json()["workers"]
        good = os.readlink(store / "current")
        (store / "v0").mkdir()
        (store / "v0" / "CURRENT").write_text("garbage\n")  # not a RocksDB directory
        os.replace(_symlink(store, "v0"), store / "current")
        try:
            broken = client.post("/sparql", data={"query": COUNT}, headers=JSON)
            assert broken.status_code == 500, broken.text
            assert "internal error" in broken.text
        finally:
            os.replace(_symlink(store, good), store / "current")
        assert count(client) == before  # the same worker answers again
        assert client.get("/health").json()["workers"] == workers


def _symlink(store: Path, target: str) -> Path:
    link = store / "current.test"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(target)
    return link


def test_a_query_past_the_memory_limit_is_503_and_the_pool_recovers(store, tmp_path):
    hungry = "SELECT ?a ?b ?c ?d ?e ?f ?g WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?b ?c ?d ?e ?f ?g"
    with serve(store, tmp_path, worker_memory_mb=400, timeout=120) as client:
        response = client.post("/sparql", data={"query": hungry}, headers={"Accept": "text/csv"})
        assert response.status_code == 503, response.text[:300]
        assert "memory" in response.text
        for _ in range(600):  # a fresh worker replaces one that died: poll until it answers
            answer = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers=JSON)
            if answer.status_code == 200:
                break
            assert answer.status_code == 503, answer.text
            time.sleep(0.05)
        assert answer.json()["boolean"] is True
