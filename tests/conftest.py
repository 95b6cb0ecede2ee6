"""Shared fixtures: the example release (read-only), damageable copies of it, a zip, stores.

Everything here is real: files on disk, the real CLI (click's CliRunner on ``hkg_rdf.cli.main``
or ``python -m hkg_rdf`` in a subprocess) and real on-disk Oxigraph stores.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner, Result

from hkg_rdf.cli import main

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
RELEASE_NAME = "HuggingKG_V20241215000000"
BASE = "https://w3id.org/huggingkg/resource/"
HKG = "https://w3id.org/huggingkg/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- paths


@pytest.fixture(scope="session")
def example_release() -> Path:
    """The example release directory in the repository (never modify it)."""
    path = EXAMPLES / RELEASE_NAME
    assert (path / "models.json").is_file()
    return path


@pytest.fixture(scope="session")
def example_triples_txt() -> Path:
    """The example triples.txt in the repository (never modify it)."""
    path = EXAMPLES / "triples.txt"
    assert path.is_file()
    return path


@pytest.fixture
def release_copy(tmp_path: Path, example_release: Path) -> Path:
    """A private copy of the example release that a test may damage."""
    target = tmp_path / "copy" / RELEASE_NAME
    shutil.copytree(example_release, target)
    return target


def zip_release(release: Path, target: Path) -> Path:
    """Zip a release directory as it is shipped: members under ``HuggingKG_V.../``."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(release.rglob("*")):
            if path.is_file():
                archive.write(path, f"{release.name}/{path.relative_to(release).as_posix()}")
    return target


@pytest.fixture(scope="session")
def release_zip(tmp_path_factory: pytest.TempPathFactory, example_release: Path) -> Path:
    """The example release as a .zip (members under HuggingKG_V20241215000000/)."""
    return zip_release(example_release, tmp_path_factory.mktemp("zip") / f"{RELEASE_NAME}.zip")


# ---------------------------------------------------------------- running the CLI


def invoke(*args: object) -> Result:
    """Run the real CLI in-process; never raises (exceptions end up in the Result)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


@pytest.fixture(scope="session")
def cli():
    """``cli(*args)`` runs ``hkg-rdf *args`` in-process and returns click's Result."""
    return invoke


def run_module(*args: object, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m hkg_rdf *args`` in a subprocess."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "hkg_rdf", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO, **kwargs,
    )


@pytest.fixture(scope="session")
def module_cli():
    """``module_cli(*args)`` runs ``python -m hkg_rdf *args`` in a subprocess."""
    return run_module


def must(result: Result) -> Result:
    """Assert a CLI run succeeded, showing its output otherwise."""
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    return result


# ---------------------------------------------------------------- stores


def store_triples(store_dir: Path) -> frozenset[str]:
    """Every quad of a store, as N-Quads text, read through the store's read-only opener."""
    from hkg_rdf.store import open_read_only

    store = open_read_only(store_dir)
    try:
        return frozenset(str(q) for q in store)
    finally:
        del store


def versions(store: Path) -> list[str]:
    """The version directories of a store (a checkpoint in the making is "v<digits>.tmp" first)."""
    return sorted(p.name for p in store.iterdir() if p.is_dir() and re.fullmatch(r"v\d+", p.name))


def live(store: Path) -> str:
    """The name of the version ``current`` links to."""
    return os.readlink(store / "current")


def writes_limited_to(size: int):
    """A ``preexec_fn``: in the child, writing a file past ``size`` bytes fails with EFBIG (a
    full disk, as test_store's full-disk test explains)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the error, not the signal that would kill the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.fixture(scope="session")
def read_store():
    """``read_store(dir)`` -> frozenset of the store's quads as N-Quads strings."""
    return store_triples


def load_store(store_dir: Path, *sources: Path) -> Path:
    must(invoke("load", *sources, "--store", store_dir))
    return store_dir


@pytest.fixture
def loaded_store(tmp_path: Path, example_release: Path) -> Path:
    """A fresh store in tmp_path loaded with the example release (tests may load into it)."""
    return load_store(tmp_path / "store", example_release)


@pytest.fixture(scope="session")
def example_store(tmp_path_factory: pytest.TempPathFactory, example_release: Path) -> Path:
    """A store loaded once with the example release, for tests that only read it."""
    return load_store(tmp_path_factory.mktemp("example-store") / "store", example_release)


# ---------------------------------------------------------------- release contents


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, value) -> None:
    """Write a release file as HuggingKG_constructor.py does: ``json.dump(records, f, indent=4)``."""
    path.write_text(json.dumps(value, indent=4), encoding="utf-8")


@pytest.fixture(scope="session")
def release_counts(example_release: Path) -> dict[str, int]:
    """Records per release file of the example, keyed by file stem ("models", "user_like_model", ...)."""
    return {p.stem: len(read_json(p)) for p in example_release.glob("*.json")}


OX_FORMATS = {
    ".nt": ox.RdfFormat.N_TRIPLES, ".ttl": ox.RdfFormat.TURTLE, ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG, ".jsonld": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML,
}


def rdf_suffix(path: Path) -> str:
    """".ttl" for x.ttl and x.ttl.gz."""
    suffixes = path.suffixes
    return suffixes[-2] if suffixes[-1] == ".gz" else suffixes[-1]


def parse_rdf(path: Path) -> frozenset[str]:
    """The triples of an RDF file (any format, .gz too) as N-Triples strings, via pyoxigraph."""
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return frozenset(str(q.triple) for q in ox.parse(data, OX_FORMATS[rdf_suffix(path)]))


def model_iri(model_id: str, base: str = BASE) -> str:
    return f"{base}model/{model_id}"
