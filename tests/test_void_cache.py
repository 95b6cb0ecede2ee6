"""VoID statistics are computed once per store version and kept beside it (serve/void.py)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import load_store

from hkg_rdf.serve.void import statistics, statistics_cache
from hkg_rdf.store import live_path, open_read_only


def test_statistics_are_cached_per_version_and_removed_with_it(tmp_path: Path, example_release: Path, example_triples_txt: Path) -> None:
    store_dir = load_store(tmp_path / "store", example_release)
    version = live_path(store_dir)
    computed = statistics(open_read_only(store_dir), version)
    cache = statistics_cache(version)
    assert json.loads(cache.read_text()) == computed and computed["triples"] == len(open_read_only(store_dir))
    cache.write_text(json.dumps({**computed, "triples": -1}))  # the cache, not the store, answers now
    assert statistics(open_read_only(store_dir), version)["triples"] == -1
    load_store(store_dir, example_triples_txt)  # a new version: the old one and its statistics go
    assert not cache.exists() and not version.exists()
    assert statistics(open_read_only(store_dir), live_path(store_dir))["triples"] == len(open_read_only(store_dir))
