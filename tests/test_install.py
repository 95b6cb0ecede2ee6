"""The package as pip builds and installs it, away from the source tree.

Every other test imports the editable checkout, which finds any module whether or not the
package metadata lists it; a hand-kept package list once left ``hkg_rdf.export`` and
``hkg_rdf.search`` out of the wheel, so ``load`` and ``export`` failed when installed with
``pip install .``. Here pip builds the wheel, installs it into a virtual environment (the
dependencies come from this one) and runs the main job from there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import EXAMPLES

ROOT = Path(__file__).resolve().parent.parent
DATA = ("ontology/hkg.ttl", "ontology/mapping.ttl", "ontology/tasks.ttl", "shapes/hkg-shapes.ttl", "docs/ontology.html")


def _run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{cmd}: {result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel pip built from the checkout, the bin/ of a venv it is installed into)."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"  # a copy: setuptools would reuse a build/ left in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis"))
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "dist", source])
    wheel = next((work / "dist").glob("hkg_rdf-*.whl"))
    _run([sys.executable, "-m", "venv", "--system-site-packages", work / "venv"])
    _run([work / "venv" / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", wheel])
    return wheel, work / "venv" / "bin"


def test_wheel_holds_every_file_of_the_package_and_its_data(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    package = {p.relative_to(ROOT).as_posix() for p in (ROOT / "hkg_rdf").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert package - names == set()
    data = {n.split("/share/hkg-rdf/", 1)[1] for n in names if "/share/hkg-rdf/" in n}
    assert set(DATA) <= data


def test_every_module_imports_from_the_wheel(installed: tuple[Path, Path], tmp_path: Path) -> None:
    """Checked module by module: an editable install of the checkout next to the venv's base
    would otherwise lend it any subpackage the wheel lacks."""
    _, bin_dir = installed
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in (ROOT / "hkg_rdf").rglob("*.py")
                     if p.name != "__main__.py")  # (which would run the command)
    script = "import importlib, json, sys; print(json.dumps({n: importlib.import_module(n).__file__ for n in json.loads(sys.argv[1])}))"
    found = json.loads(_run([bin_dir / "python", "-c", script, json.dumps(modules)], cwd=tmp_path, env=_env(PATH=_venv_path(bin_dir))).stdout)
    assert {n: f for n, f in found.items() if not Path(f).is_relative_to(bin_dir.parent)} == {}


def test_installed_wheel_runs_the_demo_and_the_export(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _, bin_dir = installed
    env = _env(PATH=_venv_path(bin_dir))
    found = _code_and_shapes(bin_dir / "python", env, tmp_path)
    assert all(Path(p).is_relative_to(bin_dir.parent) for p in found), found  # the wheel's code and data files, not the checkout's
    demo = _run(["bash", EXAMPLES / "demo.sh", tmp_path / "demo"], cwd=tmp_path, env=env)
    assert "Conforms: yes" in demo.stdout
    _run([bin_dir / "hkg-rdf", "export", "--store", tmp_path / "demo" / "store", "--to", "huggingkg", "-o", tmp_path / "export"], cwd=tmp_path, env=env)
    assert (tmp_path / "export" / "models.json").stat().st_size > 0


def test_a_prefix_install_finds_its_own_data_files(installed: tuple[Path, Path], tmp_path: Path) -> None:
    """``pip install --prefix`` (and ``--user``) puts the data files under that prefix, not under
    sys.prefix: the ontology and shapes are found through the distribution's file list."""
    wheel, _ = installed
    prefix = tmp_path / "prefix"
    _run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", "--prefix", prefix, wheel])
    site = sysconfig.get_path("purelib", "posix_prefix", vars={"base": str(prefix), "platbase": str(prefix)})
    env = _env(PYTHONPATH=site)
    found = _code_and_shapes(sys.executable, env, tmp_path)
    assert all(Path(p).is_relative_to(prefix) for p in found), found
    _run([sys.executable, "-m", "hkg_rdf", "convert", EXAMPLES / "HuggingKG_V20241215000000", "-o", tmp_path / "out.nt"], cwd=tmp_path, env=env)
    assert (tmp_path / "out.nt").stat().st_size > 0


def _code_and_shapes(python: Path | str, env: dict[str, str], cwd: Path) -> list[str]:
    """Where ``python`` imports hkg_rdf from, and where that finds the shapes file."""
    script = "import hkg_rdf; from hkg_rdf.vocab import data_path; print(hkg_rdf.__file__); print(data_path('shapes', 'hkg-shapes.ttl'))"
    return _run([python, "-c", script], cwd=cwd, env=env).stdout.split()


def _venv_path(bin_dir: Path) -> str:
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def _env(**settings: str) -> dict[str, str]:
    """This environment without a PYTHONPATH pointing at a checkout, with ``settings`` on top."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | settings
