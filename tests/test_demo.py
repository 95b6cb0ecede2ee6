"""The README's first command: examples/demo.sh runs the main job end to end on the example."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES


def test_demo_script_converts_validates_loads_queries_and_dumps(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(EXAMPLES / "demo.sh"), str(tmp_path / "demo")], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Conforms: yes" in result.stdout
    assert result.stdout.count("rows)") == len(list((EXAMPLES / "queries").glob("*.rq")))
    for name in ("huggingkg.ttl", "convert-report.json", "shacl-report.ttl", "huggingkg.nt.gz", "store/current"):
        assert (tmp_path / "demo" / name).exists(), name
