"""HuggingBench: exports from real stores (the example release and a small generated one),
their determinism and absence of leakage, metrics against hand-computed values, baselines
end to end through the CLI, and the report."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import BASE, REPO, load_store, must, run_module
from hkg_rdf.bench.metrics import f1_scores, recommendation_scores, tie_rank, tracing_scores
from hkg_rdf.bench.splits import covered_split, kcore, per_user_split
from hkg_rdf.query import run
from hkg_rdf.store import open_read_only

TASKS = ("recommendation", "classification", "tracing")
LINEAGE = ("model_adapter_model", "model_finetune_model", "model_merge_model", "model_quantized_model")


@pytest.fixture(scope="session")
def generated_store(tmp_path_factory) -> Path:
    """A store of a small synthetic release (benchmarks/generate.py, scale 0.002)."""
    root = tmp_path_factory.mktemp("bench-gen")
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), "--scale", "0.002", "--seed", "7", "-o", str(root / "release")],
                   check=True, capture_output=True, timeout=120)
    return load_store(root / "store", root / "release" / "HuggingKG_V20241215000000")


@pytest.fixture(scope="session")
def exports(tmp_path_factory, generated_store, example_store):
    """Every task exported from both stores (seed 3) into <root>/<store>/<task>."""
    from conftest import invoke

    root = tmp_path_factory.mktemp("bench-exports")
    for name, store in (("gen", generated_store), ("example", example_store)):
        for task in TASKS:
            must(invoke("bench", "export", task, "--store", store, "-o", root / name / task, "--seed", 3))
    return root


def files(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def user_items(path: Path) -> set[tuple[int, int]]:
    return {(int(ids[0]), int(i)) for ids in (line.split() for line in path.read_text().splitlines()) for i in ids[1:]}


def triples(path: Path) -> set[tuple[str, ...]]:
    return {tuple(line.split("\t")) for line in path.read_text().splitlines() if line}


# ------------------------------------------------------------------ exports


@pytest.mark.parametrize("task", TASKS)
def test_export_is_byte_identical_for_a_seed(cli, exports, generated_store, tmp_path, task):
    must(cli("bench", "export", task, "--store", generated_store, "-o", tmp_path / task, "--seed", 3))
    again, first = files(tmp_path / task), files(exports / "gen" / task)
    assert again.keys() == first.keys() and again == first
    if task != "classification":  # the default classification split is temporal: no seed in it
        must(cli("bench", "export", task, "--store", generated_store, "-o", tmp_path / "other", "--seed", 4))
        assert files(tmp_path / "other") != first


def test_recommendation_has_no_leakage_and_loses_no_like(exports, generated_store):
    out = exports / "gen" / "recommendation"
    train, valid, test = (user_items(out / f"{n}.txt") for n in ("train", "valid", "test"))
    assert test and valid and not (train & test) and not (train & valid) and not (valid & test)
    store = open_read_only(generated_store)
    likes = int(next(iter(run(store, "SELECT (COUNT(*) AS ?n) WHERE { ?u a hkg:User ; hkg:likes ?i . ?i a ?c "
                                    "VALUES ?c { hkg:Model hkg:Dataset hkg:Space } }")))["n"].value)
    assert len(train) + len(valid) + len(test) == likes
    stats = json.loads((out / "stats.json").read_text())
    assert (stats["train"], stats["valid"], stats["test"]) == (len(train), len(valid), len(test))
    assert {u for u, _ in test} <= {u for u, _ in train}  # every test user has training likes
    for path in (out / "general_cf" / "sparse_huggingface" / "test_mat.pkl", out / "social" / "huggingface" / "tst_mat.pkl"):
        matrix = pickle.loads(path.read_bytes())
        assert set(zip(matrix.row.tolist(), matrix.col.tolist())) == test
        assert matrix.shape == (stats["users"], stats["items"])
    trust = pickle.loads((out / "social" / "huggingface" / "trust_mat.pkl").read_bytes())
    assert trust.shape == (stats["users"], stats["users"]) and trust.nnz == stats["follows"]
    items = [line.split("\t")[1] for line in (out / "item_ids.tsv").read_text().splitlines()]
    for variant in ("1hop", "2hop", "homo", "publish"):
        folder = out / "kg" / f"huggingface_{variant}_kg"
        entities = [line.split()[0] for line in (folder / "entity_list.txt").read_text().splitlines()[1:]]
        assert entities[: len(items)] == items  # items keep their ids
        lines = (folder / "kg_final.txt").read_text().splitlines()
        assert lines and len(lines) == stats["kg_triples"][variant]
        assert all(0 <= int(h) < len(entities) and 0 <= int(t) < len(entities) for h, _, t in (x.split() for x in lines))
    homo = [x.split() for x in (out / "kg" / "huggingface_homo_kg" / "kg_final.txt").read_text().splitlines()]
    assert all(int(h) < len(items) and int(t) < len(items) for h, _, t in homo)


def test_tracing_has_no_leakage_and_covers_entities(exports):
    out = exports / "gen" / "tracing"
    train, valid, test = (triples(out / n) for n in ("training.txt", "validation.txt", "test.txt"))
    assert test and valid and not (train & test) and not (train & valid) and not (valid & test)
    seen = {e for h, _, t in train for e in (h, t)}
    assert {e for h, _, t in valid | test for e in (h, t)} <= seen
    entities = (out / "entity_ids.del").read_text().splitlines()
    for ids, names in (("train", "training"), ("valid", "validation"), ("test", "test")):  # .del = .txt through the id maps
        by_id = [line.split("\t")[1] for line in entities]
        relations = [line.split("\t")[1] for line in (out / "relation_ids.del").read_text().splitlines()]
        decoded = {(by_id[int(h)], relations[int(r)], by_id[int(t)]) for h, r, t in (x.split("\t") for x in (out / f"{ids}.del").read_text().splitlines())}
        assert decoded == triples(out / f"{names}.txt")
    assert {r for _, r, _ in train} == set(LINEAGE)


def test_tracing_with_kg_adds_training_triples_only(cli, exports, generated_store, tmp_path):
    must(cli("bench", "export", "tracing", "--store", generated_store, "-o", tmp_path, "--seed", 3, "--with-kg"))
    train, test = triples(tmp_path / "training.txt"), triples(tmp_path / "test.txt")
    assert len(train) > len(triples(exports / "gen" / "tracing" / "training.txt"))
    assert not train & test and {r for _, r, _ in train} >= {"user_publish_model", "model_finetune_model", "space_use_model"}
    assert {r for _, r, _ in test} <= set(LINEAGE)
    assert all(h.startswith("user:") and t.startswith("model:") for h, r, t in train if r == "user_publish_model")


def test_classification_split_is_temporal_and_consistent(exports):
    out = exports / "gen" / "classification"
    rows = [line.split("\t") for line in (out / "node_ids.tsv").read_text().splitlines()]
    data = np.load(out / "data.npz")
    split = {int(r[0]): r[4] for r in rows}
    created = {int(r[0]): r[3] for r in rows}
    for name, mask in (("train", "train_mask"), ("valid", "val_mask"), ("test", "test_mask")):
        assert sorted(np.flatnonzero(data[mask]).tolist()) == sorted(n for n, s in split.items() if s == name)
    assert max(created[n] for n, s in split.items() if s == "train") <= min(created[n] for n, s in split.items() if s == "test")
    labelled = {int(line.split("\t")[0]) for line in (out / "labels.tsv").read_text().splitlines()}
    assert labelled == {n for n, s in split.items() if s != "-"} == set(np.flatnonzero(data["y"].sum(axis=1)).tolist())
    edges = [line.split("\t") for line in (out / "edges.tsv").read_text().splitlines()]
    assert data["edge_index"].shape == (2, len(edges))
    stats = json.loads((out / "stats.json").read_text())
    assert stats["nodes"] == len(rows) and stats["edges"] == len(edges)
    assert sorted(data) == ["edge_index", "edge_type", "node_type", "test_mask", "train_mask", "val_mask", "x_binary",
                            "x_tfidf_data", "x_tfidf_indices", "x_tfidf_indptr", "y"]


def test_classification_random_split_follows_the_seed(cli, generated_store, tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        must(cli("bench", "export", "classification", "--store", generated_store, "-o", tmp_path / name, "--seed", seed, "--split-by", "random", "--ratios", "6:2:2"))
    assert files(tmp_path / "a") == files(tmp_path / "b") != files(tmp_path / "c")
    stats = json.loads((tmp_path / "a" / "stats.json").read_text())
    assert abs(stats["train"] - 0.6 * stats["labelled_nodes"]) <= 1


def test_example_store_exports(exports):
    stats = {t: json.loads((exports / "example" / t / "stats.json").read_text()) for t in TASKS}
    assert stats["recommendation"]["interactions"] == 22  # 11 + 6 + 5 likes in examples/
    assert stats["tracing"]["lineage_triples"] == 11
    assert stats["classification"]["nodes"] == 26  # 17 models + 9 datasets
    items = (exports / "example" / "recommendation" / "item_ids.tsv").read_text()
    assert "\tmodel:meta-llama/Llama-2-7b-hf\n" in items


# ------------------------------------------------------------------ splits


def test_prefetched_queries_read_as_the_whole_graph(generated_store):
    """kg.rq once per property of kg_properties, evaluated ahead in threads, gives in order
    each query's rows as ``stream`` does, and together every entity-to-entity triple of the
    store but the likes: the same rows as one query over every hkg: property between entities."""
    from hkg_rdf.bench.common import kg_queries, prefetched, stream
    from hkg_rdf.vocab import vocabulary

    store = open_read_only(generated_store)
    queries = [("likes", None), *kg_queries()]
    fetched = [list(rows) for rows in prefetched(store, queries)]
    assert fetched == [list(stream(store, name, bindings)) for name, bindings in queries]
    assert fetched[0] and all(len(row) == 3 for rows in fetched[1:] for row in rows)
    entities = " ".join(f"<{t.cls}>" for t in vocabulary().types)
    everything = run(store, f"""SELECT ?h ?r ?t WHERE {{ ?h ?r ?t . FILTER(?r != hkg:likes && STRSTARTS(STR(?r), STR(hkg:)))
        ?h a ?a . ?t a ?b . VALUES ?a {{ {entities} }} VALUES ?b {{ {entities} }} }}""")
    assert sorted(row for rows in fetched[1:] for row in rows) == sorted((h.value, r.value, t.value) for h, r, t in everything)


def test_scanned_rows_are_the_query_rows(generated_store):
    """``scanned`` reads a one-pattern query from the store's index: the same rows as the query
    (``stream``) for the generated READMEs and for an IRI, a blank node and literals holding
    quotes, commas and line breaks; a query of more than one pattern is refused, not guessed."""
    import pyoxigraph as ox

    from hkg_rdf.bench.common import scanned, stream
    from hkg_rdf.vocab import HKG

    store = open_read_only(generated_store)
    assert sorted(scanned(store, "descriptions")) == sorted(stream(store, "descriptions")) != []
    mixed = ox.Store()
    for n, value in enumerate([ox.NamedNode("http://example.org/o"), ox.BlankNode("b1"), ox.Literal('say "hi", then\r\nleave'),
                               ox.Literal("x", language="en"), ox.Literal("")]):
        subject = ox.BlankNode(f"s{n}") if n % 2 else ox.NamedNode(f"http://example.org/s{n}")
        mixed.add(ox.Quad(subject, ox.NamedNode(HKG + "description"), value))
    mixed.add(ox.Quad(ox.NamedNode("http://example.org/g"), ox.NamedNode(HKG + "description"), ox.Literal("in a graph"),
                      ox.NamedNode("http://example.org/graph")))
    rows = sorted(scanned(mixed, "descriptions"))
    assert rows == sorted(stream(mixed, "descriptions")) and len(rows) == 5
    with pytest.raises(ValueError, match="nodes.rq is not one triple pattern"):
        list(scanned(store, "nodes"))


@pytest.mark.parametrize("first", ["plain", "quoted"])
def test_query_rows_are_read_as_the_csv_module_reads_them(tmp_path, first):
    """Oxigraph's SPARQL CSV, read line by line up to the first double quote: the same rows
    as csv.reader gives, with commas, quotes and line breaks in values and empty and unbound
    values, quoted first or later. An IRI holding a comma, which Oxigraph leaves unquoted, is
    an error naming the query, not a row shifted by one value."""
    import csv

    import pyoxigraph as ox

    from hkg_rdf.bench.common import _rows
    from hkg_rdf.errors import InputError

    ex = "http://example.org/"
    values = [ox.NamedNode(ex + "a"), ox.Literal(""), ox.Literal("plain"), ox.Literal('say "hi", then\r\nleave'),
              ox.Literal("x\ny"), ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))]
    if first == "quoted":
        values.insert(0, values.pop(3))
    store = ox.Store()
    for n, value in enumerate(values):
        store.add(ox.Quad(ox.NamedNode(f"{ex}s{n}"), ox.NamedNode(ex + "p"), value))
    query = f"SELECT ?s ?o ?none WHERE {{ ?s <{ex}p> ?o }} ORDER BY ?s"
    path = tmp_path / "rows.csv"
    store.query(query).serialize(str(path), ox.QueryResultsFormat.CSV)
    with open(path, encoding="utf-8", newline="") as text:
        expected = [tuple(row) for row in csv.reader(text)][1:]
    assert list(_rows(open(path, "rb"), "q")) == expected
    assert len(expected) == len(values) and {len(row) for row in expected} == {3}

    comma_row = "s!" if first == "plain" else "s9"  # read before the quoted row, or by the csv module after it
    store.add(ox.Quad(ox.NamedNode(ex + comma_row), ox.NamedNode(ex + "p"), ox.NamedNode(ex + "b,c")))
    store.query(query).serialize(str(path), ox.QueryResultsFormat.CSV)
    with pytest.raises(InputError, match=r"^q\.rq: a result row of 4 values for 3 variables.*http://example.org/b,c"):
        list(_rows(open(path, "rb"), "q"))


def test_npz_stores_what_deflate_cannot_shrink_and_reads_back(tmp_path):
    """write_npz deflates an array that compresses (zeros) and stores one that does not (random
    floats, like the TF-IDF weights); numpy.load reads both back equal, and writing the same
    arrays again gives the same bytes."""
    import zipfile

    import numpy as np

    from hkg_rdf.bench.common import write_npz

    arrays = {"noise": np.random.default_rng(0).random(300_000, dtype=np.float32), "zeros": np.zeros((1000, 300), np.uint8),
              "tiny": np.arange(3)}
    write_npz(tmp_path / "a.npz", arrays)
    write_npz(tmp_path / "b.npz", arrays)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    methods = {i.filename: i.compress_type for i in zipfile.ZipFile(tmp_path / "a.npz").infolist()}
    assert methods == {"noise.npy": zipfile.ZIP_STORED, "tiny.npy": zipfile.ZIP_DEFLATED, "zeros.npy": zipfile.ZIP_DEFLATED}
    with np.load(tmp_path / "a.npz") as loaded:
        assert loaded.files == ["noise", "tiny", "zeros"]
        assert all(np.array_equal(loaded[k], v) and loaded[k].dtype == v.dtype for k, v in arrays.items())


def test_splits_units():
    assert kcore([("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("c", "x")], 2) == [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")]
    pairs = [(0, i) for i in range(10)] + [(1, 0)] + [(2, 0), (2, 1)]
    train, valid, test = per_user_split(pairs, (0.8, 0.1, 0.1), np.random.default_rng(0))
    assert len([p for p in test if p[0] == 0]) == 1 and len([p for p in valid if p[0] == 0]) == 1
    assert (1, 0) in train and {p for p in train if p[0] == 2} == {(2, 0), (2, 1)}  # too few to hold out
    chain = [("a", "r", "b"), ("b", "r", "c"), ("c", "r", "d")]
    train, valid, test = covered_split(chain, 1, 1, np.random.default_rng(0))
    assert valid + test == [("b", "r", "c")]  # holding out an end link would orphan its end entity
    assert covered_split(chain[:2], 1, 1, np.random.default_rng(0))[0] == chain[:2]


def test_per_user_split_draws_and_cuts_as_one_loop_per_user():
    """The split, computed on arrays, equals the plain per-user loop it replaced: sort the
    pairs, draw a permutation of each user's sorted items in user order, hold out the first
    items of it (rounded half up, one left for training), each part sorted."""
    import random

    def reference(pairs, ratios, rng):
        by_user = {}
        for user, item in sorted(set(pairs)):
            by_user.setdefault(user, []).append(item)
        parts = ([], [], [])
        for user in sorted(by_user):
            items = by_user[user]
            order = [items[j] for j in rng.permutation(len(items))]
            n = len(items)
            n_test, n_valid = int(n * ratios[2] + 0.5), int(n * ratios[1] + 0.5)
            while n_test + n_valid > n - 1 and (n_test or n_valid):
                if n_valid >= n_test and n_valid:
                    n_valid -= 1
                else:
                    n_test -= 1
            for part, cut in zip(parts, (order[n_test + n_valid:], order[n_test:n_test + n_valid], order[:n_test])):
                part += [(user, i) for i in sorted(cut)]
        return parts

    draw = random.Random(3)
    for seed, ratios in enumerate([(0.8, 0.1, 0.1), (0.5, 0.25, 0.25), (0.6, 0.0, 0.4), (1.0, 0.0, 0.0)] * 5):
        pairs = [(draw.randrange(40), draw.randrange(60)) for _ in range(draw.randrange(0, 900))]
        expected = reference(pairs, ratios, np.random.default_rng(seed))
        assert per_user_split(pairs, ratios, np.random.default_rng(seed)) == expected, (seed, ratios)


def test_clean_head_is_the_head_of_clean():
    """The classification text cleans only a prefix of a long README: the same as cleaning it all."""
    import random

    from hkg_rdf.bench.common import clean, clean_head

    rng = random.Random(0)
    pieces = ["a", "bc", "word", " ", "  ", "\n", "\t", "\r\n", "\u2028", "\u3000", "\x1c", "é"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 120)))
        for limit in (1, 2, 7, 30):
            assert clean_head(text, limit) == clean(text)[:limit], (text, limit)
    assert clean_head("x" * 50 + " y", 5) == "xxxxx"  # one word longer than the prefix tried


def test_node_text_joins_the_cleaned_name_and_readme_start(monkeypatch):
    """A node's text is built from its README's cleaned start (computed while nodes.rq still
    runs) and its name: the same as cleaning "name README" whole and keeping TEXT_CHARS
    characters, with names and READMEs that are blank, all space or longer than the limit, and
    characters of 2 to 4 UTF-8 bytes at the cut."""
    import random

    from hkg_rdf.bench import export_classification as ec
    from hkg_rdf.bench.common import clean, clean_head

    rng = random.Random(1)
    pieces = ["a", "bc", "word", " ", "  ", "\n", "\u3000", "\x85", "é", "\u20ac", "\U0001f917"]
    for limit in (1, 3, 8, 25):
        monkeypatch.setattr(ec, "TEXT_CHARS", limit)
        for _ in range(1000):
            name, readme = ("".join(rng.choice(pieces) for _ in range(rng.randint(0, n))) for n in (8, 40))
            text = ec._text(name, clean_head(readme, limit).encode())
            assert text == clean(f"{name} {readme}")[:limit].encode(), (name, readme, limit)


def test_recommendation_metrics_by_hand():
    train = {0: {1}}
    truth = {0: {2, 3}, 1: {4}, 2: set()}  # user 2 has no test items: skipped
    predictions = {(0,): [(1, None), (2, None), (5, None), (3, None)]}  # item 1 is masked; user 1 predicted nothing
    scores = recommendation_scores(train, truth, predictions, ks=(1, 5))
    assert scores["users"] == 2
    assert scores["recall@1"] == pytest.approx((1 / 2 + 0) / 2)
    assert scores["ndcg@1"] == pytest.approx((1 + 0) / 2)
    assert scores["recall@5"] == pytest.approx((1 + 0) / 2)
    assert scores["ndcg@5"] == pytest.approx((1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3)) / 2)
    # scores re-rank; a tie goes to the smaller item id
    tied = {(0,): [(5, 0.9), (3, 0.9), (2, 0.1)]}
    assert recommendation_scores({}, {0: {3}}, tied, ks=(1,))["recall@1"] == 1.0
    assert recommendation_scores({}, {0: {5}}, tied, ks=(1,))["recall@1"] == 0.0


def test_f1_by_hand():
    scores = f1_scores({0: {1}, 1: {1, 2}, 2: {3}}, {0: {1}, 1: {2, 4}, 2: set()})
    assert scores["micro_f1"] == pytest.approx(4 / 7)  # TP 2, FP 1, FN 2
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 1 + 0 + 0) / 4)
    assert f1_scores({0: {1}}, {})["micro_f1"] == 0.0
    assert f1_scores({0: {1}}, {0: {1}}, n_labels=4)["macro_f1"] == 0.25  # absent labels score 0, as in scikit-learn


def test_f1_equals_scikit_learn_on_a_baseline(cli, exports, tmp_path):
    """micro-F1 (CogDL's MultiLabelMicroF1 is scikit-learn's micro average) and macro-F1 over all
    labels, against sklearn.metrics.f1_score on the label-indicator matrices, to 1e-15."""
    from sklearn.metrics import f1_score

    split = exports / "gen" / "classification"
    must(cli("bench", "baseline", "classification", "--split", split, "--method", "tfidf", "-o", tmp_path / "p.tsv"))
    ours = json.loads(must(cli("bench", "eval", "classification", "--split", split, "--predictions", tmp_path / "p.tsv", "--json")).stdout)
    n_labels = len((split / "label_ids.tsv").read_text().splitlines())
    gold = {int(n): [int(x) for x in ls.split()] for n, ls in (line.split("\t") for line in (split / "labels.tsv").read_text().splitlines())}
    guess = {int(n): [int(x) for x in ls.split()] for n, ls in (line.split("\t") for line in (tmp_path / "p.tsv").read_text().splitlines())}
    test = sorted(guess)
    Y, P = np.zeros((len(test), n_labels), dtype=int), np.zeros((len(test), n_labels), dtype=int)
    for row, node in enumerate(test):
        Y[row, gold[node]] = 1
        P[row, guess[node]] = 1
    assert abs(ours["micro_f1"] - f1_score(Y, P, average="micro")) <= 1e-15
    assert abs(ours["macro_f1"] - f1_score(Y, P, average="macro", zero_division=0)) <= 1e-15


def test_filtered_mrr_by_hand():
    known = [(0, 0, 1), (0, 0, 2), (5, 1, 6)]
    test = [(0, 0, 1), (5, 1, 6)]
    ranked = {(0, 0): [(2, None), (3, None), (1, None)], (5, 1): [(7, None)]}  # 2 is filtered; 6 is missing
    scores = tracing_scores(test, known, ranked, predict="tail")
    assert scores["mrr"] == pytest.approx((1 / 2 + 0) / 2)
    assert (scores["hits@1"], scores["hits@3"]) == (0.0, 0.5)
    tied = {(0, 0): [(4, 0.9), (3, 0.5), (1, 0.5), (2, 1.0)]}  # 2 filtered, 4 above, 3 tied: rank 2.5
    scores = tracing_scores([(0, 0, 1)], known, tied, predict="tail")
    assert scores["mrr"] == pytest.approx(1 / 2.5)
    assert (scores["hits@1"], scores["hits@3"]) == (0.0, 1.0)
    # LibKGE's rounded_mean_rank: 0-based greater + num_ties // 2, num_ties counting the answer
    assert tracing_scores([(0, 0, 1)], known, tied, predict="tail", ties="rounded")["mrr"] == pytest.approx(1 / 3)
    # head prediction (the default): the query is (tail, relation), the answers are heads
    heads = [(1, 0, 9), (2, 0, 9), (3, 1, 9)]
    scores = tracing_scores([(1, 0, 9)], heads, {(9, 0): [(2, None), (7, None), (1, None)]})
    assert scores["predict"] == "head" and scores["mrr"] == pytest.approx(1 / 2)  # 2 is another known head


def test_tie_rules_follow_libkge_example():
    """LibKGE's config-default.yaml: scores a:10 b:10 c:10 d:11 e:9, true answer a -> worst 4,
    best 2, rounded_mean_rank 3 (1-based)."""
    assert (tie_rank(1, 2, "worst"), tie_rank(1, 2, "best"), tie_rank(1, 2, "rounded"), tie_rank(1, 2, "mean")) == (4, 2, 3, 3.0)
    assert (tie_rank(0, 1, "rounded"), tie_rank(0, 1, "mean")) == (2, 1.5)  # one other tied: LibKGE 0 + 2 // 2


# ------------------------------------------------------------------ baselines, eval, report (CLI)


@pytest.mark.parametrize("task,method", [("recommendation", "popularity"), ("recommendation", "itemknn"), ("recommendation", "gfcf"), ("classification", "propagation"),
                                         ("classification", "tfidf"), ("tracing", "names"), ("tracing", "transe")])
def test_baseline_end_to_end(cli, exports, tmp_path, task, method):
    for store in ("gen", "example"):
        split = exports / store / task
        predictions = tmp_path / f"{store}-{method}.tsv"
        must(cli("bench", "baseline", task, "--split", split, "--method", method, "-o", predictions))
        assert predictions.read_text().strip()
        result = must(cli("bench", "eval", task, "--split", split, "--predictions", predictions, "--json", "-o", tmp_path / f"{store}.json"))
        metrics = json.loads(result.stdout)
        assert metrics == json.loads((tmp_path / f"{store}.json").read_text())
        assert all(0.0 <= v <= 1.0 for k, v in metrics.items() if isinstance(v, float))
        if store == "gen":  # enough data for every baseline to find something
            assert max(v for v in metrics.values() if isinstance(v, float)) > 0


def test_popularity_predictions_exclude_training_items(cli, exports, tmp_path):
    split = exports / "gen" / "recommendation"
    must(cli("bench", "baseline", "recommendation", "--split", split, "-o", tmp_path / "p.tsv"))
    predicted = user_items(tmp_path / "p.tsv")
    assert predicted and not predicted & user_items(split / "train.txt")
    test_users = {u for u, _ in user_items(split / "test.txt")}
    assert {u for u, _ in predicted} == test_users


def test_cli_errors(cli, exports, example_store, tmp_path):
    split = exports / "example" / "recommendation"
    result = cli("bench", "export", "recommendation", "--store", example_store, "-o", tmp_path / "x", "--ratios", "8:1")
    assert result.exit_code == 2 and "--ratios" in result.output
    result = cli("bench", "baseline", "recommendation", "--split", split, "--method", "transe", "-o", tmp_path / "p.tsv")
    assert result.exit_code == 2 and "not a recommendation baseline" in result.output
    result = cli("bench", "eval", "tracing", "--split", split, "--predictions", split / "train.txt")
    assert result.exit_code == 2 and "train.del" in result.output
    (tmp_path / "bad.tsv").write_text("0\tx y\n")
    result = cli("bench", "eval", "recommendation", "--split", split, "--predictions", tmp_path / "bad.tsv")
    assert result.exit_code == 2 and "bad.tsv:1" in result.output
    result = cli("bench", "export", "tracing", "--store", tmp_path / "nostore", "-o", tmp_path / "y")
    assert result.exit_code == 2
    result = cli("bench", "report", tmp_path, "-o", tmp_path / "r.md")
    assert result.exit_code == 2 and "stats.json" in result.output


def test_report(cli, exports, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(exports / "gen", root)
    for task, method in (("recommendation", "popularity"), ("tracing", "names")):
        must(cli("bench", "baseline", task, "--split", root / task, "-o", tmp_path / f"{task}.tsv"))
        must(cli("bench", "eval", task, "--split", root / task, "--predictions", tmp_path / f"{task}.tsv", "-o", root / task / "scores" / f"{method}.json"))
    must(cli("bench", "report", root, "-o", tmp_path / "report.md"))
    text = (tmp_path / "report.md").read_text()
    assert "## recommendation" in text and "## classification" in text and "| popularity |" in text and "| names |" in text
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def dense_likes(split: Path) -> np.ndarray:
    n_items = len((split / "item_ids.tsv").read_text().splitlines())
    n_users = len((split / "user_ids.tsv").read_text().splitlines())
    X = np.zeros((n_users, n_items))
    for u, i in user_items(split / "train.txt"):
        X[u, i] = 1
    return X


def dense_links(X: np.ndarray, method: str, k: int) -> np.ndarray:
    """item-kNN's P(j | i) or GF-CF's R~^T R~, dense and without its diagonal, each row cut to
    its k largest entries by (-value, j) (np.lexsort, one row at a time)."""
    pop, du = X.sum(axis=0), X.sum(axis=1)
    if method == "itemknn":
        C, scale = X.T @ X, 1 / np.maximum(pop, 1)
    else:
        R = X / np.sqrt(np.maximum(du, 1))[:, None] / np.sqrt(np.maximum(pop, 1))
        C, scale = R.T @ R, np.ones(len(pop))
    np.fill_diagonal(C, 0)
    N = np.zeros_like(C)
    for i, row in enumerate(C):
        kept = [j for j in np.lexsort((np.arange(len(row)), -row)) if row[j] > 0][:k]
        N[i, kept] = row[kept] * scale[i]
    return N


def dense_recommendation_scores(split: Path, method: str, users: list[int], N: np.ndarray) -> np.ndarray:
    """itemknn / gfcf scores of ``users`` on every item, straight from their definitions with
    dense numpy matrices, given the links N (GF-CF's singular vectors from the module's
    randomized SVD)."""
    from hkg_rdf.bench.recommenders import GFCF_ALPHA, GFCF_RANK, _top_right_singular_vectors
    from scipy.sparse import csr_matrix

    X = dense_likes(split)
    pop, du = X.sum(axis=0), X.sum(axis=1)
    tie = pop / (pop.max() + 1) * 1e-6
    if method == "itemknn":
        return X[users] @ N + tie
    inv_i = 1 / np.sqrt(np.maximum(pop, 1))
    R = X / np.sqrt(np.maximum(du, 1))[:, None] * inv_i
    V = _top_right_singular_vectors(csr_matrix(R), min(GFCF_RANK, min(X.shape) - 1), np.random.default_rng(0))
    return X[users] @ N + tie + GFCF_ALPHA * ((X[users] * inv_i) @ V) @ V.T / inv_i


def assert_top_40(ranked: list[int], scores: np.ndarray, seen: set[int]) -> None:
    """``ranked`` is the 40 unseen items of highest score, ties to the smaller id (scores
    equal within 1e-12 of the largest count as tied: float order differs from ours)."""
    tol = 1e-12 * np.abs(scores).max()
    unseen = [i for i in range(len(scores)) if i not in seen]
    assert len(ranked) == len(set(ranked)) == min(40, len(unseen)) and not set(ranked) & seen
    for a, b in zip(ranked, ranked[1:]):
        assert scores[a] > scores[b] + tol or (abs(scores[a] - scores[b]) <= tol and a < b), (a, b)
    last, chosen = scores[ranked[-1]], set(ranked)
    tied = [i for i in ranked if abs(scores[i] - last) <= tol]
    for j in unseen:
        if j not in chosen:
            assert scores[j] < last - tol or (abs(scores[j] - last) <= tol and j > max(tied)), j


def module_links(split: Path, method: str) -> np.ndarray:
    """N as the module builds it, every row, dense."""
    from hkg_rdf.bench import recommenders
    from scipy.sparse import csr_matrix

    X = csr_matrix(dense_likes(split))
    pop = np.asarray(X.sum(axis=0)).ravel()
    model = recommenders._GfCf(X, pop * 0, 0) if method == "gfcf" else recommenders._ItemKnn(X, pop, pop * 0)
    return model.neighbours(np.arange(X.shape[1])).toarray()


@pytest.mark.parametrize("method", ["itemknn", "gfcf"])
@pytest.mark.parametrize("k,products", [(100, 1 << 24), (5, 300)])
def test_links_are_each_items_strongest(exports, monkeypatch, method, k, products):
    """Each row of N keeps the k largest entries of its row of P(j | i) or R~^T R~ (no
    diagonal), ties to the smaller item: exactly on item-kNN's co-like counts; for GF-CF's
    floats, whatever was dropped is no larger than what was kept (within rounding). Small
    PRODUCTS builds the rows in many blocks."""
    from hkg_rdf.bench import recommenders

    monkeypatch.setattr(recommenders, "NEIGHBOURS", k)
    monkeypatch.setattr(recommenders, "PRODUCTS", products)
    split = exports / "gen" / "recommendation"
    X = dense_likes(split)
    ours, dense = module_links(split, method), dense_links(X, method, X.shape[1])  # dense: rows uncut
    assert (np.count_nonzero(dense, axis=1) > k).sum() > 10  # the cut matters on this split
    if method == "itemknn":
        assert np.array_equal(ours, dense_links(X, method, k))
        return
    tol = 1e-12 * dense.max()
    assert np.allclose(ours[ours > 0], dense[ours > 0], rtol=1e-12, atol=0)
    for row, full in zip(ours, dense):
        assert np.count_nonzero(row) == min(k, np.count_nonzero(full))
        if (full > 0).sum() > k:
            assert full[(row == 0) & (full > 0)].max() <= full[row > 0].min() + tol


@pytest.mark.parametrize("method", ["itemknn", "gfcf"])
@pytest.mark.parametrize("pruned", [False, True])
def test_recommendation_ranking_equals_dense_scores(exports, monkeypatch, method, pruned):
    """The top 40 equals the one of the dense scores, given the module's links, for every test
    user. On this small split the first chunk holds every item by default; pruned, chunks and
    batches are so small that the bounds decide for some users and not others."""
    from hkg_rdf.bench import recommenders

    split = exports / "gen" / "recommendation"
    if pruned:
        for name, value in (("BATCH", 16), ("CHUNK", 48), ("NEIGHBOURS", 5)):
            monkeypatch.setattr(recommenders, name, value)
    calls, score = [], recommenders._score
    monkeypatch.setattr(recommenders, "_score", lambda model, sparse, a, items: calls.append(len(items)) or score(model, sparse, a, items))
    lines = recommenders.recommendation(split, method, "test", 0)
    ranked = {int(u): [int(i) for i in items.split()] for u, items in (line.split("\t") for line in lines)}
    train = {}
    for u, i in user_items(split / "train.txt"):
        train.setdefault(u, set()).add(i)
    users = sorted(ranked)
    assert users == sorted({u for u, _ in user_items(split / "test.txt")})
    for u, scores in zip(users, dense_recommendation_scores(split, method, users, module_links(split, method))):
        assert_top_40(ranked[u], scores, train.get(u, set()))
    more = len(calls) - len(users)  # users scored on chunks beyond their first
    assert 0 < more < len(users) if pruned else more == 0


def test_recommendation_k_core(cli, generated_store, tmp_path):
    must(cli("bench", "export", "recommendation", "--store", generated_store, "-o", tmp_path, "--k-core", 3))
    likes = user_items(tmp_path / "train.txt") | user_items(tmp_path / "valid.txt") | user_items(tmp_path / "test.txt")
    from collections import Counter

    users, items = Counter(u for u, _ in likes), Counter(i for _, i in likes)
    assert likes and min(users.values()) >= 3 and min(items.values()) >= 3
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert (stats["users"], stats["items"], stats["interactions"]) == (len(users), len(items), len(likes))


# ------------------------------------------------------------------ the experiment code's own readers
# Each reader below follows, line by line, the function of HuggingBench's experiment code named
# in its docstring (nju-websoft/HuggingBench, resource_recommendation/SSLRec/data_utils/; LibKGE
# uma-pi1/kge, kge/dataset.py; CogDL THUDM/CogDL, cogdl/datasets/customized_data.py), minus
# torch tensors and data loaders: same file names, headers, parsers, dtypes and pickle handling.

SSLREC_DATASETS = "datasets"  # SSLRec's predir is ./datasets/<kind>/<name>/: our export's general_cf, social, kg


def sslrec_load_one_mat(file: Path):
    """DataHandlerGeneralCF._load_one_mat / DataHandlerSocial._load_one_mat."""
    from scipy.sparse import coo_matrix

    with open(file, "rb") as fs:
        mat = (pickle.load(fs) != 0).astype(np.float32)
    if type(mat) != coo_matrix:  # noqa: E721 (the handler's own test)
        mat = coo_matrix(mat)
    return mat


def sslrec_test_users(coomat) -> tuple[np.ndarray, list[list[int]]]:
    """datasets_general_cf.AllRankTstData.__init__: the users with held-out items, their items."""
    user_pos_lists = [list() for _ in range(coomat.shape[0])]
    test_users = set()
    for i in range(len(coomat.data)):
        user_pos_lists[coomat.row[i]].append(coomat.col[i])
        test_users.add(coomat.row[i])
    return np.array(list(test_users)), user_pos_lists


def test_sslrec_general_cf_reads_the_export(exports):
    predir = exports / "gen" / "recommendation" / "general_cf" / "sparse_huggingface"  # DataHandlerGeneralCF.__init__
    trn_mat = sslrec_load_one_mat(predir / "train_mat.pkl")
    tst_mat = sslrec_load_one_mat(predir / "test_mat.pkl")
    val_mat = sslrec_load_one_mat(predir / "valid_mat.pkl")
    user_num, item_num = trn_mat.shape  # load_data: configs['data']['user_num'], ['item_num']
    stats = json.loads((exports / "gen" / "recommendation" / "stats.json").read_text())
    assert (user_num, item_num) == (stats["users"], stats["items"]) == tst_mat.shape == val_mat.shape
    assert trn_mat.dtype == np.float32 and set(trn_mat.data.tolist()) == {1.0}
    root = exports / "gen" / "recommendation"
    for mat, name in ((trn_mat, "train"), (val_mat, "valid"), (tst_mat, "test")):
        users, positives = sslrec_test_users(mat)
        assert {(u, i) for u in users.tolist() for i in positives[u]} == user_items(root / f"{name}.txt")
    # PairwiseTrnData: rows/cols of the COO matrix and its dok form
    assert len(trn_mat.todok()) == stats["train"] == len(trn_mat.row)


def test_sslrec_social_reads_the_export(exports):
    root = exports / "gen" / "recommendation"
    predir = root / "social" / "huggingface"  # DataHandlerSocial.__init__
    trn_mat, tst_mat, val_mat = (sslrec_load_one_mat(predir / n) for n in ("trn_mat.pkl", "tst_mat.pkl", "val_mat.pkl"))
    trust_mat = sslrec_load_one_mat(predir / "trust_mat.pkl")
    category_mat = sslrec_load_one_mat(predir / "category.pkl")
    # _create_category_dict
    category_dict: dict[int, list[int]] = {}
    category_data = category_mat.toarray()
    for iid in range(category_data.shape[0]):
        for typeid in np.where(category_data[iid])[0]:
            category_dict.setdefault(typeid, []).append(iid)
    user_num, item_num = trn_mat.shape
    assert trust_mat.shape == (user_num, user_num) and category_mat.shape[0] == item_num  # _gen_uu_vv_graph's assertion
    assert trust_mat.nnz > 0 and category_mat.nnz > item_num  # every item has its type, some a task too
    names = [line.split("\t")[1] for line in (root / "category_ids.tsv").read_text().splitlines()]
    items = [line.split("\t")[1] for line in (root / "item_ids.tsv").read_text().splitlines()]
    assert names[:3] == ["model", "dataset", "space"] and all(n.startswith("task:") for n in names[3:])
    for typeid, members in category_dict.items():
        if typeid < 3:
            assert all(items[i].startswith(names[typeid] + ":") for i in members)
    assert (trn_mat != tst_mat).nnz == trn_mat.nnz + tst_mat.nnz  # disjoint
    # MHCN's _build_motif_induced_adjacency_matrix starts from S = trust, Y = trn: the products it needs
    assert (trust_mat.multiply(trust_mat.T)).shape == (user_num, user_num) and (trn_mat.dot(trn_mat.T)).shape == (user_num, user_num)


def sslrec_read_cf(file_name: Path) -> np.ndarray:
    """DataHandlerKG._read_cf."""
    inter_mat = list()
    lines = open(file_name, "r").readlines()
    for l in lines:  # noqa: E741 (the handler's name)
        tmps = l.strip()
        inters = [int(i) for i in tmps.split(" ")]
        u_id, pos_ids = inters[0], inters[1:]
        pos_ids = list(set(pos_ids))
        for i_id in pos_ids:
            inter_mat.append([u_id, i_id])
    return np.array(inter_mat)


def sslrec_read_triplets(triplet_file: Path) -> np.ndarray:
    """DataHandlerKG._read_triplets: unique canonical triples, inverses, +1 for 'interact'."""
    can_triplets_np = np.loadtxt(triplet_file, dtype=np.int32)
    can_triplets_np = np.unique(can_triplets_np, axis=0)
    inv_triplets_np = can_triplets_np.copy()
    inv_triplets_np[:, 0] = can_triplets_np[:, 2]
    inv_triplets_np[:, 2] = can_triplets_np[:, 0]
    inv_triplets_np[:, 1] = can_triplets_np[:, 1] + max(can_triplets_np[:, 1]) + 1
    can_triplets_np[:, 1] = can_triplets_np[:, 1] + 1
    inv_triplets_np[:, 1] = inv_triplets_np[:, 1] + 1
    return np.concatenate((can_triplets_np, inv_triplets_np), axis=0)


@pytest.mark.parametrize("variant", ["1hop", "2hop", "homo", "publish"])
def test_sslrec_kg_reads_the_export(exports, variant):
    root = exports / "gen" / "recommendation"
    predir = root / "kg" / f"huggingface_{variant}_kg"  # DataHandlerKG.__init__
    num_entities = np.genfromtxt(predir / "entity_list.txt", dtype=None, names=True).shape[0] + 1
    for name in ("user_list.txt", "item_list.txt", "relation_list.txt"):  # KGAT's lists: same header and columns
        listed = np.atleast_1d(np.genfromtxt(predir / name, dtype=None, names=True, encoding="utf-8"))  # one row: 0-d
        assert listed.dtype.names == ("org_id", "remap_id") and listed["remap_id"].tolist() == list(range(len(listed)))
    train_cf, test_cf, val_cf = (sslrec_read_cf(predir / n) for n in ("train.txt", "test.txt", "valid.txt"))
    # _collect_ui_dict
    n_users = max(train_cf[:, 0].max(), val_cf[:, 0].max(), test_cf[:, 0].max()) + 1
    n_items = max(train_cf[:, 1].max(), val_cf[:, 1].max(), test_cf[:, 1].max()) + 1
    stats = json.loads((root / "stats.json").read_text())
    assert n_users <= stats["users"] and n_items <= stats["items"] < num_entities
    triplets = sslrec_read_triplets(predir / "kg_final.txt")
    assert triplets[:, [0, 2]].max() < num_entities and triplets[:, [0, 2]].min() >= 0
    assert max(triplets[:, 1]) + 1 == 2 * stats["kg_relations"][variant] + 1  # relations, inverses and 'interact'
    items = [line.split("\t")[1] for line in (root / "item_ids.tsv").read_text().splitlines()]
    entities = np.genfromtxt(predir / "entity_list.txt", dtype=None, names=True, encoding="utf-8")["org_id"].tolist()
    assert entities[: len(items)] == items  # an item's id is its entity id, as KGIN/KGCL assume


OLD_ENV_READER = """
import json, pickle, sys
import numpy as np, scipy
from scipy.sparse import coo_matrix
out = {"numpy": np.__version__, "scipy": scipy.__version__}
for path in sys.argv[1:]:
    with open(path, "rb") as fs:  # DataHandlerSocial._load_one_mat
        mat = (pickle.load(fs) != 0).astype(np.float32)
    if type(mat) != coo_matrix:
        mat = coo_matrix(mat)
    out[path] = [list(mat.shape), sorted(zip(mat.row.tolist(), mat.col.tolist()))]
