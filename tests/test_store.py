"""The on-disk store: loads are atomic (a failure or a kill leaves the previous version live),
add to or replace the content, never disturb readers, and exclude each other.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import REPO, invoke, must, read_json, run_module, store_triples, write_json

from hkg_rdf.errors import InputError
from hkg_rdf.store import open_read_only

HKG = "https://w3id.org/huggingkg/ontology#"
COUNT_MODELS = "SELECT (COUNT(*) AS ?n) WHERE { ?m a hkg:Model }"


def versions(store: Path) -> list[str]:
    """The version directories of a store (a checkpoint in the making is "v<digits>.tmp" first)."""
    return sorted(p.name for p in store.iterdir() if p.is_dir() and re.fullmatch(r"v\d+", p.name))


def live(store: Path) -> str:
    return os.readlink(store / "current")


def count(store_or_reader, sparql: str = COUNT_MODELS) -> int:
    reader = open_read_only(store_or_reader) if isinstance(store_or_reader, Path) else store_or_reader
    (row,) = reader.query(sparql, prefixes={"hkg": HKG})
    return int(row["n"].value)


def _model(i: int) -> dict:
    return {
        "id": f"gen{i % 997}/model-{i}", "name": f"model-{i}", "createdAt": "2024-06-01T12:00:00.000Z", "lastModified": None,
        "downloads": i, "likes": i % 13, "region": None, "other": [], "libraries": ["Transformers"], "license": "mit", "languages": [],
        "pipeline_tag": [], "description": None,
    }


_generated: dict[int, Path] = {}


@pytest.fixture(scope="module")
def generated_release(tmp_path_factory):
    """``generated_release(n)``: a release of n small model records written by the test (cached)."""

    def make(n: int) -> Path:
        if n not in _generated:
            release = tmp_path_factory.mktemp(f"gen{n}") / "HuggingKG_V20990101000000"
            release.mkdir()
            with open(release / "models.json", "w", encoding="utf-8") as out:
                out.write("[\n")
                out.write(",\n".join(json.dumps(_model(i)) for i in range(n)))
                out.write("\n]\n")
            _generated[n] = release
        return _generated[n]

    return make


def _extra_nt(tmp_path: Path) -> Path:
    path = tmp_path / "extra.nt"
    path.write_text(
        "<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n"
        '<http://example.org/a> <http://example.org/q> "x\\ty" .\n',
        encoding="utf-8",
    )
    return path


EXTRA = frozenset({
    "<http://example.org/a> <http://example.org/p> <http://example.org/b>",
    '<http://example.org/a> <http://example.org/q> "x\\ty"',
})


def _wait_for_new_version(store: Path, old: list[str], proc: subprocess.Popen, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = set(versions(store)) - set(old)
        if new:
            return new.pop()
        assert proc.poll() is None, f"the load ended before creating a version: {proc.communicate()}"
        time.sleep(0.01)
    raise AssertionError("no new version directory appeared")


def _wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 120) -> None:
    """Poll until ``condition()`` holds while ``proc`` runs (the load is well under way once it wrote data)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the load ended before {what}: {proc.communicate()}"
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.01)


