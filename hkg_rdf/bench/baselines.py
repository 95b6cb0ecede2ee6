"""CPU baselines (numpy/scipy) that write predictions in the format ``bench eval`` reads.

recommendation   popularity; itemknn; gfcf (in recommenders.py: exact top 40 without dense scores)
classification   propagation (label propagation over the undirected lineage/trained-on graph,
                 one step = neighbour vote); tfidf (multinomial naive Bayes on TF-IDF of name +
                 description); both predict every label within 0.9 of the best score
tracing          names (base name a prefix of the derived name, name-token and tag Jaccard,
                 popularity as a base breaks ties); transe (TransE in numpy, L2, margin loss)
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

from .common import format_candidates, need, read_ids, write_lines
from .export_classification import document_frequencies, term_counts, tfidf_matrix
from .metrics import read_labels, read_triples
from .recommenders import recommendation

METHODS = {
    "recommendation": ("popularity", "itemknn", "gfcf"),
    "classification": ("propagation", "tfidf"),
    "tracing": ("names", "transe"),
}
TOP = 100
NAME_QUERIES = 128  # tracing queries `names` scores at once: a dense queries x models block (0.4 GB at scale 1.0)
LINEAGE_RELATIONS = ("model_adapter_model", "model_finetune_model", "model_merge_model", "model_quantized_model")  # release names
_TOKEN = re.compile(r"[a-z0-9]+")


# ------------------------------------------------------------------ classification


def _train_labels(split: Path) -> tuple[dict[int, set[int]], int, int]:
    n_nodes = sum(1 for _ in need(split / "node_ids.tsv").open(encoding="utf-8"))
    n_labels = sum(1 for _ in need(split / "label_ids.tsv").open(encoding="utf-8"))
    return read_labels(split, "train"), n_nodes, n_labels


def _decide(scores, prior: int, ratio: float = 0.9) -> list[int]:
    best = scores.max() if len(scores) else 0
    if best <= 0:
        return [prior]
    return [int(i) for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i)) if scores[i] >= ratio * best]


def classification(split: Path, method: str, on: str, seed: int) -> list[str]:
    import numpy as np
    from scipy.sparse import csr_matrix, diags

    train, n_nodes, n_labels = _train_labels(split)
    targets = sorted(read_labels(split, on))
    Y = np.zeros((n_nodes, n_labels))
    for node, labels in train.items():
        Y[node, sorted(labels)] = 1
    prior = int(np.argmax(Y.sum(axis=0))) if n_labels else 0
    if method == "propagation":
        edges = [line.split("\t") for line in need(split / "edges.tsv").read_text(encoding="utf-8").splitlines() if line]
        src = [int(e[0]) for e in edges] + [int(e[1]) for e in edges]
        dst = [int(e[1]) for e in edges] + [int(e[0]) for e in edges]
        A = csr_matrix((np.ones(len(src)), (src, dst)), shape=(n_nodes, n_nodes))
        degree = np.asarray(A.sum(axis=1)).ravel()
        P = diags(1 / np.maximum(degree, 1)) @ A
        F = Y.copy()
        for _ in range(10):
            F = 0.9 * (P @ F) + 0.1 * Y
            F[list(train)] = Y[list(train)]  # clamp the known labels
        scores = F
    else:
        X = _tfidf(split, set(train), targets, n_nodes)

        # multinomial naive Bayes on the TF-IDF weights (a node counts once per label)
        labelled = sorted(train)
        scores = np.zeros((n_nodes, n_labels))
        if targets and labelled and X.shape[1]:
            counts = (csr_matrix(Y[labelled]).T @ X[labelled]).toarray() + 0.1
            log_theta = np.log(counts / counts.sum(axis=1, keepdims=True))
            log_prior = np.log((Y[labelled].sum(axis=0) + 1) / (Y[labelled].sum() + n_labels))
            logits = np.asarray(X[targets] @ log_theta.T) + log_prior
            logits -= logits.max(axis=1, keepdims=True)
            posterior = np.exp(logits)
            scores[targets] = posterior / posterior.sum(axis=1, keepdims=True)
    return [f"{n}\t{' '.join(map(str, _decide(scores[n], prior)))}" for n in targets]


def _tfidf(split: Path, train: set[int], targets: list[int], n_nodes: int):
    """Sublinear TF-IDF rows (L2-normalised) of the training and target nodes' text over the
    tokens of at least two training documents, one row per node. text.tsv is streamed twice,
    for the document frequencies, then for the counts in column numbers: no document's list of
    tokens is kept (14.8 GB at scale 1.0)."""
    import numpy as np

    df = document_frequencies(text for _, text in _documents(split, train))
    vocab = sorted(t for t, c in df.items() if c >= 2)
    idf = np.log((1 + len(train)) / (1 + np.array([df[t] for t in vocab], dtype=float))) + 1
    del df  # every token of the training text: not needed for the second pass
    rows, cols, counts = term_counts(_documents(split, train | set(targets)), {t: i for i, t in enumerate(vocab)})
    return tfidf_matrix(rows, cols, counts, idf, (n_nodes, len(vocab)))


def _documents(split: Path, nodes: set[int]):
    """(node, text) of the lines of text.tsv for ``nodes``, read one line at a time; the text
    stays UTF-8 bytes, which ``tokens`` cuts without decoding."""
    with need(split / "text.tsv").open("rb") as lines:
        for line in lines:
            node, _, text = line.partition(b"\t")
            if int(node) in nodes:
                yield int(node), text


# ------------------------------------------------------------------ tracing


def tracing(split: Path, method: str, on: str, seed: int, predict: str = "head",
            epochs: int = 60, dim: int = 64, lr: float = 0.0025, margin: float = 1.0) -> list[str]:
    """Queries are (known entity, relation): the tail (derived model) when predicting heads,
    the head when predicting tails; lines are ``known<TAB>relation<TAB>ranked candidates``."""
    entities = read_ids(need(split / "entity_ids.del"))
    names = sorted(entities, key=entities.get)
    train = read_triples(split / "train.del")
    held = read_triples(split / f"{on}.del")
    queries = sorted({(t, r) if predict == "head" else (h, r) for h, r, t in held})
    if method == "names":
        return _names(split, names, train, queries, predict)

    E, R = _transe(split, len(names), train, seed, epochs, dim, lr, margin)
    return _nearest(E, R, queries, -1 if predict == "head" else 1)  # the head nearest t - r, the tail nearest h + r


def _transe(split: Path, n_entities: int, train, seed: int, epochs: int, dim: int, lr: float, margin: float):
    """TransE embeddings: ||h + r - t||_2, margin ranking with one corrupted tail or head per
    triple, plain SGD on batches of 1024. A batch touches at most 4096 entities, so its gradient
    is summed into the rows it touches (np.unique), not into an entities x dim zero matrix: the
    same additions in the same order, hence the same floats, without writing every row per batch."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_rel = len(read_ids(need(split / "relation_ids.del")))
    E = rng.normal(scale=1 / np.sqrt(dim), size=(n_entities, dim))
    R = rng.normal(scale=1 / np.sqrt(dim), size=(max(n_rel, 1), dim))
    T = np.array(train, dtype=np.int64).reshape(-1, 3)
    batch = 1024
    for _ in range(epochs if len(T) else 0):
        T = T[rng.permutation(len(T))]
        E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1)
        for start in range(0, len(T), batch):
            b = T[start:start + batch]
            h, r, t = b[:, 0], b[:, 1], b[:, 2]
            corrupt = rng.integers(n_entities, size=len(b))
            tail_side = rng.random(len(b)) < 0.5
            h2, t2 = np.where(tail_side, h, corrupt), np.where(tail_side, corrupt, t)
            dp, dn = E[h] + R[r] - E[t], E[h2] + R[r] - E[t2]
            np_, nn = np.linalg.norm(dp, axis=1) + 1e-9, np.linalg.norm(dn, axis=1) + 1e-9
            active = (margin + np_ - nn) > 0
            if not active.any():
                continue
            gp = dp[active] / np_[active, None]
            gn = dn[active] / nn[active, None]
            rows, slot = np.unique(np.concatenate([h[active], t[active], h2[active], t2[active]]), return_inverse=True)
            gE = np.zeros((len(rows), dim))
            for part, g in zip(np.split(slot, 4), (gp, -gp, -gn, gn)):
                np.add.at(gE, part, g)
            gR = np.zeros_like(R)
            np.add.at(gR, r[active], gp - gn)
            E[rows] -= lr * gE
            R -= lr * gR
    return E, R


