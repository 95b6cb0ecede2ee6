"""Model tracing: lineage triples in the release direction, as HuggingBench and LibKGE read them.

A triple is ``base_model relation derived_model`` with the release's relation file names
(``model_finetune_model``, ``model_adapter_model``, ``model_merge_model``,
``model_quantized_model``), so tracing a model's base is **head** prediction, what HuggingBench's
LibKGE configs select on (``mean_reciprocal_rank_filtered_head``). Written under OUT/ (copy or
link it as LibKGE's ``data/huggingface``)::

    training.txt validation.txt test.txt  head<TAB>relation<TAB>tail, names (HuggingBench's raw files)
    train.del valid.del test.del          the same as integer ids (LibKGE's preprocessed files)
    entity_ids.del relation_ids.del       index<TAB>name (LibKGE maps)
    dataset.yaml                          LibKGE dataset config (name: huggingface)
    entity_tags.tsv                       entity<TAB>tags (model tags, libraries, pipeline tag)
    stats.json

The paper's split holds out about 0.9 % of the lineage triples for validation and 0.9 % for
test (333k / 3k / 3k). A triple is held out only while both its models keep another triple in
training, so every valid/test entity occurs in training; when that rule cannot reach the asked
share, the stats say so (``valid_wanted``/``test_wanted``) and ``bench export`` warns on stderr.
``--with-kg`` appends the rest of the graph (entity-entity triples but lineage and likes, also
in the release direction and names) to training.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..vocab import vocabulary
from .common import Namer, clean, kg_queries, prefetched, select, write_json, write_lines
from .splits import covered_split

SPLIT_FILES = (("training.txt", "train.del"), ("validation.txt", "valid.del"), ("test.txt", "test.del"))
DATASET_NAME = "huggingface"  # HuggingBench's LibKGE configs say dataset.name: huggingface


def _release_triples(rows, namer: Namer) -> list[tuple[str, str, str]]:
    """(head, relation file, tail) as the release writes them, from (head, property, tail) IRIs."""
    triples = (namer.release(h, r, t) for h, r, t in rows)
    return sorted({x for x in triples if x is not None})


def export(store, out: Path, namer: Namer, seed: int, valid_ratio: float, test_ratio: float, with_kg: bool) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    lineage = _release_triples(select(store, "lineage"), namer)
    lineage_set = set(lineage)
    extra = [x for x in _release_triples((x for rows in prefetched(store, kg_queries()) for x in rows), namer) if x not in lineage_set] if with_kg else []
    extra_degree = Counter(e for h, _, t in extra for e in (h, t))
    n = len(lineage)
    n_valid, n_test = (max(int(n * ratio + 0.5), 1 if ratio else 0) for ratio in (valid_ratio, test_ratio))  # LibKGE cannot read an empty split
    train, valid, test = covered_split(lineage, n_valid, n_test, rng, extra_degree)
    parts = (train + extra, valid, test)

    entities = sorted({e for part in parts for h, _, t in part for e in (h, t)})
    relations = sorted({r for part in parts for _, r, _ in part})
    eid, rid = {e: i for i, e in enumerate(entities)}, {r: i for i, r in enumerate(relations)}
    write_lines(out / "entity_ids.del", (f"{i}\t{e}" for i, e in enumerate(entities)))
    write_lines(out / "relation_ids.del", (f"{i}\t{r}" for i, r in enumerate(relations)))
    for (names, ids), triples in zip(SPLIT_FILES, parts):
        write_lines(out / names, (f"{h}\t{r}\t{t}" for h, r, t in triples))
        write_lines(out / ids, (f"{eid[h]}\t{rid[r]}\t{eid[t]}" for h, r, t in triples))
    tags: dict[str, set[str]] = {}
    models = vocabulary().relation("model_finetune_model").subject.segment + ":"
    for model, tag in select(store, "model_tags" if with_kg else "lineage_tags"):
        key = namer.entity(model)
        if key in eid and key.startswith(models):  # model_tags.rq has no type pattern
            tags.setdefault(key, set()).add(clean(tag).replace(" ", "_"))
    write_lines(out / "entity_tags.tsv", (f"{eid[e]}\t{' '.join(sorted(tags[e]))}" for e in entities if e in tags))
    write_lines(out / "dataset.yaml", [
        "dataset:", f"  name: {DATASET_NAME}", f"  num_entities: {len(entities)}", f"  num_relations: {len(relations)}",
        "  files.entity_ids.filename: entity_ids.del", "  files.entity_ids.type: map",
        "  files.relation_ids.filename: relation_ids.del", "  files.relation_ids.type: map",
        *(line for (_, ids), triples in zip(SPLIT_FILES, parts) for line in (
            f"  files.{ids[:-4]}.filename: {ids}", f"  files.{ids[:-4]}.type: triples", f"  files.{ids[:-4]}.size: {len(triples)}")),
    ])
    stats = {
        "task": "tracing", "seed": seed, "valid_ratio": valid_ratio, "test_ratio": test_ratio, "with_kg": with_kg,
        "direction": "base -> derived (predict the head)",
        "lineage_triples": n, "lineage_by_kind": dict(sorted(Counter(r for _, r, _ in lineage).items())),
        "train": len(train), "train_kg_extra": len(extra), "valid": len(valid), "test": len(test),
        "valid_wanted": n_valid, "test_wanted": n_test,
        "entities": len(entities), "relations": len(relations),
    }
    write_json(out / "stats.json", stats)
    return stats


def shortfall(stats: dict) -> str | None:
    """The warning for a split the coverage rule could not fill, or None."""
    if stats["valid"] >= stats["valid_wanted"] and stats["test"] >= stats["test_wanted"]:
        return None
    n = stats["lineage_triples"]
    return (f"warning: asked for {stats['valid_wanted']} valid + {stats['test_wanted']} test of {n} lineage triples "
            f"({stats['valid_ratio']:.2%} + {stats['test_ratio']:.2%}); only {stats['valid']} + {stats['test']} "
            f"({stats['valid'] / max(n, 1):.2%} + {stats['test'] / max(n, 1):.2%}) can be held out with both models kept in training")
