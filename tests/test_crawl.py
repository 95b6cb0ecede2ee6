"""The crawler against a fake Hub: the real huggingface_hub client, a real HTTP server on 127.0.0.1.

Nothing of ours is mocked: :mod:`tests.fakehub` is an HTTP server speaking the Hub API's JSON,
the crawler reaches it through ``HfApi(endpoint=...)`` / ``HF_ENDPOINT``, and the results are
read back with the release reader, loaded into a real store and validated with the shapes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pyoxigraph as ox
import pytest

from hkg_rdf.crawl import CHECKPOINT, MANIFEST, Options, crawl, iter_checkpoint_pages
from hkg_rdf.iris import IriMinter
from hkg_rdf.load import load
from hkg_rdf.records import Release
from hkg_rdf.report import Report
from hkg_rdf.store import open_read_only
from hkg_rdf.validate import validate_store
from hkg_rdf.vocab import vocabulary

from conftest import BASE, REPO, invoke
from constructor_reference import reference_release
from fakehub import TOKEN, Fault, FakeHub, changed, fixture

FAVS = "alice/favorites-0123456789abcdef01234567"
RELEASE = "acme/release-76543210fedcba9876543210"

# What a crawl of fakehub.fixture() must give: the release HuggingKG_constructor.py's rules give
# for the same Hub content (tests/constructor_reference.py, written from the constructor's code).
REFERENCE_RECORDS, REFERENCE_EDGES = reference_release(fixture())
EXPECTED_ENTITIES = {
    t.segment: {r.get("id", r.get("slug")) for r in REFERENCE_RECORDS[t.file[:-5]]} for t in vocabulary().types
}
EXPECTED_EDGES = {r.name: REFERENCE_EDGES.get(r.name, set()) for r in vocabulary().relations}
# What it must skip, and count: each reason once.
EXPECTED_SKIPPED = {
    "model_finetune_model: dangling edge (subject not crawled)",  # base model missing/model is not on the Hub
    "model_cite_paper: dangling edge (object not crawled)",  # the Hub does not know paper 9999.99999
    "paper unknown to the Hub (404)",
    "space_use_model: dangling edge (object not crawled)",  # leaderboard uses missing/model
    "model author is neither a crawled user nor organization (no publish edge)",  # ghost
    "collection item of type 'collection' (no release relation)",
    "README over 100 MB not fetched (as the constructor)",  # bob/merged: the HEAD said so
    "user_follow_user: dangling edge (subject not crawled)",  # erin follows alice, but followers are not made users
    "user_follow_org: dangling edge (subject not crawled)",  # erin follows acme
    "user_affiliatedWith_org: dangling edge (subject not crawled)",  # erin is a member of nlp-lab
}
GONE = {"readme:model": 2, "likers:model": 2, "readme:dataset": 1, "likers:dataset": 1}  # bob/deleted, acme/gated, carol/disabled


def fast(out: Path, hub: FakeHub, **options) -> Options:
    """Crawl options for the fake Hub: short back-off so retries cost milliseconds."""
    return Options(out=out, endpoint=hub.url, workers=options.pop("workers", 4), backoff=options.pop("backoff", 0.02), **options)


def graph(release: Path) -> tuple[dict[str, set], dict[str, set], dict[tuple[str, str], dict]]:
    """Entity ids per type, pairs per relation and records, as the release reader reads them."""
    entities: dict[str, set] = {t.segment: set() for t in vocabulary().types}
    records = {}
    for entity in Release(release).entities(Report()):
        entities[entity.type.segment].add(entity.id)
        records[(entity.type.segment, entity.id)] = entity.values
    edges: dict[str, set] = {r.name: set() for r in vocabulary().relations}
    for edge in Release(release).edges():
        edges[edge.relation.name].add((edge.subject, edge.object))
    return entities, edges, records


def release_files(release: Path) -> dict[str, str]:
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(release.iterdir())}
    files["triples.txt"] = (release.parent / "triples.txt").read_text(encoding="utf-8")
    return files


def path_of(url: str) -> tuple[str, tuple]:
    """A request target without its origin, query parameters in order, for comparing logs."""
    parts = urlsplit(url)
    return parts.path, tuple(sorted(parse_qsl(parts.query)))


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted crawl of the fixture Hub (the reference the other tests compare with)."""
    out = tmp_path_factory.mktemp("v1") / "crawl"
    with FakeHub() as hub:
        crawl(fast(out, hub))
    return out


