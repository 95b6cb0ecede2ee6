"""load --validate: the verdict proven while converting equals validate --store's, result for result.

The record-level checker (hkg_rdf/record_validation/) only ever removes constraints from what
the store validator runs, so these tests compare the two reports in full — verdict, every
result (focus, path, value, shape, component, severity, message), summary text — on data and
shapes built to violate each kind of constraint, and check that what the checker claims to have
proven really leaves the store nothing to find.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.compare import isomorphic

from hkg_rdf.iris import IriMinter
from hkg_rdf.record_validation import CheckingTripleMaker, ShapesGraph, store_shapes
from hkg_rdf.report import Report
from hkg_rdf.store import open_read_only
from hkg_rdf.triples import Terms, TripleMaker, source_triples
from hkg_rdf.validate import validate_store
from hkg_rdf.vocab import HKG, RDF_TYPE, SHAPES_FILE, data_path

from conftest import invoke, read_json, write_json


def results(result) -> set[tuple]:
    return {(r.focus, r.path, r.value, r.shape, r.component, r.severity, r.message) for t in result.tallies.values() for r in t.results}


def load_validate(store: Path, *args: object) -> tuple[int, str]:
    """Run load --validate (replacing the store) and return its exit code and stdout (the verdict)."""
    run = invoke("load", *args, "--store", store, "--validate")
    assert run.exit_code in (0, 1), run.output + repr(run.exception)
    return run.exit_code, run.stdout


def same_as_store(store: Path, code: int, stdout: str, shapes: Path | None = None, tmp_path: Path | None = None) -> None:
    """validate --store on the loaded store prints the same verdict with the same exit code."""
    args = ["validate", "--store", store] + (["--shapes", shapes] if shapes else [])
    again = invoke(*args)
    assert (again.exit_code, again.stdout) == (code, stdout)


def both_results(store: Path, sources: list[Path], shapes: Path | None, **flags):
    """(load_and_validate's result, validate_store's result on the same store) in-process."""
    from hkg_rdf.load import load_and_validate

    _, loaded, proven = load_and_validate(store, sources, IriMinter(), replace=True, shapes_path=shapes, **flags)
    return loaded, validate_store(open_read_only(store), shapes), proven


def assert_same(loaded, checked) -> None:
    assert loaded.conforms == checked.conforms
    assert {k: t.count for k, t in loaded.tallies.items()} == {k: t.count for k, t in checked.tallies.items()}
    assert results(loaded) == results(checked)
    assert loaded.summary(1000) == checked.summary(1000)
    assert isomorphic(loaded.report_graph(), checked.report_graph())


# ---------------------------------------------------------------- conforming data


def test_the_example_release_is_proven_conforming_while_converting(tmp_path: Path, example_release: Path) -> None:
    loaded, checked, proven = both_results(tmp_path / "store", [example_release], None)
    assert loaded.conforms and checked.conforms
    total, left = len(ShapesGraph.read().constraints()), len(shapes_derived_triples_reach())
    assert proven == (f"shapes: {total - left} of {total} constraints proven while converting, {left} checked on the store"
                      " (1 shape only on the subjects of derived triples)")


#: Shapes the converter's derived triples reach (author-position nodes, the hkg:author link to
#: them, whose subjects TypedSubjectShape targets): no record check reads those triples.
DERIVED = {"Paper-author", "AuthorShape", "Author-position", "Author-authorName", "Author-authorUser", "TypedSubjectShape"}


def shapes_derived_triples_reach(terms: Terms = Terms()) -> set:
    shapes = ShapesGraph.read()
    maker = CheckingTripleMaker(IriMinter(), Report(), shapes, keep_dangling=False, terms=terms)
    return store_shapes(shapes, maker.proof)[1]


@pytest.mark.parametrize("standard", [True, False])
def test_every_constraint_of_the_shipped_shapes_is_decided_record_by_record_but_those_derived_triples_reach(standard: bool) -> None:
    still_open = shapes_derived_triples_reach(Terms(standard=standard))
    assert {shape.rsplit("#", 1)[1].rstrip(">") for shape, _ in still_open} == DERIVED
    every = ShapesGraph.read().constraints()
    assert still_open == {(shape, parameter) for shape, parameter in every if shape.rsplit("#", 1)[1].rstrip(">") in DERIVED}


def test_load_validate_prints_what_validate_store_prints(tmp_path: Path, example_release: Path) -> None:
    code, stdout = load_validate(tmp_path / "store", example_release, "--replace")
    assert (code, stdout.strip()) == (0, "Conforms: yes (0 results)")
    same_as_store(tmp_path / "store", code, stdout)


# ---------------------------------------------------------------- data with violations


def broken_release(release: Path) -> Path:
    """The example release with ids the shapes' patterns refuse (a trailing line feed too:
    Python's ``$`` would accept it, SPARQL's REGEX does not)."""
    models = read_json(release / "models.json")
    models[0]["id"] = "no-owner-here"
    models[1]["id"] = "owner/with space"
    models[2]["id"] = "owner/trailing\n"
    write_json(release / "models.json", models)
    users = read_json(release / "users.json")
    users[0]["id"] = "ünïcode"
    write_json(release / "users.json", users)
    papers = read_json(release / "papers.json")
    papers[0]["id"] = "not-an-arxiv-id"
    write_json(release / "papers.json", papers)
    return release


def test_violations_in_the_data_are_reported_as_validate_store_reports_them(tmp_path: Path, release_copy: Path) -> None:
    loaded, checked, proven = both_results(tmp_path / "store", [broken_release(release_copy)], None)
    assert not loaded.conforms
    assert {t.label for t in loaded.tallies.values()} == {"hkgsh:Model-id", "hkgsh:User-id", "hkgsh:Paper-id"}
    assert sum(t.count for t in loaded.tallies.values()) == 5
    assert_same(loaded, checked)
    left = len(shapes_derived_triples_reach())
    assert f"{left + 3} checked on the store" in proven  # only the three failed patterns went to the store, beside those


def test_load_validate_exits_1_with_the_same_summary(tmp_path: Path, release_copy: Path) -> None:
    code, stdout = load_validate(tmp_path / "store", broken_release(release_copy), "--replace")
    assert code == 1 and stdout.startswith("Conforms: no (5 results")
    same_as_store(tmp_path / "store", code, stdout)


@pytest.mark.parametrize("edge", [
    {"base_model_id": "nobody/missing-base", "model_id": "meta-llama/Llama-3.1-8B-Instruct"},
    {"base_model_id": "meta-llama/Llama-3.1-8B", "model_id": "nobody/missing-derived"},
])
def test_kept_dangling_edges_leave_class_constraints_to_the_store(tmp_path: Path, release_copy: Path, edge: dict) -> None:
    path = release_copy / "model_finetune_model.json"
    write_json(path, [*read_json(path), edge])
    loaded, checked, _ = both_results(tmp_path / "store", [release_copy], None, keep_dangling=True)
    assert not loaded.conforms
    assert_same(loaded, checked)


def test_a_triples_txt_is_checked_too(tmp_path: Path, example_triples_txt: Path) -> None:
    loaded, checked, proven = both_results(tmp_path / "store", [example_triples_txt], None)
    assert_same(loaded, checked)
    assert "proven while converting" in proven


def test_adding_to_a_store_validates_the_whole_store(tmp_path: Path, example_release: Path, release_copy: Path) -> None:
    """A second release added to a store may clash with the first: nothing is proven then."""
    from hkg_rdf.load import load, load_and_validate

    store = tmp_path / "store"
    load(store, [example_release], IriMinter())
    models = read_json(release_copy / "models.json")
    models[0]["name"] = "another name"  # the same model, a second hkg:name: sh:maxCount 1 fails
    write_json(release_copy / "models.json", models)
    _, loaded, proven = load_and_validate(store, [release_copy], IriMinter())
    assert proven.startswith("shapes: all ")
    assert [t.label for t in loaded.tallies.values()] == ["hkgsh:Model-name"]
    assert_same(loaded, validate_store(open_read_only(store)))


# ---------------------------------------------------------------- shapes that the data violates


def _edit(text: str, shape: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` inside the block of ``shape`` in a shapes file."""
    start = text.index(f"\n{shape} a ")
    end = text.index(" .\n", start)
    block = text[start:end]
    assert old in block, (shape, old)
    return text[:start] + block.replace(old, new, 1) + text[end:]


