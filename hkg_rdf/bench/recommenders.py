"""The recommendation baselines (numpy/scipy): popularity; itemknn; gfcf. Each user gets the
40 unseen items of highest score, ties to the smaller item id.

itemknn is item-based top-N recommendation (Sarwar et al., WWW 2001; Deshpande and Karypis,
TOIS 2004): user u scores x_u N + tie, where row i of N keeps item i's NEIGHBOURS most similar
items by P(j | i) = |users of i and j| / |users of i| (asymmetric cosine with alpha = 0: on
sparse likes it keeps the popularity signal that symmetric cosine throws away) and is 0
elsewhere. gfcf is GF-CF (Shen et al., "How Powerful is Graph Convolution for
Recommendation?", CIKM 2021), the training-free closed form of LightGCN's propagation: with
R~ = Du^-1/2 R Di^-1/2, u scores x_u N + alpha x_u Di^-1/2 V V^T Di^1/2 + tie, where N is the
linear filter R~^T R~ cut, as item-kNN's, to each item's NEIGHBOURS strongest links (the
paper's dense items x items filter would be 665 k x 665 k at scale 1.0) and V holds the top
GFCF_RANK right singular vectors of R~ (the ideal low-pass filter). tie = popularity x 1e-6 /
(max + 1) orders what is left.

The ranking is exact without a dense users x items block: see ``_ranked``."""

from __future__ import annotations

from pathlib import Path

from .common import need
from .metrics import read_user_items

SHOWN = 40  # items recommended per user
NEIGHBOURS = 100  # links kept per item (RecBole's ItemKNN default)
BATCH = 4096  # users whose sparse scores are computed together
CHUNK = 4096  # items bounded together
PRODUCTS = 1 << 24  # multiplications per block of rows of A^T A (about 200 MB of products)
_SLACK = 1e-6  # relative widening of every bound, far above any score's rounding error
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
    """Each user's top 40 unseen items by (-score, id), where u scores
    s_j = (x_u N)_j + tie_j + a_u . W_j (``model.low(users)`` gives the a_u; item-kNN has no W).

    u is scored exactly on the items where x_u N is not 0 (at most |u| x NEIGHBOURS) and on
    the first chunk of ``_Chunks``; elsewhere s_j = tie_j + a_u . W_j, bounded per chunk. Only
    the chunks whose bound reaches u's 40th best score so far are scored too, so the top 40 is
    the one of the dense scores."""
    import numpy as np
    from scipy.sparse import csr_matrix

    liked = np.unique(X[users].indices)
    N, chunks = model.neighbours(liked), _Chunks(model)
    sparse_scores = np.zeros(X.shape[1])  # one user's x_u N, densely; reset after each user
    marked = np.zeros(X.shape[1], dtype=bool)  # one user's items not to score (again); likewise
    top = {}
    for start in range(0, len(users), BATCH):
        batch = users[start:start + BATCH]
        Xb = X[batch]
        local = csr_matrix((Xb.data, np.searchsorted(liked, Xb.indices), Xb.indptr), shape=(len(batch), len(liked)))
        S = (local @ N).tocsr()
        a = model.low(batch)
        bounds = chunks.bounds(a)
        for row, u in enumerate(batch):
            span = slice(S.indptr[row], S.indptr[row + 1])
            hits, seen = S.indices[span], _liked(X, u)
            sparse_scores[hits] = S.data[span]
            fresh = hits[~chunks.in_first[hits]]
            items = np.concatenate([chunks.first, fresh])
            scores = np.concatenate([chunks.first_scores(sparse_scores, a[row]), _score(model, sparse_scores, a[row], fresh)])
            marked[seen] = True
            keep = ~marked[items]
            items, scores = items[keep], scores[keep]
            theta = np.partition(scores, len(scores) - SHOWN)[len(scores) - SHOWN] if len(scores) >= SHOWN else -np.inf
            more = chunks.reaching(bounds[row], theta)
            if len(more):
                marked[hits] = True
                more = more[~marked[more]]
                items, scores = np.concatenate([items, more]), np.concatenate([scores, _score(model, sparse_scores, a[row], more)])
            top[u] = _best(items, scores, SHOWN)
            sparse_scores[hits], marked[seen], marked[hits] = 0, False, False
    return top


