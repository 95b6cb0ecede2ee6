#!/usr/bin/env python3
"""What the standard terms cost: triples, bytes and load time with and without them.

    python benchmarks/standard_terms.py --scale 0.02 [--rounds 2] [--work DIR]

Generates a synthetic release (benchmarks/generate.py), then, alternating so that both see the
same machine load, converts it to N-Triples and loads it into a fresh store with the standard
terms (the default) and with ``--no-standard-terms`` (the reference). Prints per run the
triples, bytes, seconds, triples per second and peak memory of the child, and the ratios.
Run by hand; no test times anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str) -> tuple[float, int]:
    """Seconds and peak RSS in MB (GNU time's %M; the conversion's own process is a child of it
    only for ``convert``: ``load`` converts in a fork-server process, not counted) of one command."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "hkg_rdf", *args], check=True, capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    seconds = time.perf_counter() - start
    return seconds, int(done.stderr.strip().splitlines()[-1]) // 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None, help="working directory (default: a temporary one)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="hkg-standard-terms-"))
    release = work / "release" / "HuggingKG_V20241215000000"
    if not release.exists():
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), "--scale", str(args.scale), "--seed", "1", "-o", str(work / "release")], check=True, capture_output=True)
    modes = {"standard terms": [], "hkg: only (reference)": ["--no-standard-terms"]}
    results: dict[str, dict[str, list[float]]] = {m: {"convert": [], "load": [], "peak": []} for m in modes}
    sizes: dict[str, tuple[int, int]] = {}
    for _ in range(args.rounds):
        for mode, flags in modes.items():
            out = work / f"{len(flags)}.nt"
            seconds, peak = _run("convert", *flags, str(release), "-o", str(out))
            results[mode]["convert"].append(seconds)
            results[mode]["peak"].append(peak)
            with open(out, "rb") as data:
                sizes[mode] = (sum(1 for _ in data), out.stat().st_size)
            seconds, _ = _run("load", *flags, str(release), "--store", str(work / f"store{len(flags)}"), "--replace")
            results[mode]["load"].append(seconds)
    print(f"scale {args.scale}, {args.rounds} rounds, best of each (machine load varies):")
    for mode in modes:
        triples, size = sizes[mode]
        convert, load = min(results[mode]["convert"]), min(results[mode]["load"])
        print(f"  {mode:24} {triples:>12,} triples {size / 1e6:>9.1f} MB   convert {convert:7.1f} s ({triples / convert:>9,.0f} t/s)   load {load:7.1f} s ({triples / load:>9,.0f} t/s)   convert peak {max(results[mode]['peak'])} MB")
    (with_t, with_b), (ref_t, ref_b) = sizes["standard terms"], sizes["hkg: only (reference)"]
    ratio = lambda step: min(results["standard terms"][step]) / min(results["hkg: only (reference)"][step])
    print(f"  ratio standard/reference: triples {with_t / ref_t:.2f}, bytes {with_b / ref_b:.2f}, convert time {ratio('convert'):.2f}, load time {ratio('load'):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