def hostile_shapes(path: Path) -> Path:
    """The shipped shapes, each edit making the example data fail a different kind of constraint
    (and some using parameters the record checker leaves to the store)."""
    text = data_path(*SHAPES_FILE).read_text(encoding="utf-8")
    edits = [
        ("hkgsh:Model-name", "sh:datatype xsd:string", "sh:datatype xsd:dateTime"),
        ("hkgsh:Model-createdAt", "sh:datatype xsd:dateTime", "sh:datatype xsd:date"),
        ("hkgsh:Model-likeCount", "sh:datatype xsd:integer", "sh:datatype xsd:nonNegativeInteger"),
        ("hkgsh:Model-id", '"^[A-Za-z0-9_.-]+/', '"^[a-z0-9_.-]+/'),
        ("hkgsh:Model-library", "sh:datatype xsd:string ;", "sh:datatype xsd:string ; sh:maxCount 1 ;"),
        ("hkgsh:Model-downloadCount", "sh:minInclusive 0", "sh:minInclusive 1000"),
        ("hkgsh:Model-cites", "sh:class hkg:Paper", "sh:class hkg:Model"),
        ("hkgsh:Model-license", "sh:maxCount 1 ;", "sh:maxCount 0 ;"),
        ("hkgsh:Paper-title", "sh:maxCount 1 ;", "sh:minCount 2 ;"),
        ("hkgsh:Dataset-license", "sh:nodeKind sh:IRI ;", "sh:nodeKind sh:IRI ; sh:in ( <http://spdx.org/licenses/MIT> ) ;"),
        ("hkgsh:Dataset-licenseLabel", "sh:datatype xsd:string ;", "sh:nodeKind sh:IRI ;"),
        ("hkgsh:Task-label", "sh:maxCount 1 ;", "sh:maxLength 12 ;"),
        ("hkgsh:Collection-slug", "[0-9a-f]{24}", "\\\\w+"),  # XPath \w has no "_"; \w{24} is refused (its translation is too big for Oxigraph)
        ("hkgsh:User-follows", "sh:nodeKind sh:IRI", "sh:nodeKind sh:Literal"),
        ("hkgsh:User-likes", "[ sh:class hkg:Space ] ", ""),
        ("hkgsh:SpaceShape", "hkgsh:Space-tag,", ""),
        ("hkgsh:TypedSubjectShape", "[ sh:class hkg:Task ] ", ""),
    ]
    for shape, old, new in edits:
        text = _edit(text, shape, old, new)
    path.write_text(text, encoding="utf-8")
    return path


