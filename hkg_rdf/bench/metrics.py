"""The HuggingBench metrics, on a split directory and a predictions file.

Predictions are tab-separated lines, one per query, candidates ranked best first; a candidate
is an integer id or ``id:score`` (with scores, candidates are re-ranked by score):

    recommendation   user<TAB>item item ...                  (ids of user_ids.tsv / item_ids.tsv)
    classification   node<TAB>label label ...                (every listed label is predicted)
    tracing          entity<TAB>relation<TAB>entity entity ...  (ids of entity_ids.del / relation_ids.del):
                     by default the known tail (derived model), then ranked heads (base models);
                     with --predict tail the known head, then ranked tails

Recommendation: each user's training items are removed from the ranking, then Recall@k =
hits / |test items| and NDCG@k (binary gains, ideal DCG over min(k, |test items|)), averaged
over users with at least one test item (users without any are skipped; a user with test items
but no predictions scores 0). Ties in scores are broken by the smaller item id.
Classification: micro-F1 over all (node, label) decisions of the evaluated nodes (CogDL's
MultiLabelMicroF1 = scikit-learn's f1_score(average="micro")); macro-F1 is the mean per-label
F1 over all labels of label_ids.tsv, a label neither true nor predicted for those nodes scoring
0, as scikit-learn's f1_score(average="macro") computes it on the label-indicator matrix.
Tracing: head ranking by default (the base model of (relation, derived model), what
HuggingBench's LibKGE configs select on), tail ranking with --predict tail; filtered (the other
known answers of the query in train, valid and test are removed); ties in scores count half
(mean rank) or, with --ties rounded, as LibKGE's rounded_mean_rank; a true answer missing from
the list has reciprocal rank 0 and no hit.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from .common import need, read_predictions

KS = (5, 10, 20, 40)
HITS = (1, 3, 5, 10)


def _ranked(candidates: list[tuple[int, float | None]]) -> list[int]:
    """Candidate ids best first: file order, or by score (desc) then id when scores are given."""
    if candidates and all(s is not None for _, s in candidates):
        candidates = sorted(candidates, key=lambda c: (-c[1], c[0]))
    seen, out = set(), []
    for c, _ in candidates:
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out


def read_user_items(path: Path) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for line in need(path).read_text(encoding="utf-8").splitlines():
        ids = [int(x) for x in line.split()]
        if ids:
            out.setdefault(ids[0], set()).update(ids[1:])
    return out


def recommendation_scores(train: dict[int, set[int]], truth: dict[int, set[int]], predictions: dict, ks=KS) -> dict:
    totals = defaultdict(float)
    users = [u for u in sorted(truth) if truth[u]]
    for user in users:
        seen = train.get(user, set())
        ranking = [i for i in _ranked(predictions.get((user,), [])) if i not in seen]
        relevant = truth[user]
        for k in ks:
            top = ranking[:k]
            hits = [r for r, item in enumerate(top) if item in relevant]
            totals[f"recall@{k}"] += len(hits) / len(relevant)
            idcg = sum(1 / math.log2(r + 2) for r in range(min(k, len(relevant))))
            totals[f"ndcg@{k}"] += sum(1 / math.log2(r + 2) for r in hits) / idcg
    out = {"users": len(users)}
    for k in ks:
        for name in ("recall", "ndcg"):
            out[f"{name}@{k}"] = totals[f"{name}@{k}"] / len(users) if users else 0.0
    return out


def evaluate_recommendation(split: Path, predictions: Path, on: str = "test") -> dict:
    return recommendation_scores(read_user_items(split / "train.txt"), read_user_items(split / f"{on}.txt"), read_predictions(predictions, 1))


def f1_scores(truth: dict[int, set[int]], predicted: dict[int, set[int]], n_labels: int | None = None) -> dict:
    """Micro- and macro-F1 of the nodes in ``truth``. Macro averages over all ``n_labels``
    labels, one absent from both gold and predictions scoring 0 (scikit-learn's
    ``f1_score(average="macro")`` on the full indicator matrix); without ``n_labels``, over the
    labels that occur."""
    tp, fp, fn = defaultdict(int), defaultdict(int), defaultdict(int)
    for node, gold in truth.items():
        guess = predicted.get(node, set())
        for label in gold & guess:
            tp[label] += 1
        for label in guess - gold:
            fp[label] += 1
        for label in gold - guess:
            fn[label] += 1
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    labels = range(n_labels) if n_labels is not None else sorted(set(tp) | set(fp) | set(fn))
    per_label = [2 * tp[x] / (2 * tp[x] + fp[x] + fn[x]) if tp[x] + fp[x] + fn[x] else 0.0 for x in labels]
    return {
        "nodes": len(truth),
        "micro_f1": 2 * TP / (2 * TP + FP + FN) if TP + FP + FN else 0.0,
        "macro_f1": sum(per_label) / len(per_label) if per_label else 0.0,
    }


def read_labels(split: Path, on: str) -> dict[int, set[int]]:
    wanted = {int(line.split("\t")[0]) for line in need(split / "node_ids.tsv").read_text(encoding="utf-8").splitlines() if line.split("\t")[-1] == on}
    out = {}
    for line in need(split / "labels.tsv").read_text(encoding="utf-8").splitlines():
        node, _, labels = line.partition("\t")
        if int(node) in wanted:
            out[int(node)] = {int(x) for x in labels.split()}
    return out


def evaluate_classification(split: Path, predictions: Path, on: str = "test") -> dict:
    truth = read_labels(split, on)
    predicted = {key[0]: {c for c, _ in cands} for key, cands in read_predictions(predictions, 1).items()}
    n_labels = sum(1 for _ in need(split / "label_ids.tsv").open(encoding="utf-8"))
    return f1_scores(truth, predicted, n_labels)


def read_triples(path: Path) -> list[tuple[int, int, int]]:
    return [tuple(int(x) for x in line.split("\t")) for line in need(path).read_text(encoding="utf-8").splitlines() if line]


TIES = ("mean", "rounded", "worst", "best")


def tie_rank(greater: int, ties: int, rule: str = "mean") -> float:
    """The 1-based rank of a true answer with ``greater`` candidates scored above it and ``ties``
    others scored the same: mean (fractional, the default), rounded (LibKGE's
    ``rounded_mean_rank``: 0-based ``greater + (ties + 1) // 2``), worst, or best."""
    if rule == "mean":
        return 1 + greater + ties / 2
    if rule == "rounded":
        return 1 + greater + (ties + 1) // 2
    return 1 + greater + (ties if rule == "worst" else 0)


def tracing_scores(test: list[tuple[int, int, int]], known: list[tuple[int, int, int]], predictions: dict, hits=HITS,
                   predict: str = "head", ties: str = "mean") -> dict:
    """Filtered MRR and Hits@k. ``predict="head"`` ranks heads for (relation, tail) queries keyed
    ``(tail, relation)`` in ``predictions``; ``"tail"`` ranks tails for ``(head, relation)``."""
    if predict == "head":
        test, known = [(t, r, h) for h, r, t in test], [(t, r, h) for h, r, t in known]
    answers: dict[tuple[int, int], set[int]] = defaultdict(set)
    for q, r, a in known:
        answers[(q, r)].add(a)
    totals = defaultdict(float)
    for q, r, a in test:
        others = answers[(q, r)] - {a}
        cands = [(c, s) for c, s in predictions.get((q, r), []) if c not in others]
        rank = None
        if cands and all(s is not None for _, s in cands):
            scores = {}
            for c, s in cands:
                scores.setdefault(c, s)
            if a in scores:
                greater = sum(1 for c, s in scores.items() if s > scores[a])
                tied = sum(1 for c, s in scores.items() if s == scores[a] and c != a)
                rank = tie_rank(greater, tied, ties)
        else:
            order = _ranked([(c, None) for c, _ in cands])
            rank = order.index(a) + 1 if a in order else None
        if rank is not None:
            totals["mrr"] += 1 / rank
            for k in hits:
                totals[f"hits@{k}"] += rank <= k
    n = len(test)
    return {"triples": n, "predict": predict, "ties": ties,
            "mrr": totals["mrr"] / n if n else 0.0, **{f"hits@{k}": totals[f"hits@{k}"] / n if n else 0.0 for k in hits}}


def evaluate_tracing(split: Path, predictions: Path, on: str = "test", predict: str = "head", ties: str = "mean") -> dict:
    known = [*read_triples(split / "train.del"), *read_triples(split / "valid.del"), *read_triples(split / "test.del")]
    return tracing_scores(read_triples(split / f"{on}.del"), known, read_predictions(predictions, 2), predict=predict, ties=ties)


EVALUATORS = {"recommendation": evaluate_recommendation, "classification": evaluate_classification, "tracing": evaluate_tracing}
