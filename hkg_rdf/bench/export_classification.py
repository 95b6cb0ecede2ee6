"""Task classification: model and dataset nodes, their task labels, lineage/trained-on edges.

Written under OUT/::

    node_ids.tsv    index<TAB>name<TAB>type<TAB>createdAt<TAB>split (train/valid/test, or - if unlabelled)
    label_ids.tsv   index<TAB>task
    labels.tsv      node<TAB>label label ...   (labelled nodes)
    edges.tsv       source<TAB>target<TAB>relation
    text.tsv        node<TAB>name and description on one line, first 4,000 characters (TF-IDF / embeddings)
    data.npz        edge_index [2,E] int64, edge_type [E], y [N,L] uint8, node_type [N],
                    train_mask valid_mask test_mask [N] bool (CogDL-like plain arrays)
    data.pt         the same as a torch_geometric-style dict, only when torch is installed
    stats.json
"""

from __future__ import annotations

from pathlib import Path

from ..export import hub_datetime  # one lexical form, whatever store answered
from .common import Namer, clean, select, write_json, write_lines, write_npz
from .splits import ordered_split

SPLITS = ("train", "valid", "test")
TEXT_CHARS = 4000  # of name + description, enough for TF-IDF or a BERT-sized encoder


def export(store, out: Path, namer: Namer, seed: int, ratios: tuple[float, float, float], split: str) -> dict:
    import numpy as np

    info: dict[str, tuple[str, str, str]] = {}
    for node, cls, created, name, description in select(store, "nodes"):
        key = namer.entity(node)
        if key not in info:  # first in sorted order if a value repeats
            info[key] = (Namer.relation(cls).lower(), hub_datetime(created) if created else "", clean(" ".join(x for x in (name, description) if x))[:TEXT_CHARS])
    nodes = sorted(info)
    nid = {n: i for i, n in enumerate(nodes)}
    node_labels: dict[int, set[str]] = {}
    for node, task in select(store, "labels"):
        key = namer.entity(node)
        if key in nid:
            node_labels.setdefault(nid[key], set()).add(namer.entity(task))
    tasks = sorted({t for labels in node_labels.values() for t in labels})
    tid = {t: i for i, t in enumerate(tasks)}
    edges = sorted({(nid[namer.entity(h)], nid[namer.entity(t)], Namer.relation(r)) for h, r, t in select(store, "graph")
                    if namer.entity(h) in nid and namer.entity(t) in nid})
    relations = sorted({r for _, _, r in edges})

    labelled = sorted(node_labels)
    if split == "temporal":
        order = sorted(labelled, key=lambda n: (info[nodes[n]][1], nodes[n]))
    else:
        rng = np.random.default_rng(seed)
        order = [labelled[j] for j in rng.permutation(len(labelled))]
    parts = ordered_split(order, ratios)
    split_of = {n: name for name, part in zip(SPLITS, parts) for n in part}

    write_lines(out / "node_ids.tsv", (f"{i}\t{n}\t{info[n][0]}\t{info[n][1]}\t{split_of.get(i, '-')}" for i, n in enumerate(nodes)))
    write_lines(out / "label_ids.tsv", (f"{i}\t{t}" for i, t in enumerate(tasks)))
    write_lines(out / "labels.tsv", (f"{n}\t{' '.join(str(tid[t]) for t in sorted(node_labels[n], key=tid.get))}" for n in labelled))
    write_lines(out / "edges.tsv", (f"{h}\t{t}\t{r}" for h, t, r in edges))
    write_lines(out / "text.tsv", (f"{i}\t{info[n][2]}" for i, n in enumerate(nodes)))

    y = np.zeros((len(nodes), len(tasks)), dtype=np.uint8)
    for n, labels in node_labels.items():
        y[n, [tid[t] for t in labels]] = 1
    masks = {f"{name}_mask": np.isin(np.arange(len(nodes)), np.array(part, dtype=np.int64)) for name, part in zip(SPLITS, parts)}
    types = sorted({v[0] for v in info.values()})
    arrays = {
        "edge_index": np.array([[h for h, _, _ in edges], [t for _, t, _ in edges]], dtype=np.int64).reshape(2, len(edges)),
        "edge_type": np.array([relations.index(r) for _, _, r in edges], dtype=np.int64),
        "y": y, "node_type": np.array([types.index(info[n][0]) for n in nodes], dtype=np.int64), **masks,
    }
    write_npz(out / "data.npz", arrays)
    pyg = _write_torch(out / "data.pt", arrays)

    stats = {
        "task": "classification", "seed": seed, "ratios": list(ratios), "split": split,
        "nodes": len(nodes), "nodes_by_type": {t: sum(1 for v in info.values() if v[0] == t) for t in types},
        "labelled_nodes": len(labelled), "labels": len(tasks), "edges": len(edges),
        "edges_by_relation": {r: sum(1 for e in edges if e[2] == r) for r in relations},
        "labels_per_node": float(y.sum() / len(labelled)) if labelled else 0.0,
        "train": len(parts[0]), "valid": len(parts[1]), "test": len(parts[2]), "torch_export": pyg,
    }
    write_json(out / "stats.json", stats)
    return stats


def _write_torch(path: Path, arrays: dict) -> bool:
    """The PyTorch-Geometric-style export; skipped (returns False) when torch is missing."""
    try:
        import torch
    except ImportError:
        return False
    torch.save({key: torch.from_numpy(value) for key, value in sorted(arrays.items())}, path)
    return True
