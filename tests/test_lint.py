"""No dead code the compiler can see: pyflakes finds no unused import or variable, no undefined
name, no f-string without a placeholder, in the package, the tests, the benchmarks and the tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pyflakes_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "pyflakes", "hkg_rdf", "tests", "benchmarks", "tools"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.stdout + result.stderr == "" and result.returncode == 0, result.stdout + result.stderr
