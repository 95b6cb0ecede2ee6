"""Run HuggingBench end to end on a store: export the three collections, run every CPU
baseline, score it, write the report, and print the wall time of each step.

    python benchmarks/huggingbench.py --store S -o OUT [--seed 0]

OUT/<task>/ holds each collection, OUT/<task>/pred-<method>.tsv the predictions,
OUT/<task>/scores/<method>.json the metrics, OUT/report.md and OUT/report.png the report.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BASELINES = {"recommendation": ("popularity", "itemknn", "gfcf"), "classification": ("propagation", "tfidf"), "tracing": ("names", "transe")}


def step(label: str, *args: object) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hkg_rdf", *map(str, args)], check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    print(f"{label:<40}{seconds:8.1f} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("-o", "--out", required=True, type=Path)
    parser.add_argument("--seed", default=0, type=int)
    args = parser.parse_args()
    total = 0.0
    for task, methods in BASELINES.items():
        split = args.out / task
        total += step(f"export {task}", "bench", "export", task, "--store", args.store, "-o", split, "--seed", args.seed)
        for method in methods:
            predictions = split / f"pred-{method}.tsv"
            total += step(f"baseline {task}/{method}", "bench", "baseline", task, "--split", split, "--method", method, "-o", predictions, "--seed", args.seed)
            total += step(f"eval {task}/{method}", "bench", "eval", task, "--split", split, "--predictions", predictions, "-o", split / "scores" / f"{method}.json")
    total += step("report", "bench", "report", args.out, "-o", args.out / "report.md")
    print(f"{'total':<40}{total:8.1f} s")


if __name__ == "__main__":
    main()