def _nearest(E, R, queries, sign: int, chunk: int = 256) -> list[str]:
    """For each (entity q, relation r) the TOP entities nearest to q + sign * r (q itself
    excluded), as ``q<TAB>r<TAB>ranked candidates`` scored by minus the distance; distances to
    every entity, ``chunk`` queries at a time."""
    import numpy as np

    sq = (E * E).sum(axis=1)
    lines = []
    for start in range(0, len(queries), chunk):
        part = queries[start:start + chunk]
        X = E[[q for q, _ in part]] + sign * R[[r for _, r in part]]
        dist = X @ E.T  # then sqrt(max(|x|^2 - 2 x.e + |e|^2, 0)) in place: the same floats, one chunk x entities array
        dist *= -2
        dist += (X * X).sum(axis=1)[:, None]
        dist += sq[None, :]
        np.sqrt(np.maximum(dist, 0, out=dist), out=dist)
        for row, (q, r) in enumerate(part):
            d = dist[row]
            d[q] = np.inf
            top = np.argpartition(d, min(TOP, len(d) - 1))[:TOP + 1]
            top = sorted(top.tolist(), key=lambda i: (d[i], i))[:TOP]
            lines.append(f"{q}\t{r}\t{format_candidates((i, -float(d[i])) for i in top if np.isfinite(d[i]))}")
    return lines


def _cuts(name: str) -> list[int]:
    """Where a strict prefix of a repository name ends (at - _ or .): same-name repos are siblings."""
    return [p for p, ch in enumerate(name) if ch in "-_." and p]


