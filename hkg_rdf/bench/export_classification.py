"""Task classification: model and dataset nodes, their task labels, lineage/trained-on edges.

Written under OUT/::

    node_ids.tsv    index<TAB>name<TAB>type<TAB>createdAt<TAB>split (train/valid/test, or - if unlabelled)
    label_ids.tsv   index<TAB>task
    labels.tsv      node<TAB>label label ...   (labelled nodes)
    edges.tsv       source<TAB>target<TAB>relation
    text.tsv        node<TAB>name and README body on one line, first 4,000 characters; the
                    README's YAML front matter (which names the gold task: pipeline_tag,
                    task_categories) is removed unless --keep-front-matter
    data.npz        edge_index [2,E] int64, edge_type [E], y [N,L] uint8, node_type [N],
                    train_mask val_mask test_mask [N] bool, x_binary [N,B] float32 (CogDL's
                    field names), x_tfidf_{data,indices,indptr}: the [N,T] float32 TF-IDF as CSR
    features.json   what each column of x_binary and x_tfidf is
    huggingface_binary.pt huggingface_tfidf.pt   only with torch: one per feature type as
                    HuggingBench ships them; a cogdl.data.Graph when CogDL imports, else a
                    dict of the same tensors (``Graph(**torch.load(path))`` makes the Graph)
    huggingface.pt  the binary one again (a hard link): the name tune_huggingface.py opens
    stats.json

Features are computed here, offline, from the graph alone (no model downloads):
binary  the node's type (model, dataset) and, per edge relation and direction, whether it has
        such an edge: structure only, no tags or text (a model's tags include its pipeline tag)
tfidf   sublinear TF-IDF of text.tsv over the 256 terms found in most training nodes, each
        row L2-normalised (vocabulary and IDF from training nodes only)
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ..export import hub_datetime  # one lexical form, whatever store answered
from .common import Namer, clean, clean_head, prefetched, scanned, write_json, write_lines, write_npz
from .splits import ordered_split

SPLITS = ("train", "valid", "test")
MASKS = ("train_mask", "val_mask", "test_mask")  # CogDL's names
TEXT_CHARS = 4000  # of name + README body, enough for TF-IDF or a BERT-sized encoder
DESCRIPTION_CHARS = 16000  # what the export reads of a README: room for the front matter
TFIDF_TERMS = 256  # dense in the .pt: 1.5 M nodes x 256 float32 = 1.5 GB at full scale
TFIDF_CHUNK = 4096  # documents tokenised at a time
TFIDF_WORKERS = min(4, os.cpu_count() or 1)  # processes sharing the TF-IDF chunks
PARALLEL_DOCUMENTS = 16 * TFIDF_CHUNK  # fewer documents are done in this process
TOKEN = re.compile(r"[a-z0-9]+")  # what a token is; tokens() finds them
_SEPARATE = bytes(c if TOKEN.fullmatch(chr(c)) else 32 for c in range(256))  # tokens()' byte table
_LOWER_SEPARATE = bytes(c + 32 if 65 <= c <= 90 else b for c, b in enumerate(_SEPARATE))  # and A-Z lowered
# The only characters beyond ASCII whose str.lower() holds an ASCII letter (U+0130 -> "i\u0307",
# U+212A KELVIN SIGN -> "k"), in UTF-8: a text without them is lowered and cut as its bytes.
LOWERED_TO_ASCII = ("\u0130".encode(), "\u212a".encode())
# The YAML block huggingface_hub's RepoCard reads as metadata (repocard.REGEX_YAML_BLOCK).
FRONT_MATTER = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
OPENER = re.compile(r"^\s*---(?:\r\n|\r|\n)")


def strip_front_matter(description: str, complete: bool = True) -> tuple[str, bool]:
    """The README without its YAML front matter, as huggingface_hub's RepoCard splits it, and
    whether the text was dropped: a prefix of a README (``complete=False``) that opens a block
    without closing it may hold nothing but metadata."""
    match = FRONT_MATTER.search(description)
    if match:
        return description[match.end():], False
    if not complete and OPENER.match(description):
        return "", True
    return description, False


def export(store, out: Path, namer: Namer, seed: int, ratios: tuple[float, float, float], split: str,
           keep_front_matter: bool = False) -> dict:
    import numpy as np

    nodes_rows, labels, graph = prefetched(store, [("nodes", None), ("labels", None), ("graph", None)], workers=1)
    info, unterminated = _node_info(nodes_rows, scanned(store, "descriptions"), namer, keep_front_matter)
    nodes = sorted(info)
    nid = {n: i for i, n in enumerate(nodes)}
    node_labels: dict[int, set[str]] = {}
    for node, task in labels:
        key = namer.entity(node)
        if key in nid:
            node_labels.setdefault(nid[key], set()).add(namer.entity(task))
    tasks = sorted({t for labels in node_labels.values() for t in labels})
    tid = {t: i for i, t in enumerate(tasks)}
    edges = sorted({(nid[namer.entity(h)], nid[namer.entity(t)], Namer.relation(r)) for h, r, t in graph
                    if namer.entity(h) in nid and namer.entity(t) in nid})
    relations = sorted({r for _, _, r in edges})

    labelled = sorted(node_labels)
    if split == "temporal":
        order = sorted(labelled, key=lambda n: (info[nodes[n]][1], nodes[n]))
    else:
        rng = np.random.default_rng(seed)
        order = [labelled[j] for j in rng.permutation(len(labelled))]
    parts = ordered_split(order, ratios)
    split_of = {n: name for name, part in zip(SPLITS, parts) for n in part}

    texts = [info[n][2] for n in nodes]
    with ThreadPoolExecutor(1) as background:  # the TF-IDF's processes work while this thread writes the rest
        tfidf = background.submit(tfidf_features, texts, parts[0])
        write_lines(out / "node_ids.tsv", (f"{i}\t{n}\t{info[n][0]}\t{info[n][1]}\t{split_of.get(i, '-')}" for i, n in enumerate(nodes)))
        write_lines(out / "label_ids.tsv", (f"{i}\t{t}" for i, t in enumerate(tasks)))
        write_lines(out / "labels.tsv", (f"{n}\t{' '.join(str(tid[t]) for t in sorted(node_labels[n], key=tid.get))}" for n in labelled))
        write_lines(out / "edges.tsv", (f"{h}\t{t}\t{r}" for h, t, r in edges))
        write_lines(out / "text.tsv", (b"%d\t%s" % (i, text) for i, text in enumerate(texts)))

        y = np.zeros((len(nodes), len(tasks)), dtype=np.uint8)
        for n, labels in node_labels.items():
            y[n, [tid[t] for t in labels]] = 1
        masks = {name: np.isin(np.arange(len(nodes)), np.array(part, dtype=np.int64)) for name, part in zip(MASKS, parts)}
        types = sorted({v[0] for v in info.values()})
        node_type = np.array([types.index(info[n][0]) for n in nodes], dtype=np.int64)
        edge_index = np.array([[h for h, _, _ in edges], [t for _, t, _ in edges]], dtype=np.int64).reshape(2, len(edges))
        edge_type = np.array([relations.index(r) for _, _, r in edges], dtype=np.int64)
        x_binary, binary_columns = binary_features(node_type, types, edge_index, edge_type, relations)
        x_tfidf, terms = tfidf.result()
    arrays = {"edge_index": edge_index, "edge_type": edge_type, "y": y, "node_type": node_type, "x_binary": x_binary,
              "x_tfidf_data": x_tfidf.data, "x_tfidf_indices": x_tfidf.indices, "x_tfidf_indptr": x_tfidf.indptr, **masks}
    write_npz(out / "data.npz", arrays)
    write_json(out / "features.json", {"binary": binary_columns, "tfidf": terms})
    torch_export = _write_torch(out, {**arrays, "x_tfidf": x_tfidf})

    stats = {
        "task": "classification", "seed": seed, "ratios": list(ratios), "split": split,
        "front_matter": "kept" if keep_front_matter else "removed", "front_matter_unterminated": len(unterminated),
        "nodes": len(nodes), "nodes_by_type": {t: sum(1 for v in info.values() if v[0] == t) for t in types},
        "labelled_nodes": len(labelled), "labels": len(tasks), "edges": len(edges),
        "edges_by_relation": {r: sum(1 for e in edges if e[2] == r) for r in relations},
        "labels_per_node": float(y.sum() / len(labelled)) if labelled else 0.0,
        "train": len(parts[0]), "valid": len(parts[1]), "test": len(parts[2]),
        "features": {"binary": x_binary.shape[1], "tfidf": x_tfidf.shape[1]}, "torch_export": torch_export,
    }
    write_json(out / "stats.json", stats)
    return stats


def _node_info(nodes, descriptions, namer: Namer, keep_front_matter: bool) -> tuple[dict[str, tuple[str, str, bytes]], set[str]]:
    """Each node's (type, creation time, text in UTF-8), and the nodes whose README prefix opens a
    front matter it does not close. Where a node has several values the smallest row wins,
    whatever the store's order: nodes.rq and descriptions.rq are one query's OPTIONALs split
    in two, so the rows of a node are every (type, time) x every (name, README) and the
    smallest is the smallest of each part. The READMEs are read first, while Oxigraph still
    evaluates nodes.rq (the longer query) in one thread: with a second one evaluating
    labels.rq and graph.rq beside it, the READMEs took 100 s at scale 1.0 instead of 89."""
    bodies, unterminated = _bodies(descriptions, namer, keep_front_matter)
    heads: dict[str, tuple[str, str]] = {}
    names: dict[str, tuple[str, ...]] = {}
    for node, cls, created, name in nodes:
        key = namer.entity(node)
        head = (Namer.relation(cls).lower(), hub_datetime(created) if created else "")
        if key not in heads or head < heads[key]:
            heads[key] = head
        if name not in names.get(key, ()):
            names[key] = (*names.get(key, ()), name)
    info = {}
    for key, head in heads.items():
        starts = bodies.pop(key, (b"",))  # each README start held once: as a body, or in a text
        info[key] = (*head, min(_text(name, body) for name in names[key] for body in starts))
    return info, unterminated & heads.keys()


def _bodies(descriptions, namer: Namer, keep_front_matter: bool) -> tuple[dict[str, tuple[bytes, ...]], set[str]]:
    """Each node's READMEs as the start of its text (cleaned, front matter removed, UTF-8), and
    the nodes whose README prefix opens a front matter it does not close."""
    bodies: dict[str, tuple[bytes, ...]] = {}
    unterminated: set[str] = set()
    for node, description in descriptions:
        key = namer.entity(node)
        description = description[:DESCRIPTION_CHARS]
        body, cut = (description, False) if keep_front_matter else strip_front_matter(description, len(description) < DESCRIPTION_CHARS)
        if cut:
            unterminated.add(key)
        body = clean_head(body, TEXT_CHARS).encode()
        if body not in bodies.get(key, ()):
            bodies[key] = (*bodies.get(key, ()), body)
    return bodies, unterminated


def _text(name: str, body: bytes) -> bytes:
    """A node's text, ``clean(name + " " + README)[:TEXT_CHARS]``, from the README's cleaned
    start (``_bodies``): the two cleaned parts joined by a space are the cleaned whole. Texts
    are kept in UTF-8: most READMEs hold a character beyond Latin-1, which makes Python store
    every character of the str in 2 or 4 bytes (8 GB of texts at scale 1.0, not 2). UTF-8
    sorts as the code points do, so the smallest text is the same."""
    name = clean(name).encode()
    text = name + b" " + body if name and body else name or body
    if len(text) <= TEXT_CHARS:  # no more characters than bytes
        return text
    return text.decode()[:TEXT_CHARS].encode()


def binary_features(node_type, types: list[str], edge_index, edge_type, relations: list[str]):
    """0/1 columns: one per node type, then per relation 'has an outgoing / incoming edge'."""
    import numpy as np

    n = len(node_type)
    x = np.zeros((n, len(types) + 2 * len(relations)), dtype=np.float32)
    x[np.arange(n), node_type] = 1
    for side, ends in (("out", edge_index[0]), ("in", edge_index[1])):
        offset = len(types) + (0 if side == "out" else len(relations))
        x[ends, offset + edge_type] = 1
    columns = [f"type={t}" for t in types] + [f"{side}:{r}" for side in ("out", "in") for r in relations]
    return x, columns


def tfidf_features(texts: list[bytes], train: list[int]):
    """Sublinear TF-IDF rows (L2-normalised, float32 CSR) over the terms in most training
    documents; ties in document frequency go to the smaller term, so the columns are
    deterministic. Rows are weighted and normalised TFIDF_CHUNK documents at a time, so that
    only the float32 matrix is ever whole in memory (the float64 one with its int64 indices
    was 10 GB at scale 1.0), and the chunks are spread over the CPUs: the same rows, in order."""
    import heapq
    from itertools import repeat

    import numpy as np
    from scipy.sparse import csr_matrix, vstack

    with _mapper(len(texts)) as mapped:
        df: Counter = Counter()
        for counted in mapped(document_frequencies, _chunks([texts[n] for n in train])):
            df.update(counted)
        terms = sorted(t for t, _ in heapq.nsmallest(TFIDF_TERMS, df.items(), key=lambda item: (-item[1], item[0])))
        column = {t: j for j, t in enumerate(terms)}
        idf = np.array([math.log((1 + len(train)) / (1 + df[t])) + 1 for t in terms])
        del df
        chunks = list(mapped(_tfidf_rows, _chunks(texts), repeat(column), repeat(idf)))
    x = vstack(chunks, format="csr") if chunks else csr_matrix((0, len(terms)), dtype=np.float32)
    return x, [t.decode() for t in terms]


@contextmanager
def _mapper(documents: int):
    """``map``, or a pool's map over TFIDF_WORKERS processes once there are PARALLEL_DOCUMENTS
    documents to share (below that, starting the processes costs more than they save)."""
    if documents < PARALLEL_DOCUMENTS or TFIDF_WORKERS < 2:
        yield map
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(TFIDF_WORKERS, mp_context=get_context("forkserver")) as pool:  # no fork of a process with threads
        yield pool.map


def _chunks(texts: list[bytes]):
    return (texts[start:start + TFIDF_CHUNK] for start in range(0, len(texts), TFIDF_CHUNK))


def _tfidf_rows(texts: list[bytes], column: dict[bytes, int], idf):
    """The float32 TF-IDF rows of ``texts`` (UTF-8), as the whole matrix would have them: each
    row's weights and norm depend on that row alone."""
    import numpy as np

    rows, cols, counts = term_counts(enumerate(texts), column)
    return tfidf_matrix(rows, cols, counts, idf, (len(texts), len(column))).astype(np.float32).tocsr()