print(json.dumps(out))
"""


def test_pickles_load_under_sslrec_numpy_and_scipy(exports):
    """SSLRec's environment is numpy 1.22 / scipy 1.7; .ci/run installs the oldest it can (there:
    Python 3.8 with exactly those) and names its interpreter in HKG_OLD_NUMPY_PYTHON."""
    python = os.environ.get("HKG_OLD_NUMPY_PYTHON")
    if not python:
        pytest.skip("HKG_OLD_NUMPY_PYTHON is not set (.ci/run sets it)")
    root = exports / "gen" / "recommendation"
    paths = sorted(str(p) for p in root.rglob("*.pkl"))
    assert len(paths) == 8
    result = subprocess.run([python, "-c", OLD_ENV_READER, *paths], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    old = json.loads(result.stdout)
    assert int(old["numpy"].split(".")[0]) == 1, old["numpy"]  # really an old numpy
    for path in paths:
        mat = sslrec_load_one_mat(Path(path))
        assert old[path] == [list(mat.shape), sorted([r, c] for r, c in zip(mat.row.tolist(), mat.col.tolist()))]


def libkge_load_map(filename: Path, as_list: bool = False, delimiter: str = "\t") -> list | dict:
    """kge.dataset.Dataset._load_map (no pickle cache, duplicates not ignored)."""
    n = 0
    dictionary = {}
    with open(filename, "r") as file:
        for line in file:
            key, value = line.split(delimiter, maxsplit=1)
            value = value.rstrip("\n")
            if as_list:
                key = int(key)
                n = max(n, key + 1)
            if key in dictionary:
                raise KeyError(f"{filename} contains duplicated keys")
            dictionary[key] = value
    if as_list:
        array = [None] * n
        for index, value in dictionary.items():
            array[index] = value
        return array
    return dictionary


def libkge_load_triples(filename: Path, delimiter: str = "\t") -> np.ndarray:
    """kge.dataset.Dataset._load_triples (without the torch.from_numpy)."""
    import pandas as pd

    return pd.read_csv(filename, sep=delimiter, dtype=np.int32, header=None, usecols=range(0, 3)).to_numpy()


def libkge_dataset_config(folder: Path) -> dict:
    """Config.load of dataset.yaml as Dataset.create calls it: YAML, then dotted keys flattened."""
    import yaml

    def flat(prefix: str, value) -> dict:
        if isinstance(value, dict):
            return {k: v for key, sub in value.items() for k, v in flat(f"{prefix}.{key}" if prefix else key, sub).items()}
        return {prefix: value}

    return flat("", yaml.safe_load((folder / "dataset.yaml").read_text()))


def test_libkge_dataset_create_reads_the_export(exports, generated_store):
    folder = exports / "gen" / "tracing"
    config = libkge_dataset_config(folder)
    assert config["dataset.name"] == "huggingface"  # HuggingBench's configs: dataset.name: huggingface
    entity_ids = libkge_load_map(folder / config["dataset.files.entity_ids.filename"], as_list=True)
    relation_ids = libkge_load_map(folder / config["dataset.files.relation_ids.filename"], as_list=True)
    assert config["dataset.files.entity_ids.type"] == config["dataset.files.relation_ids.type"] == "map"
    assert config["dataset.num_entities"] == len(entity_ids) and config["dataset.num_relations"] == len(relation_ids)
    splits = {}
    for split in ("train", "valid", "test"):  # Dataset.create(preload_data=True)
        assert config[f"dataset.files.{split}.type"] == "triples"
        splits[split] = libkge_load_triples(folder / config[f"dataset.files.{split}.filename"])
        assert len(splits[split]) == config[f"dataset.files.{split}.size"] > 0
        assert splits[split].dtype == np.int32 and splits[split][:, [0, 2]].max() < len(entity_ids)
    stats = json.loads((folder / "stats.json").read_text())
    n = stats["lineage_triples"]  # the paper's split: about 0.9 % / 0.9 %
    assert abs(len(splits["valid"]) - 0.009 * n) <= 1 and abs(len(splits["test"]) - 0.009 * n) <= 1
    # the release direction: head = base model; the store says derived fineTunedFrom base
    store = open_read_only(generated_store)
    finetune = relation_ids.index("model_finetune_model")
    base, _, derived = next(t for t in splits["train"].tolist() if t[1] == finetune)
    ask = (f"ASK {{ <{BASE}model/{entity_ids[derived].split(':', 1)[1]}> hkg:fineTunedFrom "
           f"<{BASE}model/{entity_ids[base].split(':', 1)[1]}> }}")
    assert bool(run(store, ask))


def test_tracing_warns_when_coverage_cannot_give_the_ratio(generated_store, tmp_path):
    result = run_module("bench", "export", "tracing", "--store", generated_store, "-o", tmp_path, "--valid-ratio", "0.3", "--test-ratio", "0.3")
    assert result.returncode == 0, result.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["valid"] < stats["valid_wanted"]
    assert f"asked for {stats['valid_wanted']} valid + {stats['test_wanted']} test of {stats['lineage_triples']}" in result.stderr
    quiet = run_module("bench", "export", "tracing", "--store", generated_store, "-o", tmp_path / "default")
    assert "warning" not in quiet.stderr


def test_cogdl_node_dataset_reads_the_export(exports):
    """NodeDataset.__init__: torch.load(path), scale_feats (StandardScaler on x), metric from y."""
    torch = pytest.importorskip("torch", reason=".ci/run installs torch")
    from sklearn.preprocessing import StandardScaler

    out = exports / "gen" / "classification"
    stats = json.loads((out / "stats.json").read_text())
    assert (out / "huggingface.pt").read_bytes() == (out / "huggingface_binary.pt").read_bytes()  # tune_huggingface.py's name
    for features in ("binary", "tfidf"):
        data = torch.load(out / f"huggingface_{features}.pt")
        if stats["torch_export"] == "dict":  # without CogDL: Graph's keyword arguments
            assert sorted(data) == ["edge_index", "test_mask", "train_mask", "val_mask", "x", "y"]
            x, y, edge_index = data["x"], data["y"], data["edge_index"]
            masks = [data[m] for m in ("train_mask", "val_mask", "test_mask")]
        else:
            x, y, edge_index, masks = data.x, data.y, data.edge_index, [data.train_mask, data.val_mask, data.test_mask]
        scaled = StandardScaler().fit(x.numpy()).transform(x.numpy())  # scale_feats
        assert scaled.shape == (stats["nodes"], stats["features"][features]) and np.isfinite(scaled).all()
        assert len(y.shape) > 1  # NodeDataset picks metric "multilabel_f1"
        assert y.shape == (stats["nodes"], stats["labels"]) and y.dtype == torch.float32
        assert edge_index.shape == (2, stats["edges"]) and int(edge_index.max()) < stats["nodes"]
        assert [int(m.sum()) for m in masks] == [stats["train"], stats["valid"], stats["test"]]
        assert all(m.dtype == torch.bool for m in masks) and not (masks[0] & masks[2]).any()


def test_features_are_offline_and_documented(exports):
    out = exports / "gen" / "classification"
    data, features = np.load(out / "data.npz"), json.loads((out / "features.json").read_text())
    assert data["x_binary"].shape[1] == len(features["binary"]) and set(np.unique(data["x_binary"]).tolist()) <= {0.0, 1.0}
    from scipy.sparse import csr_matrix

    x_tfidf = csr_matrix((data["x_tfidf_data"], data["x_tfidf_indices"], data["x_tfidf_indptr"]), shape=(len(data["y"]), len(features["tfidf"])))
    assert len(features["tfidf"]) == 256 and x_tfidf.dtype == np.float32
    norms = np.linalg.norm(x_tfidf.toarray(), axis=1)
    assert np.allclose(norms[norms > 0], 1, atol=1e-5) and (norms > 0).mean() > 0.9
    node_type = data["node_type"]
    assert (data["x_binary"][np.arange(len(node_type)), node_type] == 1).all()  # type bits


def test_tfidf_in_worker_processes_is_the_formula(exports, monkeypatch):
    """The export's TF-IDF, chunks of 7 documents shared among worker processes, equals the
    serial one bit for bit, and both the formula over the whole text with the regex tokens
    (sublinear tf x smoothed idf over the 256 terms most training texts hold, rows L2-normed),
    also on characters whose lower case is ASCII (Kelvin sign, dotted I) or that are not."""
    import math
    from collections import Counter

    from hkg_rdf.bench import export_classification as ec

    lines = (exports / "gen" / "classification" / "text.tsv").read_text(encoding="utf-8").splitlines()
    texts = [line.partition("\t")[2].encode() for line in lines]
    texts += [t.encode() for t in ("\u212a\u212a model", "\u0130stanbul istanbul", "caf\u00e9 \U0001f917 hugging face", "")]  # K, İ, é, 🤗
    train = list(range(0, len(texts), 2))
    monkeypatch.setattr(ec, "TFIDF_CHUNK", 7)
    serial, terms = ec.tfidf_features(texts, train)
    monkeypatch.setattr(ec, "PARALLEL_DOCUMENTS", 0)
    monkeypatch.setattr(ec, "TFIDF_WORKERS", 2)
    shared, shared_terms = ec.tfidf_features(texts, train)
    assert shared_terms == terms and len(texts) > 10 * 7
    for part in ("data", "indices", "indptr"):
        assert getattr(shared, part).tobytes() == getattr(serial, part).tobytes()

    docs = [ec.TOKEN.findall(t.decode().lower()) for t in texts]
    df = Counter(w for n in train for w in set(docs[n]))
    assert terms == sorted(sorted(df, key=lambda w: (-df[w], w))[:ec.TFIDF_TERMS])
    dense = np.zeros((len(texts), len(terms)))
    for i, doc in enumerate(docs):
        for j, term in enumerate(terms):
            if (count := doc.count(term)):
                dense[i, j] = (1 + math.log(count)) * (math.log((1 + len(train)) / (1 + df[term])) + 1)
    dense /= np.maximum(np.linalg.norm(dense, axis=1, keepdims=True), 1e-12)
    assert np.allclose(serial.toarray(), dense, rtol=1e-6, atol=1e-7)
    assert docs[-4:-2] == [["kk", "model"], ["i", "stanbul", "istanbul"]]
    assert [ec.tokens(t.decode()) for t in texts[-4:]] == [[w.encode() for w in doc] for doc in docs[-4:]]


def test_tokens_of_utf8_are_the_tokens_of_the_lowered_text():
    """tokens() of UTF-8 bytes cuts them with a lowering byte table unless the text holds a
    character whose lower case is ASCII: LOWERED_TO_ASCII names every such character of
    Unicode, and on texts of each kind the bytes give the regex's tokens of text.lower()."""
    import sys

    from hkg_rdf.bench import export_classification as ec

    found = [chr(c).encode() for c in range(0x80, sys.maxunicode + 1)
             if any(ord(x) < 0x80 for x in chr(c).lower())]
    assert found == list(ec.LOWERED_TO_ASCII)
    texts = ["Llama-3.1 8B Instruct", "\u212a\u212aM model", "\u0130STANBUL", "Caf\u00c9 \U0001f917 Hugging_Face",
             "\u00c0\u00c9\u03a3\u0391 AB\u00dfc", "", "  \t\n "]
    for text in texts:
        expected = [w.encode() for w in ec.TOKEN.findall(text.lower())]
        assert ec.tokens(text.encode()) == ec.tokens(text) == expected, text


