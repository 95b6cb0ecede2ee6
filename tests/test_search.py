"""The search index: built inside each store version by every load, streaming from the store,
ranking exact ids, then prefixes, then words; read by ``hkg-rdf search``.

Real stores loaded from examples/ by the real CLI; the index is the real SQLite FTS5 file.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import EXAMPLES, HKG, RDF_TYPE, RELEASE_NAME, invoke, must

from hkg_rdf import search
from hkg_rdf.search import find
from hkg_rdf.iris import IriMinter
from hkg_rdf.store import live_path, open_read_only
from hkg_rdf.vocab import vocabulary

BASE = "https://w3id.org/huggingkg/resource/"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("search") / "store"
    must(invoke("load", EXAMPLES / RELEASE_NAME, "--store", directory))
    return directory


def _db(store_dir: Path) -> sqlite3.Connection:
    return search.open_index(live_path(store_dir))


def _ids(results: search.Results) -> list[str]:
    return [h.id for h in results.hits]


def test_every_load_writes_the_index_into_its_version(store):
    assert search.index_path(live_path(store)).is_file()
    truth = {}
    classes = " ".join(f"<{t.cls}>" for t in vocabulary().types)  # not the standard classes entities also have
    for solution in open_read_only(store).query(f"SELECT ?c (COUNT(?s) AS ?n) WHERE {{ VALUES ?c {{ {classes} }} ?s <{RDF_TYPE}> ?c }} GROUP BY ?c"):
        truth[vocabulary().type_by_class(solution["c"].value).segment] = int(solution["n"].value)
    db = _db(store)
    indexed = dict(db.execute("SELECT type, count(*) FROM entity GROUP BY type").fetchall())
    assert indexed == truth and set(truth) == {t.segment for t in vocabulary().types}
    # every entity is found by its own key, and by the words of its key
    for kind, key in db.execute("SELECT type, key FROM entity").fetchall():
        assert (kind, key) in [(h.type, h.id) for h in search.search(db, key, limit=50).hits]
        words = search.search(db, " ".join(find._TOKEN.findall(key)), [kind], limit=50)
        assert key in _ids(words), (kind, key)


def test_the_words_of_a_name_as_a_user_types_them(store):
    db = _db(store)
    assert search.match_expression("llama 3.1 instruct") == 'text : ("llama" AND "3 1" AND "instruct"*)'
    assert _ids(search.search(db, "llama 3.1 instruct"))[0] == "meta-llama/Llama-3.1-8B-Instruct"
    assert _ids(search.search(db, "Llama-3.1-8B-Instr"))[0] == "meta-llama/Llama-3.1-8B-Instruct"  # prefix of a name
    assert _ids(search.search(db, "phi 3.5 q4_k_m")) == ["user_1/phi-3.5-mini.Q4_K_M"]  # "_" and "." split like "-"
    assert "meta-llama/Llama-3.1-8B-Instruct" not in _ids(search.search(db, "llama 2"))  # "3.1" is not "2"
    assert search.search(db, "no-such-thing-anywhere").hits == []
    for hostile in ['"', "*", "NEAR(", "a OR", "text:", "-", "'; DROP TABLE entity; --", "\x00", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "x" * 10_000]:
        search.search(db, hostile)  # no FTS5 syntax error, whatever is typed


def test_ranking_exact_then_prefix_then_words_then_popularity(store):
    db = _db(store)
    hits = search.search(db, "meta-llama/Llama-3.1-8B").hits
    assert hits[0].id == "meta-llama/Llama-3.1-8B"  # exact, although the Instruct model has more likes
    assert hits[1].id == "meta-llama/Llama-3.1-8B-Instruct"  # prefix
    assert hits[0].likes < hits[1].likes
    words = search.search(db, "instruct").hits  # no id or name starts so: words only, most liked first
    assert len(words) > 3
    assert [h.likes for h in words] == sorted((h.likes for h in words), reverse=True)
    assert search.search(db, "META-LLAMA").hits[0].type == "org"  # exact id, any case
    assert search.search(db, "Meta Llama").hits[0].id == "meta-llama"  # exact full name


def test_type_filters(store):
    db = _db(store)
    assert {h.type for h in search.search(db, "llama", ["org"]).hits} == {"org"}
    mixed = search.search(db, "llama", ["model", "collection"])
    assert {h.type for h in mixed.hits} == {"model", "collection"}
    assert search.search(db, "text generation", ["task"]).hits[0].id == "text-generation"
    assert search.search(db, "meta-llama/Llama-3.1-8B", ["dataset"]).hits == []


def test_paging_and_counts(store):
    db = _db(store)
    everything = search.search(db, "llama", limit=100)
    first, second = search.search(db, "llama", limit=3), search.search(db, "llama", limit=3, offset=3)
    assert _ids(first) + _ids(second) == _ids(everything)[:6]
    assert first.total == everything.total == len(everything.hits) and not first.more


def test_a_load_swaps_the_index_with_the_version(store, tmp_path):
    old = live_path(store)
    model = IriMinter(BASE).mint(vocabulary().type_by_segment("model"), "zz-owner/Brand-New-Model")
    extra = tmp_path / "new.nt"
    extra.write_text(f'<{model}> <{RDF_TYPE}> <{HKG}Model> .\n<{model}> <{HKG}id> "zz-owner/Brand-New-Model" .\n'
                     f'<{model}> <{HKG}name> "Brand-New-Model" .\n', encoding="utf-8")
    reader = search.open_index(old)  # a reader of the old version, open across the swap
    assert search.search(reader, "brand new model").hits == []
    must(invoke("load", extra, "--store", store))
    new = live_path(store)
    assert new != old and not old.exists()
    assert _ids(search.search(_db(store), "brand new model")) == ["zz-owner/Brand-New-Model"]
    assert search.search(reader, "brand new model").hits == []  # never a mix of versions
    assert _ids(search.search(reader, "llama 3.1 instruct"))[0] == "meta-llama/Llama-3.1-8B-Instruct"


def test_cli_search_and_a_store_without_index(store, tmp_path):
    result = must(invoke("search", "--store", store, "llama", "3.1", "instruct"))
    assert result.output.splitlines()[0].split()[:2] == ["model", "meta-llama/Llama-3.1-8B-Instruct"]
    data = json.loads(must(invoke("search", "--store", store, "bert", "--type", "org", "--json")).stdout)
    assert [(r["type"], r["id"]) for r in data["results"]] == [("org", "google-bert")]
    assert invoke("search", "--store", store, "bert", "--type", "nosuch").exit_code == 2
    # a version without index (a store written before there was one) gets one on first use
    search.index_path(live_path(store)).unlink()
    assert "meta-llama/Llama-3.1-8B-Instruct" in must(invoke("search", "--store", store, "llama 3.1 instruct")).output
    assert search.index_path(live_path(store)).is_file()


def test_a_damaged_index_is_a_clear_error(store, tmp_path):
    directory = tmp_path / "v"
    directory.mkdir()
    search.index_path(directory).write_bytes(b"not a database" * 100)
    with pytest.raises(search.SearchError, match="not a search index"):
        search.open_index(directory)
    with pytest.raises(search.SearchError, match="no search index"):
        search.open_index(tmp_path)


def test_several_counts_of_one_entity_rank_by_the_largest(tmp_path):
    """Two loads that both state a model's likes (a synthetic release, then the real one on top)."""
    store = tmp_path / "store"
    model = IriMinter(BASE).mint(vocabulary().type_by_segment("model"), "o/m")
    counts = tmp_path / "counts.nt"
    counts.write_text(f'<{model}> <{RDF_TYPE}> <{HKG}Model> .\n<{model}> <{HKG}id> "o/m" .\n<{model}> <{HKG}name> "m" .\n'
                      f'<{model}> <{HKG}likeCount> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
                      f'<{model}> <{HKG}likeCount> "3198"^^<http://www.w3.org/2001/XMLSchema#integer> .\n', encoding="utf-8")
    must(invoke("load", EXAMPLES / RELEASE_NAME, counts, "--store", store))
    hits = search.search(_db(store), "m", ["model"]).hits
    assert [(h.id, h.likes) for h in hits if h.id == "o/m"] == [("o/m", 3198)]