def tfidf_matrix(rows, cols, counts, idf, shape):
    """The sublinear TF-IDF matrix of ``term_counts``' arrays, each row L2-normalised (float64)."""
    import numpy as np
    from scipy.sparse import csr_matrix, diags

    x = csr_matrix(((1 + np.log(counts)) * idf[cols], (rows, cols)), shape=shape)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    return diags(1 / np.maximum(norms, 1e-12)) @ x


def tokens(text: str | bytes) -> list[bytes]:
    """``TOKEN.findall(text.lower())`` as ASCII bytes (``text`` a str, or one in UTF-8), at 60 %
    of its cost: every byte but [a-z0-9] becomes a space (a non-ASCII character is all bytes
    >= 0x80), and bytes.split cuts. UTF-8 is lowered by the byte table itself (no decoding,
    no str.lower) unless it holds one of LOWERED_TO_ASCII."""
    if isinstance(text, bytes):
        if not any(special in text for special in LOWERED_TO_ASCII):
            return text.translate(_LOWER_SEPARATE).split()
        text = text.decode()
    return text.lower().encode().translate(_SEPARATE).split()


def document_frequencies(texts: Iterable[str | bytes]) -> Counter:
    """In how many of ``texts`` each token occurs."""
    df: Counter = Counter()
    for text in texts:
        df.update(set(tokens(text)))
    return df