def test_front_matter_is_removed_as_huggingface_hub_reads_it(exports, generated_store):
    """text.tsv holds the name and the README body only: the body as huggingface_hub's RepoCard
    parses it (so pipeline_tag / task_categories never reach a node's text), unless
    --keep-front-matter."""
    from huggingface_hub import RepoCard

    from hkg_rdf.bench.common import clean
    from hkg_rdf.bench.export_classification import TEXT_CHARS, strip_front_matter

    store = open_read_only(generated_store)
    rows = run(store, "SELECT ?id ?name ?d WHERE { ?m a hkg:Model ; hkg:name ?name ; hkg:description ?d ; hkg:id ?id } LIMIT 300")
    checked = with_yaml = 0
    for row in rows:
        description = row["d"].value
        body, cut = strip_front_matter(description)
        assert not cut
        card = RepoCard(description, ignore_metadata_errors=True)
        assert body == card.text
        with_yaml += body != description
        checked += 1
    assert checked == 300 and with_yaml > 30
    out = exports / "gen" / "classification"
    text = dict(line.split("\t", 1) for line in (out / "text.tsv").read_text(encoding="utf-8").splitlines())
    assert all("pipeline_tag:" not in t and "task_categories:" not in t for t in text.values())
    assert json.loads((out / "stats.json").read_text())["front_matter"] == "removed"
    name = next(iter(run(store, "SELECT ?n ?d WHERE { ?m a hkg:Model ; hkg:name ?n ; hkg:description ?d FILTER(STRSTARTS(?d, '---')) } ORDER BY ?n LIMIT 1")))
    assert clean(f"{name['n'].value} {strip_front_matter(name['d'].value)[0]}")[:TEXT_CHARS] in text.values()


