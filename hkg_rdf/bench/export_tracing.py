"""Model tracing: lineage triples (derived model, kind, base model) in the LibKGE layout.

Written under OUT/::

    train.txt valid.txt test.txt      head<TAB>relation<TAB>tail, entity names (segment:hub-id)
    train.del valid.del test.del      the same as integer ids (LibKGE's preprocessed files)
    entity_ids.del relation_ids.del   index<TAB>name
    entity_tags.tsv                   entity<TAB>tags (model tags, libraries, pipeline tag)
    dataset.yaml                      LibKGE dataset config
    stats.json

Every entity of valid/test also occurs in train; ``--with-kg`` appends the rest of the graph
(entity-entity triples other than lineage and likes) to train.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .common import Namer, clean, select, write_json, write_lines
from .splits import covered_split


def export(store, out: Path, namer: Namer, seed: int, valid_ratio: float, test_ratio: float, with_kg: bool) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    lineage = sorted({(namer.entity(h), Namer.relation(r), namer.entity(t)) for h, r, t in select(store, "lineage")})
    lineage_set = set(lineage)
    extra: list[tuple[str, str, str]] = []
    if with_kg:
        extra = sorted({x for x in ((namer.entity(h), Namer.relation(r), namer.entity(t)) for h, r, t in select(store, "kg")) if x not in lineage_set})
    extra_degree = Counter(e for h, _, t in extra for e in (h, t))
    n = len(lineage)
    train, valid, test = covered_split(lineage, int(n * valid_ratio + 0.5), int(n * test_ratio + 0.5), rng, extra_degree)
    train_all = train + extra

    entities = sorted({e for h, _, t in [*train_all, *valid, *test] for e in (h, t)})
    relations = sorted({r for _, r, _ in [*train_all, *valid, *test]})
    eid, rid = {e: i for i, e in enumerate(entities)}, {r: i for i, r in enumerate(relations)}
    write_lines(out / "entity_ids.del", (f"{i}\t{e}" for i, e in enumerate(entities)))
    write_lines(out / "relation_ids.del", (f"{i}\t{r}" for i, r in enumerate(relations)))
    for name, triples in (("train", train_all), ("valid", valid), ("test", test)):
        write_lines(out / f"{name}.txt", (f"{h}\t{r}\t{t}" for h, r, t in triples))
        write_lines(out / f"{name}.del", (f"{eid[h]}\t{rid[r]}\t{eid[t]}" for h, r, t in triples))
    tags: dict[str, set[str]] = {}
    for model, tag in select(store, "model_tags"):
        key = namer.entity(model)
        if key in eid:
            tags.setdefault(key, set()).add(clean(tag).replace(" ", "_"))
    write_lines(out / "entity_tags.tsv", (f"{eid[e]}\t{' '.join(sorted(tags[e]))}" for e in entities if e in tags))
    write_lines(out / "dataset.yaml", [
        "dataset:", "  name: huggingbench-tracing", f"  num_entities: {len(entities)}", f"  num_relations: {len(relations)}",
        "  files.entity_ids.filename: entity_ids.del", "  files.entity_ids.type: map",
        "  files.relation_ids.filename: relation_ids.del", "  files.relation_ids.type: map",
        *(line for name, triples in (("train", train_all), ("valid", valid), ("test", test)) for line in (
            f"  files.{name}.filename: {name}.del", f"  files.{name}.type: triples", f"  files.{name}.size: {len(triples)}")),
    ])
    stats = {
        "task": "tracing", "seed": seed, "valid_ratio": valid_ratio, "test_ratio": test_ratio, "with_kg": with_kg,
        "lineage_triples": n, "lineage_by_kind": dict(sorted(Counter(r for _, r, _ in lineage).items())),
        "train": len(train), "train_kg_extra": len(extra), "valid": len(valid), "test": len(test),
        "entities": len(entities), "relations": len(relations),
    }
    write_json(out / "stats.json", stats)
    return stats