def term_counts(documents: Iterable[tuple[int, str | bytes]], column: dict[bytes, int]):
    """How often each (row, text) of ``documents`` holds each token of ``column``, as int32
    arrays (rows, columns, counts) in the order of ``documents``, each row's columns ascending
    (a CSR matrix's order, which fixes its float sums). Tokens become column numbers in C
    (``map(dict.get)`` into numpy) TFIDF_CHUNK documents at a time: no Python loop per token,
    no list of every token."""
    from itertools import chain, islice, repeat

    import numpy as np

    width = max(len(column), 1)
    documents = iter(documents)
    parts = [[np.zeros(0, np.int32)] * 3]  # per chunk: rows, columns, counts
    while chunk := list(islice(documents, TFIDF_CHUNK)):
        words = [tokens(text) for _, text in chunk]
        flat = list(chain.from_iterable(words))
        cols = np.fromiter(map(column.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        rows = np.repeat(np.array([row for row, _ in chunk], dtype=np.int64), [len(t) for t in words])
        keys, counts = np.unique(rows[cols >= 0] * width + cols[cols >= 0], return_counts=True)
        parts.append([a.astype(np.int32) for a in (*np.divmod(keys, width), counts)])
    return tuple(np.concatenate(arrays) for arrays in zip(*parts))


def _link(source: Path, name: Path) -> None:
    """``name`` as a second name of ``source`` (a copy where the file system has no hard links)."""
    import shutil

    name.unlink(missing_ok=True)
    try:
        os.link(source, name)
    except OSError:
        shutil.copyfile(source, name)


def _write_torch(out: Path, arrays: dict) -> str | None:
    """One ``huggingface_<features>.pt`` per feature type: a cogdl Graph if CogDL imports, a dict
    of tensors (Graph's keyword arguments) with torch alone; None without torch."""
    import numpy as np

    try:
        import torch
    except ImportError:
        return None
    try:
        from cogdl.data import Graph
    except ImportError:  # CogDL pins old torch and many packages; the dict loads with torch alone
        Graph = None
    shared = {key: torch.from_numpy(arrays[key]) for key in ("edge_index", *MASKS)}
    shared["y"] = torch.from_numpy(arrays["y"].astype("float32"))  # BCEWithLogitsLoss wants float targets
    for features in ("binary", "tfidf"):
        x = arrays[f"x_{features}"]
        fields = {"x": torch.from_numpy(x if isinstance(x, np.ndarray) else x.toarray()), **shared}
        torch.save(Graph(**fields) if Graph else fields, out / f"huggingface_{features}.pt")
        del fields
    _link(out / "huggingface_binary.pt", out / "huggingface.pt")
    return "cogdl.data.Graph" if Graph else "dict"