def test_no_label_name_leaks_through_test_node_text(cli, exports, generated_store, tmp_path):
    """By construction the text is name + README body: the metadata that names the gold task is
    gone. Against --keep-front-matter (the old behaviour), where it leaks for a third of test nodes."""
    def leaks(out: Path) -> tuple[int, int]:
        labels = [line.split("\t")[1].split(":", 1)[1] for line in (out / "label_ids.tsv").read_text().splitlines()]
        gold = {int(n): [labels[int(x)] for x in ls.split()] for n, ls in (line.split("\t") for line in (out / "labels.tsv").read_text().splitlines())}
        test = [int(r.split("\t")[0]) for r in (out / "node_ids.tsv").read_text().splitlines() if r.endswith("\ttest")]
        text = dict((int(i), t) for i, t in (line.split("\t", 1) for line in (out / "text.tsv").read_text(encoding="utf-8").splitlines()))
        metadata = sum(f"pipeline_tag: {g}" in text[n] or f"task_categories: - {g}" in text[n] for n in test for g in gold[n])
        return metadata, len(test)

    must(cli("bench", "export", "classification", "--store", generated_store, "-o", tmp_path, "--keep-front-matter"))
    kept, n_test = leaks(tmp_path)
    removed, _ = leaks(exports / "gen" / "classification")
    assert removed == 0 and kept > n_test / 4


