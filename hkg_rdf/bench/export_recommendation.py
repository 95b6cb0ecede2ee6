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
    """``name id`` rows (see ``_list_name``)."""
    return [f"{_list_name(n)} {i}" for i, n in enumerate(names, start)]


def _list_name(name: str) -> str:
    """A name as one whitespace- and comment-free token (numpy.genfromtxt reads these lists;
    '#' would start a comment): anything else is percent-encoded."""
    return name if _PLAIN.fullmatch(name) else quote(name, safe="")


def _likes(rows, namer: Namer, k_core: int) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """The users and the items (names, sorted) and the distinct likes between them as (user,
    item) numbers, sorted, cut to the k-core: of likes.rq's rows, those whose ends the release's
    like relations allow (their IRIs name the types: likes.rq leaves the type patterns out)."""
    from array import array

    import numpy as np

    vocab = vocabulary()
    like = vocab.relation("user_like_model")
    user_types = like.subject.segment + ":"
    item_types = tuple(r.object.segment + ":" for r in vocab.relations if r.prop == like.prop)
    user_ids: dict[str, int] = {}
    item_ids: dict[str, int] = {}
    us, its = array("q"), array("q")
    for u, i in rows:
        us.append(user_ids.setdefault(u, len(user_ids)))
        its.append(item_ids.setdefault(i, len(item_ids)))
    user_rank, user_names, _ = _named(user_ids, namer)
    item_rank, item_names, _ = _named(item_ids, namer)
    user, item = user_rank[np.frombuffer(us, np.int64)], item_rank[np.frombuffer(its, np.int64)]
    ok = np.array([n.startswith(user_types) for n in user_names], dtype=bool)[user] \
        & np.array([n.startswith(item_types) for n in item_names], dtype=bool)[item]
    width = max(len(item_names), 1)
    user, item = np.divmod(np.unique(user[ok] * width + item[ok]), width)
    pairs = kcore(list(zip(user.tolist(), item.tolist())), k_core)
    kept_users, kept_items = sorted({u for u, _ in pairs}), sorted({i for _, i in pairs})
    uid, iid = {u: n for n, u in enumerate(kept_users)}, {i: n for n, i in enumerate(kept_items)}
    return [user_names[u] for u in kept_users], [item_names[i] for i in kept_items], [(uid[u], iid[i]) for u, i in pairs]


def _named(ids: dict[str, int], namer: Namer, extra: list[str] = ()):
    """(rank, names, extra_rank): the IRIs of ``ids`` (numbered as first seen) named once
    each, the names and ``extra`` sorted, rank[number] the position of that IRI's name (IRIs
    naming one entity share it) and extra_rank the positions of ``extra``."""
    import numpy as np

    names = [namer.entity(iri) for iri in ids]
    ordered = sorted({*names, *extra})
    position = {name: n for n, name in enumerate(ordered)}
    rank = np.fromiter((position[n] for n in names), dtype=np.int64, count=len(names))
    return rank, ordered, np.fromiter((position[n] for n in extra), dtype=np.int64, count=len(extra))


def export(store, out: Path, namer: Namer, seed: int, ratios: tuple[float, float, float], k_core: int) -> dict:
    import numpy as np

    rng = np.random.default_rng(seed)
    likes_rows, *kg_rows = prefetched(store, [("likes", None), *kg_queries()])
    users, items, likes = _likes(likes_rows, namer, k_core)
    parts = per_user_split(likes, ratios, rng)
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

    kg = _Graph.read(kg_rows, namer, items)
    social = out / "social" / "huggingface"
    uid, iid = {u: n for n, u in enumerate(users)}, {i: n for n, i in enumerate(items)}
    follows = sorted({(uid[h], uid[t]) for h, t in kg.pairs(vocabulary().relation("user_follow_user").prop) if h in uid and t in uid and h != t})
    (social / "trust_mat.pkl").write_bytes(dumps_sparse(_coo(follows, (len(users), len(users)))))
    defined_for = [(h, t) for h, t in kg.pairs(vocabulary().relation("model_definedFor_task").prop) if h in iid]
    tasks = sorted({t for _, t in defined_for})
    categories = [*ITEM_TYPES, *tasks]
    cid = {c: n for n, c in enumerate(categories)}
    item_categories = sorted({(iid[i], cid[i.split(":", 1)[0]]) for i in items if i.split(":", 1)[0] in cid}
                             | {(iid[h], cid[t]) for h, t in defined_for})
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


