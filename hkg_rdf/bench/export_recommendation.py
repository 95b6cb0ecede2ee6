"""Resource recommendation: user-item likes split per user, in the layouts SSLRec reads.

Written under OUT/::

    user_ids.tsv item_ids.tsv          index<TAB>name (name = segment:hub-id)
    train.txt valid.txt test.txt       "user item item ..." lines (KGAT/KGCL layout)
    trn_mat.pkl val_mat.pkl tst_mat.pkl  scipy COO users x items (SSLRec general_cf)
    trust_mat.pkl                      scipy COO users x users, follows (SSLRec social)
    entity_ids.tsv relation_ids.tsv    KG id maps; items keep their item index as entity id
    kg_1hop/ kg_2hop/ kg_homo/ kg_publish/   kg_final.txt "h r t" + train/test.txt (SSLRec kg)
    stats.json
"""

from __future__ import annotations

import pickle
from pathlib import Path

from ..vocab import vocabulary
from .common import Namer, select, write_json, write_lines
from .splits import kcore, per_user_split

KG_VARIANTS = ("kg_1hop", "kg_2hop", "kg_homo", "kg_publish")


def _coo(pairs, shape):
    import numpy as np
    from scipy.sparse import coo_matrix

    rows = np.array([p[0] for p in pairs], dtype=np.int64)
    cols = np.array([p[1] for p in pairs], dtype=np.int64)
    return coo_matrix((np.ones(len(pairs), dtype=np.float32), (rows, cols)), shape=shape)


def _lines(pairs) -> list[str]:
    by_user: dict[int, list[int]] = {}
    for u, i in pairs:
        by_user.setdefault(u, []).append(i)
    return [" ".join(map(str, [u, *sorted(items)])) for u, items in sorted(by_user.items())]


def export(store, out: Path, namer: Namer, seed: int, ratios: tuple[float, float, float], k_core: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    likes = sorted({(namer.entity(u), namer.entity(i)) for u, i in select(store, "likes")})
    likes = kcore(likes, k_core)
    users = sorted({u for u, _ in likes})
    items = sorted({i for _, i in likes})
    uid, iid = {u: n for n, u in enumerate(users)}, {i: n for n, i in enumerate(items)}
    train, valid, test = per_user_split([(uid[u], iid[i]) for u, i in likes], ratios, rng)

    write_lines(out / "user_ids.tsv", (f"{n}\t{u}" for n, u in enumerate(users)))
    write_lines(out / "item_ids.tsv", (f"{n}\t{i}" for n, i in enumerate(items)))
    split_lines = {"train.txt": _lines(train), "valid.txt": _lines(valid), "test.txt": _lines(test)}
    for name, lines in split_lines.items():
        write_lines(out / name, lines)
    shape = (len(users), len(items))
    for name, pairs in (("trn_mat.pkl", train), ("val_mat.pkl", valid), ("tst_mat.pkl", test)):
        (out / name).write_bytes(pickle.dumps(_coo(pairs, shape), protocol=4))

    follows = sorted({(uid[a], uid[b]) for a, b in ((namer.entity(x), namer.entity(y)) for x, y in select(store, "follows")) if a in uid and b in uid and a != b})
    (out / "trust_mat.pkl").write_bytes(pickle.dumps(_coo(follows, (len(users), len(users))), protocol=4))

    # knowledge graph: every entity-entity triple but likes; variants cut by the items they touch
    item_set = set(items)
    publishes = Namer.relation(vocabulary().relation("user_publish_model").prop)
    kg = sorted({(namer.entity(h), Namer.relation(r), namer.entity(t)) for h, r, t in select(store, "kg")})
    one_hop = [x for x in kg if x[0] in item_set or x[2] in item_set]
    reached = {x[0] for x in one_hop} | {x[2] for x in one_hop}
    variants = {
        "kg_1hop": one_hop,
        "kg_2hop": [x for x in kg if x[0] in reached or x[2] in reached],
        "kg_homo": [x for x in kg if x[0] in item_set and x[2] in item_set],
        "kg_publish": [x for x in one_hop if x[1] == publishes and x[2] in item_set],
    }
    others = sorted({e for x in variants["kg_2hop"] for e in (x[0], x[2])} - item_set)
    eid = dict(iid) | {e: len(items) + n for n, e in enumerate(others)}
    relations = sorted({x[1] for x in variants["kg_2hop"]})
    rid = {r: n for n, r in enumerate(relations)}
    write_lines(out / "entity_ids.tsv", (f"{n}\t{e}" for n, e in enumerate([*items, *others])))
    write_lines(out / "relation_ids.tsv", (f"{n}\t{r}" for n, r in enumerate(relations)))
    for name, triples in variants.items():
        write_lines(out / name / "kg_final.txt", (f"{eid[h]} {rid[r]} {eid[t]}" for h, r, t in triples))
        for split_name in ("train.txt", "test.txt"):
            write_lines(out / name / split_name, split_lines[split_name])

    stats = {
        "task": "recommendation", "seed": seed, "ratios": list(ratios), "k_core": k_core,
        "users": len(users), "items": len(items),
        "items_by_type": {t: sum(1 for i in items if i.startswith(t + ":")) for t in ("model", "dataset", "space")},
        "interactions": len(likes), "train": len(train), "valid": len(valid), "test": len(test),
        "density": len(likes) / (len(users) * len(items)) if users and items else 0.0,
        "users_with_test": len({u for u, _ in test}), "follows": len(follows),
        "kg_triples": {name: len(t) for name, t in variants.items()}, "kg_entities": len(eid), "kg_relations": len(relations),
    }
    write_json(out / "stats.json", stats)
    return stats
