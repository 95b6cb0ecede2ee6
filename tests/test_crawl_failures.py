"""The crawl's failure paths, through the public command line only (``python -m hkg_rdf crawl``
in a subprocess, against the fake Hub of ``fakehub``), so these tests do not depend on where the
crawler's modules live:

* a listing page that keeps failing: exit 3 ("crawl incomplete ... rerun"), no manifest, no
  release, the checkpoint kept; the rerun continues from the failed page (finished pages are
  not fetched again) and gives the release an uninterrupted crawl gives;
* a rerun with other options than the unfinished crawl's: exit 2 naming the checkpoint, the
  checkpoint left as it was; ``--restart`` with the new options crawls afresh;
* a full disk while ``--store`` loads the crawl: exit 2, one line naming the store, which keeps
  its live version and no half-written one;
* a full disk while the crawl writes its checkpoint: exit 2, one line naming the checkpoint; the
  rerun resumes from it and gives the release an uninterrupted crawl gives.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import REPO, live, store_triples, versions, writes_limited_to
from fakehub import Fault, FakeHub

EXIT_INCOMPLETE, EXIT_INPUT = 3, 2
MANIFEST, CHECKPOINT = "crawl-manifest.json", "crawl.sqlite"


def run_crawl(hub: FakeHub, out: Path, *options: str, **popen) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=hub.url, HF_HUB_DISABLE_TELEMETRY="1", PYTHONPATH=str(REPO), PYTHONIOENCODING="utf-8")
    command = [sys.executable, "-m", "hkg_rdf", "crawl", "--out", str(out), "--workers", "2", "--retries", "2", "--backoff", "0.01",
               "--timeout", "10", *options]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=REPO, **popen)


def release_files(out: Path) -> dict[str, str]:
    """The files of the crawl's release and its triples.txt (what a user takes away)."""
    release = out / json.loads((out / MANIFEST).read_text(encoding="utf-8"))["release"]
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(release.iterdir())}
    files["triples.txt"] = (out / "triples.txt").read_text(encoding="utf-8")
    return files


def request_target(path: str) -> tuple[str, tuple]:
    parts = urlsplit(path)
    return parts.path, tuple(sorted(parse_qsl(parts.query)))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, str]:
    """An uninterrupted crawl of the fixture Hub."""
    out = tmp_path_factory.mktemp("reference") / "crawl"
    with FakeHub(page_size=1) as hub:
        done = run_crawl(hub, out)
    assert done.returncode == 0, done.stderr
    return release_files(out)


def test_a_listing_page_that_fails_for_good_stops_with_incomplete_then_the_rerun_continues(tmp_path, reference):
    out = tmp_path / "crawl"
    with FakeHub(page_size=1) as hub:  # one item per page: the listing has several pages
        hub.state.faults = [Fault(r"^/api/models\?.*cursor=", "500", times=1_000)]  # every page after the first
        first = run_crawl(hub, out)
        assert first.returncode == EXIT_INCOMPLETE, first.stderr
        assert "crawl incomplete" in first.stderr and "rerun the same command" in first.stderr
        assert "listings unfinished" in first.stderr and "model" in first.stderr
        assert "listing model stopped" in first.stderr and "500" in first.stderr
        assert not (out / MANIFEST).exists() and not list(out.glob("HuggingKG_V*"))
        assert (out / CHECKPOINT).is_file()
        failed_page = next(e.path for e in hub.state.log if e.fault == "500")
        retried = [e for e in hub.state.log if e.path == failed_page]
        assert len(retried) == 3  # the request and its 2 retries, then the listing stops
        served_first = {request_target(e.path) for e in hub.state.log if e.status == 200 and e.path.startswith("/api/models?")}
        assert served_first, "no model listing page was fetched before the failure"

        hub.state.faults = []
        seen = len(hub.state.log)
        second = run_crawl(hub, out)
        assert second.returncode == 0, second.stderr
        again = [request_target(e.path) for e in hub.state.log[seen:]]
    assert not served_first & set(again), "listing pages finished in the first run were fetched again"
    assert request_target(failed_page) in again
    assert release_files(out) == reference
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["requests"]["runs"] == 2 and manifest["errors"]["count"] == 0


