"""The on-disk store: loads are atomic (a failure or a kill leaves the previous version live),
add to or replace the content, never disturb readers, and exclude each other.
"""

from __future__ import annotations

import io
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
from conftest import REPO, invoke, live, must, read_json, run_module, store_triples, versions, write_json, writes_limited_to

from hkg_rdf.errors import InputError
from hkg_rdf.store import open_read_only

HKG = "https://w3id.org/huggingkg/ontology#"
COUNT_MODELS = "SELECT (COUNT(*) AS ?n) WHERE { ?m a hkg:Model }"


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


# ---------------------------------------------------------------- fault injection, no load of a release
# (fast: benchmarks/mutation.py runs these for every mutant of store.py)


class AuditFaults:
    """Run ``handler(event, args)`` at every audit event raised while the block runs: to act in a
    gap of the code under test (``hkg_rdf.store.open``, raised between reading ``current`` and
    opening that version) or to refuse a file-system step by raising, as the OS would."""

    _installed = False
    active: AuditFaults | None = None

    def __init__(self, handler):
        self.handler, self._busy = handler, False
        if not AuditFaults._installed:  # audit hooks cannot be removed: one, inert unless a block is active
            sys.addaudithook(lambda event, args: AuditFaults.active and AuditFaults.active._event(event, args))
            AuditFaults._installed = True

    def _event(self, event: str, args: tuple) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self.handler(event, args)
        finally:
            self._busy = False

    def __enter__(self) -> AuditFaults:
        AuditFaults.active = self
        return self

    def __exit__(self, *exc) -> None:
        AuditFaults.active = None


def _lines_loader(lines: list[str]):
    import pyoxigraph as ox

    return lambda store, _version: store.load("\n".join(lines).encode(), ox.RdfFormat.N_TRIPLES)


LINES = [f"<http://example.org/s{i}> <http://example.org/p> \"{i}\" ." for i in range(3)]


@pytest.fixture
def small_store(tmp_path) -> Path:
    """A store of three triples, made by ``load_atomically`` itself (no conversion)."""
    from hkg_rdf.store import load_atomically

    store = tmp_path / "not" / "yet" / "there"  # made with its parents
    load_atomically(store, _lines_loader(LINES[:1]), derive=False)
    return store


def test_a_reader_whose_version_is_swapped_away_before_it_opens_it_opens_the_new_one(small_store):
    from hkg_rdf.store import load_atomically

    old_version = small_store / live(small_store)
    raced: list[Path] = []

    def swap_in_the_gap(event, args):
        if event == "hkg_rdf.store.open" and not raced:
            raced.append(args[0])
            load_atomically(small_store, _lines_loader(LINES[1:]), derive=False)

    with AuditFaults(swap_in_the_gap):
        reader = open_read_only(small_store)
    assert raced == [old_version] and not old_version.exists()  # the version it had read was deleted under it
    assert frozenset(str(q) for q in reader) == frozenset(str(q) for q in _quads(LINES))  # and it opened the new one


def test_a_reader_gives_up_with_a_clear_error_when_every_version_it_reads_is_swapped_away(small_store):
    from hkg_rdf.store import load_atomically

    tries: list[Path] = []

    def swap_every_time(event, args):
        if event == "hkg_rdf.store.open":
            tries.append(args[0])
            load_atomically(small_store, _lines_loader(LINES[1:]), derive=False)

    with AuditFaults(swap_every_time), pytest.raises(InputError, match="kept changing under concurrent loads") as error:
        open_read_only(small_store)
    assert (error.value.file, error.value.message) == (str(small_store), "cannot open the store: its live version kept changing under concurrent loads")
    assert len(set(tries)) == len(tries) > 1  # a new version each time, each one tried