def sslrec_metric(test_data: list[list[int]], sorted_items: list[list[int]], k: int) -> tuple[float, float]:
    """trainer/metrics.py of SSLRec (HKUDS/SSLRec): Metric.get_label, .recall and .ndcg summed
    over one batch, divided by the number of test users as Metric.eval does."""
    r = []
    for i in range(len(test_data)):  # get_label
        ground_true = test_data[i]
        pred = list(map(lambda x: x in ground_true, sorted_items[i]))
        r.append(np.array(pred).astype("float"))
    r = np.array(r).astype("float")
    right_pred = r[:, :k].sum(1)  # recall
    recall = np.sum(right_pred / np.array([len(test_data[i]) for i in range(len(test_data))]))
    pred_data = r[:, :k]  # ndcg
    test_matrix = np.zeros((len(pred_data), k))
    for i, items in enumerate(test_data):
        length = k if k <= len(items) else len(items)
        test_matrix[i, :length] = 1
    idcg = np.sum(test_matrix * 1. / np.log2(np.arange(2, k + 2)), axis=1)
    dcg = np.sum(pred_data * (1. / np.log2(np.arange(2, k + 2))), axis=1)
    idcg[idcg == 0.] = 1.
    ndcg = dcg / idcg
    ndcg[np.isnan(ndcg)] = 0.
    return recall / len(test_data), np.sum(ndcg) / len(test_data)


