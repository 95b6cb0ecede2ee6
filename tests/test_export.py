"""Export: a store written back as a HuggingKG release, and that release read in again.

The shipped example goes release -> store -> release and must come back record for record:
same records (keyed by id), same values, same nulls and empty lists; only the order of records
and of list items may differ (RDF keeps neither). Triples the release cannot hold must be
reported, never dropped silently, and a failed export must leave nothing behind.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hkg_rdf.convert import convert
from hkg_rdf.errors import InputError
from hkg_rdf.export import NOT_EXPORTED, TRIPLES_TXT, export_release, hub_datetime
from hkg_rdf.export.scan import Exporter
from hkg_rdf.iris import IriMinter
from hkg_rdf.load import load
from hkg_rdf.report import Report
from hkg_rdf.store import open_read_only
from hkg_rdf.vocab import XSD_DATETIME, vocabulary

MINTER = IriMinter()
VOCAB = vocabulary()
RES = MINTER.base
HKG = "https://w3id.org/huggingkg/ontology#"
ENTITY_FILES = [t.file for t in VOCAB.types]
RELATION_FILES = [f"{r.name}.json" for r in VOCAB.relations]


# ---------------------------------------------------------------- helpers


def load_store(store_dir: Path, *sources: Path) -> ox.Store:
    load(store_dir, list(sources), MINTER)
    return open_read_only(store_dir)


def export(store: ox.Store, out: Path) -> tuple[dict[str, int], Report]:
    report = Report()
    return export_release(store, out, MINTER, report), report


def records(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


ORDERED = {f.name for t in VOCAB.types for f in t.fields if f.items}  # lists kept in order (a paper's authors)


def normalised(record: dict) -> str:
    """A record as JSON text with list items sorted where RDF keeps no order (but authors stay in
    order, repeats included); 1, 1.0, null, [] stay distinct."""
    return json.dumps({k: sorted(v) if isinstance(v, list) and k not in ORDERED else v for k, v in record.items()}, ensure_ascii=False)


def by_id(path: Path) -> dict[str, str]:
    key = next(t.key.name for t in VOCAB.types if t.file == path.name)
    items = records(path)
    result = {r[key]: normalised(r) for r in items}
    assert len(result) == len(items), f"{path}: duplicate ids"
    return result


def assert_same_file(original: Path, exported: Path) -> None:
    if original.name in ENTITY_FILES:
        want, got = by_id(original), by_id(exported)
        assert got.keys() == want.keys(), f"{original.name}: ids differ"
        for entity_id, record in want.items():
            assert got[entity_id] == record, f"{original.name}: record {entity_id!r} differs"
    else:
        want, got = Counter(map(normalised, records(original))), Counter(map(normalised, records(exported)))
        assert got == want, f"{original.name}: missing {list(want - got)[:3]}, extra {list(got - want)[:3]}"


def assert_same_release(original: Path, exported: Path, skip: tuple[str, ...] = ()) -> None:
    for name in ENTITY_FILES + RELATION_FILES:
        if name not in skip:
            assert_same_file(original / name, exported / name)


def lines(path: Path) -> list[str]:
    return sorted(path.read_text(encoding="utf-8").splitlines())


def _described(term: str) -> bool:
    """A triple of a conversion's VoID description, which names its source (here: another folder)."""
    return term.startswith(f"<{MINTER.base}void/")


def quads(store: ox.Store) -> frozenset[str]:
    return frozenset(str(q) for q in store if not _described(str(q)))


def ntriples(path: Path) -> frozenset[str]:
    return frozenset(str(t) for t in ox.parse(path=path, format=ox.RdfFormat.N_TRIPLES) if not _described(str(t)))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def example_export(tmp_path_factory: pytest.TempPathFactory, example_release: Path):
    """The example loaded into a store and exported: (store, release dir, counts, report)."""
    base = tmp_path_factory.mktemp("export")
    store = load_store(base / "store", example_release)
    counts, report = export(store, base / "release")
    return store, base / "release", counts, report


# ---------------------------------------------------------------- the round trip


