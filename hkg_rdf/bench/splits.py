"""Deterministic splits: inputs are sorted before a seeded numpy Generator touches them."""

from __future__ import annotations

from collections import Counter


def kcore(pairs: list[tuple[str, str]], k: int) -> list[tuple[str, str]]:
    """Drop users and items with fewer than k interactions until none is left (k <= 1: no-op)."""
    if k <= 1:
        return pairs
    while True:
        users, items = Counter(u for u, _ in pairs), Counter(i for _, i in pairs)
        kept = [(u, i) for u, i in pairs if users[u] >= k and items[i] >= k]
        if len(kept) == len(pairs):
            return kept
        pairs = kept


def per_user_split(pairs: list[tuple[int, int]], ratios: tuple[float, float, float], rng) -> tuple[list, list, list]:
    """Split each user's items train/valid/test by the ratios (rounded half up, at least one
    training item per user); the order within a user is a seeded permutation of its sorted items
    (one ``rng.permutation`` per user, in user order). Each part is sorted by (user, item).
    Only the permutations are drawn one user at a time: which part each item falls in is
    array arithmetic on its rank in its user's permutation."""
    import numpy as np

    distinct = np.unique(np.array(pairs, dtype=np.int64).reshape(-1, 2), axis=0)  # sorted by (user, item)
    users, items = distinct[:, 0], distinct[:, 1]
    _, starts, counts = np.unique(users, return_index=True, return_counts=True)
    held = [_held_out(n, ratios) for n in counts.tolist()]
    rank = np.empty(len(distinct), dtype=np.int64)  # each pair's place in its user's permutation
    if len(distinct):
        start = np.repeat(starts, counts)  # each pair's user's first pair
        rank[np.concatenate([rng.permutation(n) for n in counts.tolist()]) + start] = np.arange(len(distinct)) - start
    n_test = np.repeat(np.array([t for t, _ in held], dtype=np.int64), counts)
    n_valid = np.repeat(np.array([v for _, v in held], dtype=np.int64), counts)
    chosen = (rank < n_test, (rank >= n_test) & (rank < n_test + n_valid), rank >= n_test + n_valid)
    test, valid, train = (list(zip(users[c].tolist(), items[c].tolist())) for c in chosen)
    return train, valid, test


def _held_out(n: int, ratios: tuple[float, float, float]) -> tuple[int, int]:
    """(test, valid) item counts of a user with ``n`` items, leaving at least one for training."""
    n_test = int(n * ratios[2] + 0.5)
    n_valid = int(n * ratios[1] + 0.5)
    while n_test + n_valid > n - 1 and (n_test or n_valid):
        if n_valid >= n_test and n_valid:
            n_valid -= 1
        else:
            n_test -= 1
    return n_test, n_valid


def ordered_split(items: list, ratios: tuple[float, float, float]) -> tuple[list, list, list]:
    """Cut an already ordered list (by time, or a seeded permutation) into three parts."""
    n = len(items)
    n_train = int(n * ratios[0] + 0.5)
    n_valid = int(n * ratios[1] + 0.5)
    n_valid = min(n_valid, n - n_train)
    return items[:n_train], items[n_train:n_train + n_valid], items[n_train + n_valid:]


def covered_split(triples: list[tuple[str, str, str]], n_valid: int, n_test: int, rng, extra_degree: Counter | None = None) -> tuple[list, list, list]:
    """Move triples (in a seeded order) to test and valid, evenly, only while both their
    entities keep another triple in training, so every valid/test entity occurs in training."""
    triples = sorted(set(triples))
    degree = Counter(extra_degree or {})
    for h, _, t in triples:
        degree[h] += 1
        degree[t] += 1
    held: list[set] = [set(), set()]
    wanted = (n_test, n_valid)
    for index in rng.permutation(len(triples)):
        open_parts = [p for p in (0, 1) if len(held[p]) < wanted[p]]
        if not open_parts:
            break
        h, r, t = triples[index]
        if h != t and degree[h] > 1 and degree[t] > 1:
            part = min(open_parts, key=lambda p: (len(held[p]) / wanted[p], p))  # fill both evenly
            degree[h] -= 1
            degree[t] -= 1
            held[part].add(triples[index])
    test, valid = held
    train = [x for x in triples if x not in test and x not in valid]
    return train, sorted(valid), sorted(test)
