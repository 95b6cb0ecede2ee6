"""Resource recommendation: user-item likes split per user, in the folders SSLRec reads.

Written under OUT/ (copy ``general_cf``, ``social`` and ``kg`` into SSLRec's ``datasets/``)::

    user_ids.tsv item_ids.tsv   index<TAB>name (name = segment:hub-id)
    train.txt valid.txt test.txt  "user item item ..." lines ('bench baseline' and 'bench eval')
    category_ids.tsv            index<TAB>category of the category matrix (below)
    general_cf/sparse_huggingface/{train,valid,test}_mat.pkl     users x items (DataHandlerGeneralCF)
    social/huggingface/{trn,val,tst}_mat.pkl trust_mat.pkl category.pkl   (DataHandlerSocial)
    kg/huggingface_{1hop,2hop,homo,publish}_kg/                  (DataHandlerKG)
        train.txt valid.txt test.txt  the same "user item ..." lines
        kg_final.txt                  "h r t" entity/relation ids of this variant
        entity_list.txt relation_list.txt user_list.txt item_list.txt
                                      a header line "org_id remap_id", then "name id" rows
    stats.json

Pickles are scipy ``coo_matrix`` objects written by ``pickles.dumps_sparse``, so SSLRec's
numpy 1.22 / scipy 1.7 environment loads them as well as numpy 2 / scipy >= 1.13 does. Trust is
users x users (``follows`` between users who liked something). Category is items x categories,
multi-hot: one column per item type (model, dataset, space: every item has exactly one), then
one per task the item is defined for (``definedForTask``); ``category_ids.tsv`` names them.
In every KG variant items keep their item index as entity id (KGAT layout); the other entities
follow, sorted by name, and relations are numbered per variant.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from ..vocab import vocabulary
from .common import Namer, kg_queries, prefetched, write_json, write_lines
from .pickles import dumps_sparse
from .splits import kcore, per_user_split

KG_VARIANTS = ("1hop", "2hop", "homo", "publish")
ITEM_TYPES = ("model", "dataset", "space")
GENERAL_CF = ("train_mat.pkl", "valid_mat.pkl", "test_mat.pkl")
SOCIAL = ("trn_mat.pkl", "val_mat.pkl", "tst_mat.pkl")
LIST_HEADER = "org_id remap_id"


def _coo(pairs, shape):
    import numpy as np
    from scipy.sparse import coo_matrix

    rows = np.array([p[0] for p in pairs], dtype=np.int32)
    cols = np.array([p[1] for p in pairs], dtype=np.int32)
    return coo_matrix((np.ones(len(pairs), dtype=np.float32), (rows, cols)), shape=shape)


def _lines(pairs) -> list[str]:
    by_user: dict[int, list[int]] = {}
    for u, i in pairs:
        by_user.setdefault(u, []).append(i)
    return [" ".join(map(str, [u, *sorted(items)])) for u, items in sorted(by_user.items())]


_PLAIN = re.compile(r"[^\s#%]+")  # hub ids: nothing to escape


def _list_lines(names, start: int = 0) -> list[str]:
    """``name id`` rows, each name one whitespace- and comment-free token (numpy.genfromtxt
    reads these lists; '#' would start a comment): anything else is percent-encoded."""
    return [f"{n if _PLAIN.fullmatch(n) else quote(n, safe='')} {i}" for i, n in enumerate(names, start)]


def _likes(rows, namer: Namer) -> set[tuple[str, str]]:
    """(user, item) names of the likes (likes.rq's rows) whose ends the release's like
    relations allow: their IRIs name the types (likes.rq leaves the type patterns out)."""
    vocab = vocabulary()
    like = vocab.relation("user_like_model")
    users = like.subject.segment + ":"
    items = tuple(r.object.segment + ":" for r in vocab.relations if r.prop == like.prop)
    pairs = ((namer.entity(u), namer.entity(i)) for u, i in rows)
    return {(u, i) for u, i in pairs if u.startswith(users) and i.startswith(items)}


def export(store, out: Path, namer: Namer, seed: int, ratios: tuple[float, float, float], k_core: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    results = prefetched(store, [("likes", None), *kg_queries()])  # evaluated ahead, read in this order
    likes = sorted(_likes(next(results), namer))
    likes = kcore(likes, k_core)
    users = sorted({u for u, _ in likes})
    items = sorted({i for _, i in likes})
    uid, iid = {u: n for n, u in enumerate(users)}, {i: n for n, i in enumerate(items)}
    parts = per_user_split([(uid[u], iid[i]) for u, i in likes], ratios, rng)
    train, valid, test = parts

    write_lines(out / "user_ids.tsv", (f"{n}\t{u}" for n, u in enumerate(users)))
    write_lines(out / "item_ids.tsv", (f"{n}\t{i}" for n, i in enumerate(items)))
    split_lines = {name: _lines(part) for name, part in zip(("train.txt", "valid.txt", "test.txt"), parts)}
    for name, lines in split_lines.items():
        write_lines(out / name, lines)
    shape = (len(users), len(items))
    matrices = [dumps_sparse(_coo(part, shape)) for part in parts]
    for folder, names in ((out / "general_cf" / "sparse_huggingface", GENERAL_CF), (out / "social" / "huggingface", SOCIAL)):
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in zip(names, matrices):
            (folder / name).write_bytes(data)

    kg = sorted({(namer.entity(h), Namer.relation(r), namer.entity(t)) for rows in results for h, r, t in rows})
    social = out / "social" / "huggingface"
    follow = Namer.relation(vocabulary().relation("user_follow_user").prop)
    follows = sorted({(uid[h], uid[t]) for h, r, t in kg if r == follow and h in uid and t in uid and h != t})
    (social / "trust_mat.pkl").write_bytes(dumps_sparse(_coo(follows, (len(users), len(users)))))
    defined_for = Namer.relation(vocabulary().relation("model_definedFor_task").prop)
    tasks = sorted({t for h, r, t in kg if r == defined_for and h in iid})
    categories = [*ITEM_TYPES, *tasks]
    cid = {c: n for n, c in enumerate(categories)}
    item_categories = sorted({(iid[i], cid[i.split(":", 1)[0]]) for i in items if i.split(":", 1)[0] in cid}
                             | {(iid[h], cid[t]) for h, r, t in kg if r == defined_for and h in iid})
    (social / "category.pkl").write_bytes(dumps_sparse(_coo(item_categories, (len(items), len(categories)))))
    write_lines(out / "category_ids.tsv", (f"{n}\t{c}" for n, c in enumerate(categories)))

    kg_stats = _write_kg(out / "kg", kg, items, users, split_lines)
    stats = {
        "task": "recommendation", "seed": seed, "ratios": list(ratios), "k_core": k_core,
        "users": len(users), "items": len(items),
        "items_by_type": {t: sum(1 for i in items if i.startswith(t + ":")) for t in ITEM_TYPES},
        "interactions": len(likes), "train": len(train), "valid": len(valid), "test": len(test),
        "density": len(likes) / (len(users) * len(items)) if users and items else 0.0,
        "users_with_test": len({u for u, _ in test}), "follows": len(follows),
        "categories": len(categories), "item_categories": len(item_categories), **kg_stats,
    }
    write_json(out / "stats.json", stats)
    return stats


def _write_kg(root: Path, kg: list[tuple[str, str, str]], items: list[str], users: list[str], split_lines: dict) -> dict:
    """The four knowledge-graph variants, cut by the items they touch: 1-hop (a triple with an
    item at one end), 2-hop (a triple with an entity of the 1-hop graph at one end), homo (items
    at both ends) and publish (who published an item)."""
    item_set = set(items)
    publishes = Namer.relation(vocabulary().relation("user_publish_model").prop)
    one_hop = [x for x in kg if x[0] in item_set or x[2] in item_set]
    reached = {x[0] for x in one_hop} | {x[2] for x in one_hop}
    variants = {
        "1hop": one_hop,
        "2hop": [x for x in kg if x[0] in reached or x[2] in reached],
        "homo": [x for x in kg if x[0] in item_set and x[2] in item_set],
        "publish": [x for x in one_hop if x[1] == publishes and x[2] in item_set],
    }
    stats: dict = {"kg_triples": {}, "kg_entities": {}, "kg_relations": {}}
    item_lines, user_lines = _list_lines(items), [LIST_HEADER, *_list_lines(users)]
    for variant, triples in variants.items():
        folder = root / f"huggingface_{variant}_kg"
        others = sorted({e for h, _, t in triples for e in (h, t)} - item_set)
        entities = [*items, *others]
        eid = {e: n for n, e in enumerate(entities)}
        relations = sorted({r for _, r, _ in triples})
        rid = {r: n for n, r in enumerate(relations)}
        write_lines(folder / "kg_final.txt", (f"{eid[h]} {rid[r]} {eid[t]}" for h, r, t in triples))
        write_lines(folder / "entity_list.txt", [LIST_HEADER, *item_lines, *_list_lines(others, len(items))])
        write_lines(folder / "relation_list.txt", [LIST_HEADER, *_list_lines(relations)])
        write_lines(folder / "user_list.txt", user_lines)
        write_lines(folder / "item_list.txt", [LIST_HEADER, *item_lines])
        for name, lines in split_lines.items():
            write_lines(folder / name, lines)
        stats["kg_triples"][variant] = len(triples)
        stats["kg_entities"][variant] = len(entities)
        stats["kg_relations"][variant] = len(relations)
    return stats
