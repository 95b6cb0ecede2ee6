"""The recommendation baselines (numpy/scipy): popularity; itemknn (item-item P(j|i) from
training likes, popularity breaks ties); gfcf (graph filtering, the training-free closed form
of LightGCN's propagation: Shen et al., "How Powerful is Graph Convolution for
Recommendation?", CIKM 2021). Each user gets the 40 unseen items of highest score, ties to the
smaller item id (exactly: the dense version chose among items tied at the 40th place by
argpartition's order).

At scale 1.0 (about 500 k users, 670 k items, 69 k test users) neither the item x item matrix
(X^T X: hundreds of millions of entries, as a few users like thousands of items) nor the dense
test users x items scores fit in time or memory. So most users are scored exactly on a few
thousand candidate items only, and every other item is proven to score below their 40th by an
upper bound (see ``_ranked``); the others are scored on every item, a few dozen at a time.
Exact scores are the floats of the dense formula (the same sums in the same order), so the
top 40 is the one the dense scores give, as tests/test_bench.py checks."""

from __future__ import annotations

from pathlib import Path

from .common import need
from .metrics import read_user_items

SHOWN = 40  # items recommended per user
BATCH = 4096  # users bounded together, at most
CELLS = 1 << 24  # dense scores held at once (users x items): 128 MB
HEAVY = 1000  # likes above which a user's co-likes enter the bounds summarily
CHEAP = 20000  # products to build an item's row of M up to which it is summed, not bounded
_SAFE = 1 + 1e-6  # bounds are widened by this factor, far above any score's floating-point error
GFCF_RANK, GFCF_ALPHA = 64, 0.3  # ideal low-pass filter: singular vectors kept, weight (GF-CF's choice)


def recommendation(split: Path, method: str, on: str, seed: int) -> list[str]:
    import numpy as np
    from scipy.sparse import csr_matrix

    n_items = sum(1 for _ in need(split / "item_ids.tsv").open(encoding="utf-8"))
    n_users = sum(1 for _ in need(split / "user_ids.tsv").open(encoding="utf-8"))
    train = read_user_items(split / "train.txt")
    users = sorted(read_user_items(split / f"{on}.txt"))
    rows = [u for u, items in train.items() for _ in items]
    cols = [i for items in train.values() for i in items]
    X = csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=(n_users, n_items))
    pop = np.asarray(X.sum(axis=0)).ravel()
    tie = pop / (pop.max() + 1) * 1e-6 if len(pop) else pop
    if method == "popularity":
        ranked = sorted(range(n_items), key=lambda i: (-pop[i], i))
        lines = []
        for u in users:
            seen = train.get(u, set())
            lines.append(f"{u}\t{' '.join(str(i) for i in [i for i in ranked[:SHOWN + len(seen)] if i not in seen][:SHOWN])}")
        return lines
    top = _ranked(_GfCf(X, tie, seed) if method == "gfcf" else _ItemKnn(X, pop, tie), X, users)
    return [f"{u}\t{' '.join(map(str, top[u].tolist()))}" for u in users]


