"""benchmarks/bench.py, run as a user runs it: a run stopped part-way keeps what it measured
(``--table`` prints it) and ``--stage`` goes on from it. Its figures are not checked: nothing
here asserts a time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO

BENCH = [sys.executable, str(REPO / "benchmarks" / "bench.py"), "--scale", "0.002", "--skip-reference"]


def reached(partial: Path, stage: str) -> bool:
    try:
        return json.loads(partial.read_text()).get("stopped_before") == stage
    except FileNotFoundError:
        return False


def stop_before(work: Path, stage: str, timeout: float = 120) -> None:
    """Start a whole run and kill it, with its children, once it is about to start ``stage``."""
    process = subprocess.Popen([*BENCH, "--work", work], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not reached(work / "results-0.002.partial.json", stage):
            assert process.poll() is None, f"bench.py ended before {stage}: {process.stderr.read().decode()}"
            assert time.monotonic() < deadline, f"bench.py did not reach {stage} in {timeout} s"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_a_stopped_run_keeps_its_figures_and_stage_goes_on_from_them(tmp_path):
    stop_before(tmp_path, "load-validate")
    assert not (tmp_path / "results-0.002.json").exists()

    table = subprocess.run([*BENCH, "--work", tmp_path, "--table"], capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    stages = [line.split("|")[1].strip() for line in table.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert stages == ["stage", "convert (release → .nt)", "load (convert + bulk load)"]
    assert "A stopped run: it ended in or before `load-validate`" in table.stdout

    rest = subprocess.run([*BENCH, "--work", tmp_path, "--stage", "load-validate"], capture_output=True, text=True, timeout=300)
    assert rest.returncode == 0, rest.stderr
    assert not (tmp_path / "results-0.002.partial.json").exists()
    runs = json.loads((tmp_path / "results-0.002.json").read_text())["runs"]
    assert {name: run["extra"].get("earlier", False) for name, run in runs.items()} == {
        "convert": True, "load": True, "load-validate": False}
    assert all(run["returncode"] == 0 for run in runs.values())
    assert "From an earlier run (not rerun with --stage): convert" in rest.stdout


def test_table_without_results_says_so(tmp_path):
    table = subprocess.run([*BENCH, "--work", tmp_path, "--table"], capture_output=True, text=True, timeout=60)
    assert table.returncode == 1
    assert f"no results for scale 0.002 in {tmp_path}" in table.stderr