@pytest.mark.parametrize("name", ENTITY_FILES + RELATION_FILES)
def test_every_file_comes_back_record_for_record(example_export, example_release: Path, name: str) -> None:
    _, out, counts, _ = example_export
    assert_same_file(example_release / name, out / name)
    assert counts[name] == len(records(example_release / name))


def test_records_have_every_field_in_mapping_order(example_export) -> None:
    _, out, _, _ = example_export
    for entity_type in VOCAB.types:
        for record in records(out / entity_type.file):
            assert list(record) == [f.name for f in entity_type.fields]
    for relation in VOCAB.relations:
        for record in records(out / f"{relation.name}.json"):
            assert list(record) == [relation.subject_key, relation.object_key]


def test_triples_txt_has_the_same_lines(example_export, example_triples_txt: Path) -> None:
    _, out, counts, _ = example_export
    assert lines(out / TRIPLES_TXT) == lines(example_triples_txt)
    assert counts[TRIPLES_TXT] == len(lines(example_triples_txt))


def test_everything_was_exported_and_counted(example_export) -> None:
    store, out, counts, report = example_export
    assert counts[NOT_EXPORTED] == 0 and not report.skipped and not report.kept
    assert report.triples == len(store)
    assert sorted(p.name for p in out.iterdir()) == sorted(ENTITY_FILES + RELATION_FILES + [TRIPLES_TXT])


def test_loading_the_export_gives_the_same_store(example_export, tmp_path: Path) -> None:
    store, out, _, _ = example_export
    assert quads(load_store(tmp_path / "again", out)) == quads(store)


def test_converting_the_export_gives_the_same_triples(example_export, tmp_path: Path) -> None:
    store, out, _, _ = example_export
    convert(out, tmp_path / "again.nt", MINTER)
    assert ntriples(tmp_path / "again.nt") == frozenset(str(q.triple) for q in store if not _described(str(q)))


def test_exported_triples_txt_is_a_source_of_the_same_edges(example_export, tmp_path: Path) -> None:
    store, out, _, report = example_export
    again = convert(out / TRIPLES_TXT, tmp_path / "edges.nt", MINTER)
    assert again.edges == report.edges
    assert ntriples(tmp_path / "edges.nt") <= frozenset(str(q.triple) for q in store if not _described(str(q)))


def test_a_zipped_release_round_trips(
    release_zip: Path, example_release: Path, example_triples_txt: Path, tmp_path: Path
) -> None:
    counts, report = export(load_store(tmp_path / "store", release_zip), tmp_path / "release")
    assert_same_release(example_release, tmp_path / "release")
    assert lines(tmp_path / "release" / TRIPLES_TXT) == lines(example_triples_txt)
    assert counts[NOT_EXPORTED] == 0


def test_the_cli_loads_and_exports(cli, example_release: Path, example_triples_txt: Path, tmp_path: Path) -> None:
    store, out = tmp_path / "store", tmp_path / "out" / "release"
    assert cli("load", example_release, "--store", store).exit_code == 0
    result = cli("export", "--store", store, "--to", "huggingkg", "-o", out, "--report", tmp_path / "report.json")
    assert result.exit_code == 0, result.output
    assert "0 store triples not exported" in result.output
    assert_same_release(example_release, out)
    assert lines(out / TRIPLES_TXT) == lines(example_triples_txt)
    assert json.loads((tmp_path / "report.json").read_text())["triples"] == len(open_read_only(store))
    again = cli("export", "--store", store, "-o", out)
    assert again.exit_code == 2 and "not an empty directory" in again.output


# ---------------------------------------------------------------- what cannot be exported


FOREIGN_TTL = f"""
@prefix hkg: <{HKG}> .
@prefix ex: <http://example.org/> .
ex:thing a ex:Thing ; ex:says "hello" .
<{RES}model/google-bert/bert-base-uncased> ex:rating 5 ; a ex:Thing ; hkg:downloadCount "many" .
<{RES}paper/1810.04805> hkg:title "A second title" .
<{RES}user/lewtun> hkg:likes <{RES}model/nobody/nothing> .
ex:ghost hkg:likes <{RES}model/google-bert/bert-base-uncased> .
"""
FOREIGN_TRIG = "<http://example.org/g> { <http://example.org/a> <http://example.org/b> <http://example.org/c> }\n"