def release_of(out: Path) -> Path:
    return out / json.loads((out / MANIFEST).read_text(encoding="utf-8"))["release"]


# ---------------------------------------------------------------- the crawl itself


def test_fixture_covers_every_type_and_relation() -> None:
    vocab = vocabulary()
    assert set(EXPECTED_ENTITIES) == {t.segment for t in vocab.types}
    assert set(EXPECTED_EDGES) == {r.name for r in vocab.relations}
    assert all(EXPECTED_ENTITIES.values()) and all(EXPECTED_EDGES.values())


def test_crawl_equals_the_constructors_release_record_by_record_and_loads_and_validates(tmp_path: Path) -> None:
    out, store = tmp_path / "crawl", tmp_path / "store"
    with FakeHub() as hub:
        result = crawl(fast(out, hub), store=store, base_iri=BASE)
        requests = len(hub.state.log)
        log = list(hub.state.log)
    release = result.release
    assert release.name.startswith("HuggingKG_V") and len(release.name) == len("HuggingKG_V") + 14

    # record by record, field by field, and in the constructor's serialisation
    for name, records in REFERENCE_RECORDS.items():
        text = (release / f"{name}.json").read_text(encoding="utf-8")
        assert json.loads(text) == records, name
        assert text == json.dumps(records, indent=4), name
    entities, edges, _ = graph(release)
    assert entities == EXPECTED_ENTITIES
    assert edges == EXPECTED_EDGES
    for relation in vocabulary().relations:  # no pair written twice
        pairs = json.loads((release / f"{relation.name}.json").read_text(encoding="utf-8"))
        assert len(pairs) == len(EXPECTED_EDGES[relation.name]), relation.name

    # the derivation facts HUGGINGKG.md section 3 names, visible in the records
    models = {r["id"]: r for r in REFERENCE_RECORDS["models"]}
    assert models["acme/base-7b"]["libraries"] == ["Transformers", "Safetensors"] and models["acme/base-7b"]["languages"] == ["English"]
    assert models["acme/base-7b"]["region"] == "🇺🇸 Region: US" and models["acme/base-7b"]["other"] == ["Conversational", "llama"]
    assert models["bob/merged"]["pipeline_tag"] == ["Text Generation", "Fill-Mask"] and models["bob/merged"]["description"] is None
    assert ("bob/merged", "fill-mask") in edges["model_definedFor_task"]
    reviews = next(r for r in REFERENCE_RECORDS["datasets"] if r["id"] == "nlp-lab/reviews")
    assert reviews["license"] == "mit" and reviews["size"] == "1K<n<10K" and reviews["tasks"] == ["Text Classification"]
    assert reviews["tags"] == ["region:us", "sentiment"]  # only what the listing does not classify
    assert next(r for r in REFERENCE_RECORDS["datasets"] if r["id"] == "carol/tiny")["description"].startswith("# Tiny")
    paper = next(r for r in REFERENCE_RECORDS["papers"] if r["id"] == "2401.00001")
    assert paper["authors"] == ["Frank Fox", "Alice Anders", "Unregistered Person", "Frank Fox"]  # author order, repeats kept
    assert next(r for r in REFERENCE_RECORDS["users"] if r["id"] == "gus")["fullname"] is None  # a liker without a full name
    assert "erin" not in entities["user"]  # a follower and member only: not made a user
    assert ("dave", "alice/base-7b-lora") in edges["user_like_model"]  # its like count said 0
    assert "alice/secret" not in entities["model"]  # private: listed to its owner's token only

    # requests as the Hub allows: README HEAD first, no GET over 100 MB, no space_info per space
    readme = [e.method for e in log if e.path == "/acme/base-7b/resolve/main/README.md"]
    assert readme == ["HEAD", "GET"]
    assert [e.method for e in log if e.path == "/bob/merged/resolve/main/README.md"] == ["HEAD"]
    assert not [e for e in log if e.path == "/alice/base-7b-lora/resolve/main/README.md"]  # no README.md in its file list
    assert not [e for e in log if re.fullmatch(r"/api/spaces/[^/?]+/[^/?]+", e.path)]
    assert not [e for e in log if e.path.startswith("/api/users/erin/")]

    # the manifest: PROV-O times, endpoint, versions, what it reproduces and where it differs, counts
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["prov"]["used"] == hub.url and manifest["prov"]["startedAtTime"] <= manifest["prov"]["endedAtTime"]
    assert set(manifest["prov"]["wasAssociatedWith"]) >= {"hkg-rdf", "huggingface_hub"}
    assert "HuggingKG_constructor.py" in manifest["reproduces"]
    assert any("space" in d and "createdAt" in d for d in manifest["differs_on_purpose"])
    assert manifest["entities"] == {k: len(v) for k, v in EXPECTED_ENTITIES.items()}
    assert manifest["relations"] == {k: len(v) for k, v in EXPECTED_EDGES.items()}
    assert set(manifest["skipped"]) == EXPECTED_SKIPPED and all(n == 1 for n in manifest["skipped"].values())
    assert manifest["gone"]["tasks"] == GONE and manifest["errors"]["count"] == 0 and manifest["complete"]
    assert manifest["requests"]["total"] == requests
    assert (out / "triples.txt").read_text(encoding="utf-8").count("\n") == sum(len(v) for v in EXPECTED_EDGES.values())

    # the release loads and validates unchanged
    loaded = tmp_path / "loaded"
    report = load(loaded, [release], IriMinter(BASE))
    assert report.entities == {k: len(v) for k, v in EXPECTED_ENTITIES.items()} and not report.skipped
    assert validate_store(open_read_only(loaded)).conforms

    # --store: the same graph plus the snapshot's PROV-O description in its own named graph
    snapshot = ox.Store.read_only(str(store / "current"))
    prov = list(snapshot.query(
        "PREFIX prov: <http://www.w3.org/ns/prov#> SELECT ?g ?start ?used WHERE { GRAPH ?g { ?s prov:wasGeneratedBy ?a . "
        "?a prov:startedAtTime ?start ; prov:used ?used } }"))
    assert len(prov) == 1 and prov[0]["g"].value == manifest["snapshot"] and prov[0]["used"].value == hub.url
    assert len(snapshot) == len(open_read_only(loaded)) + len(list(snapshot.quads_for_pattern(None, None, None, prov[0]["g"])))
    assert validate_store(snapshot).conforms


