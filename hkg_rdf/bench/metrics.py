"""The HuggingBench metrics, on a split directory and a predictions file.

Predictions are tab-separated lines, one per query, candidates ranked best first; a candidate
is an integer id or ``id:score`` (with scores, candidates are re-ranked by score):

    recommendation   user<TAB>item item ...                  (ids of user_ids.tsv / item_ids.tsv)
    classification   node<TAB>label label ...                (every listed label is predicted)
    tracing          head<TAB>relation<TAB>tail tail ...     (ids of entity_ids.del / relation_ids.del)

Recommendation: each user's training items are removed from the ranking, then Recall@k =
hits / |test items| and NDCG@k (binary gains, ideal DCG over min(k, |test items|)), averaged
over users with at least one test item (users without any are skipped; a user with test items
but no predictions scores 0). Ties in scores are broken by the smaller item id.
Classification: micro-F1 over all (node, label) decisions of the evaluated nodes; macro-F1 is
the mean per-label F1 over labels that occur in the gold labels or the predictions there.
Tracing: tail ranking, filtered (the other known tails of (head, relation) in train, valid and
test are removed), ties in scores count half (mean rank); a true tail missing from the list
has reciprocal rank 0 and no hit.
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


def f1_scores(truth: dict[int, set[int]], predicted: dict[int, set[int]]) -> dict:
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
    labels = set(tp) | set(fp) | set(fn)
    per_label = [2 * tp[x] / (2 * tp[x] + fp[x] + fn[x]) for x in sorted(labels)]
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
    return f1_scores(truth, predicted)


def read_triples(path: Path) -> list[tuple[int, int, int]]:
    return [tuple(int(x) for x in line.split("\t")) for line in need(path).read_text(encoding="utf-8").splitlines() if line]


def tracing_scores(test: list[tuple[int, int, int]], known: list[tuple[int, int, int]], predictions: dict, hits=HITS) -> dict:
    tails: dict[tuple[int, int], set[int]] = defaultdict(set)
    for h, r, t in known:
        tails[(h, r)].add(t)
    totals = defaultdict(float)
    for h, r, t in test:
        others = tails[(h, r)] - {t}
        cands = [(c, s) for c, s in predictions.get((h, r), []) if c not in others]
        rank = None
        if cands and all(s is not None for _, s in cands):
            scores = {}
            for c, s in cands:
                scores.setdefault(c, s)
            if t in scores:
                greater = sum(1 for c, s in scores.items() if s > scores[t])
                ties = sum(1 for c, s in scores.items() if s == scores[t] and c != t)
                rank = 1 + greater + ties / 2
        else:
            order = _ranked([(c, None) for c, _ in cands])
            rank = order.index(t) + 1 if t in order else None
        if rank is not None:
            totals["mrr"] += 1 / rank
            for k in hits:
                totals[f"hits@{k}"] += rank <= k
    n = len(test)
    return {"triples": n, "mrr": totals["mrr"] / n if n else 0.0, **{f"hits@{k}": totals[f"hits@{k}"] / n if n else 0.0 for k in hits}}


def evaluate_tracing(split: Path, predictions: Path, on: str = "test") -> dict:
    known = [*read_triples(split / "train.del"), *read_triples(split / "valid.del"), *read_triples(split / "test.del")]
    return tracing_scores(read_triples(split / f"{on}.del"), known, read_predictions(predictions, 2))


EVALUATORS = {"recommendation": evaluate_recommendation, "classification": evaluate_classification, "tracing": evaluate_tracing}