def test_a_live_version_that_cannot_be_opened_is_reported_not_retried(small_store):
    broken = small_store / "v1"
    broken.mkdir()
    (broken / "CURRENT").write_text("MANIFEST-000001\n")  # a RocksDB marker naming a manifest that does not exist
    os.replace(_symlink(small_store / "current.test", "v1"), small_store / "current")
    tries = []
    with AuditFaults(lambda event, args: event == "hkg_rdf.store.open" and tries.append(args[0])):
        with pytest.raises(InputError, match="cannot open the store") as error:
            open_read_only(small_store)
    assert tries == [broken] and error.value.file == str(small_store) and error.value.message.startswith("cannot open the store: ")


def _symlink(link: Path, target: str) -> Path:
    link.symlink_to(target)
    return link


def test_a_plain_oxigraph_directory_is_read_as_a_store(tmp_path):
    import pyoxigraph as ox

    plain = ox.Store(str(tmp_path / "plain"))
    plain.load("\n".join(LINES).encode(), ox.RdfFormat.N_TRIPLES)
    plain.flush()
    del plain
    assert frozenset(str(q) for q in open_read_only(tmp_path / "plain")) == frozenset(str(q) for q in _quads(LINES))


def test_a_directory_that_is_not_a_store_is_named_in_the_error(tmp_path):
    from hkg_rdf.store import live_path

    with pytest.raises(InputError) as error:
        live_path(tmp_path)
    assert (error.value.file, error.value.message) == (str(tmp_path), "not an hkg-rdf store (no 'current' version); create one with 'hkg-rdf load'")


def test_a_load_while_another_holds_the_lock_is_refused_and_changes_nothing(small_store):
    import fcntl

    from hkg_rdf.store import load_atomically

    before, live_before = store_triples(small_store), live(small_store)
    with open(small_store / ".lock", "w") as other:  # what a load running in another process holds
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(InputError, match="another load is writing to this store") as error:
            load_atomically(small_store, _lines_loader(LINES[1:]), derive=False)
        assert str(small_store) in str(error.value)
        assert (store_triples(small_store), live(small_store), versions(small_store)) == (before, live_before, [live_before])
    load_atomically(small_store, _lines_loader(LINES[1:]), derive=False)  # released: the next load goes ahead
    assert store_triples(small_store) == frozenset(str(q) for q in _quads(LINES))


def test_a_store_directory_that_cannot_be_created_is_a_clear_error(tmp_path):
    from hkg_rdf.store import load_atomically

    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(InputError, match="cannot create or lock the store directory") as error:
        load_atomically(tmp_path / "file" / "store", _lines_loader(LINES), derive=False)
    assert str(tmp_path / "file" / "store") in str(error.value) and "Not a directory" in str(error.value)


def test_leftovers_are_removed_and_the_live_versions_statistics_kept(small_store):
    """A killed load's version and the statistics beside removed versions go; the live one's stay
    while the load runs, and go with it once the new version is live. Other files are left alone."""
    from hkg_rdf.store import load_atomically

    old = live(small_store)
    (small_store / "v1").mkdir()
    (small_store / "v1" / "000001.sst").write_bytes(b"half-written")  # a killed load's version
    for name in ("v1.void.json", f"{old}.void.json", "vnotes.txt", "notes.json"):
        (small_store / name).write_text("{}")
    during = []

    def look(store, version):
        during.append(sorted(p.name for p in small_store.iterdir()))
        _lines_loader(LINES[1:])(store, version)

    new = load_atomically(small_store, look, derive=False)
    (seen,) = during
    assert "v1" not in seen and "v1.void.json" not in seen
    assert old in seen and f"{old}.void.json" in seen  # still live while the load runs
    left = sorted(p.name for p in small_store.iterdir())
    assert left == sorted([".lock", "current", new.name, "vnotes.txt", "notes.json"])
    assert live(small_store) == new.name