def _ranked(model, X, users: list[int]) -> dict:
    """Each user's top 40 unseen items by (-score, id), where user u scores x_u M + tie_j
    (+ GF-CF's low-rank term) and M = diag(w) A^T B (A, B >= 0, users x items): ``model.exact``.

    A user is scored exactly on the first ``model.first`` items of ``model.order`` only. Every
    other item j is bounded from above: the part of x_u M from u's cheap items (rows of M of at
    most CHEAP products) is summed (sparse, all items); each expensive item i adds at most
    b_i = max over the other items j of M_ij (counted from users of at most HEAVY likes, plus a
    bound for heavier users: a user liking thousands of items makes every row of theirs long);
    tie and the low-rank term add at most ``model.ceiling``. If these bounds leave u's 40th best
    candidate out of reach of every other item, the few items whose bound still reaches it are
    scored exactly too and the top 40 is proven; otherwise (a few per cent of users) u is scored
    exactly on every item. Exact scores are the floats of the dense formula."""
    import numpy as np

    n_items = X.shape[1]
    first, rest = model.order[:model.first], model.order[model.first:]
    expensive = X.T @ np.diff(X.indptr) > CHEAP  # products to build an item's row of M
    bounds = _row_maxima(model, X, rest, expensive) if len(rest) >= 3 * len(first) else None  # else dense is as cheap
    top, left = {}, []
    size = max(1, min(BATCH, CELLS // max(len(first), 1)))
    for start in range(0, len(users), size):
        batch = users[start:start + size]
        if bounds is None:
            left.extend(batch)
            continue
        Xb = X[batch]
        cheap_part = _propagated(_columns(Xb, ~expensive), lambda items: model.rows(items, None)).tocsr()
        scores = model.exact(batch, first)
        bound = _row_sums(Xb, bounds[Xb.indices]) + model.ceiling(batch, rest)
        outside, extra = np.ones(n_items, dtype=bool), {}
        outside[first] = False
        for row, u in enumerate(batch):
            liked = _liked(X, u)
            values = scores[row, ~np.isin(first, liked)]
            theta = np.partition(values, -SHOWN)[-SHOWN] if len(values) >= SHOWN else -np.inf
            if bound[row] * _SAFE >= theta:
                left.append(u)
                continue
            span = slice(cheap_part.indptr[row], cheap_part.indptr[row + 1])
            hit, partial = cheap_part.indices[span], cheap_part.data[span]
            reach = outside[hit] & ~np.isin(hit, liked) & ((partial + bound[row]) * _SAFE >= theta)
            extra[row] = hit[reach]
        for rows in _groups(list(extra), extra):
            more = np.unique(np.concatenate([extra[r] for r in rows]))
            items, more_scores = np.concatenate([first, more]), model.exact([batch[r] for r in rows], more)
            for n, row in enumerate(rows):
                keep = ~np.isin(items, _liked(X, batch[row]))
                top[batch[row]] = _best(items[keep], np.concatenate([scores[row], more_scores[n]])[keep], SHOWN)
    everything = np.arange(n_items)
    step = max(1, CELLS // max(n_items, 1))
    for start in range(0, len(left), step):
        part = left[start:start + step]
        scores = model.exact(part, everything)
        for row, u in enumerate(part):
            keep = ~np.isin(everything, _liked(X, u))
            top[u] = _best(everything[keep], scores[row, keep], SHOWN)
    return top


def _liked(X, u: int):
    """The items user u liked in training (row u of the CSR likes)."""
    return X.indices[X.indptr[u]:X.indptr[u + 1]]


def _groups(rows: list, extra: dict) -> list[list]:
    """Consecutive rows whose extra items, united, still fit CELLS dense scores."""
    groups, current, size = [], [], 0
    for row in rows:
        if current and (len(current) + 1) * (size + len(extra[row])) > CELLS:
            groups.append(current)
            current, size = [], 0
        current.append(row)
        size += len(extra[row])
    return groups + [current] if current else groups


def _row_maxima(model, X, rest, which):
    """For each item i in ``which`` an upper bound on M_ij over the items j != i of ``rest``:
    exact over users with at most HEAVY likes, plus for the heavier ones the sum of A_vi times
    their largest B_vj on ``rest``; 0 elsewhere."""
    import numpy as np

    heavy = np.diff(X.indptr) > HEAVY
    A, B = model.A, model.B
    inside = np.zeros(X.shape[1], dtype=bool)
    inside[rest] = True
    rest = np.flatnonzero(inside)
    light_A, light_B = A[~heavy].T.tocsr(), B[~heavy][:, rest].tocsr()
    heavy_B = B[heavy][:, rest]
    top_B = np.asarray(heavy_B.max(axis=1).todense()).ravel() if heavy_B.shape[0] and heavy_B.shape[1] else np.zeros(heavy_B.shape[0])
    out = np.zeros(X.shape[1])
    items = np.flatnonzero(which)
    for start in range(0, len(items), 4096):
        block = items[start:start + 4096]
        C = (light_A[block] @ light_B).tocoo()
        off = rest[C.col] != block[C.row]
        best = np.zeros(len(block))
        np.maximum.at(best, C.row[off], C.data[off])
        out[block] = best
    out += np.asarray(A[heavy].T @ top_B).ravel()
    return np.where(which, out * model.w, 0.0)


def _columns(M, keep):
    """CSR M with only the columns where ``keep`` holds stored."""
    out = M.multiply(keep[None, :]).tocsr()
    out.eliminate_zeros()
    return out


def _gram(A, AT, pop, items, columns):
    """Rows ``items`` of A^T A on ``columns`` (None: all), each entry summed over the users in
    ascending order. A product walks every user of each item on its left: the side whose
    items have fewer users goes left, which for a few unpopular columns and popular rows is
    many times cheaper, and gives the same floats (the same products, summed in the same order)."""
    if columns is not None and pop[columns].sum() < pop[items].sum():
        return (AT[columns] @ A[:, items]).T.tocsr()
    return AT[items] @ (A if columns is None else A[:, columns])


def _best(items, scores, k: int):
    """The k best of ``items`` by (-score, item): every item tied with the k-th score is kept
    before the final sort, so ties go to the smaller id whatever the order of ``items``."""
    import numpy as np

    if len(scores) > k:
        keep = scores >= np.partition(scores, len(scores) - k)[len(scores) - k]
        items, scores = items[keep], scores[keep]
    return items[np.lexsort((items, -scores))[:k]]


def _propagated(Xb, rows):
    """Xb @ M for a batch of users' likes Xb, where ``rows(items)`` gives the rows of an
    items x items matrix M for the sorted items the batch has liked: M is never built whole,
    and each sum runs over the same items in the same order as in Xb @ M (same floats)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    liked = np.unique(Xb.indices)
    local = csr_matrix((Xb.data, np.searchsorted(liked, Xb.indices), Xb.indptr), shape=(Xb.shape[0], len(liked)))
    return local @ rows(liked)


def _row_sums(Xb, values):
    """Per user of Xb, the sum of ``values`` (one per stored like, in Xb's order)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    return np.asarray(csr_matrix((values, Xb.indices, Xb.indptr), shape=Xb.shape).sum(axis=1)).ravel()


class _ItemKnn:
    """Item-kNN with asymmetric cosine alpha = 0 (conditional probability P(j | i)): on sparse
    likes it keeps the popularity signal that symmetric cosine throws away. User u scores
    x_u S + tie with S = diag(1/pop) X^T X (S's diagonal only scores items u has seen, which
    are never shown). Candidates first: the most popular items."""

    first = 4096

    def __init__(self, X, pop, tie):
        import numpy as np

        self.X, self.XT, self.pop, self.tie = X, X.T.tocsr(), pop, tie
        self.w, self.A, self.B = 1 / np.maximum(pop, 1), X, X
        self.order = np.lexsort((np.arange(X.shape[1]), -pop))

    def rows(self, items, columns):
        """Rows ``items`` of S (on ``columns``, None: all), as the dense formula computes them."""
        from scipy.sparse import diags

        return diags(self.w[items]) @ _gram(self.X, self.XT, self.pop, items, columns)

    def exact(self, users, items):
        """Dense scores of ``users`` on ``items``."""
        return _propagated(self.X[users], lambda liked: self.rows(liked, items)).toarray() + self.tie[items]

    def ceiling(self, users, rest):
        """What tie adds at most outside the candidates."""
        return self.tie[rest].max()


class _GfCf:
    """GF-CF: with R~ = Du^-1/2 R Di^-1/2 the symmetric-normalised interaction graph of
    LightGCN, score r_u (R~^T R~) (the linear low-pass filter, two propagation steps
    item -> user -> item) + alpha r_u Di^-1/2 V V^T Di^1/2 (the ideal low-pass filter on the top
    singular vectors V of R~). No training; sparse products as item-kNN, plus one randomized SVD.
    By Cauchy-Schwarz the low-rank term is at most |a_u| c_j with a_u = r_u Di^-1/2 V and
    c_j = alpha |V_j| Di_j^1/2: candidates first are the items of largest c_j."""

    first = 32768

    def __init__(self, X, tie, seed: int):
        import numpy as np
        from scipy.sparse import diags

        du = np.asarray(X.sum(axis=1)).ravel()
        di = np.asarray(X.sum(axis=0)).ravel()
        inv_u, self.inv_i = diags(1 / np.sqrt(np.maximum(du, 1))), 1 / np.sqrt(np.maximum(di, 1))
        self.R = (inv_u @ X @ diags(self.inv_i)).tocsr()
        self.RT, self.X, self.tie, self.pop = self.R.T.tocsr(), X, tie, di
        self.w, self.A, self.B = np.ones(X.shape[1]), self.R, self.R
        rank = min(GFCF_RANK, min(X.shape) - 1)
        has_v = rank >= 1 and self.R.nnz
        self.V = _top_right_singular_vectors(self.R, rank, np.random.default_rng(seed)) if has_v else np.zeros((X.shape[1], 0))
        self.c = GFCF_ALPHA * np.linalg.norm(self.V, axis=1) / self.inv_i
        self.order = np.lexsort((np.arange(X.shape[1]), -self.c))

    def rows(self, items, columns):
        """Rows ``items`` of R~^T R~ (on ``columns``, None: all), as the dense formula computes them."""
        return _gram(self.R, self.RT, self.pop, items, columns)

    def _low(self, users):
        from scipy.sparse import diags

        return (self.X[users] @ diags(self.inv_i)) @ self.V

    def exact(self, users, items):
        """Dense scores of ``users`` on ``items``: sparse part, tie, low-rank part, added in
        the dense formula's order."""
        scores = _propagated(self.X[users], lambda liked: self.rows(liked, items)).toarray()
        scores += self.tie[items]
        low = self._low(users) @ self.V[items].T
        low *= GFCF_ALPHA
        low /= self.inv_i[items]
        scores += low
        return scores

    def ceiling(self, users, rest):
        """What tie and the low-rank term add at most outside the candidates."""
        import numpy as np

        return self.tie[rest].max() + np.linalg.norm(self._low(users), axis=1) * self.c[rest].max()


def _top_right_singular_vectors(R, k: int, rng, oversample: int = 16, power: int = 4):
    """The top-k right singular vectors of sparse R (items x k) by randomized SVD (Halko,
    Martinsson and Tropp 2011: a seeded Gaussian sketch, power iterations re-orthonormalised):
    a few sparse products instead of ARPACK's many matrix-vector steps."""
    import numpy as np

    width = min(k + oversample, min(R.shape))
    Q = _orthonormal(R @ rng.standard_normal((R.shape[1], width)))
    for _ in range(power):
        Q = _orthonormal(R @ _orthonormal(R.T @ Q))
    # R^T Q = V S W^T: the right singular vectors of R within the sketched range, from the Gram matrix
    B = R.T @ Q
    values, vectors = np.linalg.eigh(B.T @ B)
    order = np.argsort(-values)[:k]
    return (B @ vectors[:, order]) / np.sqrt(np.maximum(values[order], 1e-300))


def _orthonormal(Y):
    """An orthonormal basis of Y's columns through its small Gram matrix (tall-skinny Y: much
    cheaper than a Householder QR); directions with no energy are dropped."""
    import numpy as np

    values, vectors = np.linalg.eigh(Y.T @ Y)
    keep = values > values.max() * 1e-12 if len(values) and values.max() > 0 else np.zeros(len(values), dtype=bool)
    return (Y @ vectors[:, keep]) / np.sqrt(values[keep])
