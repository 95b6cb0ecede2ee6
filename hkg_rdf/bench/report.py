"""Collection statistics and baseline scores as Markdown, and a PNG chart of the scores.

Reads ROOT/<task>/stats.json (written by ``bench export``) and ROOT/<task>/scores/*.json
(written by ``bench eval -o``; the file stem names the method).
"""

from __future__ import annotations

import json
from pathlib import Path

from .common import TASKS

HEADLINE = {
    "recommendation": ("recall@20", "ndcg@20", "recall@40", "ndcg@40"),
    "classification": ("micro_f1", "macro_f1"),
    "tracing": ("mrr", "hits@1", "hits@3", "hits@10"),
}
STATS = {
    "recommendation": ("users", "items", "interactions", "density", "train", "valid", "test", "follows"),
    "classification": ("nodes", "labelled_nodes", "labels", "edges", "labels_per_node", "train", "valid", "test"),
    "tracing": ("lineage_triples", "lineage_by_kind", "entities", "train", "train_kg_extra", "valid", "test"),
}


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if value < 0.01 else f"{value:.4f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def collect(root: Path) -> dict:
    found = {}
    for task in TASKS:
        stats_file = root / task / "stats.json"
        if not stats_file.exists():
            continue
        scores = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted((root / task / "scores").glob("*.json"))}
        found[task] = {"stats": json.loads(stats_file.read_text(encoding="utf-8")), "scores": scores}
    return found


def markdown(found: dict) -> str:
    lines = ["# HuggingBench report", ""]
    for task, data in found.items():
        lines += [f"## {task}", "", "| statistic | value |", "|---|---|"]
        lines += [f"| {key} | {_fmt(data['stats'][key])} |" for key in STATS[task] if key in data["stats"]]
        if task == "recommendation" and "kg_triples" in data["stats"]:
            lines.append(f"| kg triples | {_fmt(data['stats']['kg_triples'])} |")
        lines.append("")
        if data["scores"]:
            columns = HEADLINE[task]
            lines += ["| method | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
            for method, scores in data["scores"].items():
                lines.append(f"| {method} | " + " | ".join(_fmt(float(scores.get(c, 0.0))) for c in columns) + " |")
            lines.append("")
    return "\n".join(lines) + "\n"


def chart(found: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = [t for t in found if found[t]["scores"]] or list(found)
    fig, axes = plt.subplots(1, max(len(tasks), 1), figsize=(4.5 * max(len(tasks), 1), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        columns = HEADLINE[task]
        methods = list(found[task]["scores"])
        width = 0.8 / max(len(methods), 1)
        for n, method in enumerate(methods):
            values = [float(found[task]["scores"][method].get(c, 0.0)) for c in columns]
            ax.bar([i + n * width for i in range(len(columns))], values, width, label=method)
        ax.set_xticks([i + width * (len(methods) - 1) / 2 for i in range(len(columns))], columns, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(task)
        if methods:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def report(root: Path, output: Path) -> dict:
    found = collect(root)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(markdown(found), encoding="utf-8")
    chart(found, output.with_suffix(".png"))
    return found