@pytest.mark.parametrize("method", ["popularity", "gfcf"])
def test_recommendation_metrics_equal_sslrec(cli, exports, tmp_path, method):
    split = exports / "gen" / "recommendation"
    must(cli("bench", "baseline", "recommendation", "--split", split, "--method", method, "-o", tmp_path / "p.tsv"))
    ours = json.loads(must(cli("bench", "eval", "recommendation", "--split", split, "--predictions", tmp_path / "p.tsv", "--json")).stdout)
    test = {int(ids[0]): [int(i) for i in ids[1:]] for ids in (line.split() for line in (split / "test.txt").read_text().splitlines())}
    ranked = {int(u): [int(i) for i in items.split()] for u, items in (line.split("\t") for line in (tmp_path / "p.tsv").read_text().splitlines())}
    users = sorted(test)
    assert all(len(ranked[u]) == 40 for u in users)  # SSLRec's topk(max(k)) is a full 40 per user
    for k in (5, 10, 20, 40):
        recall, ndcg = sslrec_metric([test[u] for u in users], [ranked[u] for u in users], k)
        assert abs(ours[f"recall@{k}"] - recall) <= 1e-15 and abs(ours[f"ndcg@{k}"] - ndcg) <= 1e-15


def test_metrics_equal_trec_eval(cli, exports, tmp_path):
    """Recall@k and NDCG@k (recall_k, ndcg_cut_k) and filtered MRR / Hits@k (recip_rank,
    success_k: one relevant answer per query, the other known answers removed from the run)
    against trec_eval through pytrec_eval, to 1e-15."""
    import pytrec_eval

    split = exports / "gen" / "recommendation"
    must(cli("bench", "baseline", "recommendation", "--split", split, "--method", "gfcf", "-o", tmp_path / "r.tsv"))
    ours = json.loads(must(cli("bench", "eval", "recommendation", "--split", split, "--predictions", tmp_path / "r.tsv", "--json")).stdout)
    qrels = {ids[0]: {i: 1 for i in ids[1:]} for ids in (line.split() for line in (split / "test.txt").read_text().splitlines())}
    run_ = {u: {i: float(40 - r) for r, i in enumerate(items.split())} for u, items in (line.split("\t") for line in (tmp_path / "r.tsv").read_text().splitlines())}
    measures = {f"recall.{','.join(map(str, (5, 10, 20, 40)))}", f"ndcg_cut.{','.join(map(str, (5, 10, 20, 40)))}"}
    per_query = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run_)
    assert per_query.keys() == qrels.keys()
    for k in (5, 10, 20, 40):
        assert abs(ours[f"recall@{k}"] - sum(q[f"recall_{k}"] for q in per_query.values()) / len(qrels)) <= 1e-15
        assert abs(ours[f"ndcg@{k}"] - sum(q[f"ndcg_cut_{k}"] for q in per_query.values()) / len(qrels)) <= 1e-15

    split = exports / "gen" / "tracing"
    must(cli("bench", "baseline", "tracing", "--split", split, "--method", "names", "-o", tmp_path / "t.tsv"))
    ranked = {(int(q), int(r)): [int(c.split(":")[0]) for c in cands.split()] for q, r, cands in (line.split("\t") for line in (tmp_path / "t.tsv").read_text().splitlines())}
    (tmp_path / "order.tsv").write_text("".join(f"{q}\t{r}\t{' '.join(map(str, c))}\n" for (q, r), c in ranked.items()))  # ranked ids, no scores
    ours = json.loads(must(cli("bench", "eval", "tracing", "--split", split, "--predictions", tmp_path / "order.tsv", "--json")).stdout)
    known = [tuple(int(x) for x in line.split("\t")) for name in ("train", "valid", "test") for line in (split / f"{name}.del").read_text().splitlines()]
    heads: dict = {}
    for h, r, t in known:
        heads.setdefault((t, r), set()).add(h)
    qrels, run_ = {}, {}
    for n, (h, r, t) in enumerate(tuple(int(x) for x in line.split("\t")) for line in (split / "test.del").read_text().splitlines()):
        candidates = [c for c in ranked.get((t, r), []) if c == h or c not in heads[(t, r)]]
        qrels[str(n)] = {str(h): 1}
        run_[str(n)] = {str(c): float(len(candidates) - i) for i, c in enumerate(candidates)} or {"none": 0.0}
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank", "success.1,3,10"}).evaluate(run_)
    assert abs(ours["mrr"] - sum(q["recip_rank"] for q in per_query.values()) / len(qrels)) <= 1e-15
    for k in (1, 3, 10):
        assert abs(ours[f"hits@{k}"] - sum(q[f"success_{k}"] for q in per_query.values()) / len(qrels)) <= 1e-15