def test_statistics_deleted_by_someone_else_while_the_load_removes_them_are_no_error(small_store):
    """A removed version's statistics file that vanishes between the listing and its deletion
    (deleted by hand, or by another tool) is what the load wanted: no error."""
    from hkg_rdf.store import load_atomically

    stale = small_store / "v1.void.json"
    stale.write_text("{}")

    def delete_first(event, args):
        if event == "os.remove" and str(args[0]) == str(stale) and stale.exists():
            stale.unlink()  # the other deleter wins the race

    with AuditFaults(delete_first):
        new = load_atomically(small_store, _lines_loader(LINES[1:]), derive=False)
    assert live(small_store) == new.name and not stale.exists()


def test_a_leftover_that_cannot_be_deleted_does_not_fail_the_load(small_store):
    """The file system refusing to delete a leftover (as for a version another user owns): the load
    still goes ahead and swaps; the leftover waits for the next load."""
    from hkg_rdf.store import load_atomically

    stale = small_store / "v1"
    stale.mkdir()
    (stale / "000001.sst").write_bytes(b"x")

    def refuse(event, args):
        if event in ("os.rmdir", "os.remove") and str(args[0]) in (str(stale), "000001.sst"):
            raise PermissionError(13, "Permission denied (the test)", str(args[0]))

    with AuditFaults(refuse):
        new = load_atomically(small_store, _lines_loader(LINES[1:]), derive=False)
    assert live(small_store) == new.name and stale.exists()
    assert store_triples(small_store) == frozenset(str(q) for q in _quads(LINES))
    load_atomically(small_store, _lines_loader(LINES[1:]), derive=False)
    assert not stale.exists()


def test_a_load_builds_the_search_index_into_the_new_version_unless_told_not_to(small_store):
    from hkg_rdf.search import index_path
    from hkg_rdf.store import load_atomically

    assert index_path(load_atomically(small_store, _lines_loader(LINES[1:]))).is_file()
    assert not index_path(load_atomically(small_store, _lines_loader(LINES[2:]), derive=False)).exists()


def test_a_failed_load_whose_version_cannot_be_deleted_still_reports_the_loaders_error(small_store):
    from hkg_rdf.store import load_atomically

    live_before = live(small_store)

    def failing(store, _version):
        raise InputError("source.nt", "the loader fails (the test)")

    def refuse(event, args):
        if event == "os.rmdir" and re.fullmatch(r"v\d+", Path(str(args[0])).name) and Path(str(args[0])).name != live_before:
            raise PermissionError(13, "Permission denied (the test)", str(args[0]))

    with AuditFaults(refuse), pytest.raises(InputError, match="the loader fails"):
        load_atomically(small_store, failing, derive=False)
    assert len(versions(small_store)) == 2  # the failed load's version: refused deletion, left for the next load
    assert live(small_store) == live_before and store_triples(small_store) == frozenset(str(q) for q in _quads(LINES[:1]))


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


@pytest.mark.parametrize("size", [32 << 10, 1 << 20])  # the new version cannot be created / its bulk load fails
def test_a_full_disk_ends_the_load_in_one_line_and_leaves_the_previous_content(loaded_store, generated_release, size):
    """A file-size limit (RLIMIT_FSIZE) stands in for a full disk: a write past it fails in the
    same write() calls with EFBIG instead of ENOSPC, and RocksDB, SQLite and Python report both
    alike ("IO error: While appending to file: ...: File too large" where a full disk says "No
    space left on device"), so the load takes the same path; a real full disk would need a
    mount, hence root. Checked once on a small tmpfs, which ends just as this does."""
    before, live_before, versions_before = store_triples(loaded_store), live(loaded_store), versions(loaded_store)
    result = run_module("load", generated_release(20_000), "--store", loaded_store, preexec_fn=writes_limited_to(size))
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()  # no traceback, nor the resource tracker's warning about a killed conversion
    assert line.startswith(f"error: {loaded_store}: writing the new version failed, so the store is left as it was: ")
    assert line.endswith("File too large")
    assert live(loaded_store) == live_before
    assert versions(loaded_store) == versions_before  # the half-written version is gone
    assert store_triples(loaded_store) == before