def _start_load(source: Path, store: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hkg_rdf", "load", str(source), "--store", str(store), *options],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


# ---------------------------------------------------------------- (a) a load that fails midway


def test_a_load_failing_midway_leaves_the_previous_content(loaded_store, release_copy):
    # many good records first (entities, then every relation file but the last), then bad input
    models = read_json(release_copy / "models.json")
    write_json(release_copy / "models.json", models + [_model(i) for i in range(20_000)])
    last = release_copy / "user_publish_space.json"  # relation files are read in name order
    assert last.name == max(p.name for p in release_copy.glob("*_*_*.json"))
    last.write_text(last.read_text(encoding="utf-8")[:-40], encoding="utf-8")

    before, live_before, versions_before = store_triples(loaded_store), live(loaded_store), versions(loaded_store)
    result = invoke("load", release_copy, "--store", loaded_store)
    assert result.exit_code == 2, result.output
    assert "user_publish_space.json" in result.stderr

    assert live(loaded_store) == live_before
    assert versions(loaded_store) == versions_before  # the half-loaded version is gone
    assert store_triples(loaded_store) == before
    assert count(loaded_store) == 17
    # the CLI's readers open it too
    assert must(invoke("stats", "--store", loaded_store, "--json")).stdout
    assert json.loads(invoke("stats", "--store", loaded_store, "--json").stdout)["triples"] == len(before)


# ---------------------------------------------------------------- (b) a load killed midway


def test_a_load_killed_midway_leaves_the_previous_content(loaded_store, generated_release, tmp_path):
    big = generated_release(200_000)
    before, live_before, versions_before = store_triples(loaded_store), live(loaded_store), versions(loaded_store)

    proc = _start_load(big, loaded_store)
    try:
        leftover = _wait_for_new_version(loaded_store, versions_before, proc)
        _wait_for(lambda: any((loaded_store / leftover).glob("bulk-*.sst")), proc, "a first bulk-loaded SST file")
        assert proc.poll() is None, "the load finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL

    assert leftover in versions(loaded_store)  # the killed load's version is still lying there
    assert live(loaded_store) == live_before
    assert store_triples(loaded_store) == before
    assert count(loaded_store) == 17

    # the next load succeeds, adds to the previous content and removes the leftover
    result = run_module("load", _extra_nt(tmp_path), "--store", loaded_store)
    assert result.returncode == 0, result.stderr
    assert leftover not in versions(loaded_store)
    assert versions(loaded_store) == [live(loaded_store)]
    assert store_triples(loaded_store) == before | EXTRA


# ---------------------------------------------------------------- (c) add or replace


def test_load_adds_to_the_existing_content(loaded_store, tmp_path, example_triples_txt):
    before = store_triples(loaded_store)
    must(invoke("load", _extra_nt(tmp_path), "--store", loaded_store))
    assert store_triples(loaded_store) == before | EXTRA
    assert len(versions(loaded_store)) == 1
    # loading the same release again changes nothing (a graph is a set) but for the description
    # of that conversion (<base>void/triples.txt: its source and counts)
    must(invoke("load", example_triples_txt, "--store", loaded_store))
    described = lambda triples: {t for t in triples if not t.startswith("<https://w3id.org/huggingkg/resource/void/")}
    assert described(store_triples(loaded_store)) == described(before | EXTRA)


def test_replace_replaces_the_content(loaded_store, tmp_path):
    assert len(store_triples(loaded_store)) > 800
    must(invoke("load", _extra_nt(tmp_path), "--store", loaded_store, "--replace"))
    assert store_triples(loaded_store) == EXTRA
    assert len(versions(loaded_store)) == 1


def test_several_sources_in_one_load(tmp_path, example_release, example_triples_txt):
    store = tmp_path / "store"
    must(invoke("load", example_release, _extra_nt(tmp_path), "--store", store))
    release_only = tmp_path / "release-only"
    must(invoke("load", example_release, "--store", release_only))
    assert store_triples(store) == store_triples(release_only) | EXTRA


def test_a_store_made_of_an_rdf_dump_equals_the_original(loaded_store, tmp_path):
    must(invoke("dump", "--store", loaded_store, "-o", tmp_path / "dump.nq.gz"))
    copy = tmp_path / "copy"
    must(invoke("load", tmp_path / "dump.nq.gz", "--store", copy))
    assert store_triples(copy) == store_triples(loaded_store)


# ---------------------------------------------------------------- (d) readers during a swap


def test_a_reader_keeps_working_while_a_load_swaps_versions(tmp_path, generated_release, example_triples_txt):
    store = tmp_path / "store"
    result = run_module("load", generated_release(40_000), "--store", store)
    assert result.returncode == 0, result.stderr
    old_version = live(store)

    reader = open_read_only(store)
    assert count(reader) == 40_000
    quads = len(reader)
    proc = _start_load(example_triples_txt, store, "--replace")
    readings = []
    while proc.poll() is None:  # read all along the load and the swap
        readings.append(count(reader))
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    readings.append(count(reader))

    assert live(store) != old_version
    assert not (store / old_version).exists()  # the old version is deleted under the reader's feet
    assert set(readings) == {40_000}
    assert len(reader) == quads > 40_000 * 9  # every quad is still readable (9 hkg: triples per generated model, and more)
    total = count(reader, "SELECT (SUM(?d) AS ?n) WHERE { ?m hkg:downloadCount ?d }")
    assert total == sum(range(40_000))
    # a new reader sees the new version
    assert count(store) == 17
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s hkg:downloadCount ?o }") == 0


def test_readers_opening_the_store_during_swaps_never_fail(loaded_store, example_triples_txt):
    """Opening reads ``current`` then opens that version: a swap in between deletes it."""
    from hkg_rdf.iris import IriMinter
    from hkg_rdf.load import load

    swaps, errors = [], []

    def load_repeatedly():
        try:
            for _ in range(12):
                swaps.append(load(loaded_store, [example_triples_txt], IriMinter()))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=load_repeatedly)
    thread.start()
    opened, failures = 0, []
    while thread.is_alive():
        try:
            assert len(open_read_only(loaded_store)) > 800
            opened += 1
        except Exception as error:  # noqa: BLE001 - every failure is one too many
            failures.append(repr(error))
    thread.join()
    assert errors == [] and len(swaps) == 12
    assert failures == []
    assert opened > 12