def test_a_token_lists_private_repos_which_are_left_out_unless_asked_for(tmp_path: Path) -> None:
    with FakeHub() as hub:
        default = crawl(fast(tmp_path / "default", hub, token=TOKEN))
        kept = crawl(fast(tmp_path / "kept", hub, token=TOKEN, include_private=True))
    assert graph(default.release)[:2] == (EXPECTED_ENTITIES, EXPECTED_EDGES)
    assert default.manifest["skipped"]["private model left out (--include-private keeps it)"] == 1
    assert graph(kept.release)[0]["model"] == EXPECTED_ENTITIES["model"] | {"alice/secret"}


def test_rerun_of_a_finished_crawl_fetches_nothing(v1: Path) -> None:
    with FakeHub() as hub:
        result = crawl(fast(v1, hub))
        assert hub.state.log == [] and result.resumed_complete


# ---------------------------------------------------------------- kill and resume


def _env(hub: FakeHub) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=hub.url, HF_HUB_DISABLE_TELEMETRY="1", PYTHONPATH=str(REPO))
    return env


def test_kill_and_resume_continues_without_refetching_finished_pages(tmp_path: Path, v1: Path) -> None:
    out = tmp_path / "crawl"
    command = [sys.executable, "-m", "hkg_rdf", "crawl", "--out", str(out), "--workers", "2", "--backoff", "0.02"]
    with FakeHub(page_size=1, delay=0.03) as hub:  # one item per page: many pages to be killed between
        process = subprocess.Popen(command, env=_env(hub), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(hub.state.log) < 22 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stderr.close()
        assert process.returncode == -signal.SIGKILL and not (out / MANIFEST).exists()
        first_run = len(hub.state.log)

        finished_pages = {path_of(url) for _, url in iter_checkpoint_pages(out)}
        db = sqlite3.connect(out / CHECKPOINT)
        done_readmes = [key for kind, key in db.execute("SELECT kind, key FROM tasks WHERE state=1 AND kind='readme:model'")]
        db.close()
        assert finished_pages, "the kill came before any page was checkpointed: nothing to check"

        rerun = subprocess.run(command, env=_env(hub), capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        second = [path_of(e.path) for e in hub.state.log[first_run:]]

    refetched = finished_pages & set(second)
    assert not refetched, f"finished pages fetched again: {refetched}"
    assert not {f"/{key}/resolve/main/README.md" for key in done_readmes} & {p for p, _ in second}
    # the same release as an uninterrupted crawl (which also used another page size)
    assert release_files(release_of(out)) == release_files(release_of(v1))
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["requests"]["runs"] == 2
    assert manifest["listing_pages"]["model"] == len(EXPECTED_ENTITIES["model"])  # one model per page: the private one is not listed


# ---------------------------------------------------------------- faults


def test_faults_are_survived_and_429_waits_as_told(tmp_path: Path) -> None:
    with FakeHub() as hub:
        hub.state.faults = [
            Fault(r"^/api/models\?", "429", retry_after=2),
            Fault(r"^/api/spaces/alice/demo/likers", "500", times=2),
            Fault(r"^/api/papers/2401\.00001$", "slow", delay=2.5),
            Fault(r"^/api/datasets\?", "drop"),
            Fault(r"^/api/collections/alice", "503"),
        ]
        result = crawl(fast(tmp_path / "crawl", hub, timeout=1.0))
        log = hub.state.log

    entities, edges, _ = graph(result.release)
    assert entities == EXPECTED_ENTITIES and edges == EXPECTED_EDGES

    limited = next(e for e in log if e.fault == "429")
    again = next(e for e in log if e.path == limited.path and e.start > limited.start)
    assert again.start - limited.end >= 2.0 - 0.01, "Retry-After not honored"
    # every worker paused, not just the one told: nothing started while the Hub asked us to wait
    assert not [e for e in log if limited.end + 0.5 < e.start < limited.end + 1.9]

    assert [e.status for e in log if e.path == "/api/spaces/alice/demo/likers"] == [500, 500, 200]
    slow = [e for e in log if e.path == "/api/papers/2401.00001"]
    assert len(slow) == 2 and slow[0].fault == "slow"  # timed out after 1 s, asked again
    dropped = [e for e in log if e.path.startswith("/api/datasets?") and "cursor" not in e.path]
    assert len(dropped) == 2 and dropped[0].fault == "drop"
    retries = result.manifest["requests"]["retries"]
    assert retries["429"] == 1 and retries["500"] == 2 and retries["503"] == 1 and sum(retries.values()) == 6


def test_a_429_of_a_window_not_exhausted_retries_that_request_alone(tmp_path: Path) -> None:
    with FakeHub(delay=0.01) as hub:
        hub.state.faults = [Fault(r"^/api/papers/2401\.00002$", "429-window")]
        result = crawl(fast(tmp_path / "crawl", hub, backoff=1.0))
        log = hub.state.log
    limited = next(e for e in log if e.fault == "429-window")
    again = next(e for e in log if e.path == limited.path and e.start > limited.start)
    assert again.start - limited.end >= 0.7  # its own back-off
    assert [e for e in log if limited.end + 0.05 < e.start < again.start - 0.05], "the others were paused too"
    assert result.manifest["requests"]["retries"] == {"429": 1}
    assert graph(result.release)[:2] == (EXPECTED_ENTITIES, EXPECTED_EDGES)


def test_requests_are_paced_by_the_ratelimit_header_and_wait_when_the_window_is_exhausted(tmp_path: Path) -> None:
    with FakeHub() as hub:
        hub.state.quota, hub.state.window = 25, 1
        result = crawl(fast(tmp_path / "crawl", hub))
        log = hub.state.log
    assert not [e for e in log if e.status == 429]
    starts = sorted(e.start for e in log)
    windows = max(1, int((starts[-1] - starts[0]) // 1) + 1)
    assert len(log) <= 25 * windows  # never more than the quota per window
    assert result.manifest["requests"]["seconds_paced_by_ratelimit"] > 0
    assert graph(result.release)[:2] == (EXPECTED_ENTITIES, EXPECTED_EDGES)


def test_an_exception_in_one_task_fails_that_task_alone_with_its_traceback(tmp_path: Path) -> None:
    data = fixture()
    data["raw_papers"] = {"2401.00003": {"id": "2401.00003", "authors": "not a list", "title": "Odd"}}  # PaperInfo cannot read it
    with FakeHub(data) as hub:
        result = crawl(fast(tmp_path / "crawl", hub))
    errors = result.manifest["errors"]
    assert errors["count"] == 1 and errors["first"][0]["key"] == "2401.00003" and "Traceback" in errors["first"][0]["traceback"]
    entities, edges, _ = graph(result.release)
    assert entities["paper"] == EXPECTED_ENTITIES["paper"] - {"2401.00003"}
    assert entities["model"] == EXPECTED_ENTITIES["model"] and edges["user_like_model"] == EXPECTED_EDGES["user_like_model"]
    assert not result.manifest["complete"]


def test_a_task_that_keeps_failing_is_reported_and_retried_by_the_next_run(tmp_path: Path) -> None:
    with FakeHub() as hub:
        hub.state.faults = [Fault(r"^/api/papers/2401\.00002$", "500", times=3)]
        first = crawl(fast(tmp_path / "crawl", hub, retries=2))
        assert first.manifest["errors"]["count"] == 1 and not first.manifest["complete"]
        assert "gave up after 2 retries" in first.manifest["errors"]["first"][0]["traceback"]
        assert "2401.00002" not in graph(first.release)[0]["paper"]
        second = crawl(fast(tmp_path / "crawl", hub, retries=2))
        assert second.manifest["errors"]["count"] == 0
        assert graph(second.release)[:2] == (EXPECTED_ENTITIES, EXPECTED_EDGES)
        assert [e.status for e in hub.state.log if e.path == "/api/papers/2401.00002"] == [500, 500, 500, 200]


@pytest.mark.parametrize("workers", [1, 3])
def test_concurrency_is_bounded_by_workers(tmp_path: Path, workers: int) -> None:
    with FakeHub(delay=0.02) as hub:
        result = crawl(fast(tmp_path / "crawl", hub, workers=workers))
        assert hub.state.max_in_flight <= workers
        if workers > 1:
            assert hub.state.max_in_flight >= 2  # and the workers are used
    assert result.manifest["requests"]["max_concurrent_calls"] <= workers


# ---------------------------------------------------------------- partial crawls


def test_types_and_limit_give_a_partial_release_that_counts_what_it_left_out(tmp_path: Path) -> None:
    with FakeHub() as hub:
        result = crawl(fast(tmp_path / "crawl", hub, types=frozenset({"model", "org"}), limit=2))
        assert not [e for e in hub.state.log if "/likers" in e.path or "/followers" in e.path or e.path.startswith("/api/datasets?")]
    entities, edges, _ = graph(result.release)
    assert entities["model"] == {"bob/deleted", "acme/gated"}  # the two created last: the listing is newest first
    assert entities["org"] == {"acme"} and not entities["user"] and not entities["dataset"]
    assert edges["org_publish_model"] == {("acme", "acme/gated")}
    assert result.manifest["skipped"]["model_definedFor_task: dangling edge (object not crawled)"] == 2
    assert not result.manifest["complete"]


def test_since_without_previous_lists_only_recently_modified_repos(tmp_path: Path) -> None:
    out = tmp_path / "crawl"
    with FakeHub() as hub:
        runner = invoke("crawl", "--out", out, "--endpoint", hub.url, "--since", "2024-01-04", "--types", "model")
    assert runner.exit_code == 0, runner.output
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert graph(release_of(out))[0]["model"] == {"bob/base-7b-gguf", "bob/merged", "ghost/orphan", "bob/deleted", "acme/gated"}
    assert manifest["partial_reason"] == "only repos modified since 2024-01-04T00:00:00.000Z" and not manifest["complete"]


# ---------------------------------------------------------------- snapshots: incremental crawl and diff


def test_incremental_crawl_and_diff_list_exactly_the_changes(tmp_path: Path, v1: Path) -> None:
    v2, fresh = tmp_path / "v2", tmp_path / "fresh"
    with FakeHub(changed(fixture())) as hub:
        runner = invoke("crawl", "--out", v2, "--endpoint", hub.url, "--previous", v1, "--backoff", "0.02")
        assert runner.exit_code == 0, runner.output
        incremental = [e.path for e in hub.state.log]
        crawl(fast(fresh, hub))
        full = [e.path for e in hub.state.log][len(incremental):]

    # the incremental crawl gives what a full crawl gives, with fewer requests
    assert release_files(release_of(v2)) == release_files(release_of(fresh))
    assert len(incremental) < len(full)
    assert "/acme/base-7b/resolve/main/README.md" not in incremental  # unchanged: taken from v1
    assert "/alice/base-7b-ft/resolve/main/README.md" in incremental  # modified: fetched
    assert "/api/models/acme/base-7b/likers" in incremental  # its like count changed
    assert "/api/models/bob/merged/likers" not in incremental  # its like count did not change: taken from v1
    manifest = json.loads((v2 / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["prov"]["wasRevisionOf"] == json.loads((v1 / MANIFEST).read_text(encoding="utf-8"))["snapshot"]

    changes = tmp_path / "changes.json"
    runner = invoke("diff", v1, v2, "--json", changes)
    assert runner.exit_code == 0, runner.output
    assert json.loads(changes.read_text(encoding="utf-8")) == {
        "counts": {
            "entities added": {"model": 1}, "entities removed": {"dataset": 1}, "entities changed": {"model": 2, "org": 1, "space": 1},
            "edges added": {"model_definedFor_task": 1, "model_finetune_model": 1, "user_like_model": 1, "user_publish_model": 1},
            "edges removed": {"space_use_model": 1, "user_follow_user": 1, "user_publish_dataset": 1},
        },
        "entities_added": {"model": ["carol/new-model"]},
        "entities_removed": {"dataset": ["carol/tiny"]},
        "entities_changed": {
            "model": {
                "acme/base-7b": {"downloads": [1000, 1500], "likes": [2, 3]},
                "alice/base-7b-ft": {
                    "description": ["# Fine-tuned on reviews ✓\n", "# Fine-tuned on reviews, v2\n"],
                    "languages": [["English", "French"], ["English"]],
                    "lastModified": ["2024-01-02T12:30:00.000Z", "2024-03-01T08:00:00.000Z"],
                },
            },
            "org": {"nlp-lab": {"fullname": ["NLP Lab", "NLP Laboratory"]}},
            "space": {"alice/demo": {"lastModified": ["2024-01-01T09:15:00.000Z", "2024-03-02T08:00:00.000Z"]}},
        },
        "edges_added": {
            "model_definedFor_task": [["carol/new-model", "text-generation"]],
            "model_finetune_model": [["acme/base-7b", "carol/new-model"]],
            "user_like_model": [["dave", "acme/base-7b"]],
            "user_publish_model": [["carol", "carol/new-model"]],
        },
        "edges_removed": {
            "space_use_model": [["alice/demo", "alice/base-7b-ft"]],
            "user_follow_user": [["bob", "alice"]],
            "user_publish_dataset": [["carol", "carol/tiny"]],
        },
    }
    lines = runner.stdout.splitlines() if hasattr(runner, "stdout") else runner.output.splitlines()
    assert "-\tuser_follow_user\tbob\talice" in lines and "+\tmodel\tcarol/new-model" in lines
    assert invoke("diff", v1, v1, "--summary-only").output.count(": 0") == 5


def test_previous_can_be_a_store_and_the_store_keeps_the_latest_snapshot(tmp_path: Path, v1: Path) -> None:
    store = tmp_path / "store"
    with FakeHub() as hub:
        first = crawl(fast(tmp_path / "s1", hub), store=store, base_iri=BASE)
    with FakeHub(changed(fixture())) as hub:
        second = crawl(fast(tmp_path / "s2", hub, previous=store), store=store, base_iri=BASE)
        assert "/acme/base-7b/resolve/main/README.md" not in [e.path for e in hub.state.log]
    assert second.manifest["prov"]["wasRevisionOf"] == first.manifest["snapshot"]
    with_readme = {m["id"] for m in fixture()["models"] if not m["private"] and {"rfilename": "README.md"} in m["siblings"]}
    unchanged = with_readme - {"alice/base-7b-ft"}  # the one whose lastModified moved
    assert second.manifest["reused_from_previous"]["readme:model"] == len(unchanged)
    assert graph(second.release)[0]["model"] == EXPECTED_ENTITIES["model"] | {"carol/new-model"}
    snapshot = open_read_only(store)
    graphs = {g.value for g in snapshot.named_graphs()}
    assert graphs == {second.manifest["snapshot"]}  # the store holds the latest snapshot only
    ids = {q.object.value for q in snapshot.quads_for_pattern(None, ox.NamedNode("https://w3id.org/huggingkg/ontology#id"), None)}
    assert "carol/new-model" in ids and "carol/tiny" not in ids


# ---------------------------------------------------------------- the fake Hub speaks what the client parses


def test_the_fake_hub_answers_what_the_installed_client_parses_and_refuses_as_the_hub_does() -> None:
    """The client's own methods against fakehub: what they accept, and where they break as on the real Hub."""
    from huggingface_hub import HfApi, hf_hub_url
    from huggingface_hub.errors import DisabledRepoError, GatedRepoError, RepositoryNotFoundError
    from huggingface_hub.utils import get_session, hf_raise_for_status, parse_ratelimit_headers

    from hkg_rdf.crawl.client import EXPAND

    with FakeHub() as hub:
        api = HfApi(endpoint=hub.url, token=False)
        models = list(api.list_models(expand=list(EXPAND["model"])))
        assert {m.id for m in models} == EXPECTED_ENTITIES["model"] and all(m.siblings for m in models)
        assert {m.id for m in HfApi(endpoint=hub.url, token=TOKEN).list_models()} == EXPECTED_ENTITIES["model"] | {"alice/secret"}
        assert all(d.siblings == [] for d in api.list_datasets(full=True))  # the Hub sends no file list for datasets
        spaces = {s.id: s for s in api.list_spaces(expand=list(EXPAND["space"]))}
        assert spaces["alice/demo"].models == ["acme/base-7b", "alice/base-7b-ft"] and spaces["alice/demo"].datasets == ["nlp-lab/reviews"]
        listed = list(api.list_collections())  # the listing has no position: the client numbers it
        assert [c.position for c in listed] == [0, 1] and all(len(c.items) <= 4 for c in listed)
        assert len(api.get_collection(FAVS).items) == 5
        paper = api.paper_info("2401.00001")
        assert [a.name for a in paper.authors][:2] == ["Frank Fox", "Alice Anders"] and paper.authors[0].user.username == "frank"
        assert api.get_user_overview("gus").fullname == "" and api.get_organization_overview("acme").fullname == "ACME Corp"
        assert [u.username for u in api.list_organization_members("nlp-lab")] == ["dave", "frank", "erin"]
        with pytest.raises(KeyError):  # a liker without "fullname", as the Hub sends some: why the crawl pages likers itself
            list(api.list_repo_likers("nlp-lab/leaderboard", repo_type="space"))
        refusals = {"bob/deleted": RepositoryNotFoundError, "acme/gated": GatedRepoError, "alice/secret": RepositoryNotFoundError}
        for repo_id, error in refusals.items():
            with pytest.raises(error) as raised:
                hf_raise_for_status(get_session().head(hf_hub_url(repo_id, "README.md", endpoint=hub.url)))
            assert raised.value.response.status_code == 401
        with pytest.raises(DisabledRepoError):
            hf_raise_for_status(get_session().get(f"{hub.url}/api/datasets/carol/disabled/likers"))
        info = parse_ratelimit_headers(get_session().get(f"{hub.url}/api/tasks").headers)
        assert info is not None and info.remaining > 0 and info.limit == hub.state.quota


def test_the_clients_own_retries_are_counted() -> None:
    """A retry the client makes inside one call (http_backoff) is seen by the wrapper's hooks and counted."""
    from huggingface_hub.utils import http_backoff

    from hkg_rdf.crawl.client import Hub

    with FakeHub() as fake:
        fake.state.faults = [Fault(r"^/api/tasks$", "503")]
        hub = Hub(fake.url)
        try:
            response = hub.call("tasks", lambda: http_backoff("GET", f"{fake.url}/api/tasks", base_wait_time=0.01))
        finally:
            hub.close()
    assert response.status_code == 200
    assert hub.stats.client_retries == 1 and not hub.stats.retries and hub.stats.requests == 2


def test_a_listed_item_the_client_cannot_read_fails_alone_and_the_next_run_asks_for_it(tmp_path: Path) -> None:
    data = fixture()
    data["odd_listing"] = {"acme/corpus": {"cardData": "not an object"}, "bob/merged": {"inferenceProviderMapping": "odd"}}
    with FakeHub(data) as hub:
        first = crawl(fast(tmp_path / "crawl", hub))
        errors = first.manifest["errors"]
        assert errors["count"] == 1 and errors["first"][0]["task"] == "item:model" and errors["first"][0]["key"] == "bob/merged"
        assert "inferenceProviderMapping" in errors["first"][0]["traceback"] and not first.manifest["complete"]
        assert graph(first.release)[0]["model"] == EXPECTED_ENTITIES["model"] - {"bob/merged"}
        second = crawl(fast(tmp_path / "crawl", hub))
        assert [e.path for e in hub.state.log if e.path.startswith("/api/models/bob/merged?")]  # asked for alone, with expand
    assert second.manifest["errors"]["count"] == 0 and second.manifest["complete"]
    for name, records in REFERENCE_RECORDS.items():
        assert json.loads((second.release / f"{name}.json").read_text(encoding="utf-8")) == records, name
    assert graph(second.release)[1] == EXPECTED_EDGES


def test_expand_people_makes_followers_and_members_users_one_hop(tmp_path: Path) -> None:
    out = tmp_path / "crawl"
    with FakeHub() as hub:
        runner = invoke("crawl", "--out", out, "--endpoint", hub.url, "--expand-people", "--backoff", "0.02")
        assert runner.exit_code == 0, runner.output
        assert not [e for e in hub.state.log if e.path.startswith("/api/users/erin/followers")]  # one hop
    entities, edges, records = graph(release_of(out))
    assert entities["user"] == EXPECTED_ENTITIES["user"] | {"erin"} and records[("user", "erin")]["fullname"] == "Erin Evans"
    assert ("erin", "alice") in edges["user_follow_user"] and ("erin", "acme") in edges["user_follow_org"]
    assert ("erin", "nlp-lab") in edges["user_affiliatedWith_org"]
    assert edges["user_like_model"] == EXPECTED_EDGES["user_like_model"]