def test_foreign_triples_are_reported_not_exported(example_release: Path, tmp_path: Path) -> None:
    ttl, trig = write(tmp_path / "foreign.ttl", FOREIGN_TTL), write(tmp_path / "foreign.trig", FOREIGN_TRIG)
    counts, report = export(load_store(tmp_path / "store", example_release, ttl, trig), tmp_path / "release")
    assert report.skipped == {
        "triples about nodes that are no release entity (foreign data?)": 2,
        "models.json: <http://example.org/rating> (not in the mapping)": 1,
        "models.json: rdf:type <http://example.org/Thing> (not in the mapping)": 1,
        "models.json: downloads: value that is not a non-negative integer or null": 1,
        "papers.json: title: more than one value (the first kept)": 1,
        "hkg:likes: edge user -> (no release entity) fits no release relation": 1,
        "hkg:likes: edge from a node that is no release entity": 1,
        "quads in named graphs (only the default graph is exported)": 1,
    }
    assert counts[NOT_EXPORTED] == 9
    assert_same_release(example_release, tmp_path / "release", skip=("papers.json",))
    [paper] = [r for r in records(tmp_path / "release" / "papers.json") if r["id"] == "1810.04805"]
    [original] = [r for r in records(example_release / "papers.json") if r["id"] == "1810.04805"]
    assert paper["title"] in {"A second title", original["title"]}


def test_the_cli_prints_what_was_not_exported(cli, example_release: Path, tmp_path: Path) -> None:
    ttl = write(tmp_path / "foreign.ttl", FOREIGN_TTL)
    assert cli("load", example_release, ttl, "--store", tmp_path / "store").exit_code == 0
    result = cli("export", "--store", tmp_path / "store", "-o", tmp_path / "release")
    assert result.exit_code == 0, result.output
    assert "8 store triples not exported" in result.output
    assert "skipped 1: hkg:likes: edge user -> (no release entity) fits no release relation" in result.output


def test_ids_come_from_the_iri_when_the_key_is_missing(tmp_path: Path) -> None:
    ttl = write(tmp_path / "models.ttl", f"""
        @prefix hkg: <{HKG}> .
        <{RES}model/acme/no-key%20here> a hkg:Model ; hkg:likeCount 3 .
        <http://example.org/elsewhere> a hkg:Model ; hkg:likeCount 4 .
        <{RES}task/fill-mask> a hkg:Task ; hkg:id "fill-mask" .
        <{RES}model/acme/no-key%20here> hkg:definedForTask <{RES}task/fill-mask> .
        """)
    counts, report = export(load_store(tmp_path / "store", ttl), tmp_path / "release")
    [model] = records(tmp_path / "release" / "models.json")
    assert model["id"] == "acme/no-key here" and model["likes"] == 3 and model["libraries"] == [] and model["description"] is None
    edges = records(tmp_path / "release" / "model_definedFor_task.json")
    assert edges == [{"model_id": "acme/no-key here", "task_id": "fill-mask"}]
    assert report.skipped == {"models.json: node without id whose IRI is not minted under the base IRI": 2}


def test_a_node_with_two_release_types_is_exported_once(tmp_path: Path) -> None:
    ttl = write(tmp_path / "both.ttl", f"""
        @prefix hkg: <{HKG}> .
        <{RES}model/acme/twin> a hkg:Model, hkg:Dataset ; hkg:id "acme/twin" ; hkg:region "us" .
        """)
    counts, report = export(load_store(tmp_path / "store", ttl), tmp_path / "release")
    assert (counts["datasets.json"], counts["models.json"]) == (1, 0)  # the first type in mapping order
    assert report.skipped == {
        "datasets.json: a second release type hkg:Model (exported as one record only)": 1,
        "datasets.json: hkg:region (not in the mapping)": 1,
    }


# ---------------------------------------------------------------- all or nothing