@pytest.mark.parametrize("method", ["itemknn", "gfcf"])
def test_recommendation_follows_co_preference(tmp_path, method):
    """Two planted communities, each liking only its own half of the items: every user's top
    10 stays inside their community (popularity alone would mix them: both halves are liked
    alike)."""
    from hkg_rdf.bench import recommenders

    rng = np.random.default_rng(5)
    users, items = 200, 300
    (tmp_path / "user_ids.tsv").write_text("".join(f"{u}\tuser:u{u}\n" for u in range(users)))
    (tmp_path / "item_ids.tsv").write_text("".join(f"{i}\tmodel:m{i}\n" for i in range(items)))
    half = {u: np.arange(150) + 150 * (u >= 100) for u in range(users)}
    liked = {u: rng.choice(half[u], 12, replace=False) for u in range(users)}
    (tmp_path / "train.txt").write_text("".join(f"{u} {' '.join(map(str, sorted(liked[u][:10])))}\n" for u in range(users)))
    (tmp_path / "test.txt").write_text("".join(f"{u} {' '.join(map(str, sorted(liked[u][10:])))}\n" for u in range(users)))
    for line in recommenders.recommendation(tmp_path, method, "test", 0):
        u, ranked = line.split("\t")
        assert set(map(int, ranked.split()[:10])) <= set(half[int(u)].tolist()), line