def _index_content(version_dir: Path) -> tuple[list, list]:
    """Every row of the entity table, and every token the FTS index holds for each entity."""
    db = sqlite3.connect(search.index_path(version_dir))
    db.execute("CREATE VIRTUAL TABLE temp.tokens USING fts5vocab(main, words, instance)")
    try:
        return (db.execute("SELECT * FROM entity ORDER BY rowid").fetchall(),
                db.execute("SELECT doc, col, offset, term FROM temp.tokens ORDER BY doc, col, offset").fetchall())
    finally:
        db.close()


def _with_what_a_store_merges(release: Path) -> None:
    """Add to a release what only a store merges or drops by itself: a second record of a model
    (the first is kept), a follow listed twice, follows with an end missing from the release, a
    user without full name, a dataset tying with a model on id and popularity."""
    def extend(name: str, *records: dict) -> None:
        path = release / name
        path.write_text(json.dumps(json.loads(path.read_text(encoding="utf-8")) + list(records)), encoding="utf-8")

    models = json.loads((release / "models.json").read_text(encoding="utf-8"))
    follow = json.loads((release / "user_follow_org.json").read_text(encoding="utf-8"))[0]
    extend("models.json", {**models[0], "likes": 10 ** 9, "name": "a second record"})
    extend("datasets.json", {"id": models[1]["id"], "name": models[1]["name"], "likes": models[1]["likes"], "downloads": models[1]["downloads"]})
    extend("users.json", {"id": "nameless", "fullname": None})
    extend("user_follow_org.json", follow, {"user_id": "nameless", "org_id": "no-such-org"})
    extend("user_follow_user.json", {"follower_id": "no-such-user", "followee_id": "TheBloke"}, {"follower_id": "nameless", "followee_id": "TheBloke"})