def test_a_non_empty_target_is_refused(example_export, tmp_path: Path) -> None:
    store = example_export[0]
    write(tmp_path / "keep.txt", "mine")
    with pytest.raises(InputError, match="not an empty directory"):
        export(store, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_an_empty_target_is_filled(example_export, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    counts, _ = export(example_export[0], tmp_path / "out")
    assert (tmp_path / "out" / "models.json").is_file() and counts["models.json"] == 17


def test_a_failed_export_leaves_nothing(example_export, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Exporter, "_unreached_edges", fail)
    with pytest.raises(RuntimeError):
        export(example_export[0], tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    "stored, written",
    [
        ("2024-12-15T10:31:02Z", "2024-12-15T10:31:02.000Z"),
        ("2024-12-15T10:31:02.12Z", "2024-12-15T10:31:02.120Z"),
        ("2024-12-15T10:31:02.123456Z", "2024-12-15T10:31:02.123456Z"),
        ("2024-12-15T10:31:02+02:00", "2024-12-15T10:31:02+02:00"),
        ("2024-12-15T10:31:02", "2024-12-15T10:31:02"),
    ],
)
def test_hub_datetime(stored: str, written: str) -> None:
    assert hub_datetime(stored) == written


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)))
def test_hub_style_times_survive_oxigraph(moment: datetime) -> None:
    """A Hub time string, stored and canonicalised by Oxigraph, is written back unchanged."""
    hub = moment.replace(tzinfo=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    store = ox.Store()
    node = ox.NamedNode("http://example.org/x")
    store.add(ox.Quad(node, node, ox.Literal(hub, datatype=ox.NamedNode(XSD_DATETIME))))
    assert hub_datetime(next(iter(store)).object.value) == hub


def test_author_order_and_repeated_names_round_trip_exactly(release_copy: Path, tmp_path: Path) -> None:
    """Checked against the crawler: papers.json authors is the Hub's author list in order, and a
    name may repeat (two authors of one name). The export gives back exactly that list."""
    papers = json.loads((release_copy / "papers.json").read_text(encoding="utf-8"))
    papers[0]["authors"] = ["Wei Zhang", "Ann Lee", "Wei Zhang", "Zoe Angstrom", "Ann Lee"]
    papers[1]["authors"] = list(reversed(papers[1]["authors"]))
    (release_copy / "papers.json").write_text(json.dumps(papers, indent=4), encoding="utf-8")
    counts, report = export(load_store(tmp_path / "store", release_copy), tmp_path / "out")
    assert counts[NOT_EXPORTED] == 0 and not report.skipped
    again = {p["id"]: p["authors"] for p in records(tmp_path / "out" / "papers.json")}
    assert again == {p["id"]: p["authors"] for p in papers}
    assert again[papers[0]["id"]] == ["Wei Zhang", "Ann Lee", "Wei Zhang", "Zoe Angstrom", "Ann Lee"]


# ---------------------------------------------------------------- the scan


def test_triples_txt_lists_edges_type_by_type(example_export) -> None:
    """Lines are spooled per subject type and joined in mapping order, as a pass type by type
    writes them (the bytes of earlier exports), not in the scan's mixed order."""
    _, out, _, _ = example_export
    order = {t.segment: i for i, t in enumerate(VOCAB.types)}
    rdf_subject = {r.name: (r.object if r.inverse else r.subject).segment for r in VOCAB.relations}
    ranks = [order[rdf_subject[line.split("\t")[1]]] for line in (out / TRIPLES_TXT).read_text(encoding="utf-8").splitlines()]
    assert ranks == sorted(ranks) and len(set(ranks)) > 1
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no spool left behind


class _Shuffled:
    """The real store, but its scan of the default graph answered out of subject order."""

    def __init__(self, store: ox.Store):
        self.store = store

    def quads_for_pattern(self, *pattern):
        quads = list(self.store.quads_for_pattern(*pattern))
        return iter(quads[::2] + quads[1::2]) if pattern == (None, None, None, ox.DefaultGraph()) else iter(quads)

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def test_a_scan_not_grouped_by_subject_is_refused(example_export, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not grouped by subject"):
        export(_Shuffled(example_export[0]), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