class SwapWatcher:
    """At every file-system step of a load (caught by an audit hook) and at points the loader
    chooses, open the store afresh as a reader does and record which content it serves.

    Deterministic: no thread, no timing, every step the load takes is looked at. A swap
    that is not atomic (``current`` missing or dangling for one step) or that makes a
    half-written version live shows up as an observation that is neither before nor after.
    """

    EVENTS = frozenset({"os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link", "os.truncate", "shutil.rmtree", "os.mkdir", "open"})
    _installed = False
    active: SwapWatcher | None = None

    def __init__(self, store: Path, contents: dict[frozenset[str], str]):
        self.store, self.contents, self.seen = store, contents, []
        self._busy = False
        if not SwapWatcher._installed:  # audit hooks cannot be removed: one, inert unless a watcher is active
            sys.addaudithook(lambda event, args: SwapWatcher.active and SwapWatcher.active._event(event, args))
            SwapWatcher._installed = True

    def __enter__(self) -> SwapWatcher:
        SwapWatcher.active = self
        return self

    def __exit__(self, *exc) -> None:
        SwapWatcher.active = None

    def _event(self, event: str, args: tuple) -> None:
        if event in self.EVENTS and not (event == "open" and str(args[0]).startswith(str(self.store))):
            self.look(event)

    def look(self, where: str) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            try:
                served = frozenset(str(q) for q in open_read_only(self.store))
                self.seen.append((where, self.contents.get(served, f"other content ({len(served)} quads)")))
            except Exception as error:  # noqa: BLE001 - any failure to read is the finding
                self.seen.append((where, f"unreadable: {error}"))
        finally:
            self._busy = False

    def states(self) -> list[str]:
        return [state for _, state in self.seen]


def _two_step_loader(triples: list[str], watcher: SwapWatcher):
    """A loader that writes half, lets the watcher look, then writes the rest."""
    import pyoxigraph as ox

    def loader(store: ox.Store) -> None:
        half = len(triples) // 2
        for part in (triples[:half], triples[half:]):
            store.load("\n".join(part).encode(), ox.RdfFormat.N_TRIPLES)
            store.flush()
            watcher.look("inside the loader")
    return loader


@pytest.mark.parametrize("replace", [True, False])
def test_a_reader_racing_a_swap_sees_the_old_or_the_new_version_never_a_gap(loaded_store, replace):
    from hkg_rdf.store import load_atomically

    old = store_triples(loaded_store)
    extra = [f"<http://example.org/s{i}> <http://example.org/p> \"{i}\" ." for i in range(500)]
    new = frozenset(str(q) for q in _quads(extra)) | (frozenset() if replace else old)
    earlier_reader = open_read_only(loaded_store)
    with SwapWatcher(loaded_store, {old: "old", new: "new"}) as watcher:
        watcher.look("before the load")
        load_atomically(loaded_store, _two_step_loader(extra, watcher), replace=replace)
        watcher.look("after the load")
    states = watcher.states()
    assert set(states) == {"old", "new"}, watcher.seen
    flip = states.index("new")
    assert states == ["old"] * flip + ["new"] * (len(states) - flip), watcher.seen  # one switch, never back
    assert ("os.rename", "old") in watcher.seen[:flip], watcher.seen  # the switch is the rename itself
    assert [w for w, s in watcher.seen if w == "inside the loader"] and all(
        s == "old" for w, s in watcher.seen if w == "inside the loader"), watcher.seen
    assert frozenset(str(q) for q in earlier_reader) == old  # a reader opened before keeps its version
    assert versions(loaded_store) == [live(loaded_store)]


def test_a_loader_failing_after_writing_leaves_every_reader_on_the_old_version(loaded_store):
    from hkg_rdf.store import load_atomically

    old = store_triples(loaded_store)
    live_before = live(loaded_store)
    extra = [f"<http://example.org/s{i}> <http://example.org/p> \"{i}\" ." for i in range(100)]

    with SwapWatcher(loaded_store, {old: "old"}) as watcher:
        written = _two_step_loader(extra, watcher)

        def failing(store):
            written(store)
            raise InputError("test", "the loader fails after writing everything")

        with pytest.raises(InputError, match="fails after writing"):
            load_atomically(loaded_store, failing)
        watcher.look("after the failure")
    assert set(watcher.states()) == {"old"}, watcher.seen
    assert live(loaded_store) == live_before and versions(loaded_store) == [live_before]


def _quads(lines: list[str]):
    import pyoxigraph as ox

    return [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in ox.parse("\n".join(lines).encode(), ox.RdfFormat.N_TRIPLES)]


# ---------------------------------------------------------------- (e) concurrent loads


def test_a_second_concurrent_load_gets_a_clear_error(loaded_store, generated_release, tmp_path):
    before = store_triples(loaded_store)
    proc = _start_load(generated_release(40_000), loaded_store)
    try:
        _wait_for_new_version(loaded_store, versions(loaded_store), proc)
        result = invoke("load", _extra_nt(tmp_path), "--store", loaded_store)
        assert proc.poll() is None, "the first load ended too early for the test to mean anything"
        assert result.exit_code == 2, result.output
        assert "another load is writing to this store" in result.stderr
        assert str(loaded_store) in result.stderr
        assert store_triples(loaded_store) == before  # the first load is not live yet
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert count(loaded_store) == 17 + 40_000
    assert EXTRA.isdisjoint(store_triples(loaded_store))
    assert len(versions(loaded_store)) == 1


# ---------------------------------------------------------------- not a store


def test_reading_a_directory_that_is_not_a_store(tmp_path):
    for args in (("stats",), ("query", "ASK {}"), ("dump", "-o", tmp_path / "x.nt")):
        result = invoke(*args[:1], "--store", tmp_path, *args[1:])
        assert result.exit_code == 2, result.output
        assert "not an hkg-rdf store" in result.stderr
    assert not (tmp_path / "x.nt").exists()