def _model_name(name: str) -> str:
    """The repository name of ``model:owner/name``, lowercased."""
    return name.split(":", 1)[-1].rsplit("/", 1)[-1].lower()


def _jaccard(Q, C, q_sizes, c_sizes):
    """Token-set Jaccard of query rows with candidate rows where they share a token, as
    (rows, columns, values): zero elsewhere, so no dense queries x candidates temporaries."""
    import numpy as np

    inter = (Q @ C.T).tocoo()
    union = q_sizes[inter.row] + c_sizes[inter.col] - inter.data
    return inter.row, inter.col, inter.data / np.maximum(union, 1)


def _names(split: Path, names: list[str], train, queries, predict: str) -> list[str]:
    """Rank every model by: the base's repository name being a strict prefix of the derived
    model's (cut at - _ or .; longer prefixes score higher), name-token Jaccard, tag Jaccard / 4,
    and, to break ties, how often the candidate holds the predicted end in training."""
    import numpy as np
    from scipy.sparse import csr_matrix

    relations = read_ids(need(split / "relation_ids.del"))
    lineage_ids = {i for r, i in relations.items() if r in LINEAGE_RELATIONS}
    end_count = Counter((h if predict == "head" else t) for h, r, t in train if r in lineage_ids)
    tags = defaultdict(set)
    tag_file = split / "entity_tags.tsv"
    if tag_file.exists():
        for line in tag_file.read_text(encoding="utf-8").splitlines():
            e, _, text = line.partition("\t")
            tags[int(e)] = set(text.split())
    cands = [e for e, n in enumerate(names) if n.startswith("model:")]
    if not cands or not queries:
        return [f"{h}\t{r}\t" for h, r in queries]
    model_name = {e: _model_name(names[e]) for e in range(len(names))}
    by_name, by_prefix = defaultdict(list), defaultdict(list)  # candidates by name, by strict prefix of it
    for j, e in enumerate(cands):
        by_name[model_name[e]].append(j)
        for p in _cuts(model_name[e]):
            by_prefix[model_name[e][:p]].append((j, p / max(len(model_name[e]), 1)))
    token_sets = {e: set(_TOKEN.findall(model_name[e])) for e in range(len(names))}

    def matrix(sets, ids, vocab):
        rows = [r for r, e in enumerate(ids) for t in sets[e] if t in vocab]
        cols = [vocab[t] for e in ids for t in sorted(sets[e]) if t in vocab]
        return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(vocab)))

    token_vocab = {t: i for i, t in enumerate(sorted({t for e in cands for t in token_sets[e]}))}
    tag_vocab = {t: i for i, t in enumerate(sorted({t for e in cands for t in tags[e]}))}
    C_tok, C_tag = matrix(token_sets, cands, token_vocab), matrix(tags, cands, tag_vocab)
    c_tok = np.array([len(token_sets[e]) for e in cands], dtype=float)
    c_tag = np.array([len(tags[e]) for e in cands], dtype=float)
    pop = np.array([end_count[e] for e in cands], dtype=float)
    prior = np.log1p(pop) / (np.log1p(pop).max() + 1) * 1e-3
    lines = []
    for start in range(0, len(queries), NAME_QUERIES):
        chunk = queries[start:start + NAME_QUERIES]
        heads = [h for h, _ in chunk]
        score = np.zeros((len(chunk), len(cands)))
        rows, cols, values = _jaccard(matrix(token_sets, heads, token_vocab), C_tok, np.array([len(token_sets[h]) for h in heads], float), c_tok)
        score[rows, cols] = values
        rows, cols, values = _jaccard(matrix(tags, heads, tag_vocab), C_tag, np.array([len(tags[h]) for h in heads], float), c_tag)
        score[rows, cols] += values / 4
        score += prior[None, :]
        for row, (h, r) in enumerate(chunk):
            name = model_name[h]
            if predict == "head":  # candidates named like a prefix of the derived model
                for p in _cuts(name):
                    for j in by_name.get(name[:p], ()):
                        score[row, j] += 1 + p / max(len(name), 1)
            else:  # candidates whose name starts with the base model's
                for j, share in by_prefix.get(name, ()):
                    score[row, j] += 1 + share
            s = score[row]
            top = np.argpartition(-s, min(TOP, len(s) - 1))[:TOP + 1]
            order = sorted(top.tolist(), key=lambda j: (-s[j], cands[j]))
            lines.append(f"{h}\t{r}\t{format_candidates((cands[j], s[j]) for j in order if cands[j] != h)}")
    return lines


RUNNERS = {"recommendation": recommendation, "classification": classification, "tracing": tracing}


def run_baseline(task: str, split: Path, method: str | None, output: Path, on: str = "test", seed: int = 0, **options) -> str:
    """Write ``method``'s predictions (default: the task's first); ``options`` go to the task's
    runner (tracing: ``predict="head"|"tail"``)."""
    method = method or METHODS[task][0]
    write_lines(output, RUNNERS[task](split, method, on, seed, **options))
    return method
