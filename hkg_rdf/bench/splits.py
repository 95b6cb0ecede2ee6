"""Deterministic splits: inputs are sorted before a seeded numpy Generator touches them."""

from __future__ import annotations

from collections import Counter, defaultdict


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
    training item per user); the order within a user is a seeded permutation of its sorted items."""
    by_user: dict[int, list[int]] = defaultdict(list)
    for user, item in sorted(set(pairs)):
        by_user[user].append(item)
    train, valid, test = [], [], []
    for user in sorted(by_user):
        items = by_user[user]
        order = [items[j] for j in rng.permutation(len(items))]
        n = len(items)
        n_test = int(n * ratios[2] + 0.5)
        n_valid = int(n * ratios[1] + 0.5)
        while n_test + n_valid > n - 1 and (n_test or n_valid):
            if n_valid >= n_test and n_valid:
                n_valid -= 1
            else:
                n_test -= 1
        test += [(user, i) for i in sorted(order[:n_test])]
        valid += [(user, i) for i in sorted(order[n_test:n_test + n_valid])]
        train += [(user, i) for i in sorted(order[n_test + n_valid:])]
    return train, valid, test


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
