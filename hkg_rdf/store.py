"""The persistent Oxigraph store on disk, with atomic loads.

A store directory holds versions of an Oxigraph database and a symlink ``current`` naming
the live one::

    STORE/current -> v1732270000123456789
    STORE/v1732270000123456789/      (an Oxigraph/RocksDB directory)

A load works on a new version (a hard-linked checkpoint of the live one, or an empty one),
bulk-loads into it, and only then swaps ``current`` with an atomic rename. A failure or a kill
at any point leaves ``current`` naming the previous, intact version; the next load removes
leftovers. Readers open ``current`` read-only and are never blocked by a load.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError, StoreWriteError, refused_write
from .search import build_index
from .stats import void_statistics

CURRENT = "current"
VERSION_PREFIX = "v"
LOCK = ".lock"

#: Fills a new version: its store, and anything it writes beside it in the version directory.
Loader = Callable[[ox.Store, Path], None]
#: Checks a loaded version before it goes live (it may raise to stop the swap).
Check = Callable[[ox.Store], None]


def live_path(store_dir: Path) -> Path:
    """The Oxigraph directory holding the store's live version."""
    current = store_dir / CURRENT
    if current.is_symlink():
        return store_dir / os.readlink(current)
    if (store_dir / "CURRENT").exists():  # a plain Oxigraph directory (RocksDB marker file)
        return store_dir
    raise InputError(str(store_dir), "not an hkg-rdf store (no 'current' version); create one with 'hkg-rdf load'")


def open_read_only(store_dir: Path) -> ox.Store:
    """Open the live version for reading; never blocks on, nor is disturbed by, a load.

    A load that swaps versions between our reading ``current`` and opening that version
    deletes it under us (RocksDB then fails with missing files): open the new one instead.
    """
    for _ in range(10):
        path = live_path(store_dir)
        sys.audit("hkg_rdf.store.open", path)  # the gap a swap can fall into: tests race one in here, deterministically
        try:
            return ox.Store.read_only(str(path))
        except (OSError, RuntimeError) as error:  # pyoxigraph reports RocksDB errors as RuntimeError
            if live_path(store_dir) == path:
                raise InputError(str(store_dir), f"cannot open the store: {error}") from error
    raise InputError(str(store_dir), "cannot open the store: its live version kept changing under concurrent loads")


@contextmanager
def _locked(store_dir: Path) -> Iterator[None]:
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
        lock = open(store_dir / LOCK, "w")
    except OSError as error:
        raise InputError(str(store_dir), f"cannot create or lock the store directory: {error.strerror or error}") from error
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(str(store_dir), "another load is writing to this store") from None
        yield


def _check_and_derive(store: ox.Store, version: Path, check: Check | None, derive: bool) -> None:
    """The search index is written in a second thread while the check and the VoID counts run:
    all three are mostly Oxigraph and SQLite code, which release the GIL, so on two cores the
    index costs little time of its own."""
    with ThreadPoolExecutor(1) as pool:
        index = pool.submit(build_index, store, version) if derive else None
        if check is not None:
            check(store)
        if derive:
            void_statistics(store, version)
        if index is not None:
            index.result()


def _new_version(store_dir: Path) -> Path:
    return store_dir / f"{VERSION_PREFIX}{time.time_ns()}"


def _remove_stale(store_dir: Path, keep: Path | None) -> None:
    """Delete versions other than the live one (left by a finished or an interrupted load)."""
    for child in store_dir.iterdir():
        if child.is_dir() and child.name.startswith(VERSION_PREFIX) and child != keep:
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith(VERSION_PREFIX) and child.suffix == ".json" and (keep is None or not child.name.startswith(keep.name + ".")):
            child.unlink(missing_ok=True)  # what was kept beside a removed version (its VoID statistics)


def _swap(store_dir: Path, version: Path) -> None:
    link = store_dir / f"{CURRENT}.tmp"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(version.name)
    os.replace(link, store_dir / CURRENT)
    fd = os.open(store_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def load_atomically(store_dir: Path, loader: Loader, replace: bool = False, derive: bool = True, check: Check | None = None) -> Path:
    """Run ``loader`` on a new version of the store and make it live only if it succeeds.

    Unless ``replace``, the new version starts as a checkpoint (hard links, no copy) of the
    live one, so the load adds to what is stored. ``check`` then runs on the loaded version
    and what is derived from it, its search index (:mod:`hkg_rdf.search`) and its VoID counts
    (:func:`hkg_rdf.stats.void_statistics`), is written, all before the swap; unless not
    ``derive`` (then their first reader computes them). A write the file system refuses (a full
    disk) is a StoreWriteError naming the store, raised here so that every caller (load, crawl,
    the server's updates) reports it alike: one line, not a traceback.
    """
    with _locked(store_dir):
        live = live_path(store_dir) if (store_dir / CURRENT).is_symlink() else None
        _remove_stale(store_dir, keep=live)
        version = _new_version(store_dir)
        try:
            if live is not None and not replace:
                ox.Store.read_only(str(live)).backup(str(version))
            store = ox.Store(str(version))
            loader(store, version)
            store.flush()
            _check_and_derive(store, version, check, derive)
            del store
            _swap(store_dir, version)
        except BaseException as error:
            shutil.rmtree(version, ignore_errors=True)
            if refused_write(error):
                raise StoreWriteError(str(store_dir), f"writing the new version failed, so the store is left as it was: {error}") from error
            raise
        _remove_stale(store_dir, keep=version)
        return version