def test_shapes_the_data_violates_in_every_way_give_the_same_report(tmp_path: Path, example_release: Path) -> None:
    shapes = hostile_shapes(tmp_path / "hostile.ttl")
    loaded, checked, proven = both_results(tmp_path / "store", [example_release], shapes)
    failing = {t.label for t in checked.tallies.values()}
    assert len(failing) >= 14, failing  # the edits do break the data
    assert_same(loaded, checked)
    assert "proven while converting" in proven


def test_counts_decided_once_per_type_give_the_same_report(tmp_path: Path, example_release: Path) -> None:
    """A count of one plain field (0 or 1 values) or of the key (exactly 1) is decided for the
    whole type, without counting each record: holding, failing for every record, or left to each."""
    text = data_path(*SHAPES_FILE).read_text(encoding="utf-8")
    for shape, old, new in [
        ("hkgsh:Model-createdAt", "sh:maxCount 1 ;", "sh:minCount 1 ;"),  # one example model has none: counted per record
        ("hkgsh:Model-region", "sh:maxCount 1 ;", "sh:minCount 2 ;"),  # a plain field never has 2: every model fails
        ("hkgsh:Model-id", "sh:maxCount 1 ;", "sh:maxCount 0 ;"),  # the key is always there: every model fails
        ("hkgsh:Model-name", "sh:maxCount 1 ;", "sh:minCount 0 ; sh:maxCount 5 ;"),  # always holds
    ]:
        text = _edit(text, shape, old, new)
    shapes = tmp_path / "counts.ttl"
    shapes.write_text(text, encoding="utf-8")
    loaded, checked, proven = both_results(tmp_path / "store", [example_release], shapes)
    assert {t.label for t in checked.tallies.values()} == {"hkgsh:Model-createdAt", "hkgsh:Model-region", "hkgsh:Model-id"}
    assert_same(loaded, checked)
    assert "proven while converting" in proven