def test_a_rerun_with_other_options_is_refused_and_restart_starts_over(tmp_path, reference):
    out = tmp_path / "crawl"
    with FakeHub(page_size=1) as hub:
        hub.state.faults = [Fault(r"^/api/datasets\?", "503", times=1_000)]
        first = run_crawl(hub, out)
        assert first.returncode == EXIT_INCOMPLETE, first.stderr
        checkpoint = digest(out / CHECKPOINT)
        hub.state.faults = []
        seen = len(hub.state.log)

        for other in (["--types", "model"], ["--limit", "2"], ["--page-size", "5"]):
            refused = run_crawl(hub, out, *other)
            assert refused.returncode == EXIT_INPUT, (other, refused.stderr)
            assert str(out / CHECKPOINT) in refused.stderr and "other options" in refused.stderr
            assert "--restart" in refused.stderr
        assert hub.state.log[seen:] == [], "a refused rerun talked to the Hub"
        assert digest(out / CHECKPOINT) == checkpoint
        assert not (out / MANIFEST).exists()

        fresh = run_crawl(hub, out, "--types", "model,task", "--restart")
        assert fresh.returncode == 0, fresh.stderr
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["requests"]["runs"] == 1  # started over, not continued
    files = release_files(out)
    assert files["models.json"] == reference["models.json"]
    assert json.loads(files["datasets.json"]) == []


def test_a_full_disk_while_loading_into_the_store_ends_in_one_line_and_leaves_the_store(tmp_path, loaded_store):
    """``--store`` under a 32 KiB file-size limit, test_store's stand-in for a full disk: the new
    version's first RocksDB files are past it. The crawl is finished first, without the limit (its
    checkpoint alone is bigger): the rerun, complete, then only loads the snapshot, through the
    load_snapshot a crawl that has just finished calls too."""
    out = tmp_path / "crawl"
    before, live_before, versions_before = store_triples(loaded_store), live(loaded_store), versions(loaded_store)
    with FakeHub(page_size=1) as hub:
        done = run_crawl(hub, out)
        assert done.returncode == 0, done.stderr
        full = run_crawl(hub, out, "--store", str(loaded_store), preexec_fn=writes_limited_to(32 << 10))
    assert full.returncode == EXIT_INPUT, full.stderr
    complete, error = full.stderr.splitlines()  # no traceback
    assert complete.startswith(f"crawl in {out} is already complete")
    assert error.startswith(f"error: {loaded_store}: writing the new version failed, so the store is left as it was: ")
    assert error.endswith("File too large")
    assert live(loaded_store) == live_before
    assert versions(loaded_store) == versions_before  # the half-written version is gone
    assert store_triples(loaded_store) == before


def test_a_full_disk_while_writing_the_checkpoint_ends_in_one_line_and_the_rerun_resumes(tmp_path, reference):
    """A 1 MB file-size limit: the checkpoint's write-ahead log is past it part way through the
    crawl (some listing pages and tasks are committed, not all). The refused transaction is
    rolled back, so the rerun without the limit continues from what was committed."""
    out = tmp_path / "crawl"
    with FakeHub(page_size=1) as hub:
        full = run_crawl(hub, out, preexec_fn=writes_limited_to(1_000_000))
        assert full.returncode == EXIT_INPUT, full.stderr
        assert "Traceback" not in full.stderr
        error = full.stderr.splitlines()[-1]
        assert error.startswith(f"error: {out / CHECKPOINT}: cannot write it (")
        assert error.endswith("the crawl can be resumed from its checkpoint: make room and rerun the same command")
        assert not (out / MANIFEST).exists()
        db = sqlite3.connect(out / CHECKPOINT)
        committed = {request_target(url) for (url,) in db.execute("SELECT url FROM pages")}
        db.close()
        assert committed, "no listing page was committed before the disk was full"
        seen = len(hub.state.log)
        resumed = run_crawl(hub, out)
        assert resumed.returncode == 0, resumed.stderr
        again = {request_target(e.path) for e in hub.state.log[seen:]}
    assert not committed & again, "listing pages committed before the disk was full were fetched again"
    assert release_files(out) == reference
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["requests"]["runs"] == 2 and manifest["errors"]["count"] == 0