class _Chunks:
    """The items cut into chunks of CHUNK along ``model.order``. On a chunk, tie_j + a_u . W_j
    is at most the chunk's largest tie plus the smaller of |a_u| max |W_j| (Cauchy-Schwarz) and
    the largest a_u . w the box around the chunk's rows of W allows (per column its least and
    greatest value). The first chunk is scored for every user, from a copy of its rows."""

    def __init__(self, model):
        import numpy as np

        W = model.W
        self.items = [model.order[start:start + CHUNK] for start in range(0, len(model.order), CHUNK)]
        self.high = np.array([W[c].max(axis=0) for c in self.items]).reshape(len(self.items), W.shape[1])
        self.low = np.array([W[c].min(axis=0) for c in self.items]).reshape(len(self.items), W.shape[1])
        self.longest = np.array([np.linalg.norm(W[c], axis=1).max() for c in self.items])
        self.tie_high = np.array([model.tie[c].max() for c in self.items])
        self.first = np.sort(self.items[0]) if self.items else np.zeros(0, dtype=np.int64)
        self.in_first = np.zeros(len(model.order), dtype=bool)
        self.in_first[self.first] = True
        self.W_first, self.tie_first = W[self.first], model.tie[self.first]

    def bounds(self, a):
        """users x chunks: what tie and the low-rank part add at most on each chunk, widened
        by _SLACK of their size."""
        import numpy as np

        reach = np.outer(np.linalg.norm(a, axis=1), self.longest)
        bound = np.minimum(np.maximum(a, 0) @ self.high.T + np.minimum(a, 0) @ self.low.T, reach) + self.tie_high
        return bound + _SLACK * (reach + self.tie_high)

    def first_scores(self, sparse_scores, a):
        """One user's exact scores on ``first``, as ``_score`` computes them."""
        return sparse_scores[self.first] + self.tie_first + _dot(self.W_first, a)

    def reaching(self, bound, theta: float):
        """The items of the chunks but the first whose bound reaches theta."""
        import numpy as np

        reached = [self.items[c] for c in np.flatnonzero(bound >= theta) if c]
        return np.concatenate(reached) if reached else np.zeros(0, dtype=np.int64)


def _score(model, sparse_scores, a, items):
    """One user's exact scores on ``items``: sparse part, tie and low-rank part, added in the
    dense formula's order."""
    return sparse_scores[items] + model.tie[items] + _dot(model.W[items], a)


def _dot(rows, a):
    """rows @ a, each row summed by itself (einsum without BLAS): equal rows give equal floats
    wherever they stand (BLAS's gemv rounds a row by its position in the block), so tied items
    stay tied."""
    import numpy as np

    return np.einsum("ij,j->i", rows, a)


def _liked(X, u: int):
    """The items user u liked in training (row u of the CSR likes)."""
    return X.indices[X.indptr[u]:X.indptr[u + 1]]


def _best(items, scores, k: int):
    """The k best of ``items`` by (-score, item): every item tied with the k-th score is kept
    before the final sort, so ties go to the smaller id whatever the order of ``items``."""
    import numpy as np

    if len(scores) > k:
        keep = scores >= np.partition(scores, len(scores) - k)[len(scores) - k]
        items, scores = items[keep], scores[keep]
    return items[np.lexsort((items, -scores))[:k]]