class _Graph:
    """The kg rows as numbers: ``names`` every entity (and item) sorted, ``relations`` the
    relation names sorted, ``items`` the items' numbers, and the distinct triples as index
    arrays ``h r t`` sorted by (head, relation, tail). Numbers follow the names' order, so the
    files come out as if the name triples had been sorted, at a fraction of the cost of 6 M
    string tuples."""

    def __init__(self, names: list[str], relations: list[str], items, h, r, t):
        self.names, self.relations, self.items, self.h, self.r, self.t = names, relations, items, h, r, t

    @classmethod
    def read(cls, results, namer: Namer, items: list[str]) -> _Graph:
        """From kg.rq's rows (one iterator per property), naming entities as ``namer`` does:
        IRIs are numbered as they come (a dict lookup per row) and named once each."""
        from array import array

        import numpy as np

        entities: dict[str, int] = {}
        properties: dict[str, int] = {}
        number = entities.setdefault
        heads, props, tails = array("q"), array("q"), array("q")
        head, prop, tail = heads.append, props.append, tails.append
        for rows in results:
            for h, r, t in rows:
                head(number(h, len(entities)))
                prop(properties.setdefault(r, len(properties)))
                tail(number(t, len(entities)))
        rank, names, item_rank = _named(entities, namer, items)
        relations = sorted({Namer.relation(r) for r in properties})
        relation_rank = np.array([relations.index(Namer.relation(r)) for r in properties], dtype=np.int64)
        width, height = max(len(names), 1), max(len(relations), 1)
        keys = np.unique((rank[np.frombuffer(heads, np.int64)] * height + relation_rank[np.frombuffer(props, np.int64)]) * width
                         + rank[np.frombuffer(tails, np.int64)])
        hr, t = np.divmod(keys, width)
        h, r = np.divmod(hr, height)
        return cls(names, relations, item_rank, h, r, t)

    def pairs(self, prop: str) -> list[tuple[str, str]]:
        """(head, tail) names of the triples of one property."""
        name = Namer.relation(prop)
        if name not in self.relations:
            return []
        chosen = self.r == self.relations.index(name)
        return [(self.names[h], self.names[t]) for h, t in zip(self.h[chosen].tolist(), self.t[chosen].tolist())]


def _write_kg(root: Path, kg: _Graph, items: list[str], users: list[str], split_lines: dict) -> dict:
    """The four knowledge-graph variants, cut by the items they touch: 1-hop (a triple with an
    item at one end), 2-hop (a triple with an entity of the 1-hop graph at one end), homo (items
    at both ends) and publish (who published an item)."""
    import numpy as np

    is_item = np.zeros(len(kg.names), dtype=bool)
    is_item[kg.items] = True
    one_hop = is_item[kg.h] | is_item[kg.t]
    reached = np.zeros(len(kg.names), dtype=bool)
    reached[kg.h[one_hop]] = reached[kg.t[one_hop]] = True
    publishes = Namer.relation(vocabulary().relation("user_publish_model").prop)
    variants = {
        "1hop": one_hop,
        "2hop": reached[kg.h] | reached[kg.t],
        "homo": is_item[kg.h] & is_item[kg.t],
        "publish": one_hop & is_item[kg.t] & (kg.r == (kg.relations.index(publishes) if publishes in kg.relations else -1)),
    }
    stats: dict = {"kg_triples": {}, "kg_entities": {}, "kg_relations": {}}
    tokens = [_list_name(n) for n in kg.names]  # once for every variant
    item_lines, user_lines = _list_lines(items), [LIST_HEADER, *_list_lines(users)]
    for variant, chosen in variants.items():
        folder = root / f"huggingface_{variant}_kg"
        h, r, t = kg.h[chosen], kg.r[chosen], kg.t[chosen]
        ends = np.zeros(len(kg.names), dtype=bool)
        ends[h] = ends[t] = True
        others = np.flatnonzero(ends & ~is_item)
        eid = np.full(len(kg.names), -1, dtype=np.int64)
        eid[kg.items] = np.arange(len(items))
        eid[others] = np.arange(len(items), len(items) + len(others))
        relations = np.flatnonzero(np.bincount(r, minlength=len(kg.relations)))
        rid = np.full(len(kg.relations), -1, dtype=np.int64)
        rid[relations] = np.arange(len(relations))
        write_lines(folder / "kg_final.txt", map("%d %d %d".__mod__, zip(eid[h].tolist(), rid[r].tolist(), eid[t].tolist())))
        write_lines(folder / "entity_list.txt", [LIST_HEADER, *item_lines, *(f"{tokens[e]} {n}" for n, e in enumerate(others.tolist(), len(items)))])
        write_lines(folder / "relation_list.txt", [LIST_HEADER, *_list_lines([kg.relations[x] for x in relations.tolist()])])
        write_lines(folder / "user_list.txt", user_lines)
        write_lines(folder / "item_list.txt", [LIST_HEADER, *item_lines])
        for name, lines in split_lines.items():
            write_lines(folder / name, lines)
        stats["kg_triples"][variant] = len(h)
        stats["kg_entities"][variant] = len(items) + len(others)
        stats["kg_relations"][variant] = len(relations)
    return stats
