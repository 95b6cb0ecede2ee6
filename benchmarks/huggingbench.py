"""Run HuggingBench end to end on a store: export the three collections, run every CPU
baseline, score it, write the report, and print the wall time and peak memory of each step,
and its ratio to a reference measured in the same run (a full scan of the store by SPARQL,
COUNT of every triple), so figures from a busy machine stay comparable.

    python benchmarks/huggingbench.py --store S -o OUT [--seed 0]

OUT/<task>/ holds each collection, OUT/<task>/pred-<method>.tsv the predictions,
OUT/<task>/scores/<method>.json the metrics, OUT/report.md and OUT/report.png the report.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from hkg_rdf.bench.baselines import METHODS as BASELINES


def timed(*args: object) -> tuple[float, float, float]:
    """Run ``hkg-rdf *args``; its wall time (s), CPU time (s, user + system: what a shared,
    busy machine cannot inflate) and peak resident memory (MB)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "hkg_rdf", *map(str, args)], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def step(label: str, reference: float, *args: object) -> float:
    seconds, cpu, peak = timed(*args)
    print(f"{label:<36}{seconds:8.1f} s wall {cpu:8.1f} s CPU {peak:7.0f} MB {seconds / reference:7.2f} x reference", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("-o", "--out", required=True, type=Path)
    parser.add_argument("--seed", default=0, type=int)
    parser.add_argument("--defaults", action="store_true", help="Only each task's default baseline (the first).")
    args = parser.parse_args()
    reference, cpu, _ = timed("query", "--store", args.store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    print(f"{'reference: COUNT of every triple':<36}{reference:8.1f} s wall {cpu:8.1f} s CPU", flush=True)
    total = 0.0
    for task, methods in BASELINES.items():
        methods = methods[:1] if args.defaults else methods
        split = args.out / task
        total += step(f"export {task}", reference, "bench", "export", task, "--store", args.store, "-o", split, "--seed", args.seed)
        for method in methods:
            predictions = split / f"pred-{method}.tsv"
            total += step(f"baseline {task}/{method}", reference, "bench", "baseline", task, "--split", split, "--method", method, "-o", predictions, "--seed", args.seed)
            total += step(f"eval {task}/{method}", reference, "bench", "eval", task, "--split", split, "--predictions", predictions, "-o", split / "scores" / f"{method}.json")
    total += step("report", reference, "bench", "report", args.out, "-o", args.out / "report.md")
    print(f"{'total':<40}{total:8.1f} s")


if __name__ == "__main__":
    main()