def _index_of_one_conversion(source: Path, store_dir: Path, monkeypatch, *options: str) -> Path:
    """Load ``source`` alone, check that the index was staged from its records (not read from
    the store), and that reading the store instead gives exactly the same index."""
    from hkg_rdf.search import build

    with monkeypatch.context() as patch:
        patch.setattr(build, "_stage", lambda *args: pytest.fail("the load read the store to stage the index"))
        must(invoke("load", source, "--store", store_dir, *options))
    version = live_path(store_dir)
    assert not search.records_path(version).exists()  # the staged rows went into the index
    from_store = store_dir.parent / "from-store"
    from_store.mkdir()
    assert search.build_index(open_read_only(store_dir), from_store)["staged_from"] == "store"
    assert _index_content(version) == _index_content(from_store)
    return version


@pytest.mark.parametrize("keep_dangling", [False, True])
def test_the_index_a_conversion_stages_from_its_records_is_the_one_its_store_gives(release_copy, tmp_path, monkeypatch, keep_dangling):
    _with_what_a_store_merges(release_copy)
    version = _index_of_one_conversion(release_copy, tmp_path / "store", monkeypatch, *(["--keep-dangling"] if keep_dangling else []))
    rows = {(kind, key): (label, likes) for _, kind, key, label, likes, _ in _index_content(version)[0]}
    assert rows[("model", "google-bert/bert-base-uncased")][1] < 10 ** 9  # the first record of the model
    assert rows[("user", "nameless")] == (None, 0) and ("dataset", json.loads((release_copy / "models.json").read_text())[1]["id"]) in rows
    followers = sum(1 for f in json.loads((release_copy / "user_follow_user.json").read_text()) if f["followee_id"] == "TheBloke")
    assert rows[("user", "TheBloke")][1] == followers - (0 if keep_dangling else 1)  # the follower from nowhere counts only if kept


def test_the_index_of_a_triples_txt_is_staged_from_its_nodes(example_triples_txt, tmp_path, monkeypatch):
    source = tmp_path / "triples.txt"  # nodes come in edge order, not type by type as a store gives them
    source.write_text(example_triples_txt.read_text(encoding="utf-8") + "shared/id\tmodel_trainedOrFineTunedOn_dataset\tshared/id\n", encoding="utf-8")
    entities, _ = _index_content(_index_of_one_conversion(source, tmp_path / "store", monkeypatch))
    assert [kind for _, kind, key, *_ in entities if key == "shared/id"] == ["dataset", "model"]  # a tie, ordered by type