def test_shapes_on_the_derived_triples_give_the_same_report(tmp_path: Path, example_release: Path) -> None:
    """Constraints only the derived triples (standard terms, links, author nodes) can violate."""
    text = data_path(*SHAPES_FILE).read_text(encoding="utf-8")
    for shape, old, new in [
        ("hkgsh:ModelShape", " schema:name ", " "),  # closed: the entailed schema:name is no longer allowed
        ("hkgsh:Author-position", "sh:minInclusive 1 ;", "sh:minInclusive 2 ;"),
    ]:
        text = _edit(text, shape, old, new)
    shapes = tmp_path / "derived.ttl"
    shapes.write_text(text, encoding="utf-8")
    loaded, checked, proven = both_results(tmp_path / "store", [example_release], shapes)
    assert {t.label for t in checked.tallies.values()} == {"hkgsh:ModelShape", "hkgsh:Author-position"}
    assert_same(loaded, checked)
    assert "proven while converting" in proven


def test_shapes_on_the_page_links_give_the_same_report(tmp_path: Path, example_release: Path) -> None:
    """The links to an entity's Hub pages, built from its id, are checked record by record:
    counts and node kinds per type, patterns on each record's link (here failing for some)."""
    text = data_path(*SHAPES_FILE).read_text(encoding="utf-8")
    for shape, old, new in [
        ("hkgsh:Model-url", "sh:maxCount 1 ;", "sh:maxCount 0 ;"),
        ("hkgsh:Space-url", "sh:nodeKind sh:IRI ;", "sh:nodeKind sh:Literal ;"),
        ("hkgsh:Paper-sameAs", "sh:maxCount 2 ;", "sh:maxCount 1 ;"),
        ("hkgsh:Paper-url", "sh:maxCount 1 ;", "sh:minCount 2 ;"),
        ("hkgsh:Dataset-url", "datasets/", "datasets/[a-z]+/"),
        ("hkgsh:Task-url", "sh:nodeKind sh:IRI ;", "sh:nodeKind sh:IRI ; sh:datatype xsd:string ;"),
    ]:
        text = _edit(text, shape, old, new)
    shapes = tmp_path / "pages.ttl"
    shapes.write_text(text, encoding="utf-8")
    loaded, checked, proven = both_results(tmp_path / "store", [example_release], shapes)
    failing = {t.label for t in checked.tallies.values()}
    assert failing == {"hkgsh:Model-url", "hkgsh:Space-url", "hkgsh:Paper-sameAs", "hkgsh:Paper-url", "hkgsh:Dataset-url", "hkgsh:Task-url"}
    assert_same(loaded, checked)
    datasets = sum(1 for _ in open_read_only(tmp_path / "store").quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(HKG + "Dataset")))
    assert 0 < checked.tallies[next(k for k, t in checked.tallies.items() if t.label == "hkgsh:Dataset-url")].count < datasets  # some fail


@pytest.mark.parametrize("cls, narrowed", [("hkg:Author", True), ("hkg:Task", False)])
def test_typed_subjects_are_checked_on_the_derived_triples_subjects_alone_unless_a_record_fails(
        tmp_path: Path, example_release: Path, cls: str, narrowed: bool) -> None:
    """TypedSubjectShape targets the subjects of every hkg: property; those of the record
    properties are proven while converting, so the store checks only the subjects of the derived
    ones (author-position nodes, papers through hkg:author), unless a record failed it. Either
    way the report is validate --store's."""
    shapes = tmp_path / "typed.ttl"
    shapes.write_text(_edit(data_path(*SHAPES_FILE).read_text(encoding="utf-8"), "hkgsh:TypedSubjectShape", f"[ sh:class {cls} ] ", ""),
                      encoding="utf-8")
    loaded, checked, proven = both_results(tmp_path / "store", [example_release], shapes)
    assert {t.label for t in checked.tallies.values()} == {"hkgsh:TypedSubjectShape"}
    assert_same(loaded, checked)
    assert proven.endswith("(1 shape only on the subjects of derived triples)") == narrowed, proven