def neighbours(A, w, items):
    """Rows ``items`` (sorted) of N = diag(w) A^T A without its diagonal, each cut to its
    NEIGHBOURS largest entries (ties to the smaller item; the order of a row is the one of
    A^T A, as w scales a row by one factor). Built a block of rows at a time, each block at
    most PRODUCTS multiplications: a user liking thousands of items makes each of their items'
    rows thousands long, so A^T A whole would not fit."""
    import numpy as np
    from scipy.sparse import csr_matrix, vstack

    AT = A.T.tocsr()
    pattern = csr_matrix((np.ones(AT.nnz, dtype=np.int64), AT.indices, AT.indptr), shape=AT.shape)
    block_of = (np.cumsum((pattern @ np.diff(A.indptr))[items]) - 1) // PRODUCTS  # an item's products: its users' likes
    blocks = np.split(items, np.flatnonzero(np.diff(block_of)) + 1) if len(items) else []
    parts = [_strongest(AT[block] @ A, block, w[block]) for block in blocks]
    return vstack(parts, format="csr") if parts else csr_matrix((0, A.shape[1]))


def _strongest(G, block, w):
    """Row r of G (item block[r]'s row of A^T A) without its diagonal entry, cut to its
    NEIGHBOURS largest entries, ties to the smaller column, then scaled by w[r]."""
    import numpy as np
    from scipy.sparse import csr_matrix

    G = G.tocsr()
    rows = np.repeat(np.arange(G.shape[0]), np.diff(G.indptr))
    off = G.indices != block[rows]
    data, cols, rows = G.data[off], G.indices[off], rows[off]
    starts = np.searchsorted(rows, np.arange(G.shape[0] + 1))
    keep = np.ones(len(data), dtype=bool)
    for r in np.flatnonzero(np.diff(starts) > NEIGHBOURS):
        values, columns = data[starts[r]:starts[r + 1]], cols[starts[r]:starts[r + 1]]
        kth = np.partition(values, len(values) - NEIGHBOURS)[len(values) - NEIGHBOURS]
        chosen = values > kth
        tied = np.flatnonzero(values == kth)
        chosen[tied[np.argsort(columns[tied], kind="stable")[:NEIGHBOURS - chosen.sum()]]] = True
        keep[starts[r]:starts[r + 1]] = chosen
    rows = rows[keep]
    return csr_matrix((data[keep] * w[rows], (rows, cols[keep])), shape=G.shape)


class _ItemKnn:
    """Item-kNN: N's rows from P(j | i); no low-rank part. Chunks: the most popular first."""

    def __init__(self, X, pop, tie):
        import numpy as np

        self.X, self.tie, self.w = X, tie, 1 / np.maximum(pop, 1)
        self.W = np.zeros((X.shape[1], 0))
        self.order = np.lexsort((np.arange(X.shape[1]), -pop))

    def neighbours(self, items):
        return neighbours(self.X, self.w, items)

    def low(self, users):
        import numpy as np

        return np.zeros((len(users), 0))


class _GfCf:
    """GF-CF: N's rows from R~^T R~; the low-rank part is a_u . W_j with
    a_u = x_u Di^-1/2 V and W_j = alpha V_j Di_j^1/2. Chunks: the largest |W_j| first."""

    def __init__(self, X, tie, seed: int):
        import numpy as np
        from scipy.sparse import diags

        du = np.asarray(X.sum(axis=1)).ravel()
        di = np.asarray(X.sum(axis=0)).ravel()
        inv_u, self.inv_i = diags(1 / np.sqrt(np.maximum(du, 1))), 1 / np.sqrt(np.maximum(di, 1))
        self.R, self.X, self.tie = (inv_u @ X @ diags(self.inv_i)).tocsr(), X, tie
        rank = min(GFCF_RANK, min(X.shape) - 1)
        has_v = rank >= 1 and self.R.nnz
        self.V = _top_right_singular_vectors(self.R, rank, np.random.default_rng(seed)) if has_v else np.zeros((X.shape[1], 0))
        self.W = GFCF_ALPHA * self.V / self.inv_i[:, None]
        self.order = np.lexsort((np.arange(X.shape[1]), -np.linalg.norm(self.W, axis=1)))

    def neighbours(self, items):
        import numpy as np

        return neighbours(self.R, np.ones(self.R.shape[1]), items)

    def low(self, users):
        from scipy.sparse import diags

        return (self.X[users] @ diags(self.inv_i)) @ self.V


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