def test_only_the_file_system_refusing_a_write_counts_as_a_full_disk():
    """A failed write (ENOSPC, EFBIG, SQLite's full disk) names the store as full; a fetch that
    fails (an update's LOAD of a URL) or a bug is not the disk's fault and keeps its own error."""
    import errno
    import sqlite3

    from hkg_rdf.errors import refused_write

    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL
    assert refused_write(OSError(errno.ENOSPC, "No space left on device")) and refused_write(OSError(errno.EFBIG, "File too large"))
    assert refused_write(full)
    assert not any(refused_write(e) for e in (ConnectionRefusedError(), TimeoutError(), ValueError("a bug")))


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

    def __init__(self, store: Path, contents: dict[frozenset[str], str]):
        self.store, self.contents, self.seen = store, contents, []
        self._busy = False
        self._audit = AuditFaults(self._event)

    def __enter__(self) -> SwapWatcher:
        self._audit.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._audit.__exit__(*exc)

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

    def loader(store: ox.Store, _version) -> None:
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

        def failing(store, version):
            written(store, version)
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


LINES_OF_CHUNKS = [f'<http://example.org/s{i:02}> <http://example.org/p> "{"x" * 40}" .\n'.encode() for i in range(12)]


def _lagging(lines: list[bytes], pause: float):
    """Chunks of whole lines as a converter slower than the store makes them."""
    for line in lines:
        time.sleep(pause)
        yield line


def _segments(monkeypatch, slow: float = 0.0) -> list[int]:
    """Record the bytes of each bulk load a converted stream goes in (then load them for real,
    ``slow`` seconds after the bulk load starts)."""
    from hkg_rdf import load

    sizes: list[int] = []
    real = load._bulk_load

    def recording(store, stream, fmt, label, lenient=False):
        time.sleep(slow)
        data = stream.read()
        sizes.append(len(data))
        real(store, io.BytesIO(data), fmt, label, lenient)
    monkeypatch.setattr(load, "_bulk_load", recording)
    monkeypatch.setattr(load, "SEGMENT_BYTES", 100)
    return sizes


def test_a_lagging_conversion_is_bulk_loaded_in_growing_segments_of_whole_lines(monkeypatch):
    import pyoxigraph as ox

    from hkg_rdf.load import bulk_load_converted

    sizes = _segments(monkeypatch)
    store, threads = ox.Store(), threading.active_count()
    lines = LINES_OF_CHUNKS
    bulk_load_converted(store, _lagging(lines, 0.1), "test")
    assert frozenset(store) == frozenset(ox.parse(b"".join(lines), ox.RdfFormat.N_TRIPLES))
    assert len(sizes) > 1 and sum(sizes) == len(b"".join(lines))  # the loader caught up: more than one segment
    assert all(size >= max(100, sum(sizes[:i])) for i, size in enumerate(sizes[:-1]))  # each at least all before it
    assert all(size % len(lines[0]) == 0 for size in sizes)  # cut between chunks, never inside a line
    assert threading.active_count() == threads  # the read-ahead thread is gone


def test_a_conversion_the_store_never_catches_up_with_goes_in_one_segment(monkeypatch):
    import pyoxigraph as ox

    from hkg_rdf.load import bulk_load_converted

    sizes = _segments(monkeypatch, slow=0.5)  # meanwhile every chunk is read ahead
    bulk_load_converted(ox.Store(), iter(LINES_OF_CHUNKS), "test")
    assert sizes == [len(b"".join(LINES_OF_CHUNKS))]


def test_a_conversion_dying_midway_stops_the_bulk_load_with_its_own_error(monkeypatch):
    import pyoxigraph as ox

    from hkg_rdf.load import bulk_load_converted

    _segments(monkeypatch)

    def dying():
        yield b'<http://example.org/s> <http://example.org/p> "o" .\n'
        raise EOFError("the conversion process went away (the test)")

    with pytest.raises(EOFError, match="went away"):
        bulk_load_converted(ox.Store(), dying(), "test")
