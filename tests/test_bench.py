"""HuggingBench: exports from real stores (the example release and a small generated one),
their determinism and absence of leakage, metrics against hand-computed values, baselines
end to end through the CLI, and the report."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, load_store, must
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
    assert sorted(data) == ["edge_index", "edge_type", "node_type", "test_mask", "train_mask", "val_mask", "x_binary", "x_tfidf", "y"]


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


# ------------------------------------------------------------------ metrics


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


def test_recommendation_k_core(cli, generated_store, tmp_path):
    must(cli("bench", "export", "recommendation", "--store", generated_store, "-o", tmp_path, "--k-core", 3))
    likes = user_items(tmp_path / "train.txt") | user_items(tmp_path / "valid.txt") | user_items(tmp_path / "test.txt")
    from collections import Counter

    users, items = Counter(u for u, _ in likes), Counter(i for _, i in likes)
    assert likes and min(users.values()) >= 3 and min(items.values()) >= 3
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert (stats["users"], stats["items"], stats["interactions"]) == (len(users), len(items), len(likes))
