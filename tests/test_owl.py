"""The ontology is OWL 2 DL, checked by real OWL tools, not by our own reading of the spec:

- the OWL API's profile checker (Debian libowlapi-java, the library Protégé is built on), run by
  a small Java program compiled here: no OWL 2 DL violation (no puns, every external term
  declared, annotations used as annotations); it is not OWL 2 RL, and the README says so;
- HermiT (shipped with owlready2, run on the machine's Java): the ontology with the converted
  example release is consistent, and a model that is also a dataset is not.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from rdflib import Graph

from hkg_rdf.vocab import ONTOLOGY_FILE, data_path

HERE = Path(__file__).resolve().parent
JAVA_LIBS = Path("/usr/share/java")
OWLAPI = ["owlapi-api", "owlapi-apibinding", "owlapi-impl", "owlapi-parsers", "owlapi-rio", "owlapi-tools", "owlapi-oboformat"]
DEPENDENCIES = ["guava", "caffeine", "commons-codec", "commons-io", "commons-logging", "commons-rdf-api", "commons-rdf-simple", "jsr305",
                "atinject-jsr330-api", "slf4j-api", "slf4j-nop", "hppcrt", "xz", "jackson-core", "jackson-databind", "jackson-annotations"]


@pytest.fixture(scope="module")
def profile_checker(tmp_path_factory) -> list[str]:
    """The command that runs tests/owl/OwlProfiles.java against the Debian OWL API jars."""
    jars = [JAVA_LIBS / f"{name}.jar" for name in OWLAPI + DEPENDENCIES] + sorted(JAVA_LIBS.glob("rdf4j-*[a-z].jar"))
    missing = [str(j) for j in jars if not j.exists()]
    assert not missing and shutil.which("javac"), f"the OWL API (Debian libowlapi-java) and a JDK are needed; .ci/run installs them: {missing[:3]}"
    classpath = ":".join(map(str, jars))
    build = tmp_path_factory.mktemp("owlapi")
    subprocess.run(["javac", "-d", str(build), "-cp", classpath, str(HERE / "owl" / "OwlProfiles.java")], check=True, capture_output=True)
    return ["java", "-cp", f"{classpath}:{build}", "OwlProfiles"]


def profiles(checker: list[str], ontology: Path) -> dict[str, list[str]]:
    """Violations per profile name, as the OWL API reports them."""
    out = subprocess.run([*checker, str(ontology)], check=True, capture_output=True, text=True, timeout=300).stdout
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        kind, profile, rest = line.split("\t", 2)
        if kind == "PROFILE":
            found[profile] = []
        else:
            found[profile].append(rest)
    return found


def test_the_ontology_is_owl2_dl(profile_checker) -> None:
    violations = profiles(profile_checker, data_path(*ONTOLOGY_FILE))
    assert violations["OWL 2 DL"] == []


def test_the_ontology_is_not_owl2_rl_as_the_readme_says(profile_checker) -> None:
    """Union domains/ranges and the ObjectHasSelf qualifiers are outside RL; the README promises DL."""
    rl = profiles(profile_checker, data_path(*ONTOLOGY_FILE))["OWL 2 RL"]
    assert rl and any("union" in v.lower() or "ObjectUnionOf" in v for v in rl)
    readme = (HERE.parent / "README.md").read_text(encoding="utf-8")
    assert "OWL 2 DL" in readme and "not OWL 2 RL" in readme


def test_the_profile_check_can_fail(profile_checker, tmp_path) -> None:
    """A pun (a data property used as an annotation) and an undeclared term are found."""
    broken = tmp_path / "punned.ttl"
    broken.write_text(data_path(*ONTOLOGY_FILE).read_text(encoding="utf-8") + """
hkg:title a owl:AnnotationProperty .
hkg:name rdfs:subPropertyOf <https://example.org/undeclared> .
""", encoding="utf-8")
    dl = profiles(profile_checker, broken)["OWL 2 DL"]
    assert any("pun" in v.lower() for v in dl) and any("undeclared" in v.lower() for v in dl)


def _hermit(tmp_path: Path, *graphs: Graph) -> None:
    """Load the graphs into a fresh owlready2 world and run HermiT (raises if inconsistent)."""
    import owlready2

    world = owlready2.World()
    for number, graph in enumerate(graphs):
        path = tmp_path / f"part{number}.nt"
        graph.serialize(path, format="nt", encoding="utf-8")
        world.get_ontology(path.as_uri()).load(format="ntriples")
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)


@pytest.fixture(scope="module")
def ontology_and_example(tmp_path_factory, example_release) -> tuple[Graph, Graph]:
    from hkg_rdf.convert import convert
    from hkg_rdf.iris import IriMinter

    out = tmp_path_factory.mktemp("hermit") / "example.nt"
    convert(example_release, out, IriMinter())
    return Graph().parse(data_path(*ONTOLOGY_FILE), format="turtle"), Graph().parse(out, format="nt")


def test_hermit_finds_the_ontology_and_the_example_consistent(ontology_and_example, tmp_path) -> None:
    _hermit(tmp_path, *ontology_and_example)


def test_hermit_finds_a_model_that_is_a_dataset_inconsistent(ontology_and_example, tmp_path) -> None:
    import owlready2

    ontology, _ = ontology_and_example
    clash = Graph().parse(data="""
        <https://example.org/x> a <https://w3id.org/huggingkg/ontology#Model>, <https://w3id.org/huggingkg/ontology#Dataset> .
    """, format="turtle")
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        _hermit(tmp_path, ontology, clash)
