"""VoID counts are computed once per store version, by the load, and kept beside it (stats.py)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import load_store

from hkg_rdf.stats import void_cache, void_statistics
from hkg_rdf.store import live_path, open_read_only


def test_the_load_writes_the_counts_beside_the_version_and_a_new_version_removes_them(tmp_path: Path, example_release: Path,
                                                                                      example_triples_txt: Path) -> None:
    store_dir = load_store(tmp_path / "store", example_release)
    version = live_path(store_dir)
    cache = void_cache(version)
    written = json.loads(cache.read_text())  # there before anyone asked for them
    assert written == void_statistics(open_read_only(store_dir)) and written["triples"] == len(open_read_only(store_dir))
    cache.write_text(json.dumps({**written, "triples": -1}))  # the cache, not the store, answers now
    assert void_statistics(open_read_only(store_dir), version)["triples"] == -1
    load_store(store_dir, example_triples_txt)  # a new version: the old one and its counts go
    assert not cache.exists() and not version.exists()
    assert json.loads(void_cache(live_path(store_dir)).read_text())["triples"] == len(open_read_only(store_dir))


def test_a_version_without_counts_gets_them_from_its_first_reader(tmp_path: Path, example_release: Path) -> None:
    store_dir = load_store(tmp_path / "store", example_release)
    cache = void_cache(live_path(store_dir))
    cache.unlink()  # e.g. a version written by a SPARQL update
    computed = void_statistics(open_read_only(store_dir), live_path(store_dir))
    assert json.loads(cache.read_text()) == computed and computed["triples"] == len(open_read_only(store_dir))