def test_load_validate_with_shapes_and_a_report_file(tmp_path: Path, example_release: Path) -> None:
    shapes = hostile_shapes(tmp_path / "hostile.ttl")
    run = invoke("load", example_release, "--store", tmp_path / "store", "--validate", "--shapes", shapes, "--shacl-report", tmp_path / "r.ttl")
    assert run.exit_code == 1, run.output
    again = invoke("validate", "--store", tmp_path / "store", "--shapes", shapes, "--report", tmp_path / "again.ttl")
    assert (again.exit_code, again.stdout) == (run.exit_code, run.stdout)
    from rdflib import Graph

    assert isomorphic(Graph().parse(tmp_path / "r.ttl"), Graph().parse(tmp_path / "again.ttl"))


def test_shapes_beyond_what_the_checker_knows_go_to_the_store_whole(tmp_path: Path, example_release: Path) -> None:
    text = data_path(*SHAPES_FILE).read_text(encoding="utf-8")
    shapes = tmp_path / "deactivated.ttl"
    shapes.write_text(_edit(text, "hkgsh:Model-id", "sh:minCount 1 ;", "sh:minCount 1 ; sh:deactivated true ;"), encoding="utf-8")
    loaded, checked, proven = both_results(tmp_path / "store", [example_release], shapes)
    assert proven.startswith("shapes: all ")
    assert_same(loaded, checked)


def test_options_of_validate_need_validate(tmp_path: Path, example_release: Path) -> None:
    run = invoke("load", example_release, "--store", tmp_path / "store", "--shapes", data_path(*SHAPES_FILE))
    assert run.exit_code == 2 and "need --validate" in run.output


# ---------------------------------------------------------------- the soundness guard


class ExtraTriple(TripleMaker):
    """A converter that writes one more triple per record than its fields give (a new feature)."""

    def entity(self, entity):
        return super().entity(entity) + f"<{self.minter.mint(entity.type, entity.id)}> <http://example.org/new> \"x\" .\n"


class CheckingExtra(CheckingTripleMaker, ExtraTriple):
    pass


def test_a_triple_the_checker_did_not_account_for_voids_the_proof(example_release: Path) -> None:
    report = Report()
    maker = CheckingExtra(IriMinter(), report, ShapesGraph.read(), keep_dangling=False)
    for _ in source_triples(example_release, maker):
        pass
    assert not maker.proof.complete and "became other triples" in maker.proof.unaccounted


@pytest.mark.parametrize("standard", [True, False])
def test_the_checker_accounts_for_every_triple_of_the_example(example_release: Path, example_triples_txt: Path, standard: bool) -> None:
    for source in (example_release, example_triples_txt):
        maker = CheckingTripleMaker(IriMinter(), Report(), ShapesGraph.read(), keep_dangling=False, terms=Terms(standard=standard))
        for _ in source_triples(source, maker):
            pass
        assert maker.proof.complete, maker.proof.unaccounted


def test_without_standard_terms_the_verdict_is_the_stores_too(tmp_path: Path, release_copy: Path) -> None:
    loaded, checked, proven = both_results(tmp_path / "store", [broken_release(release_copy)], None, terms=Terms(standard=False))
    assert not loaded.conforms
    assert_same(loaded, checked)
    assert "proven while converting" in proven


def test_the_pattern_translation_keeps_sparql_meaning() -> None:
    from hkg_rdf.record_validation.planner import _regex

    regex = _regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    assert regex.search("a/b") and not regex.search("a/b\n") and not regex.search("a b/c")
    assert _regex("^\\w+$") is None and _regex("(?i)x") is None
    assert _regex("^[$]x$").search("$x") and not _regex("^[$]x$").search("$x\n")
    assert re.escape  # the module's own re usage is the standard library's
